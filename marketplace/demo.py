"""The demo catalog, built from the real open data shipped in ``marketplace/data`` through the real services only.

``flask demo load`` calls ``load_demo``. What to build is data in ``marketplace.demo_catalog``; this module reads
the real sample files, derives the value-added files some products sell (tidy tables, spatial joins, QA'd and
aggregated series), and drives the services: register users, create organizations and products, cite sources,
upload assets, infer the data dictionary from the uploaded sample, add plans, attest compliance, submit.
Idempotent: accounts are found by e-mail, organizations by owner and name, products by organization and title.
"""
from __future__ import annotations

import io
import re
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Membership, Organization, PlatformRole, User
from marketplace.accounts.services import create_organization, normalise_email, register_user
from marketplace.assessments.demo import load_provider_demo
from marketplace.demo_catalog import ACCOUNTS, COMPLIANCE, FIELD_DOCS, ORGANIZATIONS, OTHER_SOURCES, PLANS, PRODUCTS
from marketplace.demo_crossborder import load_crossborder_demo, set_demo_locations
from marketplace.demo_files import SAMPLES, derived_file
from marketplace.listings import services as listings
from marketplace.listings.assets import dictionary_from_inference, infer_from_asset, upload_asset
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.opendata import (
    datagovhk_record,
    shanghai_record,
    source_from_datagovhk,
    source_from_shanghai,
)
from marketplace.listings.vocab import UpdateFrequency
from marketplace.review import prescreen_runs
from marketplace.review import services as review
from marketplace.review.checklist import ChecklistItem, PrescreenOutcome
from marketplace.review.demo_notice import demo_public_notice
from marketplace.review.prescreen_report import PrescreenReport
from marketplace.review.registration import backfill_certificates
from marketplace.storage import Storage

# ---------------------------------------------------------------- trades


def _fitting_scenario(plan, description: str) -> dict:
    """A use scenario the plan's terms allow: its first permitted use, in a territory it licenses."""
    from marketplace.licensing.scenario import PURPOSE_NEEDS

    purpose = next(p for p, need in PURPOSE_NEEDS.items() if need is not None and need.value == plan.permitted_uses[0])
    territory = "hong_kong" if str(plan.territory) == "worldwide" else str(plan.territory)
    return {"purpose": purpose.value, "sector": "logistics", "territory": territory, "expected_users": 12,
            "description": description}


def _demo_trades(session: Session, buyer: User, buyer_org: Organization, created: Counter) -> None:
    """The demo buyer's history, made through the order services: a free licence, a paid one (simulated card)
    and a request waiting for its seller. Skipped once the buyer organization has any order."""
    from marketplace.listings.models import PricingPlan
    from marketplace.listings.services import buyer_visible
    from marketplace.listings.vocab import PlanKind
    from marketplace.orders import services as orders
    from marketplace.orders.models import Order
    from marketplace.payments import SimulatedPayments

    if session.scalar(select(Order.id).where(Order.buyer_organization_id == buyer_org.id).limit(1)):
        return
    visible = buyer_visible().subquery()
    plans = session.execute(
        select(PricingPlan, visible.c.id).join(visible, visible.c.listed_version_id == PricingPlan.version_id)
        .order_by(visible.c.id, PricingPlan.position)
    ).all()
    wanted = {
        "free": lambda p: p.kind == PlanKind.FREE and not p.requires_approval,
        "paid": lambda p: p.kind == PlanKind.ONE_TIME and not p.requires_approval and p.licence_cap is None,
        "request": lambda p: p.requires_approval and p.licence_cap is None,
    }
    used_products: set[int] = set()
    for what, fits in wanted.items():
        plan, product_id = next((p, pid) for p, pid in plans if fits(p) and pid not in used_products)
        used_products.add(product_id)
        order = orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer_org.id, accept_terms=True, idempotency_key=f"demo-{what}",
            scenario=_fitting_scenario(plan, "Route planning for our cross-boundary freight fleet between Hong Kong "
                                             "and the Pearl River Delta.")))
        if what == "paid":
            orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/", cancel_url="/")
            orders.pay_with_test_card(session, buyer, order, "4242424242424242")
        created["orders"] += 1
    session.flush()


