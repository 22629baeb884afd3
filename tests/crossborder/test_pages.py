"""The cross-boundary rules on the pages: the request form explains the trade's position before it is placed (in
three languages), the order page asks the buyer for evidence and lets the seller confirm or reject it, an owner
says where the organization is, and the editor's compliance step takes where the data was collected and how many
individuals it holds."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.crossborder.states import EvidenceStatus
from marketplace.listings.models import ProductVersion
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests import factories
from tests.crossborder.conftest import SCENARIO, make_buyer, with_profile

COMPLIANCE_FORM = {
    "compliance-personal_info": "personal", "compliance-classification": "general",
    "compliance-source_legality": "Collected with consent under the commuter survey terms.",
    "compliance-cross_border_transfer": "yes", "compliance-legal_basis": "Consent (PIPL Art. 13(1)).",
    "compliance-collected_in": "shanghai",
}


def _form(organization, **changes) -> dict:
    return {**SCENARIO, "organization_id": str(organization.id), "accept_terms": "y", "idempotency_key": "",
            **changes}


def _license_url(product, plan) -> str:
    return f"/products/{product.slug}/plans/{plan.id}/license"


def _orders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Order.id)))


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Standard contract or certification", "fewer than 1,000,000", "Art. 8"]),
    ("zh-Hans", ["标准合同或认证", "10 万人以上、不满 100 万人", "第八条"]),
    ("zh-Hant-HK", ["標準合同或認證", "個人資料", "第八條"]),
])
def test_the_request_form_explains_the_position_before_anything_is_placed(session, client, auth, plans,
                                                                          shanghai_product, language, words):
    with_profile(shanghai_product, individuals=150_000)
    buyer = make_buyer(session)
    buyer.locale = language  # the reader's language
    session.commit()
    auth.login(buyer.email)
    response = client.post(_license_url(shanghai_product, plans["Open research"]),
                           data=_form(buyer.memberships[0].organization, preview="1", description=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for word in words:
        assert word in html
    assert 'name="description"' in html and _orders(session) == 0  # the form as typed, nothing ordered


def test_the_request_form_says_when_no_mechanism_is_needed_and_when_a_trade_is_refused(session, client, auth, plans,
                                                                                      shanghai_product):
    buyer = make_buyer(session)
    session.commit()
    auth.login(buyer.email)
    url = _license_url(shanghai_product, plans["Open research"])
    organization = buyer.memberships[0].organization
    html = client.post(url, data=_form(organization, preview="1")).get_data(as_text=True)
    assert "No mechanism needed" in html and "Art. 5(4)" in html
    with_profile(shanghai_product, pi="none", classification="core")
    session.commit()
    html = client.post(url, data=_form(organization, preview="1")).get_data(as_text=True)
    assert "This trade cannot be placed." in html
    response = client.post(url, data=_form(organization))
    assert response.status_code == 403 and "Core data" in response.get_data(as_text=True)
    assert _orders(session) == 0


def test_the_buyer_gives_evidence_and_the_seller_confirms_it_on_the_order_page(session, client, auth, plans,
                                                                               shanghai_product, seller):
    with_profile(shanghai_product, individuals=150_000)
    buyer = make_buyer(session)
    session.commit()
    auth.login(buyer.email)
    response = client.post(_license_url(shanghai_product, plans["Open research"]),
                           data=_form(buyer.memberships[0].organization))
    order_id = int(re.fullmatch(r"/orders/(\d+)", response.headers["Location"]).group(1))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Cross-boundary position" in page and "Send the evidence" in page

    refused = client.post(f"/orders/{order_id}/cross-boundary/evidence",
                          data={"filing_number": "  ", "note": "Kept note"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Give the filing or certificate number of the mechanism." in html and "Kept note" in html
    sent = client.post(f"/orders/{order_id}/cross-boundary/evidence", data={"filing_number": "SC-310000-2026-77"})
    assert sent.status_code == 302
    auth.logout()

    auth.login(seller.email)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "SC-310000-2026-77" in page and "Confirm the evidence" in page
    no_reason = client.post(f"/orders/{order_id}/cross-boundary/decision", data={"reject": "1", "reason": ""})
    assert no_reason.status_code == 422 and "A reason is required." in no_reason.get_data(as_text=True)
    neither = client.post(f"/orders/{order_id}/cross-boundary/decision", data={"reason": ""})
    assert neither.status_code == 422 and "Choose confirm or reject." in neither.get_data(as_text=True)
    assert client.post(f"/orders/{order_id}/cross-boundary/decision", data={"confirm": "1"}).status_code == 302
    session.expire_all()
    order = session.get(Order, order_id)
    assert order.status == OrderStatus.FULFILLED
    assert orders.position_of(session, order).evidence_status == EvidenceStatus.CONFIRMED


def test_the_api_shows_the_position_and_takes_the_evidence(session, client, plans, shanghai_product, seller):
    with_profile(shanghai_product, pi="sensitive", individuals=20_000)
    buyer = make_buyer(session)
    token = factories.api_token(session, buyer)
    seller_api = factories.TokenClient(client, factories.api_token(session, seller))
    session.commit()
    api = factories.TokenClient(client, token)
    slug = buyer.memberships[0].organization.slug
    preview = api.post("/api/v1/orders/cross-boundary-preview",
                       json={"plan_id": plans["Paid research"].id, "organization": slug, "territory": "hong_kong"})
    assert preview.status_code == 200
    assert (preview.json["outcome"], preview.json["rule"]) == ("security_assessment", "assessment_10k_sensitive")
    bad = api.post("/api/v1/orders/cross-boundary-preview",
                   json={"plan_id": plans["Paid research"].id, "organization": slug, "territory": "moon"})
    assert bad.status_code == 422 and "territory" in bad.json["errors"]
    placed = api.post("/api/v1/orders", json={"plan_id": plans["Paid research"].id, "organization": slug,
                                              "scenario": SCENARIO, "accept_terms": True})
    assert placed.status_code == 201
    assert placed.json["cross_boundary"]["evidence_status"] == "needed"
    assert placed.json["cross_boundary"]["clause"] == "Art. 7(2)"
    assert placed.json["cross_boundary"]["evidence_due"] and placed.json["cross_boundary"]["evidence_document"] is None
    order_id = placed.json["id"]
    assert api.post(f"/api/v1/orders/{order_id}/cross-boundary/evidence", json={}).status_code == 422
    given = api.post(f"/api/v1/orders/{order_id}/cross-boundary/evidence",
                     json={"filing_number": "CAC-SA-2026-0193"})
    assert given.status_code == 200 and given.json["evidence_status"] == "submitted"
    assert api.post(f"/api/v1/orders/{order_id}/cross-boundary/decision",
                    json={"decision": "confirm"}).status_code == 403
    decided = seller_api.post(f"/api/v1/orders/{order_id}/cross-boundary/decision",
                              json={"decision": "reject", "reason": "This is not a CAC assessment number."})
    assert decided.status_code == 200 and decided.json["evidence_status"] == "rejected"
    again = seller_api.post(f"/api/v1/orders/{order_id}/cross-boundary/decision", json={"decision": "confirm"})
    assert again.status_code == 409 and set(again.json) == {"status", "code", "message", "errors"}


def test_an_owner_says_where_the_organization_is(session, client, auth, seller, seller_org):
    auth.login(seller.email)
    assert client.post(f"/organizations/{seller_org.slug}/location", data={"location": "shenzhen"}).status_code == 302
    session.expire_all()
    assert session.get(Organization, seller_org.id).location == "shenzhen"
    refused = client.post(f"/organizations/{seller_org.slug}/location", data={"location": "atlantis"})
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Organization, seller_org.id).location == "shenzhen"


def test_the_compliance_step_takes_where_the_data_was_collected_and_how_many_individuals(session, client, auth,
                                                                                         seller):
    product = factories.product(session, seller)
    session.commit()
    auth.login(seller.email)
    url = f"/seller/products/{product.id}/versions/1/compliance"
    refused = client.post(url, data={**COMPLIANCE_FORM, "compliance-individuals": "-5"})
    assert refused.status_code == 422 and 'value="-5"' in refused.get_data(as_text=True)
    assert client.post(url, data={**COMPLIANCE_FORM, "compliance-individuals": "150000"}).status_code == 302
    session.expire_all()
    version = session.scalar(select(ProductVersion).where(ProductVersion.product_id == product.id))
    assert (version.collected_in, version.individuals) == ("shanghai", 150_000)


def test_personal_information_without_a_count_cannot_be_attested(session, seller):
    from marketplace.errors import ValidationFailed
    from marketplace.listings import services as listings

    version = factories.product(session, seller).latest_version
    profile = {**factories.COMPLIANCE, "personal_info": "sensitive", "collected_in": "shanghai"}
    with pytest.raises(ValidationFailed) as refused:
        listings.set_compliance(session, seller, version, profile, attest=True, attested_by_name="Sam Seller")
    assert "individuals" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        listings.set_compliance(session, seller, version, {**profile, "individuals": -1}, attest=False,
                                attested_by_name=None)
    assert "individuals" in refused.value.errors
    listings.set_compliance(session, seller, version, {**profile, "individuals": 800}, attest=True,
                            attested_by_name="Sam Seller")
    assert version.individuals == 800 and version.attested_at is not None


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"compliance-collected_in": ""}, "collected_in", "Declare where the personal information was collected."),
    ({"compliance-individuals": "0"}, "individuals", "Declare how many individuals"),
    ({"compliance-individuals": ""}, "individuals", "Declare how many individuals"),
])
def test_personal_information_needs_its_place_and_a_count_on_the_compliance_step(session, client, auth, seller,
                                                                                 changes, field, message):
    product = factories.product(session, seller)
    session.commit()
    auth.login(seller.email)
    url = f"/seller/products/{product.id}/versions/1/compliance"
    form = {**COMPLIANCE_FORM, "compliance-individuals": "5000", **changes}
    refused = client.post(url, data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and message in html
    assert "Collected with consent under the commuter survey terms." in html  # the input kept
    session.expire_all()
    version = session.scalar(select(ProductVersion).where(ProductVersion.product_id == product.id))
    assert version.personal_info != "personal"  # nothing saved


def test_the_api_refuses_personal_information_without_its_place_or_count(session, client, seller):
    product = factories.product(session, seller)
    api = factories.TokenClient(client, factories.api_token(session, seller))
    session.commit()
    url = f"/api/v1/products/{product.id}/versions/1/compliance"
    profile = {**factories.COMPLIANCE, "personal_info": "personal"}
    refused = api.put(url, json={**profile, "individuals": 0})
    assert refused.status_code == 422 and {"collected_in", "individuals"} <= set(refused.json["errors"])
    assert api.put(url, json={**profile, "individuals": 10, "collected_in": "hong_kong"}).status_code == 200


def test_a_version_stored_without_its_collection_place_is_decided_as_collected_in_the_mainland(session, plans,
                                                                                             shanghai_product):
    seller_org = shanghai_product.organization
    seller_org.location = "hong_kong"  # the old reading: "collected where the seller is" needed no mechanism
    with_profile(shanghai_product, individuals=150_000, collected=None)
    buyer = make_buyer(session)
    session.commit()
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["Open research"].id, organization_id=buyer.memberships[0].organization_id,
        scenario=SCENARIO, accept_terms=True, idempotency_key=""))
    position = orders.position_of(session, order)
    assert (position.rule_key, position.assumed_mainland) == ("contract_100k", True)
    assert "treated as collected in the Mainland" in position.explanation
