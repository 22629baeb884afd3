"""Refunds: the money goes back through the provider that took it, and the order's licence is revoked."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import Conflict
from marketplace.licensing.services import move_licence
from marketplace.licensing.states import LicenceAction, LicenceStatus
from marketplace.orders.common import actor_for, checked_message, move_order, notify_buyer
from marketplace.orders.models import Order
from marketplace.orders.states import ORDER_LIFECYCLE, OrderAction, OrderStatus
from marketplace.payments import PaymentProvider


def refundable(order: Order) -> bool:
    """Whether the order has money to give back: a fulfilled order that was paid for (a free licence has none)."""
    return order.status == OrderStatus.FULFILLED and order.amount > 0


def refund_order(session: Session, user: User, order: Order, reason: str, payments: PaymentProvider) -> Order:
    """Give the money back (through the provider that took it) and revoke the order's licence."""
    actor = actor_for(session, user, order, OrderAction.REFUND)
    reason = checked_message(reason, "reason", "A reason", required=True)
    ORDER_LIFECYCLE.lock(session, order)  # one refund per order: a concurrent refund waits here, then is refused
    ORDER_LIFECYCLE.next(order.status, OrderAction.REFUND, actor)  # refuse before calling the provider
    if not refundable(order):
        raise Conflict(f"Order {order.number} was free: there is no money to refund.")
    if order.payment_provider:
        if order.payment_provider != payments.name:
            raise Conflict(f"Order {order.number} was paid through {order.payment_provider}, which is not the "
                           "payment provider configured now.")
        order.refund_reference = payments.refund(order, idempotency_key=f"order-{order.id}-refund")
    move_order(session, user, order, OrderAction.REFUND, actor, reason=reason, refund_reference=order.refund_reference)
    order.closed_at = utcnow()
    if order.licence is not None and order.licence.status == LicenceStatus.ACTIVE:
        move_licence(session, order.licence, LicenceAction.REVOKE, f"Order refunded: {reason}")
    notify_buyer(session, order, f"Order {order.number} refunded",
                  f"The order was refunded and its licence revoked. Reason: {reason}")
    return order