# ---------------------------------------------------------------- building through the services

def _ensure_user(session: Session, account: dict, created: Counter) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(account["email"])))
    if user is None:
        created["users"] += 1
        user = register_user(session, email=account["email"], password=account["password"],
                             display_name=account["name"], locale=account.get("locale", "en"),
                             platform_role=PlatformRole(account.get("role", "none")), email_verified=True)
    return user


def _ensure_org(session: Session, owner: User, key: str, created: Counter) -> Organization:
    spec = ORGANIZATIONS[key]
    org = session.scalar(select(Organization).join(Membership).where(
        Membership.user_id == owner.id, Organization.name == spec["name"]))
    if org is None:
        created["organizations"] += 1
        org = create_organization(session, owner, name=spec["name"], description=spec["description"],
                                  contact_email=spec["contact_email"])
    return org


def _sources(spec: dict) -> list[tuple[dict, str]]:
    """(source fields, a note from the record's own metadata) for each upstream the product cites, in order."""
    out = []
    usage = spec.get("usage", {})
    for name in spec.get("hk", []):
        record = datagovhk_record(name)
        notes = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", " ".join(record["notes"].split()))
        out.append((source_from_datagovhk(record) | {"usage": usage.get(name, "derived")},
                    re.split(r"(?<=[.!?])\s", notes)[0][:200]))
    for slug in spec.get("sh", []):
        record = shanghai_record(slug)
        out.append((source_from_shanghai(record) | {"usage": usage.get(slug, "derived")},
                    " ".join(record["notes"].split())[:200]))
    return out + [({k: v for k, v in OTHER_SOURCES[key].items() if k != "note"} | {"usage": usage.get(key, "derived")},
                   OTHER_SOURCES[key]["note"]) for key in spec.get("other", [])]


_FREQ_ZH = {"realtime": "實時", "hourly": "每小時", "daily": "每日", "weekly": "每週", "monthly": "每月",
            "quarterly": "每季", "yearly": "每年", "irregular": "不定期", "one_off": "一次性"}
_SIMPLIFIED = str.maketrans("實週時間區數據來內蓋圍頻範續", "实周时间区数据来内盖围频范续")


def _describe(spec: dict, sources: list[tuple[dict, str]], lang: str) -> str:
    """Markdown: the seller's lead and value-added list, then provenance from the cited records, then coverage."""
    start, end = spec["temporal"]
    en = lang == "en"
    period = (start if end == start else f"{start} to {end}" if end else f"from {start}, updated continuously") if en \
        else (start if end == start else f"{start} 至 {end}" if end else f"{start} 起持續更新")
    heads = ("What we add", "Built on open data", "Coverage") if en else ("增值內容", "數據來源", "覆蓋範圍")
    cover = ([f"Period: {period}", f"Area: {spec['spatial']}",
              f"Updates: {UpdateFrequency(spec['frequency']).label}"] if en
             else [f"時間：{period}", f"地區：{spec['spatial']}", f"更新頻率：{_FREQ_ZH[spec['frequency']]}"])
    cited = [f"- **{s['title']}** ({s['publisher']}): "
             + (("Fields: " if en else "字段：") if s["portal"] in ("soda", "shanghai_public_data") else "") + note
             for s, note in sources]
    text = "\n".join([spec[f"lead_{lang}"], "", f"### {heads[0]}", *(f"- {v}" for v in spec[f"value_{lang}"]), "",
                      f"### {heads[1]}", *cited, "", f"### {heads[2]}", *(f"- {c}" for c in cover)])
    return text if en or spec["regions"] == ["hong_kong"] else text.translate(_SIMPLIFIED)


