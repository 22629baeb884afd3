"""Orders (a buyer organization's request for a plan, with its scenario and what was paid; or a seller
organization's payment of a data service provider's assessment fee) and the payment events already processed."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.assessments.models import Assessment
from marketplace.crossborder.models import CrossBoundaryPosition
from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.ledger.sales import fee_for
from marketplace.licensing.models import Licence, Voucher
from marketplace.licensing.scenario import Purpose, Scenario, Sector
from marketplace.listings.models import DataProduct, PricingPlan, ProductVersion
from marketplace.listings.vocab import Currency, Territory
from marketplace.orders.states import OrderStatus


class Order(TimestampMixin, db.Model):
    """A buyer organization's request for a plan, with the declared scenario and what was paid; or, with
    ``assessment_id`` instead of a plan, the fee of an assessment request (``orders.assessment_fees``): then the
    buyer is the commissioning seller organization, the seller the provider, and product, version and scenario are
    empty."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("buyer_id", "idempotency_key"), UniqueConstraint("assessment_id"),
                      CheckConstraint("(plan_id IS NULL) <> (assessment_id IS NULL)", name="plan_or_assessment"))

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    seller_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("data_products.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("product_versions.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("pricing_plans.id"), index=True)
    # The assessment request whose fee this order charges (no plan, product, version nor scenario then).
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.REQUESTED, index=True)

    # The declared use scenario (none on an assessment fee).
    purpose: Mapped[Purpose | None] = mapped_column(str_enum(Purpose))
    sector: Mapped[Sector | None] = mapped_column(str_enum(Sector))
    territory: Mapped[Territory | None] = mapped_column(str_enum(Territory))
    expected_users: Mapped[int | None] = mapped_column(Integer)
    scenario_description: Mapped[str | None] = mapped_column(Text)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Money, in integer minor units of the plan's currency, copied at request time.
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3))
    # The platform fee in basis points, fixed when the order is placed (the seller's rate then, or the default).
    fee_bps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    payment_provider: Mapped[str | None] = mapped_column(String(20))
    payment_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_attempts: Mapped[int] = mapped_column(Integer, default=0)
    payment_error: Mapped[str | None] = mapped_column(String(500))
    refund_reference: Mapped[str | None] = mapped_column(String(255))
    # The seller's connected account the payment went to as a destination charge (Stripe Connect), or None when
    # the platform's own account took it; a refund then takes the seller's share back from that account.
    transfer_destination: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    # Random per order, for the provider's idempotency keys: the client's idempotency key may be reused after a
    # database reset (and order ids are), this never is.
    payment_token: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(16))

    # What the seller said when deciding, and until when the current step may wait.
    decision_message: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The buyer's bank was asked to take the payment back (a chargeback): when, the provider's dispute, the reason.
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_reference: Mapped[str | None] = mapped_column(String(255))
    dispute_reason: Mapped[str | None] = mapped_column(String(100))
    # The order whose licence this one renews, if it is a renewal.
    renews_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    buyer_organization: Mapped[Organization] = relationship(foreign_keys=[buyer_organization_id])
    seller_organization: Mapped[Organization] = relationship(foreign_keys=[seller_organization_id])
    buyer: Mapped[User | None] = relationship()
    product: Mapped[DataProduct | None] = relationship()
    version: Mapped[ProductVersion | None] = relationship()
    plan: Mapped[PricingPlan | None] = relationship()
    assessment: Mapped[Assessment | None] = relationship()
    licence: Mapped[Licence | None] = relationship(
        back_populates="order", foreign_keys="Licence.order_id", uselist=False
    )
    # The transaction voucher of a settled order (none for a free one).
    voucher: Mapped[Voucher | None] = relationship(foreign_keys="Voucher.order_id", uselist=False, viewonly=True)
    # The trade's cross-boundary position, decided when it was requested (none on orders placed before the rules).
    cross_boundary: Mapped[CrossBoundaryPosition | None] = relationship(
        foreign_keys="CrossBoundaryPosition.order_id", primaryjoin="CrossBoundaryPosition.order_id == Order.id",
        uselist=False, viewonly=True)

    @property
    def scenario(self) -> Scenario:
        return Scenario(Purpose(self.purpose), Sector(self.sector), Territory(self.territory),
                        self.expected_users, self.scenario_description)

    @property
    def is_free(self) -> bool:
        return self.amount == 0

    @property
    def platform_fee(self) -> int:
        """The platform's fee on this order, in minor units, at the rate fixed on it."""
        return fee_for(self.amount, self.fee_bps)

    @property
    def number(self) -> str:
        return f"ORD-{self.id:08d}"

    @property
    def is_assessment_fee(self) -> bool:
        return self.assessment_id is not None

    @property
    def item_name(self) -> str:
        """What is paid for, as the payment provider's checkout names it (English, like the provider's records)."""
        if self.is_assessment_fee:
            return f"Assessment fee {self.assessment.number}"
        return f"{self.version.title_en} — {self.plan.name}"


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


class AnomalyKind(enum.StrEnum):
    CLOSED_ORDER = "closed_order"      # money for an order that was cancelled, expired or refunded
    MISMATCH = "mismatch"              # a payment of another amount or currency than the order's
    SECOND_PAYMENT = "second_payment"  # another payment for an order already paid


class AnomalyStatus(enum.StrEnum):
    OPEN = "open"                      # the money is held: someone has to give it back
    REFUNDED = "refunded"


class PaymentAnomaly(TimestampMixin, db.Model):
    """Money the provider took that paid no order (see AnomalyKind): a platform admin refunds it, once."""

    __tablename__ = "payment_anomalies"
    __table_args__ = (UniqueConstraint("provider", "payment_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    # The payment to give back (a Stripe payment intent).
    payment_reference: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[AnomalyKind] = mapped_column(str_enum(AnomalyKind, 20))
    detail: Mapped[str] = mapped_column(String(500))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    event_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[AnomalyStatus] = mapped_column(str_enum(AnomalyStatus, 20), default=AnomalyStatus.OPEN,
                                                  index=True)
    # Random, so the refund's idempotency key is never one an earlier database already used.
    refund_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    refund_reference: Mapped[str | None] = mapped_column(String(255))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    order: Mapped[Order | None] = relationship()
    refunded_by: Mapped[User | None] = relationship()
