"""Stripe Checkout through the official SDK (test-mode keys), and Stripe's webhook events as typed results.

A checkout is a Checkout Session in "payment" mode with one line item: the order's amount in integer minor
units and its currency, the order id in the metadata. Stripe tells us the outcome by a signed webhook (see
``marketplace.orders.webhooks``) or, when asked, by the session itself (reconciliation). This module knows
amounts and references, never orders' states: the order services move orders on its word.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe
from flask_babel import gettext as _

from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import N_
from marketplace.payments.interface import (
    Checkout,
    CheckoutState,
    Destination,
    PaymentError,
    PaymentOutcome,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)

PROVIDER = "stripe"
# Stripe's own cap on a product name shown at checkout is generous; keep ours readable on a receipt.
MAX_PRODUCT_NAME = 250
# Stripe lets a Checkout Session live from 30 minutes to 24 hours; a minute's margin each side for clock skew.
SESSION_MIN_LIFE, SESSION_MAX_LIFE = timedelta(minutes=31), timedelta(hours=24) - timedelta(minutes=1)
SESSION_EXPIRY_GRID = timedelta(minutes=15)  # see _session_expiry
# A session's payment_status that means the money is in (or none is owed); "unpaid" is pending or failed.
PAID_STATUSES = frozenset({"paid", "no_payment_required"})
# A delayed payment still on its way (a bank debit settling); a payment intent back at these statuses has failed.
PENDING_INTENT_STATUSES = frozenset({"processing", "requires_capture", "succeeded"})
# Our row ids are PostgreSQL integers: an id in metadata is ASCII digits, no leading zero, within that range.
METADATA_ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_ROW_ID = 2**31 - 1
DEFAULT_TIMEOUT = 20


class InvalidWebhook(DomainError):
    """A webhook that is not provably Stripe's (missing, wrong or stale signature) or not an event at all."""

    status = 400
    code = "invalid_webhook"


@dataclass(frozen=True)
class CheckoutSessionSnapshot:
    """The fields of a Checkout Session an event carries that decide what happens to an order."""

    id: str
    status: str | None                # open | complete | expired
    payment_status: str | None        # unpaid | paid | no_payment_required
    amount_total: int | None          # integer minor units, None if absent or not an integer
    currency: str | None              # upper-case ISO code, like our Currency values
    payment_intent: str | None
    order_id: int | None              # from metadata["order_id"], None if absent or not one of our ids
    client_reference_id: str | None
    raw_order_id: str | None = None   # metadata["order_id"] as sent, to say why it was not read

    @property
    def paid(self) -> bool:
        """Whether the money is in: a complete session whose payment status is paid (or owes nothing)."""
        return self.status == "complete" and self.payment_status in PAID_STATUSES


@dataclass(frozen=True)
class ChargeSnapshot:
    """A charge (``charge.refunded``): what was charged and how much of it has been refunded, in minor units."""

    id: str
    payment_intent: str | None
    amount: int | None
    amount_refunded: int | None
    currency: str | None
    refunded: bool                    # Stripe's word that the whole charge is refunded
    refund_id: str | None             # the newest refund, when the event carries the charge's refunds

    @property
    def fully_refunded(self) -> bool:
        return self.refunded or (self.amount is not None and self.amount_refunded is not None
                                 and self.amount_refunded >= self.amount > 0)


@dataclass(frozen=True)
class DisputeSnapshot:
    """A dispute (``charge.dispute.*``): the cardholder contests a charge with their bank."""

    id: str
    charge: str | None
    payment_intent: str | None
    amount: int | None
    currency: str | None
    reason: str | None
    status: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event: its id (processed once), its type, and the Checkout Session, charge or dispute it
    is about, if any. A Connect event names the connected ``account`` it happened on; ``data`` is its object as
    sent (read by ``stripe_connect`` for accounts, transfers and payouts), ``created`` its Unix time."""

    id: str
    type: str
    session: CheckoutSessionSnapshot | None
    charge: ChargeSnapshot | None = None
    dispute: DisputeSnapshot | None = None
    account: str | None = None
    created: int | None = None
    data: Mapping[str, Any] | None = None


def _integer(value: Any) -> int | None:
    # JSON integers only: a float or a bool in a money field is not a Stripe amount.
    return value if type(value) is int else None


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _expandable_id(value: Any) -> str | None:
    """A field Stripe may send as an id or, expanded, as the object (``payment_intent``)."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def metadata_id(value: Any) -> int | None:
    """One of our row ids as we write it into metadata (``str(order.id)``), or None: only ASCII digits without a
    leading zero, within a database integer. ``"²"`` or ``"١٢"`` pass ``str.isdigit()``; they are not ids."""
    if not isinstance(value, str) or not METADATA_ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None


