"""Orders and licences in the JSON API: requesting with a scenario, idempotency, cancelling, the seller's decision,
refunds, licences; other organizations' orders are 404 and bad input is a 4xx in the one error shape."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments import SimulatedPayments
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.api import assert_error

V1 = "/api/v1"


@pytest.fixture
def buyer_api(client, session, buyer):
    return factories.TokenClient(client, factories.api_token(session, buyer))


def order_body(plan, org, **extra) -> dict:
    return {"plan_id": plan.id, "organization": org.slug, "scenario": dict(SCENARIO), "accept_terms": True, **extra}


def create(buyer_api, plan, org, headers=None, **extra):
    return buyer_api.post(f"{V1}/orders", json=order_body(plan, org, **extra), headers=headers or {})


def fulfilled(session, buyer, org, plan) -> Order:
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))
    orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    session.commit()
    return order


# ---------------------------------------------------------------- requesting


def test_a_buyer_orders_a_paid_plan_with_a_scenario(buyer_api, buyer_org, plans, offer):
    resp = create(buyer_api, plans["Exclusive"], buyer_org)
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["status"] == "awaiting_payment" and order["number"].startswith("ORD-")
    assert order["product"] == offer[0].slug
    assert order["plan"] == {"id": plans["Exclusive"].id, "name": "Exclusive", "kind": "one_time"}
    assert order["amount"] == 500000 and isinstance(order["amount"], int) and order["currency"] == "HKD"
    assert order["scenario"] == SCENARIO
    assert order["deadline"] and order["licence"] is None
    assert order["buyer_organization"] == buyer_org.slug and order["seller_organization"] == "harbour-analytics"
    assert order["actions"] == ["cancel"]

    listed = buyer_api.get(f"{V1}/orders").get_json()
    assert [o["id"] for o in listed] == [order["id"]]
    assert buyer_api.get(f"{V1}/orders", query_string={"organization": buyer_org.slug}).get_json() == listed
    assert buyer_api.get(f"{V1}/orders/{order['id']}").get_json() == order


def test_a_free_plan_is_licensed_at_once_and_listed_with_the_licences(buyer_api, buyer_org, plans):
    order = create(buyer_api, plans["Open research"], buyer_org).get_json()
    assert order["status"] == "fulfilled" and order["licence"].startswith("LIC-") and order["amount"] == 0

    licences = buyer_api.get(f"{V1}/licences/held").get_json()
    assert [lic["serial"] for lic in licences] == [order["licence"]]
    licence = buyer_api.get(f"{V1}/licences/{licences[0]['id']}").get_json()
    assert licence["status"] == "active" and licence["order_id"] == order["id"]
    assert licence["scenario"] == SCENARIO and licence["plan"]["name"] == "Open research"
    assert licence["certificate_url"].endswith(f"/certificates/{order['licence']}")
    assert "permitted_uses" in licence["terms"]


@pytest.mark.parametrize(("scenario", "field", "words"), [
    ({"purpose": "commercial_product"}, "purpose", "non-commercial"),
    ({"purpose": "ai_training"}, "purpose", "AI / model training"),
    ({"territory": "worldwide"}, "territory", "Hong Kong only"),
    ({"purpose": "spying"}, "purpose", "Choose a purpose"),
    ({"description": "too short"}, "description", "20 to 2,000 characters"),
    ({"expected_users": 0}, "expected_users", "between 1"),
])
def test_a_scenario_the_plan_refuses_is_422_with_the_field_named(session, buyer_api, buyer_org, plans, scenario,
                                                                  field, words):
    resp = create(buyer_api, plans["Exclusive"], buyer_org, scenario={**SCENARIO, **scenario})
    body = assert_error(resp, 422, "validation_failed", field)
    assert words in body["errors"][field][0]
    assert session.scalar(select(func.count(Order.id))) == 0


def test_the_terms_must_be_accepted(buyer_api, buyer_org, plans):
    assert_error(create(buyer_api, plans["Open research"], buyer_org, accept_terms=False), 422, field="accept_terms")


@pytest.mark.parametrize(("body", "field"), [
    ({"scenario": None}, "scenario"),
    ({"scenario": {"purpose": "research"}}, "scenario"),
    ({"plan_id": "5"}, "plan_id"),
    ({"accept_terms": None}, "accept_terms"),
    ({"price": 0}, "price"),
])
def test_malformed_fields_are_422_in_the_error_shape(buyer_api, buyer_org, plans, body, field):
    resp = buyer_api.post(f"{V1}/orders", json={**order_body(plans["Exclusive"], buyer_org), **body})
    assert_error(resp, 422, "invalid_input", field)


def test_malformed_json_is_400_in_the_error_shape(buyer_api, buyer_org, plans):
    resp = buyer_api.post(f"{V1}/orders", data="{not json", content_type="application/json")
    assert_error(resp, 400)
    assert_error(buyer_api.post(f"{V1}/orders", json=[]), 422)
    order_id = create(buyer_api, plans["By approval"], buyer_org).get_json()["id"]
    assert_error(buyer_api.post(f"{V1}/orders/{order_id}/decision", data=b"\xff\xfe",
                                content_type="application/json"), 400)


def test_an_order_the_caller_cannot_see_is_404_before_its_body_is_read(buyer_api):
    assert_error(buyer_api.post(f"{V1}/orders/999999/decision", data=b"\xff\xfe",
                                content_type="application/json"), 404, "not_found")


def test_the_api_needs_a_token(client, buyer_org, plans):
    assert_error(client.get(f"{V1}/orders"), 401, "unauthorized")
    assert_error(client.get(f"{V1}/licences/held"), 401, "unauthorized")
    assert_error(client.post(f"{V1}/orders", json=order_body(plans["Exclusive"], buyer_org)), 401)


def test_the_organization_must_be_one_the_caller_belongs_to_and_not_the_seller(client, session, buyer_api, api,
                                                                               plans, buyer_org):
    assert_error(create(buyer_api, plans["Exclusive"], buyer_org, organization="harbour-analytics"), 422,
                 field="organization")
    # The seller licensing its own product: refused, and the field is the API's name for it.
    assert_error(api.post(f"{V1}/orders", json=order_body(plans["Exclusive"], buyer_org,
                                                          organization="harbour-analytics")),
                 403, "forbidden", "organization")


def test_an_unknown_plan_is_404_and_an_open_order_for_the_plan_is_409(buyer_api, buyer_org, plans):
    assert_error(buyer_api.post(f"{V1}/orders", json={**order_body(plans["Exclusive"], buyer_org),
                                                      "plan_id": 999999}), 404, "not_found")
    assert create(buyer_api, plans["Exclusive"], buyer_org).status_code == 201
    assert_error(create(buyer_api, plans["Exclusive"], buyer_org), 409, "conflict", "plan_id")


def test_the_same_idempotency_key_returns_the_same_order(session, buyer_api, buyer_org, plans):
    headers = {"Idempotency-Key": "order-2025-0001"}
    first = create(buyer_api, plans["By approval"], buyer_org, headers=headers)
    again = create(buyer_api, plans["By approval"], buyer_org, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert session.scalar(select(func.count(Order.id))) == 1
    # The key names one order: reusing it for another plan is refused.
    assert_error(create(buyer_api, plans["Exclusive"], buyer_org, headers=headers), 409, field="idempotency_key")
    assert_error(create(buyer_api, plans["Exclusive"], buyer_org, headers={"Idempotency-Key": "k" * 101}), 422,
                 field="idempotency_key")


@pytest.mark.parametrize("key", ["abc\x00def", "abc\x01def", "\x00", "k" * 101])
def test_an_idempotency_key_no_order_could_carry_is_422_before_any_look_up(session, buyer_api, buyer_org, plans,
                                                                           key):
    queries: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "idempotency_key" in statement:
            queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        # The test client's header API may refuse a NUL; a raw WSGI environ carries what a socket would.
        resp = buyer_api.post(f"{V1}/orders", json=order_body(plans["Exclusive"], buyer_org),
                              environ_overrides={"HTTP_IDEMPOTENCY_KEY": key})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert_error(resp, 422, "validation_failed", "idempotency_key")
    assert queries == []
    assert session.scalar(select(func.count(Order.id))) == 0


# ---------------------------------------------------------------- what happens next


def test_the_buyer_cancels_before_paying(buyer_api, buyer_org, plans):
    order = create(buyer_api, plans["Exclusive"], buyer_org).get_json()
    resp = buyer_api.post(f"{V1}/orders/{order['id']}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert resp.get_json()["actions"] == []
    assert_error(buyer_api.post(f"{V1}/orders/{order['id']}/cancel"), 409, "invalid_transition")


def test_the_seller_decides_a_request(buyer_api, api, buyer_org, plans):
    order = create(buyer_api, plans["By approval"], buyer_org).get_json()
    assert order["status"] == "awaiting_approval" and order["actions"] == ["cancel"]
    url = f"{V1}/orders/{order['id']}"

    as_seller = api.get(url).get_json()
    assert sorted(as_seller["actions"]) == ["approve", "decline"]
    sold = api.get(f"{V1}/orders", query_string={"role": "seller", "organization": "harbour-analytics"}).get_json()
    assert [o["id"] for o in sold] == [order["id"]]
    assert_error(api.get(f"{V1}/orders", query_string={"role": "seller"}), 422, field="organization")

    assert_error(buyer_api.post(f"{url}/decision", json={"decision": "approve"}), 403, "forbidden")
    assert_error(api.post(f"{url}/decision", json={"decision": "decline"}), 422, "validation_failed", "message")
    assert_error(api.post(f"{url}/decision", json={"decision": "perhaps"}), 422, "invalid_input", "decision")
    resp = api.post(f"{url}/decision", json={"decision": "approve", "message": "Welcome."})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "awaiting_payment" and resp.get_json()["decision_message"] == "Welcome."
    assert_error(api.post(f"{url}/decision", json={"decision": "decline", "message": "Changed my mind."}), 409)


def test_the_seller_refunds_and_the_licence_is_revoked(session, buyer, buyer_api, api, buyer_org, plans):
    order = fulfilled(session, buyer, buyer_org, plans["Exclusive"])
    url = f"{V1}/orders/{order.id}"
    assert api.get(url).get_json()["actions"] == ["refund"]
    assert buyer_api.get(url).get_json()["actions"] == []

    assert_error(api.post(f"{url}/refund", json={}), 422, "invalid_input", "reason")
    assert_error(api.post(f"{url}/refund", json={"reason": "  "}), 422, "validation_failed", "reason")
    assert_error(buyer_api.post(f"{url}/refund", json={"reason": "I want my money back"}), 403)

    resp = api.post(f"{url}/refund", json={"reason": "Delivered the wrong region."})
    assert resp.status_code == 200 and resp.get_json()["status"] == "refunded"
    licence = buyer_api.get(f"{V1}/licences/{order.licence.id}").get_json()
    assert licence["status"] == "revoked" and "wrong region" in licence["status_reason"]
    assert_error(api.post(f"{url}/refund", json={"reason": "Again."}), 409)


def test_a_platform_admin_refunds_through_the_api(client, session, admin, buyer, buyer_org, plans):
    order = fulfilled(session, buyer, buyer_org, plans["Exclusive"])
    admin_api = factories.TokenClient(client, factories.api_token(session, admin))
    assert admin_api.get(f"{V1}/orders/{order.id}").get_json()["actions"] == ["refund"]
    resp = admin_api.post(f"{V1}/orders/{order.id}/refund", json={"reason": "Dispute upheld."})
    assert resp.status_code == 200 and resp.get_json()["status"] == OrderStatus.REFUNDED.value


def test_another_organizations_orders_and_licences_are_404(client, session, buyer, buyer_api, buyer_org, plans):
    order = fulfilled(session, buyer, buyer_org, plans["Exclusive"])
    stranger = factories.user(session, email="stranger@example.org", organization="Elsewhere Ltd")
    stranger_api = factories.TokenClient(client, factories.api_token(session, stranger))
    for resp in (stranger_api.get(f"{V1}/orders/{order.id}"),
                 stranger_api.post(f"{V1}/orders/{order.id}/cancel"),
                 stranger_api.post(f"{V1}/orders/{order.id}/decision", json={"decision": "approve"}),
                 stranger_api.post(f"{V1}/orders/{order.id}/refund", json={"reason": "Mine now."}),
                 stranger_api.get(f"{V1}/licences/{order.licence.id}"),
                 stranger_api.get(f"{V1}/orders", query_string={"organization": buyer_org.slug}),
                 stranger_api.get(f"{V1}/orders/99999999999999999999")):
        assert_error(resp, 404)
    assert stranger_api.get(f"{V1}/orders").get_json() == []
    assert stranger_api.get(f"{V1}/licences/held").get_json() == []
    session.refresh(order)
    assert order.status == OrderStatus.FULFILLED


def test_the_openapi_document_describes_orders_and_licences(client):
    spec = client.get(f"{V1}/openapi.json").get_json()
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/cancel",
                 "/api/v1/orders/{order_id}/decision", "/api/v1/orders/{order_id}/refund", "/api/v1/licences/held",
                 "/api/v1/licences/{licence_id}"):
        assert path in spec["paths"], path
    create_op = spec["paths"]["/api/v1/orders"]["post"]
    assert {"201", "200"} <= set(create_op["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create_op["parameters"])


@pytest.mark.parametrize(("language", "message", "field_message"), [
    ("zh-CN", "请接受该方案的许可条款以继续。", "请接受该方案的许可条款以继续。"),
    ("zh-HK", "請接受該方案的許可條款以繼續。", "請接受該方案的許可條款以繼續。"),
])
def test_a_refusal_is_told_in_the_language_the_client_asks_for(buyer_api, buyer_org, plans, language, message,
                                                               field_message):
    response = create(buyer_api, plans["Open research"], buyer_org, accept_terms=False,
                      headers={"Accept-Language": language})
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    assert response.json["message"] == message and response.json["errors"]["accept_terms"] == [field_message]
