"""Stripe's edges against the Stripe-shaped stub: a delayed payment that fails, a checkout Stripe no longer knows,
order ids in metadata that only look like numbers, and Stripe being down (503 with Retry-After, never 402)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.licensing.models import Licence
from marketplace.orders import services as orders
from marketplace.orders.common import licences_held
from marketplace.orders.models import Order, PaymentEvent
from marketplace.orders.states import OrderStatus
from marketplace.payments import PaymentError, PaymentUnavailable
from marketplace.payments.stripe_provider import StripePayments
from tests import factories
from tests.payments.conftest import CANCEL_URL, SUCCESS_URL, request_order
from tests.payments.test_webhooks import completed, post_event
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET, event_payload


def fresh(session, order) -> Order:
    session.expire_all()
    return session.get(Order, order.id)


def licences(session) -> int:
    return session.scalar(select(func.count(Licence.id)))


def reconcile(app):
    return app.test_cli_runner().invoke(args=["payments", "reconcile"])


# ---------------------------------------------------------------- only a paid session counts as paid


def test_after_a_failed_delayed_payment_the_buyer_pays_again_with_a_new_checkout(client, auth, session, buyer,
                                                                               checkout, stripe_stub):
    first = checkout.payment_reference
    pending = stripe_stub.complete(first, paid=False)  # a bank debit: complete, the money not in yet
    assert post_event(client, event_payload("checkout.session.completed", pending)).get_json()["outcome"] == \
        "pending: payment status is unpaid"
    failed = stripe_stub.settle_async(first, succeeded=False)
    response = post_event(client, event_payload("checkout.session.async_payment_failed", failed))
    assert response.get_json()["outcome"] == "payment failed"

    auth.login(buyer.email)
    page = client.get(f"/orders/{checkout.id}")
    assert page.status_code == 200 and f'action="/orders/{checkout.id}/pay"' in page.get_data(as_text=True)
    response = client.post(f"/orders/{checkout.id}/pay")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    order = fresh(session, checkout)
    second = order.payment_reference
    assert second != first and response.headers["Location"] == stripe_stub.session(second)["url"]
    assert order.status == OrderStatus.AWAITING_PAYMENT

    paid = stripe_stub.complete(second)
    assert post_event(client, event_payload("checkout.session.completed", paid)).get_json()["outcome"] == "fulfilled"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.payment_intent == paid["payment_intent"]
    assert licences(session) == 1


def test_paying_again_while_a_delayed_payment_settles_is_refused(session, buyer, checkout, stripe_payments,
                                                                 stripe_stub):
    stripe_stub.complete(checkout.payment_reference, paid=False)
    with pytest.raises(PaymentError, match="still being processed"):
        orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL,
                              cancel_url=CANCEL_URL)
    assert len(stripe_stub.sessions) == 1  # no second session the buyer could pay as well


def test_a_settled_delayed_payment_is_still_never_paid_twice(session, buyer, checkout, stripe_payments,
                                                             stripe_stub):
    stripe_stub.complete(checkout.payment_reference, paid=False)
    stripe_stub.settle_async(checkout.payment_reference, succeeded=True)
    with pytest.raises(PaymentError, match="already paid"):
        orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL,
                              cancel_url=CANCEL_URL)
    assert len(stripe_stub.sessions) == 1


# ---------------------------------------------------------------- a checkout Stripe does not know


def _forget(stripe_stub, order) -> None:
    """Stripe no longer knows the order's checkout (test data deleted, the keys now name another account)."""
    del stripe_stub.sessions[order.payment_reference]