def _currency(value: Any) -> str | None:
    currency = _text(value)
    return currency.upper() if currency else None


def session_snapshot(obj: Mapping[str, Any]) -> CheckoutSessionSnapshot:
    """The decisive fields of a Checkout Session (an API response or an event's data.object) as plain values."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    raw_order_id = metadata.get("order_id")
    return CheckoutSessionSnapshot(
        id=_text(obj.get("id")) or "", status=_text(obj.get("status")),
        payment_status=_text(obj.get("payment_status")), amount_total=_integer(obj.get("amount_total")),
        currency=_currency(obj.get("currency")), payment_intent=_expandable_id(obj.get("payment_intent")),
        order_id=metadata_id(raw_order_id), client_reference_id=_text(obj.get("client_reference_id")),
        raw_order_id=None if raw_order_id is None else str(raw_order_id)[:40],
    )


def charge_snapshot(obj: Mapping[str, Any]) -> ChargeSnapshot:
    """The fields of a charge that say whether it was refunded, and which payment it belongs to."""
    refunds = obj.get("refunds") if isinstance(obj.get("refunds"), Mapping) else {}
    listed = refunds.get("data") if isinstance(refunds.get("data"), list) else []
    newest = max((r for r in listed if isinstance(r, Mapping)), key=lambda r: _integer(r.get("created")) or 0,
                 default=None)
    return ChargeSnapshot(
        id=_text(obj.get("id")) or "", payment_intent=_expandable_id(obj.get("payment_intent")),
        amount=_integer(obj.get("amount")), amount_refunded=_integer(obj.get("amount_refunded")),
        currency=_currency(obj.get("currency")), refunded=obj.get("refunded") is True,
        refund_id=_text(newest.get("id")) if newest is not None else None,
    )


def dispute_snapshot(obj: Mapping[str, Any]) -> DisputeSnapshot:
    return DisputeSnapshot(
        id=_text(obj.get("id")) or "", charge=_expandable_id(obj.get("charge")),
        payment_intent=_expandable_id(obj.get("payment_intent")), amount=_integer(obj.get("amount")),
        currency=_currency(obj.get("currency")), reason=_text(obj.get("reason")), status=_text(obj.get("status")),
    )


def missing(exc: stripe.StripeError) -> bool:
    """Whether Stripe answered that the object does not exist (404 ``resource_missing``)."""
    return isinstance(exc, stripe.InvalidRequestError) and (exc.http_status == 404 or exc.code == "resource_missing")


def payment_error(exc: stripe.StripeError, doing: str) -> PaymentError:
    """Stripe's refusal or failure as our PaymentError, saying what we were doing and what Stripe said."""
    said = exc.user_message or "no reason given"
    if isinstance(exc, stripe.CardError):
        return PaymentError(_("Stripe declined the payment while %(doing)s: %(said)s", doing=doing, said=said),
                            {"payment": [said], "decline_code": [exc.code or "card_declined"]})
    # An outage (unreachable, timed out, 5xx, rate limited) is not a refusal: 503, try again later.
    if isinstance(exc, stripe.APIConnectionError):
        return PaymentUnavailable(
            _("Could not reach Stripe while %(doing)s; nothing was charged or changed. Try again shortly.",
              doing=doing),
            {"payment": [said], "stripe_error": [type(exc).__name__]})
    if isinstance(exc, stripe.RateLimitError):
        return PaymentUnavailable(_("Stripe is limiting our requests; %(doing)s failed. Try again shortly.",
                                    doing=doing),
                                  {"payment": [said], "stripe_error": [type(exc).__name__]})
    if isinstance(exc, stripe.APIError) or (exc.http_status or 0) >= 500:
        return PaymentUnavailable(_("Stripe failed while %(doing)s: %(said)s Nothing was changed; try again shortly.",
                                    doing=doing, said=said),
                                  {"payment": [said], "stripe_error": [type(exc).__name__]})
    if isinstance(exc, stripe.AuthenticationError):
        message = _("Stripe refused our API key while %(doing)s: check STRIPE_SECRET_KEY.", doing=doing)
    elif isinstance(exc, stripe.IdempotencyError):
        message = _("Stripe refused a repeated request while %(doing)s: %(said)s", doing=doing, said=said)
    elif isinstance(exc, stripe.InvalidRequestError):
        message = _("Stripe refused the request while %(doing)s: %(said)s", doing=doing, said=said)
    else:
        message = _("Stripe failed while %(doing)s: %(said)s", doing=doing, said=said)
    return PaymentError(message, {"payment": [said], "stripe_error": [type(exc).__name__]})


