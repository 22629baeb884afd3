"""The payment contract every provider meets (simulated, Stripe), and what it answers.

A provider starts a checkout for an order, says what became of it when asked (reconciliation), and refunds.
It never changes an order itself: the order services move orders, on the provider's word (a confirmed checkout,
a verified webhook).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from marketplace.errors import DomainError


class PaymentError(DomainError):
    """The provider refused or failed (a declined card, an unreachable API): the order stays as it was."""

    status = 402
    code = "payment_failed"


class PaymentOutcome(enum.StrEnum):
    OPEN = "open"        # still waiting for the buyer
    PAID = "paid"
    EXPIRED = "expired"  # the checkout ended without payment


@dataclass(frozen=True)
class Checkout:
    """A started checkout: the provider's reference and where to send the buyer."""

    reference: str
    redirect_url: str


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says about a checkout: its outcome and, once paid, the payment's reference."""

    outcome: PaymentOutcome
    payment_reference: str | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def start_checkout(self, order, *, success_url: str, cancel_url: str, idempotency_key: str) -> Checkout:
        """Open a checkout for ``order`` (its amount and currency, its id in the metadata)."""
        ...

    def checkout_state(self, order) -> CheckoutState:
        """Ask the provider what became of the order's checkout (used to reconcile stuck orders)."""
        ...

    def refund(self, order, *, idempotency_key: str) -> str:
        """Return the whole amount of a paid order; the provider's refund reference."""
        ...

    def cancel_checkout(self, order) -> None:
        """Close the order's open checkout so nobody can pay an order that was cancelled or expired."""
        ...
