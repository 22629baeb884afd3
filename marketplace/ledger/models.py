"""Ledger accounts, transactions (one per money event, named by a unique key) and their postings."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, str_enum, utcnow
from marketplace.extensions import db


class AccountKind(enum.StrEnum):
    PROVIDER_CASH = "provider_cash"
    PLATFORM_FEE = "platform_fee"
    SELLER_PENDING = "seller_pending"
    SELLER_AVAILABLE = "seller_available"
    SELLER_HELD = "seller_held"
    SELLER_IN_PAYOUT = "seller_in_payout"

    @property
    def normal_sign(self) -> int:
        """+1 for a debit-normal account, -1 for a credit-normal one: balance = normal_sign * sum of postings."""
        return 1 if self is AccountKind.PROVIDER_CASH else -1

    @property
    def platform_owned(self) -> bool:
        return self in (AccountKind.PROVIDER_CASH, AccountKind.PLATFORM_FEE)


SELLER_PAYABLE = (AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE, AccountKind.SELLER_HELD)


class TransactionKind(enum.StrEnum):
    SALE = "sale"
    REFUND = "refund"
    DISPUTE_HOLD = "dispute_hold"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    RELEASE = "release"
    PAYOUT = "payout"                # available -> in payout: a payout to the seller started
    PAYOUT_PAID = "payout_paid"      # in payout -> provider cash: the money left for the seller's bank
    PAYOUT_FAILED = "payout_failed"  # in payout -> available: the payout failed or was cancelled, the money is back


PAYOUT_KINDS = (TransactionKind.PAYOUT, TransactionKind.PAYOUT_PAID, TransactionKind.PAYOUT_FAILED)


class LedgerAccount(db.Model):
    """An account: the platform's (no organization) or a seller organization's, of one kind and currency."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "platform:platform_fee:USD" or "org-12:seller_pending:HKD": unique even where organization_id is NULL.
    code: Mapped[str] = mapped_column(String(80))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    currency: Mapped[str] = mapped_column(String(3))


class LedgerTransaction(db.Model):
    """One money event (a sale, a refund, a dispute's step, a release): its postings sum to zero per currency.
    The key names the event, so writing it twice writes it once."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TransactionKind] = mapped_column(str_enum(TransactionKind))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    reference: Mapped[str | None] = mapped_column(String(255))

    postings: Mapped[list[LedgerPosting]] = relationship(back_populates="transaction", cascade="all, delete-orphan")


class LedgerPosting(db.Model):
    """One line of a transaction: a signed amount (debit positive) on one account."""

    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="CASCADE"),
                                                index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship()