def _upload(session, storage, user, version, kind: str, spec: str, max_bytes: int):
    if spec.startswith("@"):
        filename, data = derived_file(spec)
        stream = io.BytesIO(data)
    else:  # a real sample file, streamed from disk
        filename, stream = Path(spec).name, open(SAMPLES / spec, "rb")
    with stream:
        return upload_asset(session, storage, user, version, kind=kind, filename=filename, stream=stream,
                            content_type=None, max_bytes=max_bytes)


def _build_product(session: Session, storage: Storage, user: User, org: Organization, spec: dict,
                   max_bytes: int, reviewer: User) -> DataProduct:
    sources, state = _sources(spec), spec.get("state", "submit")
    start, end = (date.fromisoformat(d) if d else None for d in spec["temporal"])
    product = listings.create_product(session, user, org, {"title_en": spec["title_en"], "category": spec["category"]})
    version = product.latest_version
    listings.update_metadata(session, user, version, {
        "title_zh": spec["title_zh"], "description_en": _describe(spec, sources, "en"),
        "description_zh": _describe(spec, sources, "zh"), "tags": spec["tags"].split(", "), "regions": spec["regions"],
        "temporal_start": start, "temporal_end": end, "spatial_coverage": spec["spatial"],
        "update_frequency": spec["frequency"], "delivery_methods": spec["delivery"], "formats": spec["formats"]})
    for fields, _ in sources:
        listings.add_source(session, user, version, fields)
    for preset, amount, currency, *overrides in spec["plans"]:
        listings.add_plan(session, user, version, {**PLANS[preset], "amount": amount, "currency": currency,
                                                   **(overrides[0] if overrides else {})})
    if state == "incomplete":  # the profile is declared but not attested; no files or dictionary yet
        listings.set_compliance(session, user, version, COMPLIANCE[spec["compliance"]], attest=False,
                                attested_by_name=None)
        return product
    samples = [_upload(session, storage, user, version, "sample", s, max_bytes) for s in spec["samples"]]
    for d in spec["deliverables"]:
        _upload(session, storage, user, version, "deliverable", d, max_bytes)
    rows = dictionary_from_inference(version, infer_from_asset(storage, samples[0]))
    listings.replace_dictionary(session, user, version, [  # inferred types, then our notes on known columns
        r | dict(zip(("description", "unit"), FIELD_DOCS.get(r["name"], ("", "")))) for r in rows])
    listings.set_compliance(session, user, version, COMPLIANCE[spec["compliance"]], attest=True,
                            attested_by_name=ORGANIZATIONS[spec["org"]]["attester"])
    if state == "submit":
        round_ = review.submit_version(session, user, version, storage)
        prescreen_runs.run_now(session, round_, storage)  # the demo reviewer decides at once
        _after_submission(session, reviewer, round_, spec)
    return product


# ---------------------------------------------------------------- compliance review, through the real path

