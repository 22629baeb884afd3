"""Every listings service asks who is acting: strangers are told nothing exists, unverified accounts are sent to
verify their address, and each change leaves an audit event naming what changed."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from marketplace.accounts.access import VERIFY_FIRST
from marketplace.accounts.models import MemberRole, Membership
from marketplace.audit.models import AuditEvent
from marketplace.errors import Forbidden, NotFound
from marketplace.listings import services
from marketplace.listings.assets import delete_asset, upload_asset
from marketplace.review import services as review
from tests import factories


def _upload(session, storage, user, version):
    return upload_asset(session, storage, user, version, kind="sample", filename="x.csv",
                        stream=io.BytesIO(b"a,b\n1,2\n"), content_type="text/csv", max_bytes=10_000)


# Each service that changes a version, called as ``user`` on a draft with one source, plan and file.
CHANGES = {
    "update_metadata": lambda s, st, u, v: services.update_metadata(s, u, v, {"title_en": "New"}),
    "add_source": lambda s, st, u, v: services.add_source(s, u, v, {**factories.SOURCE, "url": "https://x.example/a"}),
    "update_source": lambda s, st, u, v: services.update_source(s, u, v, v.sources[0].id, {"title": "T"}),
    "remove_source": lambda s, st, u, v: services.remove_source(s, u, v, v.sources[0].id),
    "replace_dictionary": lambda s, st, u, v: services.replace_dictionary(s, u, v, [{"name": "a", "type": "string"}]),
    "add_plan": lambda s, st, u, v: services.add_plan(s, u, v, factories.PLAN),
    "update_plan": lambda s, st, u, v: services.update_plan(s, u, v, v.plans[0].id, {"name": "Renamed"}),
    "remove_plan": lambda s, st, u, v: services.remove_plan(s, u, v, v.plans[0].id),
    "set_compliance": lambda s, st, u, v: services.set_compliance(s, u, v, factories.COMPLIANCE, attest=False,
                                                                  attested_by_name=None),
    "upload_asset": lambda s, st, u, v: _upload(s, st, u, v),
    "delete_asset": lambda s, st, u, v: delete_asset(s, st, u, v, v.assets[0].id),
    "new_version": lambda s, st, u, v: services.new_version(s, u, v.product, "9.9", "Changes."),
    "submit_version": lambda s, st, u, v: review.submit_version(s, u, v, st),
}


@pytest.fixture
def draft(session, storage, seller):
    version = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    session.commit()
    return version


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_member_of_another_organization_is_told_the_product_does_not_exist(session, storage, draft, change):
    stranger = factories.user(session, organization="Elsewhere Ltd")
    with pytest.raises(NotFound):
        CHANGES[change](session, storage, stranger, draft)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_platform_reviewer_cannot_change_a_sellers_listing(session, storage, draft, reviewer, change):
    with pytest.raises(NotFound):
        CHANGES[change](session, storage, reviewer, draft)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_member_whose_email_is_not_verified_must_verify_it_first(session, storage, draft, seller_org, change):
    unverified = factories.user(session, verified=False)
    session.add(Membership(user_id=unverified.id, organization_id=seller_org.id, role=MemberRole.MEMBER))
    session.flush()
    with pytest.raises(Forbidden) as refused:
        CHANGES[change](session, storage, unverified, draft)
    assert refused.value.message == VERIFY_FIRST and "Verify your e-mail address first" in VERIFY_FIRST


def test_an_unverified_account_cannot_create_a_product(session):
    unverified = factories.user(session, organization="Fresh Data", verified=False)
    with pytest.raises(Forbidden, match="Verify your e-mail address first"):
        services.create_product(session, unverified, unverified.memberships[0].organization, {"title_en": "X"})


def test_a_verified_member_who_is_not_an_owner_may_edit(session, storage, draft, seller_org):
    member = factories.user(session)
    session.add(Membership(user_id=member.id, organization_id=seller_org.id, role=MemberRole.MEMBER))
    session.flush()
    services.update_metadata(session, member, draft, {"title_en": "Edited by a member"})
    assert draft.title_en == "Edited by a member"


def test_a_stranger_cannot_read_the_seller_console(session, draft):
    stranger = factories.user(session, organization="Elsewhere Ltd")
    with pytest.raises(NotFound):
        services.product_for_seller(session, stranger, draft.product_id)
    with pytest.raises(NotFound):
        services.version_for_seller(session, stranger, draft.product_id, draft.number)


# ---------------------------------------------------------------- audit


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_metadata_edit_is_audited_with_the_fields_it_changed_not_their_text(session, seller, draft):
    services.update_metadata(session, seller, draft, {"title_en": "A secret new title", "category": "transport"})
    event = _events(session, "version.metadata_updated")[-1]
    assert event.actor_id == seller.id and event.subject_id == draft.id
    assert event.payload["fields"] == ["title_en"]  # the category did not change
    assert "A secret new title" not in str(event.payload)


def test_an_edit_that_changes_nothing_writes_no_event(session, seller, draft):
    before = len(_events(session, "version.metadata_updated"))
    services.update_metadata(session, seller, draft, {"title_en": draft.title_en})
    assert len(_events(session, "version.metadata_updated")) == before


def test_deleting_a_file_is_audited_with_what_was_deleted(session, storage, seller, draft):
    asset = draft.assets[0]
    filename, sha256, asset_id = asset.filename, asset.sha256, asset.id
    delete_asset(session, storage, seller, draft, asset_id)
    event = _events(session, "asset.deleted")[-1]
    assert event.actor_id == seller.id and event.subject_type == "asset" and event.subject_id == asset_id
    assert event.payload["filename"] == filename and event.payload["sha256"] == sha256
    assert event.payload["stored_object_deleted"] is True


def test_sources_plans_dictionary_and_compliance_edits_are_audited(session, seller, draft):
    source_id, plan_id = draft.sources[0].id, draft.plans[0].id
    services.update_source(session, seller, draft, source_id, {"title": "Renamed source"})
    services.update_plan(session, seller, draft, plan_id, {"name": "Renamed plan", "amount": 99})
    services.replace_dictionary(session, seller, draft, [
        {"name": "AID_ID_Number", "type": "string", "description": "Detector id"},
        {"name": "Speed", "type": "number"},
    ])
    services.set_compliance(session, seller, draft, {**factories.COMPLIANCE, "legal_basis": "Contract"},
                            attest=False, attested_by_name=None)
    services.remove_source(session, seller, draft, source_id)
    services.remove_plan(session, seller, draft, plan_id)
    assert _events(session, "source.updated")[-1].payload["fields"] == ["title"]
    assert _events(session, "plan.updated")[-1].payload["fields"] == ["amount", "name"]
    dictionary = _events(session, "dictionary.replaced")[-1].payload
    assert dictionary["added"] == ["Speed"] and dictionary["removed"] == ["Latitude"] and dictionary["count"] == 2
    compliance = _events(session, "version.compliance_updated")[-1].payload
    assert compliance["fields"] == ["legal_basis"] and compliance["attestation_cleared"] is True
    assert _events(session, "source.removed")[-1].subject_id == source_id
    assert _events(session, "plan.removed")[-1].subject_id == plan_id


def test_the_new_product_page_tells_an_unverified_seller_to_verify_first(session, client, auth):
    unverified = factories.user(session, email="fresh@example.org", organization="Fresh Data", verified=False)
    session.commit()
    auth.login(unverified.email)
    org_id = unverified.memberships[0].organization_id
    response = client.post("/seller/products/new", data={"organization_id": org_id, "title_en": "Fresh roads"})
    assert response.status_code == 403
    assert "Verify your e-mail address first" in response.get_data(as_text=True)
    assert services.seller_products(session, unverified) == []


def test_the_api_tells_an_unverified_seller_to_verify_first(session, client, seller_org):
    unverified = factories.user(session)
    session.add(Membership(user_id=unverified.id, organization_id=seller_org.id, role=MemberRole.MEMBER))
    token = factories.api_token(session, unverified)
    # A token made before verification was required for one; the address is not proven.
    unverified.email_verified_at = None
    session.commit()
    api = factories.TokenClient(client, token)
    response = api.post("/api/v1/products", json={"organization": seller_org.slug, "title_en": "Fresh roads"})
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "forbidden" and body["message"].startswith("Verify your e-mail address first")
