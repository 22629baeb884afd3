"""Money as sellers and platform admins read it, from the ledger: a seller's balances and monthly statement (each
line with its order and product), the platform's fee revenue, money held for disputes, payments needing attention
and payouts not yet paid. Permissions are checked here, once for the pages and the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.ledger import statements as ledger_statements
from marketplace.ledger.fees import fee_rate
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.ledger.services import Balance, balances_of
from marketplace.orders.models import AnomalyStatus, Order, PaymentAnomaly
from marketplace.payouts.models import Payout, PayoutStatus

ATTENTION_LIMIT = 100


def balances(session: Session, user: User, organization: Organization) -> list[Balance]:
    """What the platform owes the seller organization, per currency: pending, available and held; and what is on
    its way to the seller's bank in a payout."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    return balances_of(session, organization.id)


def statement(session: Session, user: User, organization: Organization, month: date,
              zone: ZoneInfo) -> tuple[list[ledger_statements.Statement], dict[int, Order], int]:
    """The organization's statements of ``month`` (one per currency), the orders their lines name, and the fee
    rate in basis points its sales are charged now."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    found = ledger_statements.statements(session, organization.id, month, zone)
    ids = {line.order_id for s in found for line in s.lines if line.order_id is not None}
    named = {order.id: order for order in session.scalars(
        select(Order).where(Order.id.in_(ids)).options(selectinload(Order.version), selectinload(Order.product),
                                                      selectinload(Order.assessment)))
    } if ids else {}
    return found, named, fee_rate(organization)


@dataclass(frozen=True)
class Finance:
    fee_revenue: dict[str, list[tuple[date, int]]]
    held: list[tuple[Order, str, int]]
    open_anomalies: int
    unrecorded: list[Order]
    payouts: list[Payout]  # in transit or failed, newest first


def platform_finance(session: Session, user: User, zone: ZoneInfo, months: int = 12) -> Finance:
    """The admin's view: fee revenue per month and currency, orders with money held for a dispute, open payment
    anomalies, paid orders the ledger has no sale for, and payouts in transit or failed (platform admins only)."""
    require(user, Permission.ADMIN)
    held = ledger_statements.held_orders(session)
    by_id = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_([h[0] for h in held]))
                                              .options(selectinload(Order.seller_organization)))} if held else {}
    sold = select(LedgerTransaction.id).where(LedgerTransaction.order_id == Order.id,
                                              LedgerTransaction.kind == TransactionKind.SALE)
    return Finance(
        fee_revenue=ledger_statements.fee_revenue_by_month(session, zone, months),
        held=[(by_id[order_id], currency, amount) for order_id, currency, amount in held if order_id in by_id],
        open_anomalies=session.scalar(select(func.count(PaymentAnomaly.id))
                                      .where(PaymentAnomaly.status == AnomalyStatus.OPEN)) or 0,
        unrecorded=list(session.scalars(
            select(Order).where(Order.paid_at.is_not(None), Order.amount > 0, ~sold.exists())
            .order_by(Order.id).limit(ATTENTION_LIMIT))),
        payouts=list(session.scalars(
            select(Payout).where(Payout.status.in_((PayoutStatus.IN_TRANSIT, PayoutStatus.FAILED)))
            .options(selectinload(Payout.organization))
            .order_by(Payout.created_at.desc(), Payout.id.desc()).limit(ATTENTION_LIMIT))),
    )
