"""The seller's order pages (request queue, sales dashboard, one order) and the admin's order list: decisions and
refunds through the pages, refusals re-shown with the message and the input kept, and nobody else let in."""
from __future__ import annotations

import html

import pytest
from flask import current_app

from marketplace import i18n
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments import SimulatedPayments
from tests import factories
from tests.licensing.conftest import SCENARIO

SELLER_ORG = "/seller/harbour-analytics"


def _day(moment) -> str:
    """A time's day as the pages show it to an English reader in Hong Kong."""
    with current_app.test_request_context("/"):
        return i18n.day(moment)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def request_plan(session, buyer, org, plan, **scenario) -> Order:
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario={**SCENARIO, **scenario}, accept_terms=True,
        idempotency_key=""))
    session.commit()
    return order


def buy(session, buyer, org, plan) -> Order:
    """A paid order, fulfilled: requested, checked out and paid with the simulated test card."""
    order = request_plan(session, buyer, org, plan)
    orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    session.commit()
    assert order.status == OrderStatus.FULFILLED
    return order


@pytest.fixture
def usd_plan(session, storage, seller, reviewer):
    """A second listed product of the seller, priced in US dollars."""
    product = factories.listed_product(session, storage, seller, reviewer, title="EV charging sessions",
                                       plans=[{"name": "Team USD", "amount": 25000, "currency": "USD"}])
    session.commit()
    return next(p for p in product.listed_version.plans if p.name == "Team USD")


@pytest.fixture
def seller_client(client, auth, seller):
    auth.login(seller.email)
    return client


@pytest.fixture
def waiting(session, buyer, buyer_org, plans):
    """A request for the paid plan that needs the seller's approval."""
    return request_plan(session, buyer, buyer_org, plans["By approval"])


def decide_url(order, suffix="decide", org=SELLER_ORG) -> str:
    return f"{org}/orders/{order.id}/{suffix}"


# ---------------------------------------------------------------- the request queue


def test_the_queue_shows_each_request_with_its_full_scenario_oldest_first(session, seller_client, buyer, buyer_org,
                                                                          plans):
    first = request_plan(session, buyer, buyer_org, plans["By approval"])
    second = request_plan(session, buyer, buyer_org, plans["Free by approval"], territory="hong_kong",
                          description="Teaching a transport planning course with real road speeds.")
    page = seller_client.get(f"{SELLER_ORG}/requests")
    assert page.status_code == 200
    body = text(page)
    assert body.index(first.number) < body.index(second.number)
    for words in ("Kowloon Research", "By approval", "Free by approval", "HK$900.00", "Research", "Academia",
                  "Hong Kong", SCENARIO["description"], "Teaching a transport planning course",
                  _day(first.deadline), "Strategic road speeds"):
        assert words in body, words


def test_the_seller_approves_a_request_through_the_page(session, seller_client, waiting, outbox):
    resp = seller_client.post(decide_url(waiting), data={"decision": "approve", "message": "Welcome aboard."})
    assert resp.status_code == 302 and resp.location.endswith(f"{SELLER_ORG}/requests")
    session.refresh(waiting)
    assert waiting.status == OrderStatus.AWAITING_PAYMENT and waiting.decision_message == "Welcome aboard."
    page = text(seller_client.get(resp.location))
    assert f"Approved {waiting.number}" in page and "No requests are waiting" in page


def test_approving_a_free_request_issues_the_licence(session, seller_client, buyer, buyer_org, plans):
    order = request_plan(session, buyer, buyer_org, plans["Free by approval"])
    resp = seller_client.post(decide_url(order), data={"decision": "approve", "back": "order"})
    assert resp.status_code == 302 and resp.location.endswith(f"{SELLER_ORG}/orders/{order.id}")
    session.refresh(order)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE


def test_the_seller_declines_with_a_message(session, seller_client, waiting):
    resp = seller_client.post(decide_url(waiting), data={"decision": "decline",
                                                         "message": "We only license to transport operators."})
    assert resp.status_code == 302
    session.refresh(waiting)
    assert waiting.status == OrderStatus.DECLINED
    assert waiting.decision_message == "We only license to transport operators."


