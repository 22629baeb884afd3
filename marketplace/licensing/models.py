"""Licences: the entitlement an order grants, frozen at issue, with its certificate.

The order a licence comes from is ``marketplace.orders.models.Order``, named here by its table only: licensing
never imports orders (the relationship is resolved by name when the mappers are configured)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization
from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.licensing.states import LicenceStatus
from marketplace.listings.models import DataProduct, PricingPlan
from marketplace.listings.vocab import PlanKind


class Licence(TimestampMixin, db.Model):
    """An entitlement: the order's terms and scenario frozen at issue, the versions covered, and its certificate."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    buyer_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("pricing_plans.id"))
    plan_kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind))
    status: Mapped[LicenceStatus] = mapped_column(str_enum(LicenceStatus), default=LicenceStatus.ACTIVE, index=True)
    # Frozen copies: LicenceTerms.to_dict() and Scenario.to_dict().
    terms: Mapped[dict] = mapped_column(JSON)
    scenario: Mapped[dict] = mapped_column(JSON)
    # Ids of the versions covered ([the version bought]; a subscription also covers versions listed while it is
    # active, see licensing.services.covers).
    version_ids: Mapped[list] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # None: perpetual
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # The certificate: the signed statement exactly as signed, its Ed25519 signature and the signing key's id.
    statement: Mapped[dict] = mapped_column(JSON, default=dict)
    signature: Mapped[str] = mapped_column(String(200), default="")
    key_id: Mapped[str] = mapped_column(String(64), default="")

    order: Mapped[Order] = relationship(back_populates="licence", foreign_keys=[order_id])  # noqa: F821
    buyer_organization: Mapped[Organization] = relationship(foreign_keys=[buyer_organization_id])
    seller_organization: Mapped[Organization] = relationship(foreign_keys=[seller_organization_id])
    product: Mapped[DataProduct] = relationship()
    plan: Mapped[PricingPlan] = relationship()

    @property
    def starts_later(self) -> bool:
        """A renewal bought before the current period ends starts when it ends."""
        return self.valid_from > utcnow()

    def in_period(self, when: datetime | None = None) -> bool:
        when = when or utcnow()
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


class Voucher(db.Model):
    """The transaction voucher of a settled (paid) order: its parties, product, scenario and money as the ledger's
    sale wrote them, signed with the platform's key like a licence certificate. One per order."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    licence_id: Mapped[int | None] = mapped_column(ForeignKey("licences.id"), index=True)  # none for a fee
    ledger_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    buyer_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The signed statement exactly as signed, its Ed25519 signature and the signing key's id.
    statement: Mapped[dict] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(64))