def _checklist(report, failing: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """The demo reviewer's answers: a pass per item with what was checked, or a fail with the reason."""
    answers = {}
    for item in ChecklistItem:
        if failing and item.value in failing:
            answers[item.value] = {"result": "fail", "comment": failing[item.value]}
            continue
        open_points = [f.message for f in report.findings_for(item) if f.outcome != PrescreenOutcome.PASS]
        comment = ("Checked by hand: " + " ".join(open_points)) if open_points else "Pre-screen clear; spot-checked."
        answers[item.value] = {"result": "pass", "comment": comment[:5000]}
    return answers


def _after_submission(session: Session, reviewer: User, round_, spec: dict) -> None:
    """Move a freshly submitted demo version on as the demo reviewer, by the product's "review" entry:
    approve (claim, checklist, approve: listed), queue (left submitted), claimed (in review), changes, reject."""
    decision = spec.get("review", "approve")
    if decision == "queue":
        return
    case = round_.case
    review.claim_case(session, reviewer, case)
    if decision == "claimed":
        return
    report = PrescreenReport.from_dict(round_.prescreen)
    if decision == "approve":
        review.decide(session, reviewer, case, "approve", "Approved for listing.", _checklist(report))
    else:
        failing = spec["review_failing"]
        review.decide(session, reviewer, case, "request_changes" if decision == "changes" else "reject",
                      spec["review_comment"], _checklist(report, failing))


def review_plan() -> dict[str, list[str]]:
    """Titles of the submitted demo products by what the later review step should do with them."""
    plan: dict[str, list[str]] = defaultdict(list)
    for spec in PRODUCTS:
        if spec.get("state", "submit") == "submit":
            plan[spec.get("review", "approve")].append(spec["title_en"])
    return dict(plan)


# ---------------------------------------------------------------- entry point and report

def load_demo(session: Session, storage: Storage, max_bytes: int | None = None) -> str:
    """Create the demo accounts, organizations and products that do not exist yet; return a report for people.

    Files are capped at ``max_bytes`` (default: the app's MAX_UPLOAD_BYTES), as a seller's uploads are.
    """
    if max_bytes is None:
        from flask import current_app

        max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
    started, created = time.perf_counter(), Counter()
    users = {a["email"]: _ensure_user(session, a, created) for a in ACCOUNTS}
    owners = {a["org"]: users[a["email"]] for a in ACCOUNTS if a.get("org")}
    orgs = {key: _ensure_org(session, owner, key, created) for key, owner in owners.items()}
    set_demo_locations(session, users, orgs)
    for spec in PRODUCTS:
        org = orgs[spec["org"]]
        if not session.scalar(select(DataProduct.id).join(ProductVersion, ProductVersion.product_id == DataProduct.id)
                              .where(DataProduct.organization_id == org.id, ProductVersion.title_en == spec["title_en"])
                              .limit(1)):
            _build_product(session, storage, owners[spec["org"]], org, spec, max_bytes,
                           users["reviewer@demo.exchange"])
            created["products"] += 1
    session.flush()
    _demo_trades(session, users["buyer@demo.exchange"], orgs["buyer"], created)
    provider_lines = load_provider_demo(session, users, created)
    load_crossborder_demo(session, storage, users, orgs, max_bytes, created)
    registered = demo_public_notice(session, orgs["harbourline"], users["buyer@demo.exchange"], orgs["buyer"],
                                    users["reviewer@demo.exchange"])
    # A demo database loaded before public notices existed: its listed products get their certificates.
    created.update({"registration certificates": n} if (n := len(backfill_certificates(session))) else {})
    # Each file's preview and column profile is a job its upload queued, run after this load commits (by the
    # worker `make run` starts; at once in tests), as for any seller's upload.
    seconds = time.perf_counter() - started
    lines = [f"Demo catalog loaded in {seconds:.1f} s: created " + ", ".join(f"{n} {k}" for k, n in created.items())
             + "." if created else "The demo catalog is already loaded; nothing new was created."]
    lines += ["", "Demo accounts (demo passwords: change or remove them on any shared server):"]
    lines += [f"  {a['email']:<26} {a['password']:<22} {a['what']}" for a in ACCOUNTS]
    lines += ["", f"Organizations ({len(orgs)}):"]
    totals: Counter = Counter()
    for org in orgs.values():
        status = Counter(p.latest_version.status.value for p in session.scalars(
            select(DataProduct).where(DataProduct.organization_id == org.id)))
        totals.update(status)
        lines.append(f"  {org.name} <{org.contact_email}>: " + (f"{sum(status.values())} products ("
                     + ", ".join(f"{n} {s}" for s, n in sorted(status.items())) + ")" if status else "buyer"))
    lines.append(f"Products: {sum(totals.values())} (" + ", ".join(f"{n} {s}" for s, n in sorted(totals.items())) + ")")
    lines.append("Review: the demo reviewer approved the listed products through the real review path; "
                 "log in as reviewer@demo.exchange to work the queue.")
    if registered:
        lines.append(f"Public notice: {registered} went through its notice with one objection dismissed; its "
                     f"registration certificate is at /registrations/{registered}.")
    return "\n".join(lines + provider_lines)
