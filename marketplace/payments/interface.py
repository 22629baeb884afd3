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

    def __init__(self, message: str, errors: dict | None = None, *, recorded: str | None = None):
        super().__init__(message, errors)
        self.recorded = recorded or message  # what the order records: English, shown back through its form


class PaymentUnavailable(PaymentError):
    """The provider is down or not answering (refused connection, timeout, 5xx, rate limit): nobody's fault at our
    end or the buyer's, nothing was charged or changed, and the same request may simply be repeated later. Answered
    503 with ``Retry-After``."""

    status = 503
    code = "payment_provider_unavailable"
    #: Seconds a client should wait before trying again.
    retry_after = 30


class PaymentOutcome(enum.StrEnum):
    OPEN = "open"        # still waiting for the buyer
    PAID = "paid"
    EXPIRED = "expired"  # the checkout ended without payment
    MISSING = "missing"  # the provider does not know the checkout (another account, deleted test data)
    MISMATCH = "mismatch"  # paid, but not the order's amount or currency: the money pays nothing


@dataclass(frozen=True)
class Destination:
    """Where a payment goes beyond the platform: the seller's connected account, and the platform's fee kept from
    it (a Stripe Connect destination charge with ``application_fee_amount``)."""

    account: str
    application_fee: int


@dataclass(frozen=True)
class Checkout:
    """A started checkout: the provider's reference and where to send the buyer; ``destination`` is the connected
    account a new checkout pays (None: the platform's own account), ``kept`` says the order's earlier, still open
    checkout was given back instead of a new one."""

    reference: str
    redirect_url: str
    destination: str | None = None
    kept: bool = False


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says about a checkout: its outcome and, once paid, the payment's reference."""

    outcome: PaymentOutcome
    payment_reference: str | None = None
    # What was paid, and why it does not pay the order (MISMATCH only).
    amount: int | None = None
    currency: str | None = None
    detail: str | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    name: str

    def start_checkout(self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
                       destination: Destination | None = None) -> Checkout:
        """Open a checkout for ``order`` (its amount and currency, its id in the metadata), paying ``destination``
        where the provider supports it."""
        ...

    def checkout_state(self, order) -> CheckoutState:
        """Ask the provider what became of the order's checkout (used to reconcile stuck orders)."""
        ...

    def refund(self, order, *, idempotency_key: str) -> str:
        """Return the whole amount of a paid order; the provider's refund reference."""
        ...

    def refund_payment(self, payment_reference: str, *, idempotency_key: str, metadata: dict[str, str]) -> str:
        """Return the whole of one payment, by its reference (money that paid no order); the refund reference."""
        ...

    def cancel_checkout(self, order) -> None:
        """Close the order's open checkout so nobody can pay an order that was cancelled or expired (a checkout
        the provider does not know is already closed)."""
        ...
