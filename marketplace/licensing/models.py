"""Orders, the licences they grant, and the payment events already processed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.licensing.scenario import Purpose, Scenario, Sector
from marketplace.licensing.states import LicenceStatus, OrderStatus
from marketplace.listings.models import DataProduct, PricingPlan, ProductVersion
from marketplace.listings.vocab import Currency, PlanKind, Territory


class Order(TimestampMixin, db.Model):
    """A buyer organization's request for a plan, with the declared scenario and what was paid."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("buyer_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    seller_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("pricing_plans.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.REQUESTED, index=True)

    # The declared use scenario.
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    sector: Mapped[Sector] = mapped_column(str_enum(Sector))
    territory: Mapped[Territory] = mapped_column(str_enum(Territory))
    expected_users: Mapped[int] = mapped_column(Integer)
    scenario_description: Mapped[str] = mapped_column(Text)
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Money, in integer minor units of the plan's currency, copied at request time.
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3))
    payment_provider: Mapped[str | None] = mapped_column(String(20))
    payment_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    payment_attempts: Mapped[int] = mapped_column(Integer, default=0)
    payment_error: Mapped[str | None] = mapped_column(String(500))
    refund_reference: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(100))

    # What the seller said when deciding, and until when the current step may wait.
    decision_message: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The order whose licence this one renews, if it is a renewal.
    renews_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    buyer_organization: Mapped[Organization] = relationship(foreign_keys=[buyer_organization_id])
    seller_organization: Mapped[Organization] = relationship(foreign_keys=[seller_organization_id])
    buyer: Mapped[User | None] = relationship()
    product: Mapped[DataProduct] = relationship()
    version: Mapped[ProductVersion] = relationship()
    plan: Mapped[PricingPlan] = relationship()
    licence: Mapped[Licence | None] = relationship(
        back_populates="order", foreign_keys="Licence.order_id", uselist=False
    )

    @property
    def scenario(self) -> Scenario:
        return Scenario(Purpose(self.purpose), Sector(self.sector), Territory(self.territory),
                        self.expected_users, self.scenario_description)

    @property
    def is_free(self) -> bool:
        return self.amount == 0

    @property
    def number(self) -> str:
        return f"ORD-{self.id:08d}"


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

    order: Mapped[Order] = relationship(back_populates="licence", foreign_keys=[order_id])
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


class PaymentEvent(db.Model):
    """A payment provider's event that has been processed: each event id is acted on once."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
