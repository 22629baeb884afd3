"""What a trade's money events write: a sale, a refund (whole or partial), a dispute opened, won or lost, and the
release of a sale's payable once it is due. Each is called inside the transaction of the order's state change,
and each transaction's key names the event, so an event applied twice writes once."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    TransactionKind,
)
from marketplace.ledger.services import account, order_balances, post

MAX_BPS = 10_000


@dataclass(frozen=True)
class Trade:
    """What the ledger needs to know of an order: its id, its seller, its money and the fee fixed on it."""

    order_id: int
    seller_id: int
    currency: str
    amount: int
    fee_bps: int

    @property
    def fee(self) -> int:
        return fee_for(self.amount, self.fee_bps)


def fee_for(amount: int, bps: int) -> int:
    """The platform's fee on ``amount`` minor units at ``bps`` basis points, rounded half up to the minor unit."""
    if amount < 0 or not 0 <= bps <= MAX_BPS:
        raise ValueError(f"No fee on {amount} at {bps} bps.")
    return _share(amount * bps, MAX_BPS)


def _share(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _seller(session: Session, trade: Trade, kind: AccountKind) -> LedgerAccount:
    return account(session, kind, trade.currency, trade.seller_id)


def _platform(session: Session, trade: Trade, kind: AccountKind) -> LedgerAccount:
    return account(session, kind, trade.currency)


def record_sale(session: Session, trade: Trade, at: datetime | None = None,
                reference: str | None = None) -> LedgerTransaction | None:
    """The buyer paid: the provider holds the gross, the platform keeps its fee, the rest is owed to the seller
    (pending). Nothing for a free order."""
    fee = trade.fee
    return post(session, key=f"order-{trade.order_id}-sale", kind=TransactionKind.SALE, currency=trade.currency,
                order_id=trade.order_id, organization_id=trade.seller_id, occurred_at=at, reference=reference,
                postings=[(_platform(session, trade, AccountKind.PROVIDER_CASH), trade.amount),
                          (_platform(session, trade, AccountKind.PLATFORM_FEE), -fee),
                          (_seller(session, trade, AccountKind.SELLER_PENDING), -(trade.amount - fee))])


def _take_payable(session: Session, trade: Trade, net: int, order: tuple[AccountKind, ...],
                  balances: dict[AccountKind, int]) -> list[tuple[LedgerAccount, int]]:
    """Debits taking ``net`` from the order's payable accounts, in ``order``, never below zero on one."""
    lines = []
    for kind in order:
        take = min(net, max(balances.get(kind, 0), 0))
        if take:
            lines.append((_seller(session, trade, kind), take))
            net -= take
    if net:
        raise ValueError(f"Order {trade.order_id} has {net} less payable than its reversal takes.")
    return lines


def _reverse(session: Session, trade: Trade, reversed_total: int, kind: TransactionKind, key: str,
             source: tuple[AccountKind, ...], at: datetime | None, reference: str | None) -> LedgerTransaction | None:
    """Give back the sale up to ``reversed_total`` of its gross in all: the gross from the provider's cash, the fee
    and the payable in proportion (the fee reversed so far is always the fee of the total reversed, rounded half
    up, so reversals adding up to the gross reverse exactly the fee)."""
    if trade.amount <= 0:
        return None
    target = min(max(reversed_total, 0), trade.amount)
    balances = order_balances(session, trade.order_id)
    cash = balances.get(AccountKind.PROVIDER_CASH, 0)
    gross = target - (trade.amount - cash)
    if gross <= 0:
        return None
    fee_kept = trade.fee - _share(trade.fee * target, trade.amount)
    fee = balances.get(AccountKind.PLATFORM_FEE, 0) - fee_kept
    return post(session, key=key, kind=kind, currency=trade.currency, order_id=trade.order_id,
                organization_id=trade.seller_id, occurred_at=at, reference=reference,
                postings=[(_platform(session, trade, AccountKind.PROVIDER_CASH), -gross),
                          (_platform(session, trade, AccountKind.PLATFORM_FEE), fee),
                          *_take_payable(session, trade, gross - fee, source, balances)])


def record_refund(session: Session, trade: Trade, refunded_total: int, at: datetime | None = None,
                  reference: str | None = None) -> LedgerTransaction | None:
    """The buyer got ``refunded_total`` of the payment back in all (the provider's running total: a partial
    refund's event says it, a full refund is the amount): what was not reversed yet is, once per total."""
    return _reverse(session, trade, refunded_total, TransactionKind.REFUND,
                    f"order-{trade.order_id}-refund-to-{refunded_total}",
                    (AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE, AccountKind.SELLER_HELD), at,
                    reference)


def hold_for_dispute(session: Session, trade: Trade, dispute: str,
                     at: datetime | None = None) -> LedgerTransaction | None:
    """The buyer's bank disputes the payment: the order's payable is held from the seller until it is decided."""
    balances = order_balances(session, trade.order_id)
    moving = [(kind, balances.get(kind, 0)) for kind in (AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE)]
    held = sum(amount for _kind, amount in moving)
    return post(session, key=f"order-{trade.order_id}-dispute-{dispute}-held", kind=TransactionKind.DISPUTE_HOLD,
                currency=trade.currency, order_id=trade.order_id, organization_id=trade.seller_id, occurred_at=at,
                reference=dispute,
                postings=[*[(_seller(session, trade, kind), amount) for kind, amount in moving],
                          (_seller(session, trade, AccountKind.SELLER_HELD), -held)])


def close_dispute(session: Session, trade: Trade, dispute: str, won: bool,
                  at: datetime | None = None) -> LedgerTransaction | None:
    """The dispute is decided. Won: the held payable goes back to pending (released after the delay, counted from
    the sale). Lost: the bank took the money back, so the sale is reversed in full, from the held payable first."""
    key = f"order-{trade.order_id}-dispute-{dispute}-{'won' if won else 'lost'}"
    if not won:
        return _reverse(session, trade, trade.amount, TransactionKind.DISPUTE_LOST, key,
                        (AccountKind.SELLER_HELD, AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE), at,
                        dispute)
    held = order_balances(session, trade.order_id).get(AccountKind.SELLER_HELD, 0)
    return post(session, key=key, kind=TransactionKind.DISPUTE_WON, currency=trade.currency,
                order_id=trade.order_id, organization_id=trade.seller_id, occurred_at=at, reference=dispute,
                postings=[(_seller(session, trade, AccountKind.SELLER_HELD), held),
                          (_seller(session, trade, AccountKind.SELLER_PENDING), -held)])


def dispute_closed(session: Session, order_id: int, dispute: str) -> bool:
    """Whether the ledger already has the close of this dispute (won or lost)."""
    keys = [f"order-{order_id}-dispute-{dispute}-{outcome}" for outcome in ("won", "lost")]
    return session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.key.in_(keys))) is not None


