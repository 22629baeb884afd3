"""The demo catalog: built from the shipped open data through the real services, complete, and idempotent."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Membership, Organization, PlatformRole, User
from marketplace.accounts.services import authenticate
from marketplace.audit.services import verify_chain
from marketplace.catalog import profile_store
from marketplace.demo import SAMPLES, load_demo, review_plan
from marketplace.demo_catalog import ACCOUNTS, PRODUCTS
from marketplace.demo_crossborder import FILING_NUMBER
from marketplace.demo_crossborder import TITLE as CROSS_BORDER_TITLE
from marketplace.extensions import db
from marketplace.listings.licences import get_licence
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.services import readiness_problems
from marketplace.listings.states import ProductStatus, VersionStatus
from marketplace.listings.vocab import AssetKind, PermittedUse, Prohibition, Territory
from marketplace.review import services as review
from marketplace.review.checklist import ChecklistItem, PrescreenOutcome
from marketplace.review.prescreen_report import PrescreenReport

_profiled: dict = {}


@pytest.fixture(autouse=True)
def samples_profiled_once(monkeypatch):
    """Each test loads the demo into a new database: a sample's profile, the same every time, is computed by the
    first load of this module only (within one load, a file uploaded again copies the stored profile)."""
    real = profile_store.compute

    def compute(storage, asset):
        key = (asset.sha256, asset.filename, asset.content_type)
        if key not in _profiled:
            _profiled[key] = real(storage, asset)
        return _profiled[key]

    monkeypatch.setattr(profile_store, "compute", compute)


@pytest.fixture
def report(session, storage):
    text = load_demo(session, storage)
    session.commit()
    return text


@pytest.fixture
def versions(report, session):
    return session.scalars(select(ProductVersion).order_by(ProductVersion.id)).all()


def _submitted(versions):
    """Every version the demo submitted for review, whatever the review made of it since."""
    return [v for v in versions if v.submitted_at is not None]


def _row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_demo_accounts_can_log_in_with_their_roles_and_organizations(report, session):
    for account in ACCOUNTS:
        assert len(account["password"]) >= 10
        assert account["email"] in report and account["password"] in report
        user = authenticate(session, account["email"], account["password"])
        orgs = [m.organization for m in user.memberships]
        assert bool(orgs) == bool(account.get("org"))
    roles = {u.email: u.platform_role for u in session.scalars(select(User))}
    assert roles["reviewer@demo.exchange"] == PlatformRole.REVIEWER
    assert roles["admin@demo.exchange"] == PlatformRole.ADMIN
    assert roles["seller@demo.exchange"] == roles["buyer@demo.exchange"] == PlatformRole.NONE


def test_every_demo_organization_has_a_description_and_contact_and_sellers_have_products(report, session):
    orgs = session.scalars(select(Organization).join(Membership).join(User).where(User.email.like("%@demo.exchange")))
    sellers = 0
    for org in orgs.unique():
        assert org.description.strip() and org.contact_email
        if session.scalar(select(func.count(DataProduct.id)).where(DataProduct.organization_id == org.id)):
            sellers += 1
    assert sellers >= 3
    buyer = session.scalar(select(User).where(User.email == "buyer@demo.exchange"))
    assert not session.scalar(select(func.count(DataProduct.id)).where(
        DataProduct.organization_id == buyer.memberships[0].organization_id))


def test_catalog_spans_both_cities_and_several_states(versions, report):
    assert len(versions) >= 30
    regions = {r for v in versions for r in v.regions}
    assert {"hong_kong", "shanghai", "cross_city"} <= regions
    assert sum("shanghai" in v.regions for v in _submitted(versions)) >= 5
    statuses = Counter(v.status for v in versions)
    assert statuses[VersionStatus.LISTED] > len(versions) / 2  # most of the catalog is listed
    assert statuses[VersionStatus.SUBMITTED] >= 2 and statuses[VersionStatus.IN_REVIEW] >= 1
    assert statuses[VersionStatus.CHANGES_REQUESTED] >= 2 and statuses[VersionStatus.REJECTED] == 1
    assert statuses[VersionStatus.DRAFT] >= 2
    drafts = [v for v in versions if v.status == VersionStatus.DRAFT]
    assert any(readiness_problems(v) for v in drafts), "one draft is left incomplete"
    assert any(not readiness_problems(v) for v in drafts), "another is complete but not yet submitted"
    assert f"{statuses[VersionStatus.LISTED]} listed" in report and f"{len(versions)} (" in report


def test_every_submitted_version_is_ready_and_cites_known_licences(versions):
    for v in _submitted(versions):
        assert readiness_problems(v) == {}, v.title_en
        assert 1 <= len(v.sources) <= 3
        for source in v.sources:
            assert get_licence(source.licence_id), source.licence_id
            assert source.url.startswith("https://") and source.publisher and source.attribution
        assert v.title_zh and re.search(r"[\u4e00-\u9fff]", v.title_zh + v.description_zh)
        assert "###" in v.description_en and "###" in v.description_zh
        assert any(re.search(r"[\u4e00-\u9fff]", t) for t in v.tags) and any(t.isascii() for t in v.tags)
        assert all(f.description for f in v.fields), [f.name for f in v.fields if not f.description]
        assert v.attested_by_name and v.submitted_at


def test_sources_come_from_the_shipped_catalog_metadata(versions):
    portals = Counter(s.portal for v in versions for s in v.sources)
    assert portals["data_gov_hk"] >= 20 and portals["shanghai_public_data"] + portals["soda"] >= 5
    cited = {s.external_id for v in versions for s in v.sources}
    assert {"hk-td-sm_4-traffic-data-strategic-major-roads", "hk-hko-rss-latest-ten-minute-wind-info", "AQI",
            "charging-station"} <= cited


def test_assets_are_stored_with_matching_hashes_and_use_every_real_sample(versions, storage):
    hashes = set()
    for v in versions:
        for asset in v.assets:
            with storage.open(asset.storage_key) as fh:
                data = fh.read()
            assert hashlib.sha256(data).hexdigest() == asset.sha256 and len(data) == asset.size
            hashes.add(asset.sha256)
    real = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLES.rglob("*") if p.is_file()}
    assert len(real) == 10 and {n for n, h in real.items() if h not in hashes} == set()
    for v in _submitted(versions):
        kinds = Counter(a.kind for a in v.assets)
        assert kinds[AssetKind.SAMPLE] >= 1 and kinds[AssetKind.DELIVERABLE] >= 1


def test_plans_offer_a_realistic_mix_of_terms(versions):
    plans = [p for v in versions for p in v.plans]
    assert {p.kind.value for p in plans} == {"free", "one_time", "subscription"}
    assert {p.currency.value for p in plans} == {"CNY", "HKD", "USD"}
    assert {p.billing_period.value for p in plans if p.billing_period} == {"month", "year"}
    assert any(p.requires_approval for p in plans)
    assert any(p.licence_cap == 1 for p in plans)
    assert any(p.kind == "one_time" and p.amount == 120000 and p.currency == "HKD" for p in plans)
    for p in plans:
        assert set(p.permitted_uses) <= set(PermittedUse) and set(p.prohibitions) <= set(Prohibition)
        assert p.territory in set(Territory)
        if p.kind == "free":
            assert p.permitted_uses == ["research"] and p.amount == 0


def test_compliance_profiles_are_mostly_general_with_a_few_exceptions(versions):
    submitted = _submitted(versions)
    personal = Counter(v.personal_info.value for v in versions)
    assert personal["none"] > len(versions) / 2 and personal["anonymised"] >= 2
    assert [v.title_en for v in versions if v.personal_info == "personal"] == [CROSS_BORDER_TITLE]
    important = [v for v in submitted if v.classification == "important"]
    assert len(important) == 1 and important[0].classification_reason
    assert any(v.cross_border_transfer for v in submitted) and not all(v.cross_border_transfer for v in submitted)


def test_loading_twice_creates_nothing(report, session, storage):
    before, files = _row_counts(session), sorted(storage.root.rglob("*"))
    again = load_demo(session, storage)
    session.commit()
    assert "already loaded" in again
    assert _row_counts(session) == before
    assert sorted(storage.root.rglob("*")) == files


def test_no_placeholder_text(versions, session):
    text = " ".join(f"{v.title_en} {v.title_zh} {v.description_en} {v.description_zh} {v.spatial_coverage}"
                    for v in versions)
    text += " ".join(o.description for o in session.scalars(select(Organization)))
    for placeholder in ("lorem", "ipsum", "todo", "tbd", "xxx"):
        assert placeholder not in text.lower()


def test_review_plan_names_every_submitted_product(versions):
    plan = review_plan()
    assert set(plan) <= {"approve", "queue", "claimed", "changes", "reject"}
    assert sorted([*(t for titles in plan.values() for t in titles), CROSS_BORDER_TITLE]) == sorted(
        v.title_en for v in _submitted(versions))  # the cross-boundary demo's product is listed by its own module
    assert len({p["key"] for p in PRODUCTS}) == len(PRODUCTS)


def test_listed_products_went_through_the_real_review(versions, session):
    reviewer = session.scalar(select(User).where(User.email == "reviewer@demo.exchange"))
    listed = [v for v in versions if v.status == VersionStatus.LISTED]
    for v in listed:
        case = review.case_for_version(session, v)
        assert v.registration_number and v.product.status == ProductStatus.LISTED
        assert v.product.listed_version_id == v.id and v.approved_by_id == reviewer.id
        answers = case.current_round.answers
        assert {a.item for a in answers} == set(ChecklistItem) and all(a.result == "pass" for a in answers)
        report = PrescreenReport.from_dict(case.current_round.prescreen)
        for a in answers:  # every open pre-screen point is addressed in the reviewer's comment
            assert report.outcome_for(a.item) == PrescreenOutcome.PASS or a.comment.startswith("Checked by hand")
    for v in versions:
        if v.status in (VersionStatus.CHANGES_REQUESTED, VersionStatus.REJECTED):
            round_ = review.case_for_version(session, v).current_round
            assert round_.decision_comment and any(a.result == "fail" and a.comment for a in round_.answers)
    assert verify_chain(session).ok


def test_the_demo_buyer_has_a_trading_history_made_through_the_order_services(report, session):
    from marketplace.licensing.models import Licence
    from marketplace.licensing.states import LicenceStatus
    from marketplace.orders.models import Order
    from marketplace.orders.states import OrderStatus

    buyer = session.scalar(select(User).where(User.email == "buyer@demo.exchange"))
    org_id = buyer.memberships[0].organization_id
    statuses = Counter(o.status for o in session.scalars(select(Order).where(Order.buyer_organization_id == org_id)))
    # a free licence, a paid one, a request waiting, and the cross-boundary trade (paid once its evidence was confirmed)
    assert statuses == {OrderStatus.FULFILLED: 3, OrderStatus.AWAITING_APPROVAL: 1}
    licences = session.scalars(select(Licence).where(Licence.buyer_organization_id == org_id)).all()
    assert len(licences) == 3 and all(lic.status == LicenceStatus.ACTIVE and lic.signature for lic in licences)
    assert any(o.amount > 0 and o.paid_at for o in session.scalars(select(Order).where(Order.status == "fulfilled")))


def test_every_demo_file_has_its_profile_once_loaded(versions, session):
    from marketplace.catalog.profile_store import AssetProfile

    files = [a for v in versions for a in v.assets]
    ids = [a.id for a in files]
    stored = {p.asset_id: p for p in session.query(AssetProfile).filter(AssetProfile.asset_id.in_(ids))}
    assert files and set(stored) == {a.id for a in files}
    assert all(p.state == "done" and p.preview["kind"] != "none" for p in stored.values())
    assert any(p.profile.get("map") for p in stored.values())  # the boundaries and the stations are drawn


def test_a_hong_kong_buyer_licensed_the_shanghai_personal_data_through_a_confirmed_standard_contract(versions,
                                                                                                  session):
    from marketplace.crossborder.models import CrossBoundaryPosition
    from marketplace.crossborder.states import EvidenceStatus
    from marketplace.orders.models import Order

    version = next(v for v in versions if v.title_en == CROSS_BORDER_TITLE)
    assert version.status == VersionStatus.LISTED and version.product.organization.location == "shanghai"
    order = session.scalar(select(Order).where(Order.version_id == version.id))
    position = session.scalar(select(CrossBoundaryPosition).where(CrossBoundaryPosition.order_id == order.id))
    assert order.buyer_organization.location == "hong_kong" and order.status == "fulfilled"
    assert (position.outcome, position.clause) == ("contract_or_certification", "Art. 8")
    assert (position.evidence_status, position.filing_number) == (EvidenceStatus.CONFIRMED, FILING_NUMBER)
def test_every_demo_trade_carries_the_position_a_preview_gives_today(report, session):
    """The organizations' locations are set before any demo order is placed, so each stored position is the one
    the rules give now: the Hong Kong buyer's request of Harbourline (Hong Kong seller, Hong Kong open data) needs
    no mechanism."""
    from marketplace.crossborder.rules import Outcome
    from marketplace.orders.crossborder import preview_position
    from marketplace.orders.models import Order

    demo_orders = session.scalars(select(Order).where(Order.version_id.is_not(None))).all()
    assert demo_orders
    for order in demo_orders:
        stored, now = order.cross_boundary, preview_position(session, order.version, order.buyer_organization,
                                                             order.territory)
        assert (stored.outcome, stored.clause) == (now.outcome, now.rule.clause), order.number
    waiting = next(o for o in demo_orders if o.status == "awaiting_approval")
    assert waiting.seller_organization.name.startswith("Harbourline")
    assert (waiting.cross_boundary.outcome, waiting.cross_boundary.clause) == (Outcome.NONE, "Art. 3")


def test_a_demo_product_went_through_its_notice_with_an_objection_dismissed_and_is_registered(report, session):
    import json

    from marketplace.licensing.certificates import check_certificate
    from marketplace.review import registration
    from marketplace.review.notice_models import NoticeStatus, ObjectionStatus, PublicNotice

    ended = session.scalars(select(PublicNotice).where(PublicNotice.status == NoticeStatus.ENDED)).all()
    assert len(ended) == 1
    notice = ended[0]
    assert [o.status for o in notice.objections] == [ObjectionStatus.DISMISSED]
    assert notice.objections[0].decision_reason
    certificate = registration.certificates_of(session, notice.registration_number)[0]
    result, found = check_certificate(session, json.dumps(registration.document(certificate)))
    assert result.valid and found is certificate
    # It rests on the demo provider's signed compliance assessment of that version, pinned by its digest.
    [named] = registration.document(certificate)["registration"]["assessments"]
    assert named["kind"] == "compliance" and named["provider"] == "Lujiazui Data Compliance Services"
    assert len(named["sha256"]) == 64 and named["url"].endswith(f"/assessments/{named['number']}")
    assert f"/registrations/{notice.registration_number}" in report
    assert session.scalars(select(PublicNotice).where(PublicNotice.status == NoticeStatus.OPEN)).all()  # others
