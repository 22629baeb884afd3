"""POST /webhooks/stripe: Stripe's word on a checkout, a refund or a dispute, applied to the order once per event.

The signature is verified first (``StripePayments.parse_event``): a missing, wrong or stale signature, or a body
that is not an event, gets 400 and changes nothing. A verified event is then applied in one transaction together
with its ``PaymentEvent`` row, so an event id is acted on once: a retried or duplicated event (also one racing
its twin, which the unique (provider, event_id) constraint stops) answers 200 "duplicate" and changes nothing, and
an event arriving out of order (an expiry after the payment) is recorded as ignored. Money that pays no order (a
closed order, a wrong amount, a second payment) becomes a payment anomaly for an admin to refund; a refund made in
the Stripe Dashboard (``charge.refunded``) refunds the order and revokes its licence; a dispute
(``charge.dispute.created``) flags the order and holds its money from the seller, and its close
(``charge.dispute.closed``, won or lost) releases or reverses it in the ledger. Stripe Connect's events (a seller's
account updated, a payout paid or failed, a transfer) go to ``payouts.webhooks``. Every verified event gets a
2xx, since Stripe retries anything else; only an unexpected failure answers 500 so that Stripe tries again.

Blueprint is CSRF-exempt (the signature is the authentication), registered in ``marketplace.web.views``.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from marketplace.api import error_body
from marketplace.errors import DomainError, InvalidTransition, NotFound
from marketplace.extensions import db
from marketplace.orders.anomalies import (
    ANOMALY_DETAILS,
    CLOSED_ORDER,
    MISMATCH,
    SECOND_PAYMENT,
    anomaly_for_payment,
    mark_refunded,
    record_anomaly,
)
from marketplace.orders.checkout import (
    DELAYED_FAILURE,
    already_processed,
    confirm_payment,
    expire_unpaid,
    record_payment_failure,
)
from marketplace.orders.models import AnomalyKind, AnomalyStatus, Order, PaymentEvent
from marketplace.orders.money import seller_share
from marketplace.orders.refunds import (
    LOST_STATUS,
    flag_dispute,
    record_partial_refund,
    record_provider_refund,
    settle_dispute,
)
from marketplace.orders.states import OrderStatus
from marketplace.payments.stripe_connect import connect_of
from marketplace.payments.stripe_provider import (
    PROVIDER,
    ChargeSnapshot,
    DisputeSnapshot,
    WebhookEvent,
    checkout_mismatch,
)
from marketplace.payouts import webhooks as connect_events

log = logging.getLogger(__name__)

bp = Blueprint("stripe_webhooks", __name__)

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
EXPIRED_EVENT = "checkout.session.expired"
FAILED_EVENT = "checkout.session.async_payment_failed"
CHECKOUT_EVENTS = PAID_EVENTS | {EXPIRED_EVENT, FAILED_EVENT}
REFUNDED_EVENT = "charge.refunded"
DISPUTE_EVENT = "charge.dispute.created"
DISPUTE_CLOSED_EVENT = "charge.dispute.closed"
# Orders that can no longer be paid: money arriving for one is given back.
CLOSED_STATES = frozenset({OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.DECLINED, OrderStatus.REFUNDED})
MAX_OUTCOME = 200


@dataclass(frozen=True)
class WebhookResult:
    """What became of one event: a duplicate (already processed), or the outcome recorded for it."""

    duplicate: bool
    outcome: str
    order_id: int | None = None

    def to_dict(self) -> dict:
        return {"received": True, **asdict(self)}


@bp.post("/webhooks/stripe")
def stripe_webhook():
    payments = current_app.extensions["payments"]
    if getattr(payments, "name", None) != PROVIDER:
        raise NotFound("Stripe payments are not configured.")
    event = payments.parse_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    return jsonify(apply_stripe_event(db.session, event, payments).to_dict()), 200


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return jsonify(error.to_dict()), error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    return jsonify(error_body(status, code, error.description or error.name)), status


# ---------------------------------------------------------------- applying an event


def apply_stripe_event(session: Session, event: WebhookEvent, payments=None) -> WebhookResult:
    """Apply a verified event to its order and record it, in the request's one transaction. An event id
    already recorded changes nothing; so does an event that is not about a marketplace checkout, that names
    another session, amount or currency than the order's (recorded "rejected: ..."), or that arrives when the
    order can no longer make the move (recorded "ignored: ...")."""
    if already_processed(session, PROVIDER, event.id):
        return WebhookResult(duplicate=True, outcome="already processed")
    row = PaymentEvent(provider=PROVIDER, event_id=event.id, event_type=event.type[:100], outcome="processing")
    try:
        with session.begin_nested():  # a concurrent twin of this event collides here, before any order is touched
            session.add(row)
    except IntegrityError:
        if already_processed(session, PROVIDER, event.id):
            return WebhookResult(duplicate=True, outcome="already processed")
        raise
    order = _locked_order(session, event)
    row.order_id = order.id if order is not None else None
    row.outcome = _apply(session, event, order, payments)[:MAX_OUTCOME]
    session.flush()
    if row.outcome.startswith("rejected"):
        log.warning("Stripe event %s (%s) rejected: %s", event.id, event.type, row.outcome)
    return WebhookResult(duplicate=False, outcome=row.outcome, order_id=row.order_id)


def _locked_order(session: Session, event: WebhookEvent) -> Order | None:
    """The order the event is about, read afresh under a row lock (PostgreSQL; on SQLite the request's transaction
    already holds the write lock), so two events for one order apply one after the other: a checkout's order by the
    id in its metadata, a charge's or dispute's by the payment intent the order was paid with."""
    if event.session is not None:
        if event.session.order_id is None:
            return None
        condition = Order.id == event.session.order_id
    elif (intent := _payment_intent(event)) is not None:
        condition = (Order.payment_provider == PROVIDER) & (Order.payment_intent == intent)
    else:
        return None
    return session.scalar(
        select(Order).where(condition).order_by(Order.id).limit(1).with_for_update()
        .execution_options(populate_existing=True)
    )


def _payment_intent(event: WebhookEvent) -> str | None:
    if event.charge is not None:
        return event.charge.payment_intent
    if event.dispute is not None:
        return event.dispute.payment_intent
    return None


def _apply(session: Session, event: WebhookEvent, order: Order | None, payments) -> str:
    """The outcome to record; the order moves inside a savepoint, so a refused move leaves nothing half done."""
    if event.type in CHECKOUT_EVENTS:
        return _apply_checkout(session, event, order)
    if event.type == REFUNDED_EVENT and event.charge is not None:
        return _apply_refund(session, event.charge, order, payments)
    if event.type == DISPUTE_EVENT and event.dispute is not None:
        return _apply_dispute(session, event.dispute, order)
    if event.type == DISPUTE_CLOSED_EVENT and event.dispute is not None:
        return _apply_dispute_closed(session, event.dispute, order, payments)
    if connect_events.handles(event):
        return connect_events.apply_connect_event(session, event)
    return f"ignored: {event.type} is not handled"


def _apply_checkout(session: Session, event: WebhookEvent, order: Order | None) -> str:
    checkout = event.session
    if checkout is None or checkout.raw_order_id is None:
        return "ignored: not a marketplace checkout (no order id in its metadata)"
    if checkout.order_id is None:
        return f"ignored: {checkout.raw_order_id!r} in its metadata is not an order id"
    if order is None:
        return f"ignored: no order {checkout.order_id}"
    if event.type in PAID_EVENTS:
        mismatch = checkout_mismatch(order, checkout)
        if mismatch:
            if checkout.paid:
                _anomaly(session, event, order, AnomalyKind.MISMATCH,
                         ANOMALY_DETAILS.english(MISMATCH, number=order.number, detail=mismatch))
            return f"rejected: {mismatch}"
        if not checkout.paid:
            return f"pending: payment status is {checkout.payment_status}"
    elif checkout.id != order.payment_reference:
        # An old checkout of an order that has since opened a new one says nothing about the order.
        return f"ignored: session {checkout.id} is not the order's current checkout"
    try:
        with session.begin_nested():
            if event.type in PAID_EVENTS:
                confirm_payment(session, order, provider=PROVIDER, payment_reference=checkout.payment_intent)
            elif event.type == EXPIRED_EVENT:
                expire_unpaid(session, order)
            else:
                record_payment_failure(session, order, DELAYED_FAILURE)
                return "payment failed"
    except InvalidTransition as exc:
        if event.type in PAID_EVENTS and checkout.payment_intent != order.payment_intent:
            # Money arrived that pays nothing: nothing is issued, and an admin must give it back.
            if order.status in CLOSED_STATES:
                _anomaly(session, event, order, AnomalyKind.CLOSED_ORDER,
                         ANOMALY_DETAILS.english(CLOSED_ORDER, number=order.number, status=order.status.value))
                return f"ignored: {exc.message} The buyer paid {checkout.payment_intent}: refund it."
            _anomaly(session, event, order, AnomalyKind.SECOND_PAYMENT,
                     ANOMALY_DETAILS.english(SECOND_PAYMENT, number=order.number, payment=order.payment_intent))
            return f"ignored: {exc.message} A second payment {checkout.payment_intent}: refund it."
        return f"ignored: {exc.message}"
    except DomainError as exc:
        return f"rejected: {exc.message}"
    return str(order.status)


def _anomaly(session: Session, event: WebhookEvent, order: Order, kind: AnomalyKind, detail: str) -> None:
    checkout = event.session
    if checkout is None or not checkout.payment_intent:
        log.warning("Stripe event %s: %s (no payment intent to refund)", event.id, detail)
        return
    record_anomaly(session, provider=PROVIDER, payment_reference=checkout.payment_intent, kind=kind, order=order,
                   detail=detail, amount=checkout.amount_total, currency=checkout.currency, event_id=event.id)
    log.warning("Stripe event %s: %s Listed at /admin/payments/anomalies.", event.id, detail)


def _apply_refund(session: Session, charge: ChargeSnapshot, order: Order | None, payments) -> str:
    """A charge refunded at Stripe (its Dashboard, or our own refund coming back): the order is refunded and its
    licence revoked, once; a partial refund is recorded; an anomaly's payment refunded there is closed."""
    if not charge.payment_intent:
        return "ignored: the charge names no payment intent"
    if order is None:
        anomaly = anomaly_for_payment(session, PROVIDER, charge.payment_intent)
        if anomaly is not None and charge.fully_refunded:
            if anomaly.status == AnomalyStatus.REFUNDED:
                return f"ignored: payment anomaly {anomaly.id} is already refunded"
            mark_refunded(session, anomaly, charge.refund_id, None)
            return f"payment anomaly {anomaly.id} refunded"
        return f"ignored: no order paid with {charge.payment_intent}"
    if not charge.fully_refunded:
        record_partial_refund(session, order, charge.amount_refunded, charge.amount, "the Stripe Dashboard")
        outcome = f"partially refunded: {charge.amount_refunded} of {charge.amount}"
    elif order.status == OrderStatus.REFUNDED:
        outcome = "ignored: the order is already refunded"
    else:
        try:
            with session.begin_nested():
                record_provider_refund(session, order, charge.refund_id, "the Stripe Dashboard")
        except InvalidTransition as exc:
            return f"ignored: {exc.message}"
        outcome = str(order.status)
    reversal = _take_back_share(session, order, charge.id, f"refund-{charge.amount_refunded}", payments)
    return f"{outcome}; the seller's share taken back ({reversal})" if reversal else outcome


