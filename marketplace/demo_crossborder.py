"""The demo's cross-boundary trade: a Shanghai seller lists a commuter product holding the personal information
of 150,000 transport-card holders, and a Hong Kong buyer licenses it. The rules ask for a standard contract or
certification (Provisions Art. 8: 100,000 or more individuals this year); the buyer gives the filing number, the
seller confirms it, and only then is the licence paid for and issued. Built through the real services only.

The product cites the SODA 2017 release of the Shanghai Public Transportation Card Co.'s card swipes (its record is
shipped in ``marketplace/data``); the swipes themselves are not shipped, so its files are the field list the record
publishes, one row per field.
"""
from __future__ import annotations

import csv
import io
from collections import Counter

from sqlalchemy import select

from marketplace.accounts.models import Organization, User
from marketplace.accounts.services import set_location
from marketplace.listings import services as listings
from marketplace.listings.assets import dictionary_from_inference, infer_from_asset, upload_asset
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.opendata import shanghai_record, source_from_shanghai
from marketplace.storage import Storage

TITLE = "Shanghai Transport Card Commuter Trips (SODA 2017 extract)"
INDIVIDUALS = 150_000
# Where each demo organization is established.
LOCATIONS = {"huangpu": "shanghai", "buyer": "hong_kong", "harbourline": "hong_kong", "twincity": "hong_kong",
             "kowloon_climate": "hong_kong"}
# The fields the SODA record lists, in its order: (column, 字段, what it holds).
FIELDS = [
    ("card_id", "卡号", "Transport card number, replaced by a keyed hash (pseudonymised: still personal information)"),
    ("trade_date", "交易日期", "Date of the swipe"),
    ("trade_time", "交易时间", "Time of the swipe"),
    ("line_or_station", "线路/地铁站点名称", "Bus line or metro station"),
    ("mode", "行业名称", "Bus, metro, taxi, ferry or P+R car park"),
    ("amount_cny", "交易金额", "Fare paid, CNY"),
    ("fare_type", "交易性质", "Discounted, not discounted, none"),
]
COLUMN_NOTES = {"column": "Column of the extract", "字段": "Field name in the SODA record",
                "description": "What the column holds"}
PLAN = {"name": "Commuter research subscription", "kind": "subscription", "billing_period": "year", "amount": 880000,
        "currency": "CNY",
        "permitted_uses": ["research", "internal_analysis"],
        "prohibitions": ["resale", "redistribution", "reidentification"], "territory": "worldwide",
        "duration_days": None, "attribution_required": True, "derivatives_allowed": False}
PROFILE = {
    "personal_info": "personal", "classification": "general", "cross_border_transfer": True,
    "collected_in": "shanghai", "individuals": INDIVIDUALS,
    "source_legality": "Released by the Shanghai Public Transportation Card Co. for the SODA 2017 open data "
                       "challenge under the SODA data licence.",
    "legal_basis": "SODA data licence; card numbers are pseudonymised by a keyed hash, so the extract remains "
                   "personal information (PIPL Art. 73(4)) and its provision outside the Mainland follows the "
                   "cross-boundary rules.",
}
SCENARIO = {"purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 6,
            "description": "Comparing Shanghai and Hong Kong commuter peaks for a cross-boundary transport study."}
FILING_NUMBER = "SC-310000-2026-0042"


def _field_list() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["column", "字段", "description"])
    writer.writerows(FIELDS)
    return out.getvalue().encode("utf-8")


