"""Stripe delivers an event more than once, and several events about one payment, sometimes at the same moment:
threads post them concurrently to an app configured for Stripe from its config, on SQLite and (TEST_DB=postgresql)
PostgreSQL. The order is fulfilled once, with one licence, whatever the interleaving.

Each run gets a database of its own, since the racing requests must commit for real.
"""
from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.extensions import db
from marketplace.licensing.models import Licence
from marketplace.orders import services as orders
from marketplace.orders.models import Order, PaymentEvent
from marketplace.orders.states import OrderStatus
from marketplace.payments.stripe_provider import StripePayments
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET, event_payload, signed_event

pytestmark = pytest.mark.no_transaction

RACERS = 6


@pytest.fixture
def shop(own_database_url, tmp_path, stripe_stub):
    """An app whose config selects Stripe (at the stub), and an order whose checkout the buyer has paid."""
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
        PAYMENTS_BACKEND="stripe", STRIPE_SECRET_KEY=API_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_stub.url, STRIPE_MAX_NETWORK_RETRIES=0,
    )
    assert isinstance(app.extensions["payments"], StripePayments)
    with app.app_context():
        upgrade()
        session, storage = db.session, app.extensions["storage"]
        seller = factories.user(session, email="race-seller@example.org", organization="Race Seller")
        reviewer = factories.user(session, email="race-reviewer@example.org", role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, reviewer, title="Harbour feed", plans=[
            {"name": "Standard", "kind": "one_time", "amount": 250000, "currency": "USD"}])
        plan = next(p for p in product.listed_version.plans if p.name == "Standard")
        buyer = factories.user(session, email="race-buyer@example.org", organization="Race Buyer")
        order = orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer.memberships[0].organization_id, scenario=SCENARIO,
            accept_terms=True, idempotency_key=""))
        orders.start_checkout(session, buyer, order, app.extensions["payments"], success_url="http://x/ok",
                              cancel_url="http://x/no")
        session.commit()
        order_id, session_id = order.id, order.payment_reference
        db.session.remove()
    paid = stripe_stub.complete(session_id)
    yield app, order_id, paid
    with app.app_context():
        db.engine.dispose()


def _race(app, deliveries: list[tuple[bytes, str]]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(deliveries))
    results, lock = [], threading.Lock()

    def deliver(body, header):
        client = app.test_client()
        barrier.wait()
        response = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header},
                               content_type="application/json")
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=deliver, args=d) for d in deliveries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _counts(app, order_id):
    with app.app_context():
        session = db.session
        counts = (session.get(Order, order_id).status, session.scalar(select(func.count(Licence.id))),
                  session.scalar(select(func.count(PaymentEvent.id))))
        db.session.remove()
        return counts


def test_one_event_delivered_many_times_at_once_fulfils_the_order_once(shop):
    app, order_id, paid = shop
    delivery = signed_event(event_payload("checkout.session.completed", paid), WEBHOOK_SECRET)
    results = _race(app, [delivery] * RACERS)
    assert [status for status, _ in results] == [200] * RACERS, results
    assert sorted(body["duplicate"] for _, body in results) == [False] + [True] * (RACERS - 1), results
    assert _counts(app, order_id) == (OrderStatus.FULFILLED, 1, 1)


def test_different_events_about_one_payment_at_once_fulfil_the_order_once(shop):
    app, order_id, paid = shop
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
    deliveries = [signed_event(event_payload(kinds[n % 2], paid), WEBHOOK_SECRET) for n in range(RACERS)]
    results = _race(app, deliveries)
    assert [status for status, _ in results] == [200] * RACERS, results
    outcomes = sorted(body["outcome"] for _, body in results)
    assert outcomes[0] == "fulfilled" and all(o.startswith("ignored: ") for o in outcomes[1:]), outcomes
    assert _counts(app, order_id) == (OrderStatus.FULFILLED, 1, RACERS)


def test_admins_refunding_one_anomaly_at_once_refund_it_once(shop, stripe_stub):
    from marketplace.audit.models import AuditEvent
    from marketplace.db import write_intent
    from marketplace.errors import Conflict
    from marketplace.orders.anomalies import record_anomaly, refund_anomaly
    from marketplace.orders.models import AnomalyKind, AnomalyStatus, PaymentAnomaly

    app, order_id, paid = shop
    with app.app_context():
        admin = factories.user(db.session, email="race-admin@example.org", role=PlatformRole.ADMIN)
        anomaly = record_anomaly(db.session, provider="stripe", payment_reference=paid["payment_intent"],
                                 kind=AnomalyKind.SECOND_PAYMENT, order=None, detail="Paid twice.",
                                 amount=paid["amount_total"], currency="USD")
        db.session.commit()
        admin_id, anomaly_id = admin.id, anomaly.id
        db.session.remove()
    barrier = threading.Barrier(RACERS, timeout=30)
    outcomes, lock = [], threading.Lock()

    def click():
        from marketplace.accounts.models import User

        with app.app_context():
            user = db.session.get(User, admin_id)
            db.session.commit()  # the admin stays loaded; each click's transaction begins after the barrier
            barrier.wait()
            with write_intent():  # as a POST does: the write lock first
                try:
                    refund_anomaly(db.session, user, anomaly_id, app.extensions["payments"])
                    db.session.commit()
                    outcome = "refunded"
                except Conflict as exc:
                    db.session.rollback()
                    outcome = f"conflict {exc.status}"
                except Exception as exc:  # noqa: BLE001 - reported in the assertion
                    db.session.rollback()
                    outcome = f"{type(exc).__name__}: {exc}"[:300]
                finally:
                    db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=click) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict 409"] * (RACERS - 1) + ["refunded"], outcomes
    assert len(stripe_stub.refunds) == 1
    with app.app_context():
        assert db.session.get(PaymentAnomaly, anomaly_id).status == AnomalyStatus.REFUNDED
        audited = db.session.scalar(select(func.count(AuditEvent.id))
                                    .where(AuditEvent.action == "payment.anomaly_refunded"))
        assert audited == 1
        db.session.remove()