class StripePayments:
    """The Stripe provider: Checkout Sessions, their state, refunds, and verified webhook events.

    CNY, HKD and USD all have two decimals at Stripe (none is zero-decimal), so ``order.amount`` in minor units
    is exactly Stripe's ``unit_amount``; no conversion and no floats.
    """

    name = PROVIDER

    def __init__(self, secret_key: str, *, webhook_secret: str, connect_webhook_secret: str | None = None,
                 api_base: str | None = None,
                 webhook_tolerance: int = stripe.Webhook.DEFAULT_TOLERANCE, max_network_retries: int | None = None,
                 http_client: stripe.HTTPClient | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not secret_key:
            raise ValueError("Stripe payments need STRIPE_SECRET_KEY (a secret key, sk_test_... in test mode).")
        if not webhook_secret:
            raise ValueError("Stripe payments need STRIPE_WEBHOOK_SECRET (whsec_...): orders are fulfilled only "
                             "from verified webhooks.")
        if webhook_tolerance <= 0:
            # The SDK skips the age check for a tolerance of 0: a captured event could be replayed forever.
            raise ValueError("STRIPE_WEBHOOK_TOLERANCE must be a positive number of seconds.")
        self.webhook_secret = webhook_secret
        # A Connect endpoint (events of connected accounts) has its own signing secret; both may post here.
        self.webhook_secrets = tuple(dict.fromkeys(filter(None, (webhook_secret, connect_webhook_secret))))
        self.webhook_tolerance = webhook_tolerance
        if timeout <= 0:
            raise ValueError("STRIPE_TIMEOUT must be a positive number of seconds.")
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            # The SDK waits 80 s by default: a request thread would hang that long on a Stripe that does not answer.
            http_client=http_client or stripe.RequestsClient(timeout=timeout),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripePayments:
        tolerance = _optional_int(config.get("STRIPE_WEBHOOK_TOLERANCE"))
        return cls(
            config.get("STRIPE_SECRET_KEY") or "", webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or "",
            connect_webhook_secret=config.get("STRIPE_CONNECT_WEBHOOK_SECRET") or None,
            api_base=config.get("STRIPE_API_BASE") or None,
            webhook_tolerance=stripe.Webhook.DEFAULT_TOLERANCE if tolerance is None else tolerance,
            max_network_retries=_optional_int(config.get("STRIPE_MAX_NETWORK_RETRIES")),
            timeout=float(config.get("STRIPE_TIMEOUT") or DEFAULT_TIMEOUT),
        )

    # ------------------------------------------------------------ the PaymentProvider contract

    def start_checkout(self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
                       destination: Destination | None = None) -> Checkout:
        """Create a Checkout Session for the order's amount (the same idempotency key gives the same session).
        An order keeps one payable session at a time: while its earlier session is open the buyer is sent back
        to it, and one already paid is refused (its confirmation is on its way), so nobody pays twice. With a
        ``destination`` the payment is a destination charge: the money goes to the seller's connected account and
        the platform keeps its fee as the application fee."""
        amount = order.amount
        if type(amount) is not int or amount <= 0:
            raise PaymentError(_("Order %(number)s has no amount to pay by card.", number=order.number))
        earlier = self._earlier_session(order)
        if earlier is not None:
            return earlier
        name = order.item_name[:MAX_PRODUCT_NAME]
        params = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": str(order.currency).lower(), "unit_amount": amount,
                               "product_data": {"name": name}},
            }],
            "metadata": {"order_id": str(order.id), "order_number": order.number},
            "payment_intent_data": {"metadata": {"order_id": str(order.id), "order_number": order.number}},
            "client_reference_id": str(order.id),
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if destination is not None:
            params["payment_intent_data"].update(
                application_fee_amount=destination.application_fee, transfer_group=order.number,
                transfer_data={"destination": destination.account})
        if order.deadline is not None:
            params["expires_at"] = _session_expiry(order.deadline)
        try:
            session = self.client.v1.checkout.sessions.create(params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise payment_error(exc, _("opening the checkout for %(number)s", number=order.number)) from exc
        if not session.url:
            raise PaymentError(_("Stripe opened checkout %(session)s for %(number)s without a payment page.",
                                 session=session.id, number=order.number))
        return Checkout(reference=session.id, redirect_url=session.url,
                        destination=destination.account if destination is not None else None)

    def _earlier_session(self, order) -> Checkout | None:
        """The order's earlier session if the buyer can still pay there; PaymentError if it was paid already or
        its delayed payment is still settling. None (a new session) when it expired, was never known to this
        account, or completed with a delayed payment that then failed."""
        if not (order.payment_provider == PROVIDER and order.payment_reference):
            return None
        try:
            found = self.client.v1.checkout.sessions.retrieve(order.payment_reference,
                                                              {"expand": ["payment_intent"]})
        except stripe.StripeError as exc:
            if missing(exc):
                return None  # unknown to this Stripe account (keys changed): nothing to go back to
            raise payment_error(exc, _("looking up the earlier checkout of %(number)s", number=order.number)) from exc
        if found.status == "open" and found.url:
            return Checkout(reference=found.id, redirect_url=found.url, kept=True)
        if found.status != "complete":
            return None
        if found.payment_status in PAID_STATUSES:
            raise PaymentError(_("Order %(number)s is already paid at Stripe; its confirmation is on its way.",
                                 number=order.number))
        intent = found.payment_intent
        intent_status = getattr(intent, "status", None) if isinstance(intent, stripe.StripeObject) else None
        if intent_status in PENDING_INTENT_STATUSES:
            raise PaymentError(_("The payment of order %(number)s is still being processed by the bank; you "
                                 "will be told when it succeeds or fails.", number=order.number))
        return None  # the delayed payment failed: the buyer may pay again

    def checkout_state(self, order) -> CheckoutState:
        """Paid (with the payment intent) once the session is complete and paid, expired once Stripe expired it,
        open otherwise (including a completed session whose delayed payment has not arrived yet)."""
        if not order.payment_reference:
            return CheckoutState(PaymentOutcome.OPEN)
        try:
            found = self.client.v1.checkout.sessions.retrieve(order.payment_reference)
        except stripe.StripeError as exc:
            if missing(exc):
                return CheckoutState(PaymentOutcome.MISSING)
            raise payment_error(exc, _("asking about the checkout of %(number)s", number=order.number)) from exc
        session = session_snapshot(found.to_dict())
        if session.status == "expired":
            return CheckoutState(PaymentOutcome.EXPIRED)
        if session.paid:
            mismatch = checkout_mismatch(order, session)
            if mismatch:
                # Never pay an order on a session that is not exactly its own; a person has to look at it.
                log.warning("Stripe session %s does not match order %s: %s", session.id, order.number, mismatch)
                return CheckoutState(PaymentOutcome.MISMATCH, session.payment_intent, session.amount_total,
                                     session.currency, mismatch)
            return CheckoutState(PaymentOutcome.PAID, session.payment_intent)
        return CheckoutState(PaymentOutcome.OPEN)

    def refund(self, order, *, idempotency_key: str) -> str:
        """Refund the whole payment of a paid order (its payment intent); Stripe's refund id."""
        if not order.payment_intent:
            raise PaymentError(_("Order %(number)s has no Stripe payment to refund.", number=order.number))
        # A destination charge's refund takes the seller's share back from their account, and gives back the fee.
        reverse = {"reverse_transfer": True, "refund_application_fee": True} if order.transfer_destination else {}
        return self._refund(order.payment_intent, idempotency_key, {"order_id": str(order.id)}, order.number,
                            reverse)

    def refund_payment(self, payment_reference: str, *, idempotency_key: str, metadata: dict[str, str]) -> str:
        """Refund the whole of one payment intent (money that paid no order); Stripe's refund id."""
        return self._refund(payment_reference, idempotency_key, metadata,
                            _("payment %(reference)s", reference=payment_reference))

    def _refund(self, payment_intent: str, idempotency_key: str, metadata: dict[str, str], what: str,
                extra: dict | None = None) -> str:
        try:
            refund = self.client.v1.refunds.create({"payment_intent": payment_intent, "metadata": metadata,
                                                    **(extra or {})},
                                                   options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise payment_error(exc, _("refunding %(what)s", what=what)) from exc
        if refund.status in ("failed", "canceled"):
            raise PaymentError(_("Stripe could not refund %(what)s (refund %(refund)s %(status)s).", what=what,
                                 refund=refund.id, status=refund.status))
        return refund.id

    def cancel_checkout(self, order) -> None:
        """Expire the order's session at Stripe if it is still open. A session already closed is left alone, and
        so is one Stripe does not know (404): nobody can pay it, so it cannot keep the order waiting."""
        if not (order.payment_provider == PROVIDER and order.payment_reference):
            return
        try:
            found = self.client.v1.checkout.sessions.retrieve(order.payment_reference)
            if found.status == "open":
                self.client.v1.checkout.sessions.expire(order.payment_reference)
        except stripe.StripeError as exc:
            if missing(exc):
                log.warning("Stripe does not know checkout %s of %s; nothing to close.", order.payment_reference,
                            order.number)
                return
            raise payment_error(exc, _("closing the checkout of %(number)s", number=order.number)) from exc

    # ------------------------------------------------------------ webhooks

    def parse_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """Verify a webhook's Stripe-Signature against the signing secret and its age against the tolerance, and
        read the event. InvalidWebhook for a missing, wrong or stale signature or a body that is not an event."""
        try:
            event = self._verified(payload, signature)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("The Stripe signature is missing, wrong or too old.",
                                 {"stripe_signature": [exc.user_message or "invalid"]}) from None
        except (ValueError, TypeError, AttributeError):
            # Signed, but not JSON or not an event object (the SDK parses only after verifying).
            raise InvalidWebhook("The webhook body is not a Stripe event.", {"body": ["Malformed event."]}) from None
        data = event.to_dict()
        event_id, event_type = _text(data.get("id")), _text(data.get("type"))
        obj = data.get("data", {}).get("object") if isinstance(data.get("data"), Mapping) else None
        if not event_id or not event_type or not isinstance(obj, Mapping):
            raise InvalidWebhook("The webhook body is not a Stripe event.",
                                 {"body": ["An event needs an id, a type and data.object."]})
        kind = obj.get("object")
        return WebhookEvent(
            id=event_id, type=event_type, session=session_snapshot(obj) if kind == "checkout.session" else None,
            charge=charge_snapshot(obj) if kind == "charge" else None,
            dispute=dispute_snapshot(obj) if kind == "dispute" else None,
            account=_text(data.get("account")), created=_integer(data.get("created")), data=obj,
        )

    def _verified(self, payload: bytes, signature: str | None) -> stripe.Event:
        """The event signed with the account endpoint's secret or the Connect endpoint's."""
        for secret in self.webhook_secrets[:-1]:
            try:
                return self.client.construct_event(payload, signature, secret, self.webhook_tolerance)
            except stripe.SignatureVerificationError:
                continue
        return self.client.construct_event(payload, signature, self.webhook_secrets[-1], self.webhook_tolerance)


def _session_expiry(deadline: datetime) -> int:
    """When the order's session should expire: at the order's payment deadline, within the 30 minutes to 24 hours
    Stripe allows (a session outliving its order could take money for an expired order).

    The bounds move on a grid of ``SESSION_EXPIRY_GRID``, not with every second: the same checkout asked for twice
    a moment apart with one idempotency key sends the same parameters, which Stripe requires of a repeated key."""
    now, grid = utcnow().timestamp(), SESSION_EXPIRY_GRID.total_seconds()
    earliest = math.ceil((now + SESSION_MIN_LIFE.total_seconds()) / grid) * grid
    latest = math.floor((now + SESSION_MAX_LIFE.total_seconds()) / grid) * grid
    return int(min(max(deadline.timestamp(), earliest), latest))


# Why a Checkout Session cannot pay an order, in English as recorded (see orders.anomalies.ANOMALY_DETAILS).
OTHER_SESSION = N_("session %(session)s is not the order's checkout %(checkout)s")
OTHER_ORDER = N_("session is for order id %(order)s")
OTHER_AMOUNT = N_("session charges %(charged)s %(charged_currency)s, the order costs %(amount)s %(currency)s")
MISMATCHES = (OTHER_SESSION, OTHER_ORDER, OTHER_AMOUNT)


def checkout_mismatch(order, session: CheckoutSessionSnapshot) -> str | None:
    """Why a Checkout Session cannot pay this order (another session, order, amount or currency), or None."""
    if session.id != order.payment_reference:
        return OTHER_SESSION % {"session": session.id, "checkout": order.payment_reference}
    if session.order_id is not None and session.order_id != order.id:
        return OTHER_ORDER % {"order": session.order_id}
    if session.amount_total != order.amount or session.currency != str(order.currency):
        return OTHER_AMOUNT % {"charged": session.amount_total, "charged_currency": session.currency,
                               "amount": order.amount, "currency": order.currency}
    return None