def _listed_product(session, storage: Storage, seller: User, org: Organization, reviewer: User,
                    max_bytes: int) -> DataProduct:
    """The commuter product, taken through the editor, submission and the reviewer's approval."""
    from marketplace.review import prescreen_runs
    from marketplace.review import services as review
    from marketplace.review.checklist import ChecklistItem

    record = shanghai_record("smart-card")
    product = listings.create_product(session, seller, org, {"title_en": TITLE, "category": "transport"})
    version = product.latest_version
    listings.update_metadata(session, seller, version, {
        "title_zh": "上海一卡通通勤出行（SODA 2017 摘录）", "regions": ["shanghai"],
        "description_en": "Transport card swipes of Shanghai commuters from the SODA 2017 release, with card numbers "
                          "replaced by a keyed hash.\n\n### Personal information\n- The card holders of 150,000 "
                          "cards: licensing it outside the Mainland follows the cross-boundary rules.\n\n"
                          "### Built on open data\n- **上海一卡通乘客刷卡数据** (上海公共交通卡股份有限公司), "
                          "SODA 2017.",
        "description_zh": "SODA 2017 发布的上海一卡通刷卡记录，卡号以加密哈希替代。\n\n### 个人信息\n- 15 万张卡的"
                          "持卡人：向内地以外许可须遵守跨境规则。\n\n### 数据来源\n- **上海一卡通乘客刷卡数据**"
                          "（上海公共交通卡股份有限公司），SODA 2017。",
        "tags": ["transport card", "一卡通", "commuting"], "spatial_coverage": "Shanghai",
        "update_frequency": "one_off", "delivery_methods": ["file"], "formats": ["CSV"]})
    listings.add_source(session, seller, version, source_from_shanghai(record) | {"usage": "subset"})
    listings.add_plan(session, seller, version, PLAN)
    assets = [upload_asset(session, storage, seller, version, kind=kind, filename=name,
                           stream=io.BytesIO(_field_list()), content_type="text/csv", max_bytes=max_bytes)
              for kind, name in (("sample", "smart_card_fields_sample.csv"),
                                 ("deliverable", "smart_card_fields.csv"))]
    rows = dictionary_from_inference(version, infer_from_asset(storage, assets[0]))
    listings.replace_dictionary(session, seller, version, [r | {"description": COLUMN_NOTES.get(r["name"], r["name"])}
                                                           for r in rows])
    listings.set_compliance(session, seller, version, PROFILE, attest=True,
                            attested_by_name="Chen Yiwen (陈怡雯), Data Compliance Officer")
    round_ = review.submit_version(session, seller, version, storage)
    prescreen_runs.run_now(session, round_, storage)
    review.claim_case(session, reviewer, round_.case)
    answers = {item.value: {"result": "pass", "comment": "Checked by hand; card numbers are pseudonymised."}
               for item in ChecklistItem}
    review.decide(session, reviewer, round_.case, "approve", "Approved for listing.", answers)
    return product


def _owners(users: dict[str, User]) -> dict[str, User]:
    return {"huangpu": users["seller2@demo.exchange"], "buyer": users["buyer@demo.exchange"],
            "harbourline": users["seller@demo.exchange"], "twincity": users["seller3@demo.exchange"],
            "kowloon_climate": users["seller4@demo.exchange"]}


def set_demo_locations(session, users: dict[str, User], orgs: dict[str, Organization]) -> None:
    """Say where the demo organizations are, before any demo order is placed: a trade's cross-boundary position
    reads where its seller and buyer are when it is requested."""
    owners = _owners(users)
    for key, place in LOCATIONS.items():
        if orgs[key].location is None:
            set_location(session, owners[key], orgs[key], place)


def load_crossborder_demo(session, storage: Storage, users: dict[str, User], orgs: dict[str, Organization],
                          max_bytes: int, created: Counter) -> None:
    """List the commuter product, and let the Hong Kong buyer license it through evidence of a standard contract
    that the seller confirms (the organizations' locations are set first: ``set_demo_locations``). Skipped once
    the product exists."""
    from marketplace.orders import services as orders
    from marketplace.payments import SimulatedPayments

    if session.scalar(select(ProductVersion.id).where(ProductVersion.title_en == TITLE).limit(1)):
        return
    owners = _owners(users)
    seller, buyer = owners["huangpu"], owners["buyer"]
    product = _listed_product(session, storage, seller, orgs["huangpu"], users["reviewer@demo.exchange"], max_bytes)
    created["products"] += 1
    plan = product.listed_version.plans[0]
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=orgs["buyer"].id, scenario=SCENARIO, accept_terms=True,
        idempotency_key="demo-cross-boundary"))
    orders.submit_evidence(session, buyer, order, FILING_NUMBER,
                           "Standard contract filed with the Shanghai cyberspace office.")
    orders.decide_evidence(session, seller, order, "confirm")
    orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    created["orders"] += 1
    session.flush()
