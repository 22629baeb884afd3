"""Payment providers behind one interface, chosen by ``PAYMENTS_BACKEND``: simulated (default) or Stripe."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplace.payments.interface import (
    Checkout,
    CheckoutState,
    Destination,
    PaymentError,
    PaymentOutcome,
    PaymentProvider,
    PaymentUnavailable,
)
from marketplace.payments.simulated import SimulatedPayments

__all__ = ["Checkout", "CheckoutState", "Destination", "PaymentError", "PaymentOutcome", "PaymentProvider",
           "PaymentUnavailable", "SimulatedPayments", "payments_from_config"]


def payments_from_config(config: Mapping[str, Any]) -> PaymentProvider:
    backend = str(config.get("PAYMENTS_BACKEND") or "").strip().lower()
    if backend == "simulated":
        return SimulatedPayments()
    if backend == "stripe":
        from marketplace.payments.stripe_provider import StripePayments

        return StripePayments.from_config(config)
    raise ValueError(f"unknown PAYMENTS_BACKEND {config.get('PAYMENTS_BACKEND')!r}; expected 'simulated' or 'stripe'")
