"""An order's money in the settlement ledger: what the ledger is told of an order, in the transaction of the
order's own state change (the ledger knows no orders: it is handed the trade)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.ledger import sales
from marketplace.ledger.models import SELLER_PAYABLE
from marketplace.ledger.services import order_balances
from marketplace.licensing.vouchers import issue_voucher
from marketplace.orders.common import lock_order
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus


def backfill(session: Session) -> int:
    """Write the ledger entries of orders paid before the ledger existed: each sale, its refund, its open
    dispute (already written entries are kept: every entry is keyed), and the sale's transaction voucher if the
    order has none. How many orders were looked at."""
    paid = session.scalars(select(Order).where(Order.paid_at.is_not(None), Order.amount > 0).order_by(Order.id))
    count = 0
    for order in paid:
        record_sale(session, order)
        if order.licence is not None:
            issue_voucher(session, order.licence)
        if order.status == OrderStatus.REFUNDED:
            record_refund(session, order, order.amount, order.refund_reference)
        elif order.dispute_reference:
            hold_for_dispute(session, order)
        count += 1
    return count


def seller_share(session: Session, order: Order) -> int:
    """What the ledger still gives the seller of the order's money (pending, available and held, paid out or not)."""
    balances = order_balances(session, order.id)
    return sum(balances.get(kind, 0) for kind in SELLER_PAYABLE)


def trade_of(order: Order) -> sales.Trade:
    return sales.Trade(order_id=order.id, seller_id=order.seller_organization_id, currency=str(order.currency),
                       amount=order.amount, fee_bps=order.fee_bps)


def record_sale(session: Session, order: Order) -> None:
    sales.record_sale(session, trade_of(order), at=order.paid_at, reference=order.payment_intent)


def record_refund(session: Session, order: Order, refunded_total: int, reference: str | None) -> None:
    sales.record_refund(session, trade_of(order), refunded_total, reference=reference)


def hold_for_dispute(session: Session, order: Order) -> None:
    if order.dispute_reference:
        sales.hold_for_dispute(session, trade_of(order), order.dispute_reference, at=order.disputed_at)


def close_dispute(session: Session, order: Order, dispute: str, won: bool) -> bool:
    """Release or reverse the held money; False if this dispute's close was already written."""
    if sales.dispute_closed(session, order.id, dispute):
        return False
    return sales.close_dispute(session, trade_of(order), dispute, won) is not None


def release_due(session: Session, delay_days: int) -> list:
    """Make available the sellers' money of sales past the settlement delay, each under its order's lock."""
    def lock(order_id: int) -> None:
        lock_order(session, session.get(Order, order_id))

    return sales.release_due(session, delay_days, lock=lock)