def test_declining_without_a_message_reshows_the_request_with_the_error(session, seller_client, waiting):
    resp = seller_client.post(decide_url(waiting), data={"decision": "decline", "message": "   "})
    assert resp.status_code == 422
    body = text(resp)
    assert "A message to the buyer is required." in body and waiting.number in body
    session.refresh(waiting)
    assert waiting.status == OrderStatus.AWAITING_APPROVAL


def test_a_decision_from_the_order_page_is_reshown_there(session, seller_client, waiting):
    resp = seller_client.post(decide_url(waiting), data={"decision": "decline", "back": "order"})
    assert resp.status_code == 422
    body = text(resp)
    assert "A message to the buyer is required." in body and "Declared use scenario" in body
    assert f'action="{SELLER_ORG}/orders/{waiting.id}/decide"' in body


def test_the_seller_console_links_to_requests_and_sales(seller_client):
    body = text(seller_client.get("/seller/"))
    assert f'href="{SELLER_ORG}/requests"' in body and f'href="{SELLER_ORG}/sales"' in body


def test_a_refused_decision_keeps_what_was_typed(session, seller_client, waiting):
    resp = seller_client.post(decide_url(waiting), data={"decision": "maybe", "message": "Let me think about it."})
    assert resp.status_code == 422
    body = text(resp)
    assert "Let me think about it.</textarea>" in body and "Not a valid choice" in body
    session.refresh(waiting)
    assert waiting.status == OrderStatus.AWAITING_APPROVAL


def test_deciding_a_request_twice_is_409_with_the_reason_on_the_page(session, seller_client, waiting):
    assert seller_client.post(decide_url(waiting), data={"decision": "decline", "message": "No."}).status_code == 302
    resp = seller_client.post(decide_url(waiting), data={"decision": "approve"})
    assert resp.status_code == 409
    assert "that is declined" in text(resp)
    session.refresh(waiting)
    assert waiting.status == OrderStatus.DECLINED


# ---------------------------------------------------------------- sales and refunds


def test_refund_revokes_the_licence_and_revenue_is_per_currency_without_it(session, seller_client, buyer,
                                                                          buyer_org, plans, usd_plan):
    exclusive = buy(session, buyer, buyer_org, plans["Exclusive"])           # HK$5,000.00, refunded below
    research = buy(session, buyer, buyer_org, plans["Research licence"])     # HK$1,200.00
    buy(session, buyer, buyer_org, usd_plan)                                 # US$250.00
    request_plan(session, buyer, buyer_org, plans["By approval"])           # waiting for the seller

    before = text(seller_client.get(f"{SELLER_ORG}/sales"))
    assert "HK$6,200.00" in before and "US$250.00" in before

    resp = seller_client.post(decide_url(exclusive, "refund"), data={"reason": "Delivered the wrong region."})
    assert resp.status_code == 302 and resp.location.endswith(f"{SELLER_ORG}/sales")
    session.refresh(exclusive)
    assert exclusive.status == OrderStatus.REFUNDED and exclusive.refund_reference
    assert exclusive.licence.status == LicenceStatus.REVOKED

    page = seller_client.get(resp.location)
    body = text(page)
    assert page.status_code == 200 and f"Refunded {exclusive.number}" in body
    assert "HK$1,200.00" in body and "US$250.00" in body
    assert "HK$6,200.00" not in body and "1,450.00" not in body  # never summed across currencies
    assert exclusive.number in body and research.number in body
    section = body[body.index("Active licences"):body.index("Requests waiting")]
    assert ">2<" in section  # the Research and USD licences
    waiting_section = body[body.index("Requests waiting"):body.index("Recent orders")]
    assert ">1<" in waiting_section and f"{SELLER_ORG}/requests" in waiting_section


