"""A seller organization's payout account at the payment provider (a Stripe Connect account) and its payouts."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization
from marketplace.db import TimestampMixin, UTCDateTime, str_enum
from marketplace.extensions import db


class PayoutStatus(enum.StrEnum):
    IN_TRANSIT = "in_transit"  # started: the money left the seller's available balance, on its way
    PAID = "paid"              # the provider says it reached the seller's bank
    FAILED = "failed"          # the provider failed or cancelled it: the money is available again


class PayoutAccount(TimestampMixin, db.Model):
    """The organization's connected account at the provider, and what the provider last said of it."""

    __tablename__ = "payout_accounts"
    __table_args__ = (UniqueConstraint("organization_id"), UniqueConstraint("provider", "account_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    provider: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(64))
    charges_enabled: Mapped[bool] = mapped_column(default=False)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)
    details_submitted: Mapped[bool] = mapped_column(default=False)
    # What the provider still needs from the seller (its requirement names), and why the account is disabled.
    requirements_due: Mapped[list] = mapped_column(JSON, default=list)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # The provider's time of the newest state applied: an older account.updated event changes nothing.
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The provider's last refusal of a payout (English, as recorded), so the seller is told once, not every run.
    last_error: Mapped[str | None] = mapped_column(String(500))

    organization: Mapped[Organization] = relationship()

    @property
    def ready(self) -> bool:
        """Whether sales can go to this account and payouts can be made from it."""
        return self.charges_enabled and self.payouts_enabled


class Payout(TimestampMixin, db.Model):
    """Money paid out to a seller organization in one currency. Its key names what was paid (the seller's available
    account as of its newest transaction), so a run repeated after a failure asks the provider for the same payout."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("key"), UniqueConstraint("number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    number: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PayoutStatus] = mapped_column(str_enum(PayoutStatus), default=PayoutStatus.IN_TRANSIT)
    provider: Mapped[str] = mapped_column(String(20))
    # The provider's payout ("po_...") and, when platform money had to be moved to the account first, the transfer.
    provider_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    transfer_reference: Mapped[str | None] = mapped_column(String(255))
    arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(String(500))  # English, as the provider said it

    organization: Mapped[Organization] = relationship()
