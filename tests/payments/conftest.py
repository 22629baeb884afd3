"""Stripe through the real SDK against the loopback stub: the app's payments backend set to Stripe per test."""
from __future__ import annotations

import pytest

from marketplace.orders import services as orders
from marketplace.payments import payments_from_config
from tests.licensing.conftest import SCENARIO, buyer, buyer_org, offer, plans
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET, StripeStub

SUCCESS_URL = "http://127.0.0.1:5000/orders/{order_id}?paid=1"
CANCEL_URL = "http://127.0.0.1:5000/orders/{order_id}"
# The licensing fixtures (a buyer organization, a listed product with plans), shared with these tests.
__all__ = ["buyer", "buyer_org", "offer", "plans"]

STRIPE_CONFIG = {
    "PAYMENTS_BACKEND": "stripe", "STRIPE_SECRET_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "STRIPE_WEBHOOK_TOLERANCE": 300,
    # The SDK retries server errors twice by default; tests that want a retry ask for one.
    "STRIPE_MAX_NETWORK_RETRIES": 0,
}


@pytest.fixture
def stripe_stub():
    with StripeStub() as stub:
        yield stub


@pytest.fixture
def stripe_payments(app, stripe_stub):
    """The app configured for Stripe at the stub (config and the payments backend), restored afterwards."""
    config = {**STRIPE_CONFIG, "STRIPE_API_BASE": stripe_stub.url}
    saved_config = {key: app.config.get(key) for key in config}
    saved_payments = app.extensions["payments"]
    app.config.update(config)
    app.extensions["payments"] = payments = payments_from_config(app.config)
    try:
        yield payments
    finally:
        app.config.update(saved_config)
        app.extensions["payments"] = saved_payments


def request_order(session, user, org, plan):
    """A paid plan's order, awaiting payment."""
    return orders.request_licence(session, user, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))


@pytest.fixture
def checkout(session, buyer, buyer_org, plans, stripe_payments):
    """An order for the "Exclusive" plan (HKD 5,000.00) whose Stripe checkout is open; committed."""
    order = request_order(session, buyer, buyer_org, plans["Exclusive"])
    orders.start_checkout(session, buyer, order, stripe_payments,
                          success_url=SUCCESS_URL.format(order_id=order.id),
                          cancel_url=CANCEL_URL.format(order_id=order.id))
    session.commit()
    return order