def _take_back_share(session: Session, order: Order, charge: str, why: str, payments) -> str | None:
    """For a destination charge, reverse its transfer down to the seller's share the ledger still gives them (after
    a refund made in the Stripe Dashboard or a lost dispute, Stripe leaves the transfer alone): the reversal's id,
    or None. A Stripe that cannot be asked fails the event, and Stripe sends it again."""
    connect = connect_of(payments)
    if not order.transfer_destination or connect is None:
        return None
    share = seller_share(session, order)
    return connect.take_back(charge, keep=share, idempotency_key=f"order-{order.id}-{why}-take-back-to-{share}")


def _apply_dispute(session: Session, dispute: DisputeSnapshot, order: Order | None) -> str:
    if not dispute.payment_intent:
        return "ignored: the dispute names no payment intent"
    if order is None:
        return f"ignored: no order paid with {dispute.payment_intent}"
    if not flag_dispute(session, order, dispute.id, dispute.reason):
        return f"ignored: dispute {dispute.id} is already recorded"
    return f"disputed: {dispute.reason or 'no reason given'}"


def _apply_dispute_closed(session: Session, dispute: DisputeSnapshot, order: Order | None, payments) -> str:
    """Settle the order's dispute. A lost dispute of a destination charge also takes the seller's share back from
    their account (the bank took the payment from the platform); if Stripe cannot be asked now, the event fails
    and Stripe sends it again."""
    if order is None:
        return f"ignored: no order paid with {dispute.payment_intent}"
    if not settle_dispute(session, order, dispute.id, dispute.status):
        return f"ignored: dispute {dispute.id} is not the order's open dispute"
    if dispute.status == LOST_STATUS and dispute.charge:
        reversal = _take_back_share(session, order, dispute.charge, f"dispute-{dispute.id}", payments)
        if reversal:
            return f"dispute closed: lost; the seller's share taken back ({reversal})"
    return f"dispute closed: {dispute.status or 'no status given'}"