def test_a_checkout_unknown_to_stripe_does_not_stop_the_reconcile_run(app, session, buyer, buyer_org, plans,
                                                                      checkout, stripe_payments, stripe_stub):
    other = request_order(session, buyer, buyer_org, plans["Monthly"])
    orders.start_checkout(session, buyer, other, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    session.commit()
    _forget(stripe_stub, checkout)
    stripe_stub.complete(other.payment_reference)
    result = reconcile(app)
    assert result.exit_code == 0, result.output
    assert f"{checkout.number}\tmissing\tawaiting_payment" in result.output
    assert f"{other.number}\tpaid\tfulfilled" in result.output
    assert "1 checkout(s) unknown to stripe" in result.output
    assert fresh(session, other).status == OrderStatus.FULFILLED
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT


def test_an_order_whose_checkout_stripe_does_not_know_can_be_cancelled(client, auth, session, buyer, checkout,
                                                                       stripe_stub):
    _forget(stripe_stub, checkout)
    auth.login(buyer.email)
    response = client.post(f"/orders/{checkout.id}/cancel")
    assert response.status_code == 302
    assert fresh(session, checkout).status == OrderStatus.CANCELLED


def test_an_order_whose_checkout_stripe_does_not_know_expires_and_frees_its_capped_licence(session, checkout,
                                                                                          plans, stripe_stub):
    plan = plans["Exclusive"]
    assert licences_held(session, plan.id) == 1
    _forget(stripe_stub, checkout)
    assert orders.expire_orders(session, utcnow() + timedelta(days=2)) == [checkout]
    session.commit()
    assert fresh(session, checkout).status == OrderStatus.EXPIRED
    assert licences_held(session, plan.id) == 0


# ---------------------------------------------------------------- metadata order ids, strictly


def _arabic_indic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize("raw", [
    pytest.param("²", id="superscript two"),
    pytest.param("ARABIC", id="the order's id in Arabic-Indic digits"),
    pytest.param("99999999999999999999", id="past a 64-bit integer"),
    pytest.param("2147483648", id="past a database integer"),
    pytest.param("0001", id="leading zeros"),
    pytest.param("-1", id="negative"),
    pytest.param("1.0", id="decimal"),
    pytest.param(" 1", id="padded"),
])
def test_an_order_id_in_metadata_that_only_looks_like_a_number_is_ignored(client, session, checkout, stripe_stub,
                                                                          raw):
    raw = _arabic_indic(checkout.id) if raw == "ARABIC" else raw
    event = completed(stripe_stub, checkout)
    event["data"]["object"]["metadata"]["order_id"] = raw
    response = post_event(client, event)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_json()["outcome"] == f"ignored: {raw!r} in its metadata is not an order id"
    [row] = session.scalars(select(PaymentEvent)).all()
    assert row.outcome == response.get_json()["outcome"] and row.order_id is None
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT and licences(session) == 0


# ---------------------------------------------------------------- Stripe down: 503 with Retry-After


@pytest.mark.parametrize("outage", ["refused", "500", "503"])
def test_paying_while_stripe_is_down_answers_503_with_retry_after(client, auth, session, buyer, buyer_org, plans,
                                                                  stripe_payments, stripe_stub, outage):
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    session.commit()
    auth.login(buyer.email)
    if outage == "refused":
        stripe_stub.refuse_connections()
    else:
        stripe_stub.fail_next(int(outage), type="api_error", code=None, message="Stripe is having a moment.")
    response = client.post(f"/orders/{order.id}/pay")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "try again shortly" in page.lower() or "Try again shortly" in page
    assert fresh(session, order).payment_reference is None


def test_cancelling_while_stripe_is_down_answers_503_and_the_order_keeps_waiting(client, auth, session, buyer,
                                                                                 checkout, stripe_stub):
    auth.login(buyer.email)
    stripe_stub.fail_next(502, type="api_error", code=None, message="Bad gateway.")
    response = client.post(f"/orders/{checkout.id}/cancel")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT


def test_refunding_through_the_api_while_stripe_is_down_answers_503_in_the_error_shape(client, session, seller,
                                                                                       checkout, stripe_stub):
    paid = stripe_stub.complete(checkout.payment_reference)
    orders.confirm_payment(session, checkout, provider="stripe", payment_reference=paid["payment_intent"])
    session.commit()
    token = factories.api_token(session, seller)
    stripe_stub.refuse_connections()
    response = client.post(f"/api/v1/orders/{checkout.id}/refund", json={"reason": "Delivered late."},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    body = response.get_json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert body["status"] == 503 and body["code"] == "payment_provider_unavailable"
    assert "Could not reach Stripe" in body["message"]
    assert fresh(session, checkout).status == OrderStatus.FULFILLED


def test_a_stripe_that_does_not_answer_in_time_is_unavailable(session, buyer, buyer_org, plans, stripe_stub):
    payments = StripePayments(API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=stripe_stub.url,
                              max_network_retries=0, timeout=0.5)
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    stripe_stub.stall_next(2.0)
    with pytest.raises(PaymentUnavailable, match="Could not reach Stripe") as err:
        payments.start_checkout(order, success_url=SUCCESS_URL, cancel_url=CANCEL_URL, idempotency_key="slow")
    assert err.value.status == 503 and err.value.retry_after == 30

