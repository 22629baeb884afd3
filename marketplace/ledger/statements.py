"""A seller organization's monthly statement and the platform's fee revenue, read from the ledger alone.

A statement covers one calendar month in the reader's time zone and one currency: the opening balance owed to the
seller (pending, available and held together), one line per money event of the month (a sale, a refund, a
dispute's hold, win or loss, a payout started or failed: gross, fee, net and the money held), and the closing
balance. Releases (pending to available) and a payout's arrival (in payout to paid out) move nothing the seller is
still owed, so they make no line.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import NotFound
from marketplace.ledger.models import (
    PAYOUT_KINDS,
    SELLER_PAYABLE,
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    TransactionKind,
)

MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits only: "９９９９" is no month
FIRST_YEAR, LAST_YEAR = 2000, 9998  # the statement of a month reads to the next month's first day


def parse_month(text: str) -> date:
    """"2026-12" as the first day of that month; NotFound for anything else (no such statement)."""
    match = MONTH.match(text or "")
    if not match or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR or not 1 <= int(match[2]) <= 12:
        raise NotFound(_("No statement for %(month)s: name a month as YYYY-MM.", month=(text or "")[:20]))
    return date(int(match[1]), int(match[2]), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def neighbours(month: date) -> tuple[str | None, str | None]:
    """The months before and after ``month`` as "YYYY-MM", None where there is no statement to go to."""
    before, after = previous_month(month), next_month(month)
    return (f"{before:%Y-%m}" if before.year >= FIRST_YEAR else None,
            f"{after:%Y-%m}" if after.year <= LAST_YEAR else None)


@dataclass
class StatementLine:
    occurred_at: datetime
    kind: TransactionKind
    order_id: int | None
    gross: int = 0   # what the buyer paid (+) or got back (-)
    fee: int = 0     # the platform's fee kept (+) or given back (-)
    net: int = 0     # the change in what is owed to the seller
    held: int = 0    # the change in what is held from the seller for a dispute


@dataclass
class Statement:
    currency: str
    month: date
    opening: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.opening + sum(line.net for line in self.lines)

    @property
    def totals(self) -> StatementLine:
        return StatementLine(datetime.min, TransactionKind.SALE, None, sum(x.gross for x in self.lines),
                             sum(x.fee for x in self.lines), sum(x.net for x in self.lines),
                             sum(x.held for x in self.lines))


def _bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    end = next_month(month)
    return (datetime(month.year, month.month, 1, tzinfo=zone), datetime(end.year, end.month, 1, tzinfo=zone))


def _owed_before(session: Session, organization_id: int, moment: datetime) -> dict[str, int]:
    rows = session.execute(
        select(LedgerAccount.currency, func.sum(LedgerPosting.amount))
        .join(LedgerPosting.account).join(LedgerPosting.transaction)
        .where(LedgerAccount.organization_id == organization_id, LedgerAccount.kind.in_(SELLER_PAYABLE),
               LedgerTransaction.occurred_at < moment)
        .group_by(LedgerAccount.currency)
    ).all()
    return {currency: -int(total or 0) for currency, total in rows}


def statements(session: Session, organization_id: int, month: date, zone: ZoneInfo) -> list[Statement]:
    """The organization's statement of ``month`` for each currency it has money in, by currency."""
    start, end = _bounds(month, zone)
    opening = _owed_before(session, organization_id, start)
    rows = session.execute(
        select(LedgerTransaction, LedgerAccount.kind, func.sum(LedgerPosting.amount))
        .join(LedgerPosting, LedgerPosting.transaction_id == LedgerTransaction.id).join(LedgerPosting.account)
        .where(LedgerTransaction.organization_id == organization_id, LedgerTransaction.occurred_at >= start,
               LedgerTransaction.occurred_at < end,
               LedgerTransaction.kind.not_in((TransactionKind.RELEASE, TransactionKind.PAYOUT_PAID)))
        .group_by(LedgerTransaction.id, LedgerAccount.kind)
        .order_by(LedgerTransaction.occurred_at, LedgerTransaction.id)
    ).all()
    lines: dict[int, StatementLine] = {}
    per_currency: dict[str, list[StatementLine]] = defaultdict(list)
    for transaction, kind, total in rows:
        line = lines.get(transaction.id)
        if line is None:
            line = lines[transaction.id] = StatementLine(transaction.occurred_at, transaction.kind,
                                                         transaction.order_id)
            per_currency[transaction.currency].append(line)
        amount = int(total or 0)
        if kind == AccountKind.PROVIDER_CASH:
            line.gross += amount
        elif kind == AccountKind.PLATFORM_FEE:
            line.fee -= amount
        elif kind in SELLER_PAYABLE:
            line.net -= amount
            if kind == AccountKind.SELLER_HELD:
                line.held -= amount
    currencies = sorted(set(per_currency) | {c for c, owed in opening.items() if owed})
    return [Statement(currency, month, opening.get(currency, 0), per_currency.get(currency, []))
            for currency in currencies]