def release_due(session: Session, delay_days: int, *, lock: Callable[[int], object],
                now: datetime | None = None) -> list[LedgerTransaction]:
    """Move to available every pending payable whose sale is at least ``delay_days`` old. ``lock(order_id)``
    locks the order (the caller's: the ledger knows no orders), as refunds and disputes do before they read its
    balances: what is pending is read again under it, so a refund made meanwhile is never released as well. Safe
    to run again or concurrently: a release is keyed by the order's last transaction."""
    cutoff = (now or utcnow()) - timedelta(days=delay_days)
    pending = (
        select(LedgerTransaction.order_id)
        .join(LedgerPosting.transaction).join(LedgerPosting.account)
        .where(LedgerAccount.kind == AccountKind.SELLER_PENDING, LedgerTransaction.order_id.is_not(None))
        .group_by(LedgerTransaction.order_id).having(func.sum(LedgerPosting.amount) < 0).subquery()
    )
    due = session.execute(
        select(LedgerTransaction.order_id, LedgerTransaction.organization_id, LedgerTransaction.currency)
        .join(pending, pending.c.order_id == LedgerTransaction.order_id)
        .where(LedgerTransaction.kind == TransactionKind.SALE, LedgerTransaction.occurred_at <= cutoff)
        .order_by(LedgerTransaction.order_id)
    ).all()
    released = []
    for order_id, seller_id, currency in due:
        lock(order_id)
        owed = order_balances(session, order_id).get(AccountKind.SELLER_PENDING, 0)
        if owed <= 0:
            continue
        last = session.scalar(select(func.max(LedgerTransaction.id)).where(LedgerTransaction.order_id == order_id))
        try:
            with session.begin_nested():
                done = post(session, key=f"order-{order_id}-release-after-{last}", kind=TransactionKind.RELEASE,
                            currency=currency, order_id=order_id, organization_id=seller_id,
                            postings=[(account(session, AccountKind.SELLER_PENDING, currency, seller_id), owed),
                                      (account(session, AccountKind.SELLER_AVAILABLE, currency, seller_id), -owed)])
        except IntegrityError:
            continue
        if done is not None:
            released.append(done)
    return released
