"""StripePayments through the real SDK against the stub: Checkout Sessions, their state, refunds, Stripe's errors."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import services as orders
from marketplace.orders.states import OrderStatus
from marketplace.payments import PaymentError, PaymentOutcome, payments_from_config
from marketplace.payments.stripe_provider import StripePayments
from tests.payments.conftest import (
    CANCEL_URL,
    STRIPE_CONFIG,
    SUCCESS_URL,
    request_order,
)
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET


def start(payments, order, key="checkout-key-1"):
    return payments.start_checkout(order, success_url=SUCCESS_URL.format(order_id=order.id),
                                   cancel_url=CANCEL_URL.format(order_id=order.id), idempotency_key=key)


def fulfil(session, stripe_payments, stripe_stub, order):
    """The buyer paid at Stripe and the order was confirmed (as the webhook or reconciliation does)."""
    paid = stripe_stub.complete(order.payment_reference)
    orders.confirm_payment(session, order, provider="stripe", payment_reference=paid["payment_intent"])
    session.commit()
    return paid


# ---------------------------------------------------------------- configuration


def test_the_stripe_backend_is_chosen_by_config(stripe_stub):
    payments = payments_from_config({**STRIPE_CONFIG, "STRIPE_API_BASE": stripe_stub.url})
    assert isinstance(payments, StripePayments) and payments.name == "stripe"
    assert payments.webhook_tolerance == 300


@pytest.mark.parametrize(("missing", "words"), [
    ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY"),
    ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET"),
    ({"STRIPE_WEBHOOK_TOLERANCE": 0}, "STRIPE_WEBHOOK_TOLERANCE"),
    ({"STRIPE_WEBHOOK_TOLERANCE": -1}, "STRIPE_WEBHOOK_TOLERANCE"),
])
def test_the_stripe_backend_refuses_to_start_half_configured(missing, words):
    with pytest.raises(ValueError, match=words):
        payments_from_config({**STRIPE_CONFIG, **missing})


# ---------------------------------------------------------------- checkout


def test_checkout_opens_a_session_for_the_exact_amount_with_the_order_in_its_metadata(checkout, stripe_stub):
    order = checkout
    assert order.payment_provider == "stripe" and order.payment_reference.startswith("cs_test_")
    [sent] = stripe_stub.requests_to("POST", "/v1/checkout/sessions")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.idempotency_key == f"order-{order.id}-{order.payment_token}-checkout-1"
    params = sent.params
    assert params["mode"] == "payment"
    assert params["metadata"]["order_id"] == str(order.id) and params["client_reference_id"] == str(order.id)
    [item] = params["line_items"]
    # On the wire: an integer in minor units (HKD 5,000.00), the currency in lower case, one unit.
    assert item["price_data"]["unit_amount"] == "500000" and item["price_data"]["currency"] == "hkd"
    assert item["quantity"] == "1"
    assert item["price_data"]["product_data"]["name"] == "Strategic road speeds — Exclusive"
    assert params["success_url"] == SUCCESS_URL.format(order_id=order.id)
    assert params["cancel_url"] == CANCEL_URL.format(order_id=order.id)
    # The session lives no longer than the order waits for payment (Stripe allows at most 24 hours).
    assert order.deadline.timestamp() - 3600 < int(params["expires_at"]) <= order.deadline.timestamp()
    session = stripe_stub.session(order.payment_reference)
    assert (session["amount_total"], session["currency"], session["status"]) == (500000, "hkd", "open")


def test_paying_again_while_the_checkout_is_open_returns_to_the_same_session(session, buyer, checkout,
                                                                           stripe_payments, stripe_stub):
    first = checkout.payment_reference
    url = orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL,
                                cancel_url=CANCEL_URL)
    assert checkout.payment_reference == first and url == stripe_stub.session(first)["url"]
    assert list(stripe_stub.sessions) == [first]


def test_a_checkout_unknown_to_the_stripe_account_is_replaced(session, buyer, checkout, stripe_payments,
                                                              stripe_stub):
    stripe_stub.sessions.clear()  # e.g. the keys now name another Stripe account
    orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    assert list(stripe_stub.sessions) == [checkout.payment_reference]


def test_a_new_checkout_replaces_an_expired_one_but_a_paid_one_is_never_paid_twice(session, buyer, checkout,
                                                                                   stripe_payments, stripe_stub):
    first = checkout.payment_reference
    stripe_stub.expire(first)
    orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    second = checkout.payment_reference
    assert second != first and stripe_stub.session(second)["status"] == "open"
    assert stripe_stub.requests_to("POST", "/v1/checkout/sessions")[-1].idempotency_key == \
        f"order-{checkout.id}-{checkout.payment_token}-checkout-2"
    stripe_stub.complete(second)
    with pytest.raises(PaymentError, match="already paid"):
        orders.start_checkout(session, buyer, checkout, stripe_payments, success_url=SUCCESS_URL,
                              cancel_url=CANCEL_URL)
    assert len(stripe_stub.sessions) == 2


def test_the_same_idempotency_key_gives_the_same_session(session, buyer, buyer_org, plans, stripe_payments,
                                                         stripe_stub):
    order = request_order(session, buyer, buyer_org, plans["Monthly"])
    first, again = start(stripe_payments, order), start(stripe_payments, order)
    assert first == again and len(stripe_stub.sessions) == 1
    other = start(stripe_payments, order, key="checkout-key-2")
    assert other.reference != first.reference and len(stripe_stub.sessions) == 2
    assert stripe_stub.session(first.reference)["amount_total"] == 68000


@pytest.mark.parametrize("hours", [0.1, 5, 72])  # a deadline under Stripe's least life, within its range, past it
def test_a_sessions_expiry_moves_on_a_grid_so_a_repeated_key_sends_the_same_parameters(hours):
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.payments import stripe_provider

    deadline, now = utcnow() + timedelta(hours=hours), utcnow().timestamp()
    expiry = stripe_provider._session_expiry(deadline)
    grid = stripe_provider.SESSION_EXPIRY_GRID.total_seconds()
    assert now + 30 * 60 < expiry < now + 24 * 3600  # within what Stripe accepts
    if hours == 5:
        assert expiry == int(deadline.timestamp())  # the order's own deadline, as it is
    else:
        assert expiry % grid == 0 and abs(expiry - (now + hours * 3600 if hours < 1 else now + 24 * 3600)) < 47 * 60


def test_a_server_error_is_retried_by_the_sdk_with_the_same_idempotency_key(session, buyer, buyer_org, plans,
                                                                            stripe_stub):
    payments = StripePayments(API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=stripe_stub.url,
                              max_network_retries=1)
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    stripe_stub.fail_next(500, type="api_error", code=None, message="Something went wrong on Stripe's end.")
    checkout = start(payments, order, key="retry-key")
    sent = stripe_stub.requests_to("POST", "/v1/checkout/sessions")
    assert [r.status for r in sent] == [500, 200]
    assert {r.idempotency_key for r in sent} == {"retry-key"}
    assert list(stripe_stub.sessions) == [checkout.reference]


@pytest.mark.parametrize(("failure", "words", "status"), [
    ({"status": 402, "type": "card_error", "code": "card_declined"}, "declined", 402),
    ({"status": 500, "type": "api_error", "code": None}, "Stripe failed", 503),  # an outage, not a refusal
    ({"status": 503, "type": "api_error", "code": None}, "Stripe failed", 503),
    ({"status": 400, "type": "invalid_request_error", "code": "parameter_invalid"}, "refused the request", 402),
    ({"status": 429, "type": "invalid_request_error", "code": "rate_limit"}, "limiting", 503),
])
def test_a_stripe_failure_at_checkout_is_a_payment_error_and_the_order_stays(session, buyer, buyer_org, plans,
                                                                            stripe_payments, stripe_stub, failure,
                                                                            words, status):
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    session.commit()
    stripe_stub.fail_next(failure.pop("status"), message="Stripe says no.", **failure)
    with pytest.raises(PaymentError, match=words) as err:
        orders.start_checkout(session, buyer, order, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    assert err.value.status == status and err.value.errors["payment"] == ["Stripe says no."]
    session.rollback()
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_reference is None
    assert order.payment_attempts == 0


def test_a_wrong_api_key_names_the_setting(session, buyer, buyer_org, plans, stripe_stub):
    payments = StripePayments("sk_test_not_the_right_one", webhook_secret=WEBHOOK_SECRET, api_base=stripe_stub.url)
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(PaymentError, match="STRIPE_SECRET_KEY"):
        start(payments, order)
    assert not stripe_stub.sessions


def test_an_unreachable_stripe_is_a_payment_error(session, buyer, buyer_org, plans):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    payments = StripePayments(API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{port}",
                              max_network_retries=0)
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(PaymentError, match="Could not reach Stripe"):
        start(payments, order)


# ---------------------------------------------------------------- what became of the checkout


def test_checkout_state_follows_the_session(checkout, stripe_payments, stripe_stub):
    order = checkout
    assert stripe_payments.checkout_state(order).outcome is PaymentOutcome.OPEN
    paid = stripe_stub.complete(order.payment_reference)
    state = stripe_payments.checkout_state(order)
    assert state.outcome is PaymentOutcome.PAID and state.payment_reference == paid["payment_intent"]
    assert stripe_stub.requests_to("GET", f"/v1/checkout/sessions/{order.payment_reference}")


def test_a_completed_session_still_waiting_for_a_delayed_payment_is_open(checkout, stripe_payments, stripe_stub):
    stripe_stub.complete(checkout.payment_reference, paid=False)
    assert stripe_payments.checkout_state(checkout).outcome is PaymentOutcome.OPEN


def test_an_expired_session_is_expired(checkout, stripe_payments, stripe_stub):
    stripe_stub.expire(checkout.payment_reference)
    assert stripe_payments.checkout_state(checkout).outcome is PaymentOutcome.EXPIRED


def test_a_paid_session_that_is_not_the_orders_amount_never_pays_it(checkout, stripe_payments, stripe_stub):
    paid = stripe_stub.complete(checkout.payment_reference)
    stripe_stub.sessions[checkout.payment_reference]["amount_total"] = 100
    state = stripe_payments.checkout_state(checkout)
    assert state.outcome is PaymentOutcome.MISMATCH and state.payment_reference == paid["payment_intent"]
    assert (state.amount, state.currency) == (100, "HKD") and "charges 100 HKD" in state.detail


# ---------------------------------------------------------------- refunds


def test_a_refund_goes_through_stripe_with_the_payment_intent_and_revokes_the_licence(
        session, checkout, seller, stripe_payments, stripe_stub):
    order = checkout
    paid = fulfil(session, stripe_payments, stripe_stub, order)
    orders.refund_order(session, seller, order, "Data delivered late.", stripe_payments)
    session.commit()
    [sent] = stripe_stub.requests_to("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == paid["payment_intent"]
    assert sent.idempotency_key == f"order-{order.id}-refund-{paid['payment_intent']}"
    [refund] = stripe_stub.refunds.values()
    assert (refund["amount"], refund["currency"]) == (500000, "hkd")
    assert order.status == OrderStatus.REFUNDED and order.refund_reference == refund["id"]
    assert order.licence.status == LicenceStatus.REVOKED


def test_a_repeated_refund_request_is_the_same_refund(checkout, session, stripe_payments, stripe_stub):
    fulfil(session, stripe_payments, stripe_stub, checkout)
    first = stripe_payments.refund(checkout, idempotency_key="refund-once")
    assert stripe_payments.refund(checkout, idempotency_key="refund-once") == first
    assert len(stripe_stub.refunds) == 1


@pytest.mark.parametrize(("status", "type_", "code", "words"), [
    (500, "api_error", None, "Stripe failed"),
    (400, "invalid_request_error", "charge_already_refunded", "refused the request"),
    (402, "card_error", "card_declined", "declined"),
])
def test_a_failed_refund_leaves_the_order_and_licence_as_they_were(session, checkout, seller, stripe_payments,
                                                                   stripe_stub, status, type_, code, words):
    order = checkout
    fulfil(session, stripe_payments, stripe_stub, order)
    stripe_stub.fail_next(status, type=type_, code=code, message="No refund today.", path="/v1/refunds")
    with pytest.raises(PaymentError, match=words):
        orders.refund_order(session, seller, order, "Data delivered late.", stripe_payments)
    session.rollback()
    assert order.status == OrderStatus.FULFILLED and order.refund_reference is None
    assert order.licence.status == LicenceStatus.ACTIVE
    assert not stripe_stub.refunds
    assert session.scalar(select(func.count(Licence.id))) == 1


def test_cancelling_or_expiring_an_order_closes_its_open_session_at_stripe(session, buyer, buyer_org, plans,
                                                                           stripe_payments, stripe_stub):
    from datetime import timedelta

    from marketplace.db import utcnow

    cancelled = request_order(session, buyer, buyer_org, plans["Exclusive"])
    orders.start_checkout(session, buyer, cancelled, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    orders.cancel_order(session, buyer, cancelled)
    assert stripe_stub.session(cancelled.payment_reference)["status"] == "expired"

    lapsed = request_order(session, buyer, buyer_org, plans["By approval"])
    orders.approve_order(session, lapsed.seller_organization.memberships[0].user, lapsed)
    orders.start_checkout(session, buyer, lapsed, stripe_payments, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
    stripe_stub.fail_next(500)
    assert orders.expire_orders(session, utcnow() + timedelta(days=2)) == []  # unreachable: keeps waiting
    assert lapsed.status == OrderStatus.AWAITING_PAYMENT
    assert orders.expire_orders(session, utcnow() + timedelta(days=2)) == [lapsed]
    assert stripe_stub.session(lapsed.payment_reference)["status"] == "expired"


@pytest.mark.parametrize(("language", "words"), [("zh-CN", "未获 Stripe 批准"), ("zh-HK", "未獲 Stripe 批核")])
def test_a_stripe_refusal_is_told_in_the_readers_language(app, session, buyer, buyer_org, plans, stripe_payments,
                                                          stripe_stub, language, words):
    from flask_babel import refresh

    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    session.commit()
    stripe_stub.fail_next(402, message="Your card was declined.", type="card_error", code="card_declined")
    with app.test_request_context(f"/orders/{order.id}/pay", method="POST", headers={"Accept-Language": language}):
        refresh()
        with pytest.raises(PaymentError) as err:
            orders.start_checkout(session, buyer, order, stripe_payments, success_url=SUCCESS_URL,
                                  cancel_url=CANCEL_URL)
    assert words in err.value.message and order.number in err.value.message
    assert "while" not in err.value.message and "opening" not in err.value.message  # what was being done, too
