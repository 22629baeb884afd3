"""What a payout writes: started (available -> in payout), paid (in payout -> provider cash: the money left the
platform for the seller's bank) and failed (in payout -> available: the money is owed to the seller again), or
returned after it was said paid (provider cash -> available). The caller holds the lock of the seller's available
account (``lock_available``) while it decides what to pay."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.ledger.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction, TransactionKind
from marketplace.ledger.services import account, post
from marketplace.lifecycle import lock_row


def available_balances(session: Session) -> list[tuple[int, str, int]]:
    """Every seller's money available to be paid out, (organization id, currency, amount > 0), by seller."""
    rows = session.execute(
        select(LedgerAccount.organization_id, LedgerAccount.currency, func.sum(LedgerPosting.amount))
        .join(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == AccountKind.SELLER_AVAILABLE)
        .group_by(LedgerAccount.organization_id, LedgerAccount.currency)
        .having(func.sum(LedgerPosting.amount) < 0)
        .order_by(LedgerAccount.organization_id, LedgerAccount.currency)
    ).all()
    return [(org_id, currency, -int(total)) for org_id, currency, total in rows]


def lock_available(session: Session, organization_id: int, currency: str) -> tuple[int, int]:
    """Lock the seller's available account until the transaction ends; (its balance now, the id of its newest
    transaction): a payout is keyed by that id, so a run repeated after a failed commit asks for the same payout."""
    available = account(session, AccountKind.SELLER_AVAILABLE, currency, organization_id)
    lock_row(session, available)
    balance, newest = session.execute(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0), func.max(LedgerPosting.transaction_id))
        .where(LedgerPosting.account_id == available.id)
    ).one()
    return -int(balance), int(newest or 0)


def start_payout(session: Session, key: str, organization_id: int, currency: str, amount: int,
                 at: datetime | None = None) -> LedgerTransaction | None:
    return _move(session, f"{key}-start", TransactionKind.PAYOUT, organization_id, currency, at, key,
                 (AccountKind.SELLER_AVAILABLE, amount), (AccountKind.SELLER_IN_PAYOUT, -amount))


def payout_paid(session: Session, key: str, organization_id: int, currency: str, amount: int,
                at: datetime | None = None) -> LedgerTransaction | None:
    return _move(session, f"{key}-paid", TransactionKind.PAYOUT_PAID, organization_id, currency, at, key,
                 (AccountKind.SELLER_IN_PAYOUT, amount), (AccountKind.PROVIDER_CASH, -amount))


def payout_failed(session: Session, key: str, organization_id: int, currency: str, amount: int,
                  at: datetime | None = None) -> LedgerTransaction | None:
    return _move(session, f"{key}-failed", TransactionKind.PAYOUT_FAILED, organization_id, currency, at, key,
                 (AccountKind.SELLER_IN_PAYOUT, amount), (AccountKind.SELLER_AVAILABLE, -amount))


def payout_returned(session: Session, key: str, organization_id: int, currency: str, amount: int,
                    at: datetime | None = None) -> LedgerTransaction | None:
    """A payout said paid came back (the bank returned it): the money is at the provider and owed to the seller."""
    return _move(session, f"{key}-returned", TransactionKind.PAYOUT_FAILED, organization_id, currency, at, key,
                 (AccountKind.PROVIDER_CASH, amount), (AccountKind.SELLER_AVAILABLE, -amount))


def _move(session: Session, key: str, kind: TransactionKind, organization_id: int, currency: str,
          at: datetime | None, reference: str, *lines: tuple[AccountKind, int]) -> LedgerTransaction | None:
    if lines[0][1] <= 0:
        raise ValueError(f"A payout moves a positive amount, not {lines[0][1]}.")
    postings = [(account(session, kind_, currency, None if kind_.platform_owned else organization_id), amount)
                for kind_, amount in lines]
    return post(session, key=key, kind=kind, currency=currency, organization_id=organization_id, occurred_at=at,
                reference=reference, postings=postings)
