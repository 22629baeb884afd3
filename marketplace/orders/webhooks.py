"""POST /webhooks/stripe: Stripe's word on a checkout, applied to the order once per event.

The signature is verified first (``StripePayments.parse_event``): a missing, wrong or stale signature, or a body
that is not an event, gets 400 and changes nothing. A verified event is then applied in one transaction together
with its ``PaymentEvent`` row, so an event id is acted on once: a retried or duplicated event (also one racing
its twin, which the unique (provider, event_id) constraint stops) answers 200 "duplicate" and changes nothing, and
an event arriving out of order (an expiry after the payment) is recorded as ignored. Every verified event gets a
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
from marketplace.orders.models import Order, PaymentEvent
from marketplace.orders.checkout import (
    already_processed,
    confirm_payment,
    expire_unpaid,
    record_payment_failure,
)
from marketplace.orders.states import OrderStatus
from marketplace.payments.stripe_provider import PROVIDER, WebhookEvent, checkout_mismatch

log = logging.getLogger(__name__)

bp = Blueprint("stripe_webhooks", __name__)

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
EXPIRED_EVENT = "checkout.session.expired"
FAILED_EVENT = "checkout.session.async_payment_failed"
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
    return jsonify(apply_stripe_event(db.session, event).to_dict()), 200


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return jsonify(error.to_dict()), error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    return jsonify(error_body(status, code, error.description or error.name)), status


# ---------------------------------------------------------------- applying an event


def apply_stripe_event(session: Session, event: WebhookEvent) -> WebhookResult:
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
    row.outcome = _apply(session, event, order)[:MAX_OUTCOME]
    session.flush()
    if row.outcome.startswith("rejected"):
        log.warning("Stripe event %s (%s) rejected: %s", event.id, event.type, row.outcome)
    return WebhookResult(duplicate=False, outcome=row.outcome, order_id=row.order_id)


def _locked_order(session: Session, event: WebhookEvent) -> Order | None:
    """The order named in the session's metadata, read afresh under a row lock (PostgreSQL; on SQLite the
    request's transaction already holds the write lock), so two events for one order apply one after the other."""
    if event.session is None or event.session.order_id is None:
        return None
    return session.scalar(
        select(Order).where(Order.id == event.session.order_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def _apply(session: Session, event: WebhookEvent, order: Order | None) -> str:
    """The outcome to record; the order moves inside a savepoint, so a refused move leaves nothing half done."""
    checkout = event.session
    if event.type not in PAID_EVENTS | {EXPIRED_EVENT, FAILED_EVENT}:
        return f"ignored: {event.type} is not handled"
    if checkout is None or checkout.order_id is None:
        return "ignored: not a marketplace checkout (no order id in its metadata)"
    if order is None:
        return f"ignored: no order {checkout.order_id}"
    if event.type in PAID_EVENTS:
        mismatch = checkout_mismatch(order, checkout)
        if mismatch:
            return f"rejected: {mismatch}"
        if checkout.payment_status != "paid":
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
                record_payment_failure(session, order, "The delayed payment failed at Stripe.")
                return "payment failed"
    except InvalidTransition as exc:
        if event.type in PAID_EVENTS and order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            # Money arrived for an order that is closed: nothing is issued, and someone must refund it at Stripe.
            log.warning("Stripe payment %s arrived for %s order %s; refund it at Stripe.",
                        checkout.payment_intent, order.status, order.number)
            return f"ignored: {exc.message} The buyer paid {checkout.payment_intent}: refund it."
        return f"ignored: {exc.message}"
    except DomainError as exc:
        return f"rejected: {exc.message}"
    return str(order.status)
