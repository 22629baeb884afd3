"""Refunds: the money goes back through the provider that took it, and the order's licence is revoked."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict
from marketplace.licensing.services import (
    DISPUTE_LOST,
    LICENCE_REASONS,
    REFUNDED,
    REFUNDED_AT_PROVIDER,
    move_licence,
)
from marketplace.licensing.states import LicenceAction, LicenceStatus
from marketplace.notifications.services import notify_organization
from marketplace.orders.common import (
    actor_for,
    checked_message,
    move_order,
    notify_buyer,
)
from marketplace.orders.models import Order
from marketplace.orders.money import close_dispute as ledger_close_dispute
from marketplace.orders.money import hold_for_dispute, record_refund
from marketplace.orders.states import (
    ORDER_LIFECYCLE,
    OrderAction,
    OrderActor,
    OrderStatus,
)
from marketplace.payments import PaymentProvider

# Where a payment provider says a refund was made, in the reader's words.
_PLACES = {"the Stripe Dashboard": _l("the Stripe Dashboard")}


def refund_key(order: Order) -> str:
    """The provider's idempotency key for refunding the order's payment: the same payment always gives the same key
    (a retried refund is the same refund), and the payment's own reference makes it unique across databases (an
    order id reused after a reset never replays another payment's refund)."""
    return f"order-{order.id}-refund-{order.payment_intent or order.idempotency_key[:40]}"


def refundable(order: Order) -> bool:
    """Whether the order has money to give back: a fulfilled order that was paid for (a free licence has none)."""
    return order.status == OrderStatus.FULFILLED and order.amount > 0


def _settle_refund(session: Session, order: Order, reason: str) -> None:
    """What a whole refund writes after the order moved: the ledger gives the amount back, and the licence (a fee
    order has none) is revoked with the refund's reason."""
    record_refund(session, order, order.amount, order.refund_reference)
    if order.licence is not None and order.licence.status == LicenceStatus.ACTIVE:
        move_licence(session, order.licence, LicenceAction.REVOKE, LICENCE_REASONS.english(REFUNDED, reason=reason))


def refund_order(session: Session, user: User, order: Order, reason: str, payments: PaymentProvider) -> Order:
    """Give the money back (through the provider that took it) and revoke the order's licence."""
    actor = actor_for(session, user, order, OrderAction.REFUND)
    reason = checked_message(reason, "reason", "A reason", required=True)
    ORDER_LIFECYCLE.lock(session, order)  # one refund per order: a concurrent refund waits here, then is refused
    ORDER_LIFECYCLE.next(order.status, OrderAction.REFUND, actor)  # refuse before calling the provider
    if not refundable(order):
        raise Conflict(_("Order %(number)s was free: there is no money to refund.", number=order.number))
    if order.payment_provider:
        if order.payment_provider != payments.name:
            raise Conflict(_("Order %(number)s was paid through %(provider)s, which is not the payment provider "
                             "configured now.", number=order.number, provider=order.payment_provider))
        order.refund_reference = payments.refund(order, idempotency_key=refund_key(order))
    move_order(session, user, order, OrderAction.REFUND, actor, reason=reason, refund_reference=order.refund_reference)
    order.closed_at = utcnow()
    _settle_refund(session, order, reason)
    if order.is_assessment_fee:
        notify_buyer(session, order, _l("Fee of %(number)s refunded", number=order.assessment.number),
                     _l("The assessment fee was refunded. Reason: %(reason)s", reason=reason))
    else:
        notify_buyer(session, order, _l("Order %(number)s refunded", number=order.number),
                     _l("The order was refunded and its licence revoked. Reason: %(reason)s", reason=reason))
    return order


# ---------------------------------------------------------------- the provider's word after the sale


def _tell_seller(session: Session, order: Order, subject: str, body: str) -> None:
    link = (f"/provider/{order.seller_organization.slug}/assessments/{order.assessment.number}"
            if order.is_assessment_fee else f"/seller/{order.seller_organization.slug}/orders/{order.id}")
    notify_organization(session, order.seller_organization, subject, body, link=link)


def record_provider_refund(session: Session, order: Order, refund_reference: str | None, where: str) -> Order:
    """The provider reports the order's payment refunded in full outside the marketplace (its dashboard): the
    order is refunded and its licence revoked, the buyer and seller told. InvalidTransition for an order that is
    not fulfilled (already refunded by us, for one)."""
    reason = LICENCE_REASONS.english(REFUNDED_AT_PROVIDER, where=where)
    move_order(session, None, order, OrderAction.REFUND, OrderActor.SYSTEM, reason=reason,
               refund_reference=refund_reference)
    order.refund_reference, order.closed_at = refund_reference or order.refund_reference, utcnow()
    _settle_refund(session, order, reason)
    place = _PLACES.get(where, where)
    if order.is_assessment_fee:
        notify_buyer(session, order, _l("Fee of %(number)s refunded", number=order.assessment.number),
                     _l("The payment of the assessment fee was refunded in %(where)s.", where=place))
    else:
        notify_buyer(session, order, _l("Order %(number)s refunded", number=order.number),
                     _l("The payment was refunded in %(where)s, so the licence is revoked.", where=place))
    _tell_seller(session, order, _l("Order %(number)s refunded in %(where)s", number=order.number, where=place),
                 _l("The payment of %(number)s was refunded in %(where)s; its licence is revoked.",
                    number=order.number, where=place))
    return order