def _by_month(session: Session, kind: AccountKind, zone: ZoneInfo, months: int,
              *where) -> dict[str, list[tuple[date, int]]]:
    """The normal-side change of ``kind`` accounts per calendar month in ``zone``, per currency, for the last
    ``months`` months including this one, oldest first; months without any are 0."""
    now = datetime.now(zone)
    starts = [date(now.year, now.month, 1)]
    while len(starts) < months:
        starts.insert(0, previous_month(starts[0]))
    since, _end = _bounds(starts[0], zone)
    rows = session.execute(
        select(LedgerAccount.currency, LedgerTransaction.occurred_at, LedgerPosting.amount)
        .join(LedgerPosting.account).join(LedgerPosting.transaction)
        .where(LedgerAccount.kind == kind, LedgerTransaction.occurred_at >= since, *where)
    ).all()
    totals: dict[str, dict[date, int]] = {}
    for currency, moment, amount in rows:
        local = moment.astimezone(zone)
        per_month = totals.setdefault(currency, dict.fromkeys(starts, 0))
        key = date(local.year, local.month, 1)
        if key in per_month:
            per_month[key] += kind.normal_sign * int(amount)
    return {currency: list(per_month.items()) for currency, per_month in sorted(totals.items())}


def fee_revenue_by_month(session: Session, zone: ZoneInfo, months: int = 12) -> dict[str, list[tuple[date, int]]]:
    """The platform's fee revenue (fees kept less fees given back) per month and currency."""
    return _by_month(session, AccountKind.PLATFORM_FEE, zone, months)


def seller_sales_by_month(session: Session, organization_id: int, zone: ZoneInfo,
                          months: int = 12) -> dict[str, list[tuple[date, int]]]:
    """What buyers paid for the seller's products and kept (sales less refunds and lost disputes, before the
    platform fee) per month and currency."""
    return _by_month(session, AccountKind.PROVIDER_CASH, zone, months,
                     LedgerTransaction.organization_id == organization_id, LedgerTransaction.kind.not_in(PAYOUT_KINDS))


def seller_sales(session: Session, organization_id: int) -> dict[str, int]:
    """What buyers paid for the seller's products and kept, per currency (currencies with nothing left omitted)."""
    rows = session.execute(
        select(LedgerAccount.currency, func.sum(LedgerPosting.amount))
        .join(LedgerPosting.account).join(LedgerPosting.transaction)
        .where(LedgerAccount.kind == AccountKind.PROVIDER_CASH, LedgerTransaction.organization_id == organization_id,
               LedgerTransaction.kind.not_in(PAYOUT_KINDS))
        .group_by(LedgerAccount.currency).order_by(LedgerAccount.currency)
    ).all()
    return {currency: int(total) for currency, total in rows if total}


def held_orders(session: Session) -> list[tuple[int, str, int]]:
    """Orders with money held for an open dispute: (order id, currency, amount held), oldest first."""
    rows = session.execute(
        select(LedgerTransaction.order_id, LedgerAccount.currency, func.sum(LedgerPosting.amount))
        .join(LedgerPosting.account).join(LedgerPosting.transaction)
        .where(LedgerAccount.kind == AccountKind.SELLER_HELD)
        .group_by(LedgerTransaction.order_id, LedgerAccount.currency).having(func.sum(LedgerPosting.amount) != 0)
        .order_by(LedgerTransaction.order_id)
    ).all()
    return [(order_id, currency, -int(total)) for order_id, currency, total in rows]
