"""The payouts' tests use the licensing fixtures (a buyer organization, a listed product with plans) and the
payments' Stripe stub with the app configured for it."""
from tests.licensing.conftest import buyer, buyer_org, offer, plans
from tests.payments.conftest import stripe_payments, stripe_stub

__all__ = ["buyer", "buyer_org", "offer", "plans", "stripe_payments", "stripe_stub"]