def record_partial_refund(session: Session, order: Order, refunded: int | None, charged: int | None,
                          where: str) -> None:
    """Part of the order's payment was given back outside the marketplace: audited, the ledger reverses what was
    refunded (``refunded`` is the provider's running total) and the seller told; the licence stays (a partial
    refund is a goodwill gesture, not a cancelled sale)."""
    if refunded is not None:
        record_refund(session, order, refunded, None)
    record(session, actor_id=None, action="order.partially_refunded", subject_type="order", subject_id=order.id,
           payload={"refunded": refunded, "charged": charged, "currency": str(order.currency), "where": where})
    place = _PLACES.get(where, where)
    _tell_seller(session, order,
                 _l("Order %(number)s partly refunded in %(where)s", number=order.number, where=place),
                 _l("%(refunded)s of %(charged)s (minor units of %(currency)s) of %(number)s were refunded in "
                    "%(where)s. The licence stays active.", refunded=refunded, charged=charged,
                    currency=str(order.currency), number=order.number, where=place))


def flag_dispute(session: Session, order: Order, dispute_reference: str, reason: str | None) -> bool:
    """The buyer's bank disputes the order's payment (a chargeback): the order is flagged with the time, the
    dispute and its reason, audited, its money held from the seller in the ledger, and the seller and the buyer
    told. The licence stays until the dispute is
    decided. False (nothing done) if this dispute was already flagged."""
    if order.dispute_reference == dispute_reference:
        return False
    order.disputed_at, order.dispute_reference = utcnow(), dispute_reference
    order.dispute_reason = (reason or "unspecified")[:100]
    hold_for_dispute(session, order)
    record(session, actor_id=None, action="order.disputed", subject_type="order", subject_id=order.id,
           payload={"dispute": dispute_reference, "reason": order.dispute_reason, "status": str(order.status)})
    _tell_seller(session, order, _l("Payment of %(number)s disputed", number=order.number),
                 _l("The buyer's bank disputes the payment of %(number)s (reason: %(reason)s). Answer the dispute "
                    "in the payment provider's dashboard with the order and its licence.", number=order.number,
                    reason=order.dispute_reason))
    notify_buyer(session, order, _l("Payment of %(number)s disputed", number=order.number),
                 _l("Your bank told us you dispute the payment of %(number)s (reason: %(reason)s). The seller has "
                    "been told.", number=order.number, reason=order.dispute_reason))
    return True


# Stripe's final statuses of a dispute: the seller keeps the money unless the bank decided for the buyer.
LOST_STATUS = "lost"


def settle_dispute(session: Session, order: Order, dispute_reference: str, status: str | None) -> bool:
    """The dispute is decided: won (or closed without a chargeback), the held money goes back to the seller;
    lost, the bank took the payment back: the sale is reversed in the ledger and a fulfilled order is refunded, its
    licence revoked. Audited and the seller told.
    False (nothing done) for a dispute the order does not carry or one already closed."""
    if order.dispute_reference != dispute_reference:
        return False
    won = status != LOST_STATUS
    if not ledger_close_dispute(session, order, dispute_reference, won):
        return False
    record(session, actor_id=None, action="order.dispute_closed", subject_type="order", subject_id=order.id,
           payload={"dispute": dispute_reference, "status": status})
    if not won and order.status == OrderStatus.FULFILLED:
        reason = LICENCE_REASONS.english(DISPUTE_LOST)
        move_order(session, None, order, OrderAction.REFUND, OrderActor.SYSTEM, reason=reason)  # stamps closed_at
        if order.licence is not None and order.licence.status == LicenceStatus.ACTIVE:
            move_licence(session, order.licence, LicenceAction.REVOKE, reason)
    if won:
        _tell_seller(session, order, _l("Dispute of %(number)s won", number=order.number),
                     _l("The dispute of the payment of %(number)s was decided for you: the money is yours again.",
                        number=order.number))
    else:
        _tell_seller(session, order, _l("Dispute of %(number)s lost", number=order.number),
                     _l("The buyer's bank decided the dispute of %(number)s for the buyer: the payment was taken "
                        "back.", number=order.number))
    return True
