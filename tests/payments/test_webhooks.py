"""POST /webhooks/stripe: only a verified event moves an order, and each event id moves it at most once."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import webhooks
from marketplace.orders.models import Order, PaymentEvent
from marketplace.orders.states import OrderStatus
from tests.support.stripe_stub import WEBHOOK_SECRET, event_payload, sign, signed_event

URL = "/webhooks/stripe"


def post(client, body: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(URL, data=body, headers=headers, content_type="application/json")


def post_event(client, payload: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    return post(client, *signed_event(payload, secret, timestamp))


def completed(stub, order, **changes) -> dict:
    """The buyer paid at Stripe: the checkout.session.completed event Stripe sends (``changes`` tamper with it)."""
    paid = stub.complete(order.payment_reference)
    return event_payload("checkout.session.completed", {**paid, **changes})


def licences(session) -> int:
    return session.scalar(select(func.count(Licence.id)))


def recorded(session) -> list[tuple[str, str, int | None]]:
    return [(e.event_type, e.outcome, e.order_id)
            for e in session.scalars(select(PaymentEvent).order_by(PaymentEvent.id))]


def fresh(session, order) -> Order:
    session.expire_all()
    return session.get(Order, order.id)


# ---------------------------------------------------------------- fulfilment only from a verified event


def test_a_signed_completed_event_fulfils_the_order(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout)
    response = post_event(client, event)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"received": True, "duplicate": False, "outcome": "fulfilled",
                                   "order_id": checkout.id}
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED
    assert order.payment_intent == event["data"]["object"]["payment_intent"]
    assert order.licence.status == LicenceStatus.ACTIVE and licences(session) == 1
    assert recorded(session) == [("checkout.session.completed", "fulfilled", order.id)]


def test_the_buyer_coming_back_from_stripe_does_not_fulfil_the_order(client, auth, session, buyer, buyer_org, plans,
                                                                    stripe_payments, stripe_stub):
    from tests.payments.conftest import request_order

    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    session.commit()
    auth.login(buyer.email)
    response = client.post(f"/orders/{order.id}/pay")
    assert response.status_code == 302
    session_id = fresh(session, order).payment_reference
    assert response.headers["Location"] == stripe_stub.session(session_id)["url"]
    stripe_stub.complete(session_id)  # the buyer pays on Stripe's page ...
    assert client.get(f"/orders/{order.id}?paid=1").status_code == 200  # ... and is sent back
    assert fresh(session, order).status == OrderStatus.AWAITING_PAYMENT and licences(session) == 0
    post_event(client, event_payload("checkout.session.completed", stripe_stub.session(session_id)))
    assert fresh(session, order).status == OrderStatus.FULFILLED and licences(session) == 1


def _tampered(event):
    body, header = signed_event(event, WEBHOOK_SECRET)
    return body.replace(b'"amount_total":500000', b'"amount_total":5'), header


def _stale(event):
    return signed_event(event, WEBHOOK_SECRET, timestamp=int(time.time()) - 600)


def _signed_raw(body: bytes):
    return body, sign(body, WEBHOOK_SECRET)


@pytest.mark.parametrize("forge", [
    pytest.param(_tampered, id="body changed after signing"),
    pytest.param(lambda e: signed_event(e, "whsec_someone_else"), id="wrong secret"),
    pytest.param(_stale, id="older than the tolerance"),
    pytest.param(lambda e: (signed_event(e, WEBHOOK_SECRET)[0], None), id="no signature header"),
    pytest.param(lambda e: (signed_event(e, WEBHOOK_SECRET)[0], ""), id="empty signature header"),
    pytest.param(lambda e: (signed_event(e, WEBHOOK_SECRET)[0], "t=yesterday,v1=abc"), id="garbled header"),
    pytest.param(lambda e: (lambda b, h: (b, h.replace("v1=", "v0=")))(*signed_event(e, WEBHOOK_SECRET)),
                 id="other signature scheme"),
    pytest.param(lambda e: _signed_raw(b'{"id": "evt_1", "type": '), id="malformed JSON, signed"),
    pytest.param(lambda e: _signed_raw(b"\xff\xfe not utf-8"), id="not text"),
    pytest.param(lambda e: _signed_raw(b"[]"), id="JSON but not an event"),
    pytest.param(lambda e: _signed_raw(json.dumps({**e, "data": None}).encode()), id="an event without data"),
    pytest.param(lambda e: _signed_raw(json.dumps({**e, "id": ""}).encode()), id="an event without id"),
])
def test_an_unverifiable_or_malformed_webhook_gets_400_and_changes_nothing(client, session, checkout, stripe_stub,
                                                                           forge):
    body, header = forge(completed(stripe_stub, checkout))
    response = post(client, body, header)
    assert response.status_code == 400
    error = response.get_json()
    assert set(error) == {"status", "code", "message", "errors"}
    assert error["status"] == 400 and error["code"] == "invalid_webhook"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_intent is None
    assert licences(session) == 0 and recorded(session) == []


def test_the_tolerance_is_the_configured_one(client, session, app, checkout, stripe_stub, stripe_payments):
    stripe_payments.webhook_tolerance = 900
    response = post_event(client, completed(stripe_stub, checkout), timestamp=int(time.time()) - 600)
    assert response.status_code == 200 and fresh(session, checkout).status == OrderStatus.FULFILLED


def test_webhooks_need_no_csrf_token(app, client, session, checkout, stripe_stub):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = post_event(client, completed(stripe_stub, checkout))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200 and fresh(session, checkout).status == OrderStatus.FULFILLED


def test_without_stripe_configured_the_endpoint_is_not_found(client, session):
    response = post_event(client, event_payload("checkout.session.completed", {"object": "checkout.session"}))
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert recorded(session) == []


# ---------------------------------------------------------------- once per event, in any order


def test_the_same_event_twice_fulfils_once_and_says_duplicate(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout)
    first, again = post_event(client, event), post_event(client, event)
    assert first.get_json()["duplicate"] is False
    assert again.status_code == 200
    assert again.get_json() == {"received": True, "duplicate": True, "outcome": "already processed",
                                "order_id": None}
    assert licences(session) == 1 and len(recorded(session)) == 1


def test_another_event_for_the_same_paid_session_issues_no_second_licence(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout)
    post_event(client, event)
    serial = fresh(session, checkout).licence.serial
    for again in (event_payload("checkout.session.completed", event["data"]["object"]),
                  event_payload("checkout.session.async_payment_succeeded", event["data"]["object"])):
        response = post_event(client, again)
        assert response.status_code == 200 and response.get_json()["outcome"].startswith("ignored: ")
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.licence.serial == serial and licences(session) == 1
    assert len(recorded(session)) == 3


def test_an_expiry_arriving_after_the_payment_changes_nothing(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout)
    late_expiry = event_payload("checkout.session.expired",
                                {**event["data"]["object"], "status": "expired", "payment_status": "unpaid"},
                                created=event["created"] - 5)
    post_event(client, event)
    response = post_event(client, late_expiry)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == (f"ignored: Cannot expire order {checkout.number}: it is fulfilled, "
                                              "not awaiting payment.")
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE


def test_an_expired_checkout_expires_the_unpaid_order(client, session, checkout, stripe_stub, outbox):
    expired = stripe_stub.expire(checkout.payment_reference)
    response = post_event(client, event_payload("checkout.session.expired", expired))
    assert response.get_json()["outcome"] == "expired"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.EXPIRED and order.closed_at is not None and order.deadline is None
    assert licences(session) == 0
    assert any(mail.subject == f"Order {order.number} expired" for mail in outbox)  # the buyer is told
    # A payment event for it afterwards (out of order) cannot revive it.
    late = event_payload("checkout.session.completed", {**expired, "status": "complete", "payment_status": "paid",
                                                        "payment_intent": "pi_late"})
    outcome = post_event(client, late).get_json()["outcome"]
    assert outcome.startswith("ignored: Cannot pay") and "expired" in outcome
    assert outcome.endswith("The buyer paid pi_late: refund it.")  # money for a closed order is flagged
    assert fresh(session, checkout).status == OrderStatus.EXPIRED and licences(session) == 0


def test_the_expiry_of_an_abandoned_earlier_checkout_leaves_the_order_waiting(client, session, buyer, checkout,
                                                                              stripe_payments, stripe_stub):
    from marketplace.orders import services as orders

    abandoned = checkout.payment_reference
    expired = stripe_stub.expire(abandoned)
    orders.start_checkout(session, buyer, checkout, stripe_payments, success_url="http://x/ok",
                          cancel_url="http://x/no")  # the buyer came back and opened a new checkout
    session.commit()
    # Stripe's notice of the first session's expiry arrives only now.
    response = post_event(client, event_payload("checkout.session.expired", expired))
    assert response.get_json()["outcome"] == f"ignored: session {abandoned} is not the order's current checkout"
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize(("changes", "words"), [
    ({"amount_total": 499999}, "charges 499999 HKD"),
    ({"amount_total": 500000.0}, "charges None HKD"),  # a float is not a Stripe amount
    ({"currency": "usd"}, "charges 500000 USD"),
    ({"id": "cs_test_someone_elses"}, "is not the order's checkout"),
])
def test_a_payment_that_does_not_match_the_order_is_rejected(client, session, checkout, stripe_stub, changes, words):
    response = post_event(client, completed(stripe_stub, checkout, **changes))
    assert response.status_code == 200
    outcome = response.get_json()["outcome"]
    assert outcome.startswith("rejected: ") and words in outcome
    order = fresh(session, checkout)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_intent is None and licences(session) == 0
    assert recorded(session) == [("checkout.session.completed", outcome, order.id)]


def test_an_event_naming_an_unknown_order_changes_nothing(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout)
    event["data"]["object"]["metadata"]["order_id"] = str(checkout.id + 1000)
    assert post_event(client, event).get_json()["outcome"] == f"ignored: no order {checkout.id + 1000}"
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT and licences(session) == 0


def test_a_delayed_payment_fulfils_when_it_succeeds(client, session, checkout, stripe_stub):
    pending = stripe_stub.complete(checkout.payment_reference, paid=False)
    response = post_event(client, event_payload("checkout.session.completed", pending))
    assert response.get_json()["outcome"] == "pending: payment status is unpaid"
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT
    succeeded = {**pending, "payment_status": "paid"}
    response = post_event(client, event_payload("checkout.session.async_payment_succeeded", succeeded))
    assert response.get_json()["outcome"] == "fulfilled" and licences(session) == 1


def test_a_failed_delayed_payment_keeps_the_order_waiting_with_the_reason(client, session, checkout, stripe_stub):
    pending = stripe_stub.complete(checkout.payment_reference, paid=False)
    response = post_event(client, event_payload("checkout.session.async_payment_failed", pending))
    assert response.get_json()["outcome"] == "payment failed"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.AWAITING_PAYMENT and "failed" in order.payment_error


@pytest.mark.parametrize(("event_type", "obj", "outcome"), [
    ("payment_intent.succeeded", {"id": "pi_123", "object": "payment_intent"},
     "ignored: payment_intent.succeeded is not handled"),
    ("checkout.session.completed", {"id": "cs_test_elsewhere", "object": "checkout.session", "metadata": {}},
     "ignored: not a marketplace checkout (no order id in its metadata)"),
])
def test_events_that_are_not_ours_are_recorded_as_ignored(client, session, stripe_payments, event_type, obj, outcome):
    response = post_event(client, event_payload(event_type, obj))
    assert response.status_code == 200 and response.get_json()["outcome"] == outcome
    assert recorded(session) == [(event_type, outcome, None)]


def test_a_twin_event_that_slips_past_the_check_hits_the_constraint_and_changes_nothing(
        client, session, checkout, stripe_stub, monkeypatch):
    """Two deliveries of one event racing: both pass the "already processed" check before either commits."""
    event = completed(stripe_stub, checkout)
    post_event(client, event)
    real = webhooks.already_processed
    calls = []

    def racing_check(session, provider, event_id):
        calls.append(event_id)
        return False if len(calls) == 1 else real(session, provider, event_id)

    monkeypatch.setattr(webhooks, "already_processed", racing_check)
    response = post_event(client, event)
    assert response.status_code == 200 and response.get_json()["duplicate"] is True
    assert len(calls) == 2  # the check, then the re-check after the unique constraint refused the row
    assert licences(session) == 1 and len(recorded(session)) == 1
    assert fresh(session, checkout).status == OrderStatus.FULFILLED
