"""What Stripe reports after the sale: a refund made in its Dashboard revokes the licence, a dispute flags the order,
and money that paid no order (a closed order, a wrong amount, a second payment) becomes an anomaly an admin
refunds, once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.licensing.states import LicenceStatus
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.anomalies import refund_key
from marketplace.orders.models import AnomalyKind, AnomalyStatus, Order, PaymentAnomaly
from marketplace.orders.states import OrderStatus
from tests.payments.test_webhooks import completed, post_event
from tests.support.stripe_stub import event_payload


def fresh(session, order) -> Order:
    session.expire_all()
    return session.get(Order, order.id)


def audited(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def notified(session, organization, words: str) -> bool:
    return any(words in note.subject for note in session.scalars(
        select(Notification).where(Notification.organization_id == organization.id)))


@pytest.fixture
def sold(client, session, checkout, stripe_stub):
    """The checkout paid at Stripe and its order fulfilled by the webhook; the session Stripe sent."""
    event = completed(stripe_stub, checkout)
    assert post_event(client, event).get_json()["outcome"] == "fulfilled"
    return event["data"]["object"]


# ---------------------------------------------------------------- refunds made at Stripe


def test_a_refund_made_in_the_stripe_dashboard_refunds_the_order_and_revokes_the_licence(client, session, checkout,
                                                                                        sold, stripe_stub):
    charge = stripe_stub.dashboard_refund(sold["payment_intent"])
    response = post_event(client, event_payload("charge.refunded", charge))
    assert response.status_code == 200 and response.get_json()["outcome"] == "refunded"
    assert response.get_json()["order_id"] == checkout.id
    order = fresh(session, checkout)
    assert order.status == OrderStatus.REFUNDED and order.closed_at is not None
    assert order.licence.status == LicenceStatus.REVOKED
    [event] = audited(session, "order.refund")
    assert event.actor_id is None and event.payload["reason"] == "Refunded in the Stripe Dashboard."
    assert notified(session, order.buyer_organization, f"Order {order.number} refunded")
    assert notified(session, order.seller_organization, f"Order {order.number} refunded in the Stripe Dashboard")
    # Stripe sends it again (a retry with a new event id, or our own refund coming back): nothing more happens.
    again = post_event(client, event_payload("charge.refunded", charge)).get_json()
    assert again["outcome"] == "ignored: the order is already refunded"
    assert len(audited(session, "order.refund")) == 1


def test_our_own_refund_reported_back_by_stripe_changes_nothing_more(client, session, seller, checkout, sold,
                                                                    stripe_payments, stripe_stub):
    orders.refund_order(session, seller, fresh(session, checkout), "Delivered late.", stripe_payments)
    session.commit()
    charge = stripe_stub.charge(stripe_stub.payment_intents[sold["payment_intent"]]["latest_charge"])
    assert charge["refunded"] is True
    outcome = post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"]
    assert outcome == "ignored: the order is already refunded"
    assert len(audited(session, "order.refund")) == 1 and len(audited(session, "licence.revoke")) == 1


def test_a_partial_dashboard_refund_is_recorded_and_the_licence_stays(client, session, checkout, sold, stripe_stub):
    charge = stripe_stub.dashboard_refund(sold["payment_intent"], amount=100000)
    outcome = post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"]
    assert outcome == "partially refunded: 100000 of 500000"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE
    [event] = audited(session, "order.partially_refunded")
    assert event.payload["refunded"] == 100000 and event.payload["charged"] == 500000
    assert notified(session, order.seller_organization, "partly refunded")


def test_a_refund_of_a_payment_that_paid_no_order_of_ours_is_ignored(client, session, stripe_payments):
    charge = {"id": "ch_elsewhere", "object": "charge", "amount": 100, "amount_refunded": 100, "currency": "usd",
              "payment_intent": "pi_elsewhere", "refunded": True}
    response = post_event(client, event_payload("charge.refunded", charge))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored: no order paid with pi_elsewhere"


# ---------------------------------------------------------------- disputes


def test_a_dispute_flags_the_order_for_the_seller_and_the_admin(client, auth, session, seller, admin, checkout,
                                                                sold, stripe_stub):
    dispute = stripe_stub.open_dispute(sold["payment_intent"], reason="product_not_received")
    response = post_event(client, event_payload("charge.dispute.created", dispute))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "disputed: product_not_received"
    order = fresh(session, checkout)
    assert order.disputed_at is not None and order.dispute_reference == dispute["id"]
    assert order.dispute_reason == "product_not_received"
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE
    [event] = audited(session, "order.disputed")
    assert event.payload["dispute"] == dispute["id"] and event.payload["reason"] == "product_not_received"
    assert notified(session, order.seller_organization, f"Payment of {order.number} disputed")
    assert notified(session, order.buyer_organization, f"Payment of {order.number} disputed")

    auth.login(seller.email)
    page = client.get(f"/seller/{order.seller_organization.slug}/orders/{order.id}").get_data(as_text=True)
    assert "Disputed" in page and "product_not_received" in page and dispute["id"] in page
    auth.logout()
    auth.login(admin.email)
    page = client.get("/admin/orders").get_data(as_text=True)
    assert 'class="badge badge-disputed"' in page

    again = post_event(client, event_payload("charge.dispute.created", dispute)).get_json()
    assert again["outcome"] == f"ignored: dispute {dispute['id']} is already recorded"
    assert len(audited(session, "order.disputed")) == 1


# ---------------------------------------------------------------- money that paid no order


def _anomalies(session) -> list[PaymentAnomaly]:
    session.expire_all()
    return list(session.scalars(select(PaymentAnomaly).order_by(PaymentAnomaly.id)))


def test_a_payment_for_a_cancelled_order_is_an_anomaly_an_admin_refunds_once(client, auth, session, buyer, admin,
                                                                            checkout, stripe_stub):
    # The buyer pays at Stripe at the moment they cancel here: the session is complete, so there is none to close.
    paid = stripe_stub.complete(checkout.payment_reference)
    orders.cancel_order(session, buyer, checkout)
    session.commit()
    response = post_event(client, event_payload("checkout.session.completed", paid))
    assert response.status_code == 200
    assert response.get_json()["outcome"].endswith(f"The buyer paid {paid['payment_intent']}: refund it.")
    [anomaly] = _anomalies(session)
    assert (anomaly.kind, anomaly.status, anomaly.order_id) == (AnomalyKind.CLOSED_ORDER, AnomalyStatus.OPEN,
                                                                checkout.id)
    assert (anomaly.payment_reference, anomaly.amount, anomaly.currency) == (paid["payment_intent"], 500000, "HKD")
    [event] = audited(session, "payment.anomaly")
    assert event.subject_id == anomaly.id and event.payload["kind"] == "closed_order"
    # Stripe delivers it again: still one anomaly.
    post_event(client, event_payload("checkout.session.completed", paid))
    assert len(_anomalies(session)) == 1 and len(audited(session, "payment.anomaly")) == 1

    auth.login(admin.email)
    page = client.get("/admin/payments/anomalies")
    assert page.status_code == 200 and paid["payment_intent"] in page.get_data(as_text=True)
    response = client.post(f"/admin/payments/anomalies/{anomaly.id}/refund")
    assert response.status_code == 302
    [refund] = stripe_stub.refunds.values()
    assert refund["payment_intent"] == paid["payment_intent"] and refund["amount"] == 500000
    [sent] = stripe_stub.requests_to("POST", "/v1/refunds")
    assert sent.idempotency_key == refund_key(anomaly) and anomaly.refund_token in sent.idempotency_key
    [anomaly] = _anomalies(session)
    assert anomaly.status == AnomalyStatus.REFUNDED and anomaly.refund_reference == refund["id"]
    assert anomaly.refunded_by_id == admin.id
    [event] = audited(session, "payment.anomaly_refunded")
    assert event.actor_id == admin.id and event.payload["refund"] == refund["id"]

    again = client.post(f"/admin/payments/anomalies/{anomaly.id}/refund")
    assert again.status_code == 409 and "already refunded" in again.get_data(as_text=True)
    assert len(stripe_stub.refunds) == 1
    # Stripe's charge.refunded for that payment afterwards changes nothing.
    charge = stripe_stub.charge(refund["charge"])
    outcome = post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"]
    assert outcome == f"ignored: payment anomaly {anomaly.id} is already refunded"


def test_a_payment_of_the_wrong_amount_is_an_anomaly_and_pays_nothing(client, session, checkout, stripe_stub):
    event = completed(stripe_stub, checkout, amount_total=499999)
    assert post_event(client, event).get_json()["outcome"].startswith("rejected: ")
    [anomaly] = _anomalies(session)
    assert anomaly.kind == AnomalyKind.MISMATCH and anomaly.amount == 499999
    assert "charges 499999 HKD" in anomaly.detail
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT


def test_a_pending_payment_of_the_wrong_amount_is_no_anomaly_yet(client, session, checkout, stripe_stub):
    pending = stripe_stub.complete(checkout.payment_reference, paid=False)
    post_event(client, event_payload("checkout.session.completed", {**pending, "currency": "usd"}))
    assert _anomalies(session) == []  # no money has arrived


def test_a_second_payment_for_a_paid_order_is_an_anomaly(client, session, checkout, sold):
    second = {**sold, "payment_intent": "pi_second_payment"}
    outcome = post_event(client, event_payload("checkout.session.completed", second)).get_json()["outcome"]
    assert outcome.endswith("A second payment pi_second_payment: refund it.")
    [anomaly] = _anomalies(session)
    assert anomaly.kind == AnomalyKind.SECOND_PAYMENT and anomaly.payment_reference == "pi_second_payment"


def test_an_anomaly_refund_while_stripe_is_down_answers_503_and_stays_open(client, auth, session, admin, checkout,
                                                                          buyer, stripe_stub):
    paid = stripe_stub.complete(checkout.payment_reference)
    orders.cancel_order(session, buyer, checkout)
    session.commit()
    post_event(client, event_payload("checkout.session.completed", paid))
    [anomaly] = _anomalies(session)
    auth.login(admin.email)
    stripe_stub.fail_next(500, type="api_error", code=None, message="Stripe is having a moment.", path="/v1/refunds")
    response = client.post(f"/admin/payments/anomalies/{anomaly.id}/refund")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert _anomalies(session)[0].status == AnomalyStatus.OPEN and not stripe_stub.refunds
    assert client.post(f"/admin/payments/anomalies/{anomaly.id}/refund").status_code == 302  # later it works
    keys = {r.idempotency_key for r in stripe_stub.requests_to("POST", "/v1/refunds")}
    assert keys == {refund_key(anomaly)}  # the retry was the same refund request
    assert len(stripe_stub.refunds) == 1


def test_only_platform_admins_see_or_refund_anomalies(client, auth, session, seller, checkout):
    auth.login(seller.email)
    assert client.get("/admin/payments/anomalies").status_code == 403
    assert client.post("/admin/payments/anomalies/1/refund").status_code == 403
