"""Writing the ledger (``post``, its one writer of postings) and reading balances from it."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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


class UnbalancedTransaction(ValueError):
    """Postings that do not sum to zero in each currency: a programming error, never written."""


def account_code(kind: AccountKind, currency: str, organization_id: int | None) -> str:
    owner = "platform" if organization_id is None else f"org-{organization_id}"
    return f"{owner}:{kind.value}:{currency}"


def account(session: Session, kind: AccountKind, currency: str, organization_id: int | None = None) -> LedgerAccount:
    """The account of that owner, kind and currency, opened on first use (a racing twin's opening is reused)."""
    if kind.platform_owned != (organization_id is None):
        raise ValueError(f"A {kind.value} account belongs to {'the platform' if kind.platform_owned else 'a seller'}.")
    code = account_code(kind, str(currency), organization_id)
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if found is not None:
        return found
    opened = LedgerAccount(code=code, kind=kind, currency=str(currency), organization_id=organization_id)
    try:
        with session.begin_nested():
            session.add(opened)
    except IntegrityError:
        return session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    return opened


def post(session: Session, *, key: str, kind: TransactionKind, currency: str,
         postings: Iterable[tuple[LedgerAccount, int]], order_id: int | None = None,
         organization_id: int | None = None, occurred_at: datetime | None = None,
         reference: str | None = None) -> LedgerTransaction | None:
    """Write one balanced transaction; the one place postings are written. The transaction already written under
    ``key`` is returned as it is (an event applied twice is written once); postings of zero are dropped, and a
    transaction with none left is not written (None). UnbalancedTransaction if the amounts do not sum to zero in
    each currency."""
    existing = session.scalar(select(LedgerTransaction).where(LedgerTransaction.key == key))
    if existing is not None:
        return existing
    lines = [(acct, int(amount)) for acct, amount in postings if amount]
    totals: dict[str, int] = defaultdict(int)
    for acct, amount in lines:
        totals[acct.currency] += amount
    if any(totals.values()):
        raise UnbalancedTransaction(f"Transaction {key} does not balance: {dict(totals)}")
    if not lines:
        return None
    transaction = LedgerTransaction(key=key, kind=kind, currency=str(currency), order_id=order_id,
                                    organization_id=organization_id, occurred_at=occurred_at or utcnow(),
                                    reference=reference)
    transaction.postings = [LedgerPosting(account=acct, amount=amount) for acct, amount in lines]
    session.add(transaction)
    session.flush()
    return transaction


def order_balances(session: Session, order_id: int) -> dict[AccountKind, int]:
    """What the order's transactions left on each kind of account (normal-side balances)."""
    rows = session.execute(
        select(LedgerAccount.kind, func.sum(LedgerPosting.amount))
        .join(LedgerPosting.account).join(LedgerPosting.transaction)
        .where(LedgerTransaction.order_id == order_id).group_by(LedgerAccount.kind)
    ).all()
    return {AccountKind(kind): kind_sign(kind) * int(total or 0) for kind, total in rows}


def kind_sign(kind: str) -> int:
    return AccountKind(kind).normal_sign


def seller_balances(session: Session, organization_id: int) -> dict[str, dict[AccountKind, int]]:
    """Per currency, the seller organization's balance on each of its accounts (0 where it has none)."""
    rows = session.execute(
        select(LedgerAccount.currency, LedgerAccount.kind, func.coalesce(func.sum(LedgerPosting.amount), 0))
        .outerjoin(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .where(LedgerAccount.organization_id == organization_id)
        .group_by(LedgerAccount.currency, LedgerAccount.kind)
    ).all()
    result: dict[str, dict[AccountKind, int]] = {}
    for currency, kind, total in sorted(rows):
        per = result.setdefault(currency, {k: 0 for k in AccountKind if not k.platform_owned})
        per[AccountKind(kind)] = kind_sign(kind) * int(total)
    return result


@dataclass(frozen=True)
class Balance:
    """What the platform owes a seller organization in one currency, by account."""

    currency: str
    pending: int
    available: int
    held: int
    in_payout: int  # paid out, on its way to the seller's bank

    @property
    def total(self) -> int:
        return self.pending + self.available + self.held


def balances_of(session: Session, organization_id: int) -> list[Balance]:
    """The organization's balance per currency (the caller checked that the reader may see them)."""
    return [Balance(currency, per[AccountKind.SELLER_PENDING], per[AccountKind.SELLER_AVAILABLE],
                    per[AccountKind.SELLER_HELD], per[AccountKind.SELLER_IN_PAYOUT])
            for currency, per in seller_balances(session, organization_id).items()]


def account_balances(session: Session) -> list[tuple[LedgerAccount, int]]:
    """Every account with its normal-side balance, by code."""
    rows = session.execute(
        select(LedgerAccount, func.coalesce(func.sum(LedgerPosting.amount), 0))
        .outerjoin(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id).order_by(LedgerAccount.code)
    ).all()
    return [(acct, acct.kind.normal_sign * int(total)) for acct, total in rows]


def unbalanced_transactions(session: Session) -> list[tuple[LedgerTransaction, str, int]]:
    """Every transaction whose postings do not sum to zero in a currency (none, unless written behind ``post``)."""
    rows = session.execute(
        select(LedgerPosting.transaction_id, LedgerAccount.currency, func.sum(LedgerPosting.amount))
        .join(LedgerPosting.account).group_by(LedgerPosting.transaction_id, LedgerAccount.currency)
        .having(func.sum(LedgerPosting.amount) != 0)
    ).all()
    return [(session.get(LedgerTransaction, tid), currency, int(total)) for tid, currency, total in rows]
