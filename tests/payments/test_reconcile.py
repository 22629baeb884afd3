"""``flask payments reconcile``: orders whose webhook never came are settled by asking Stripe for the session."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.licensing.models import Licence
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests.payments.test_webhooks import post_event
from tests.support.stripe_stub import event_payload


def reconcile(app):
    return app.test_cli_runner().invoke(args=["payments", "reconcile"])


def fresh(session, order) -> Order:
    session.expire_all()
    return session.get(Order, order.id)


def test_a_paid_session_whose_webhook_never_came_is_fulfilled(app, session, checkout, stripe_stub):
    paid = stripe_stub.complete(checkout.payment_reference)
    result = reconcile(app)
    assert result.exit_code == 0, result.output
    assert f"{checkout.number}\tpaid\tfulfilled" in result.output
    assert "1 order(s) awaiting payment checked with stripe." in result.output
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.payment_intent == paid["payment_intent"]
    assert order.licence is not None
    assert stripe_stub.requests_to("GET", f"/v1/checkout/sessions/{checkout.payment_reference}")


def test_the_webhook_arriving_after_reconciliation_issues_no_second_licence(app, client, session, checkout,
                                                                            stripe_stub):
    paid = stripe_stub.complete(checkout.payment_reference)
    assert reconcile(app).exit_code == 0
    response = post_event(client, event_payload("checkout.session.completed", paid))
    assert response.status_code == 200 and response.get_json()["outcome"].startswith("ignored: ")
    assert session.scalar(select(func.count(Licence.id))) == 1


def test_an_expired_session_expires_the_order_and_an_open_one_waits(app, session, checkout, stripe_stub):
    assert f"{checkout.number}\topen\tawaiting_payment" in reconcile(app).output
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT
    stripe_stub.expire(checkout.payment_reference)
    assert f"{checkout.number}\texpired\texpired" in reconcile(app).output
    assert fresh(session, checkout).status == OrderStatus.EXPIRED
    assert "0 order(s)" in reconcile(app).output  # nothing left to ask about


def test_a_paid_session_of_the_wrong_amount_is_listed_as_an_anomaly_and_pays_nothing(app, session, checkout,
                                                                                    stripe_stub):
    from marketplace.orders.models import AnomalyKind, PaymentAnomaly

    paid = stripe_stub.complete(checkout.payment_reference)
    stripe_stub.sessions[checkout.payment_reference]["amount_total"] = 100
    for _ in range(2):  # a second run finds the same anomaly
        assert f"{checkout.number}\tmismatch\tawaiting_payment" in reconcile(app).output
    session.expire_all()
    [anomaly] = session.scalars(select(PaymentAnomaly)).all()
    assert (anomaly.kind, anomaly.payment_reference, anomaly.amount) == (AnomalyKind.MISMATCH,
                                                                         paid["payment_intent"], 100)
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT


def test_reconciling_with_stripe_down_fails_clearly_and_changes_nothing(app, session, checkout, stripe_stub):
    stripe_stub.complete(checkout.payment_reference)
    stripe_stub.fail_next(500, type="api_error", code=None, message="Stripe is having a moment.")
    result = reconcile(app)
    assert result.exit_code == 1
    assert "Reconciliation stopped, nothing changed: Stripe failed while asking about the checkout" in result.output
    assert fresh(session, checkout).status == OrderStatus.AWAITING_PAYMENT
    assert f"{checkout.number}\tpaid\tfulfilled" in reconcile(app).output  # the next run settles it