def test_refund_without_a_reason_reshows_the_order_page_with_the_error(session, seller_client, buyer, buyer_org,
                                                                       plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    resp = seller_client.post(decide_url(order, "refund"), data={"reason": "", "back": "order"})
    assert resp.status_code == 422
    body = text(resp)
    assert "A reason is required." in body and order.number in body and "Declared use scenario" in body
    session.refresh(order)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE


def test_the_order_page_shows_scenario_status_and_certificate(session, seller_client, buyer, buyer_org, plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    page = seller_client.get(f"{SELLER_ORG}/orders/{order.id}")
    body = text(page)
    assert page.status_code == 200
    assert f'href="/certificates/{order.licence.serial}"' in body
    for words in ("Fulfilled", "Kowloon Research", "Exclusive", "HK$5,000.00", SCENARIO["description"],
                  "Refund"):
        assert words in body, words


def test_a_free_licence_offers_no_refund(session, seller_client, buyer, buyer_org, plans):
    order = request_plan(session, buyer, buyer_org, plans["Open research"])
    assert order.status == OrderStatus.FULFILLED
    body = text(seller_client.get(f"{SELLER_ORG}/orders/{order.id}"))
    assert "revoke the licence</button>" not in body and order.licence.serial in body


# ---------------------------------------------------------------- the platform admin


def test_an_admin_refunds_from_the_admin_order_list(session, client, auth, admin, buyer, buyer_org, plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    auth.login(admin.email)
    page = client.get("/admin/orders")
    assert page.status_code == 200 and order.number in text(page) and "Harbour Analytics" in text(page)
    assert client.post(f"/admin/orders/{order.id}/refund", data={"reason": ""}).status_code == 422
    resp = client.post(f"/admin/orders/{order.id}/refund", data={"reason": "Chargeback dispute upheld."})
    assert resp.status_code == 302
    session.refresh(order)
    assert order.status == OrderStatus.REFUNDED and order.licence.status == LicenceStatus.REVOKED
    assert "Chargeback dispute upheld." in order.licence.status_reason


def test_admin_orders_are_paged_and_a_bad_page_number_is_ignored(client, auth, admin):
    auth.login(admin.email)
    resp = client.get("/admin/orders?page=abc")
    assert resp.status_code == 200 and "is not a page number" in text(resp)


def test_only_admins_see_every_order(session, seller_client, buyer, buyer_org, plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    assert seller_client.get("/admin/orders").status_code == 403
    assert seller_client.post(f"/admin/orders/{order.id}/refund", data={"reason": "Mine."}).status_code == 403
    session.refresh(order)
    assert order.status == OrderStatus.FULFILLED


# ---------------------------------------------------------------- nobody else


def test_a_non_member_is_refused_everything(session, client, auth, buyer, buyer_org, plans, waiting):
    paid = buy(session, buyer, buyer_org, plans["Exclusive"])
    auth.login(buyer.email)  # the buyer, not a member of the seller organization
    for url in (f"{SELLER_ORG}/requests", f"{SELLER_ORG}/sales", f"{SELLER_ORG}/orders/{waiting.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(decide_url(waiting), data={"decision": "approve"}).status_code == 404
    assert client.post(decide_url(paid, "refund"), data={"reason": "Give it back"}).status_code == 404
    # Their own organization's pages do not show orders it did not sell.
    own = f"/seller/{buyer_org.slug}"
    assert client.get(f"{own}/requests").status_code == 200
    assert client.get(f"{own}/orders/{waiting.id}").status_code == 404
    assert client.post(decide_url(waiting, org=own), data={"decision": "approve"}).status_code == 404
    assert client.post(decide_url(paid, "refund", org=own), data={"reason": "Give it back"}).status_code == 404
    session.refresh(waiting)
    session.refresh(paid)
    assert waiting.status == OrderStatus.AWAITING_APPROVAL and paid.status == OrderStatus.FULFILLED


@pytest.mark.parametrize("url", ["/seller/harbour-analytics/requests", "/seller/harbour-analytics/sales",
                                 "/admin/orders"])
def test_pages_need_a_login(client, seller, url):
    resp = client.get(url)
    assert resp.status_code == 302 and "/login" in resp.location


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/seller/harbour-analytics/orders/999999"),
    ("get", "/seller/harbour-analytics/orders/99999999999999999999"),
    ("post", "/seller/harbour-analytics/orders/999999/decide"),
    ("post", "/seller/harbour-analytics/orders/999999/refund"),
    ("get", "/seller/no-such-organization/sales"),
    ("get", "/seller/no-such-organization/requests"),
])
def test_bad_ids_are_404(seller_client, method, url):
    assert getattr(seller_client, method)(url, data={"decision": "approve", "reason": "x"}).status_code == 404


def test_a_bad_order_id_is_404_for_the_admin_too(client, auth, admin):
    auth.login(admin.email)
    assert client.post("/admin/orders/999999/refund", data={"reason": "x"}).status_code == 404
