"""Idempotency keys sent to Stripe never repeat across databases: after a database reset, order ids start again at 1
(and a client may send its idempotency key again), but Stripe (one account, keys kept for a day) must see new keys
for the new order's checkout and refund, or it replays or refuses the earlier ones. On SQLite and (TEST_DB=postgresql)
PostgreSQL, each run in a database of its own."""
from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.states import OrderStatus
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET

pytestmark = pytest.mark.no_transaction


def _sell_and_refund(app, stripe_stub) -> tuple[int, str, str]:
    """A fresh database's first sale through Stripe, refunded by the seller: (order id, payment, refund)."""
    with app.app_context():
        session, storage, payments = db.session, app.extensions["storage"], app.extensions["payments"]
        seller = factories.user(session, email="keys-seller@example.org", organization="Keys Seller")
        reviewer = factories.user(session, email="keys-reviewer@example.org", role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, reviewer, title="Harbour feed", plans=[
            {"name": "Standard", "kind": "one_time", "amount": 250000, "currency": "USD"}])
        plan = next(p for p in product.listed_version.plans if p.name == "Standard")
        buyer = factories.user(session, email="keys-buyer@example.org", organization="Keys Buyer")
        order = orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer.memberships[0].organization_id, scenario=SCENARIO,
            accept_terms=True, idempotency_key="same-key-as-before"))
        orders.start_checkout(session, buyer, order, payments, success_url="http://x/ok", cancel_url="http://x/no")
        paid = stripe_stub.complete(order.payment_reference)
        orders.confirm_payment(session, order, provider="stripe", payment_reference=paid["payment_intent"])
        orders.refund_order(session, seller, order, "Delivered late.", payments)
        session.commit()
        assert order.status == OrderStatus.REFUNDED
        result = (order.id, order.payment_intent, order.refund_reference)
        db.session.remove()
        return result


def _reset(app, url: str) -> None:
    """Throw the database away and build it again from the migrations, as an operator resetting it would."""
    with app.app_context():
        db.session.remove()
        if make_url(url).get_backend_name() == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.engine.dispose()
            os.remove(make_url(url).database)
        db.engine.dispose()
        upgrade()


def test_the_first_sale_and_refund_after_a_database_reset_are_new_at_stripe(own_database_url, tmp_path,
                                                                           stripe_stub):
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
        PAYMENTS_BACKEND="stripe", STRIPE_SECRET_KEY=API_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_stub.url, STRIPE_MAX_NETWORK_RETRIES=0,
    )
    with app.app_context():
        upgrade()
    try:
        first = _sell_and_refund(app, stripe_stub)
        _reset(app, own_database_url)
        second = _sell_and_refund(app, stripe_stub)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert second[0] == first[0]  # the same order id again
    assert second[1] != first[1] and second[2] != first[2]  # another payment, and its own refund
    assert {r["payment_intent"] for r in stripe_stub.refunds.values()} == {first[1], second[1]}
    for path in ("/v1/checkout/sessions", "/v1/refunds"):
        keys = [r.idempotency_key for r in stripe_stub.requests_to("POST", path)]
        assert len(keys) == 2 and keys[0] != keys[1]
