"""Public notice (公示) of approved versions, objections to them, and the registration certificates (登记证书)
issued when a notice ends without an upheld objection."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.listings.models import DataProduct, ProductVersion


class NoticeStatus(enum.StrEnum):
    OPEN = "open"          # objections taken until ``closes_at``; ends once no objection waits for a reviewer
    ENDED = "ended"        # ended without an upheld objection: the registration certificate is issued
    WITHDRAWN = "withdrawn"  # an objection was upheld: the version went back to review


class ObjectionStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    SUPERSEDED = "superseded"  # another objection to the notice was upheld first


class TradingStart(enum.StrEnum):
    APPROVAL = "approval"
    NOTICE_END = "notice_end"


class PublicNotice(TimestampMixin, db.Model):
    """One approved version on public notice: anyone may read it, any other organization may object until it
    closes. A version approved again after an upheld objection gets a new notice."""

    __tablename__ = "public_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    registration_number: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[NoticeStatus] = mapped_column(str_enum(NoticeStatus, 16), default=NoticeStatus.OPEN, index=True)
    # The platform's setting when the notice opened: whether the version was listed at approval.
    trading_starts_at: Mapped[TradingStart] = mapped_column(str_enum(TradingStart, 16))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[ProductVersion] = relationship()
    product: Mapped[DataProduct] = relationship()
    organization: Mapped[Organization] = relationship()
    objections: Mapped[list[Objection]] = relationship(back_populates="notice", order_by="Objection.id")


class Objection(TimestampMixin, db.Model):
    """An organization's objection to a version on notice: its reasons, optional evidence, the reviewer's
    decision."""

    __tablename__ = "notice_objections"
    # One objection per organization waits for a reviewer on a notice: a double submission is refused by the
    # service under the notice's lock, and by this index if anything slips past it.
    __table_args__ = (Index("uq_notice_objections_waiting", "notice_id", "organization_id", unique=True,
                            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notices.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reasons: Mapped[str] = mapped_column(Text)
    evidence_key: Mapped[str | None] = mapped_column(String(300))
    evidence_filename: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(BigInteger)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ObjectionStatus] = mapped_column(str_enum(ObjectionStatus, 16), default=ObjectionStatus.PENDING,
                                                    index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    notice: Mapped[PublicNotice] = relationship(back_populates="objections")
    organization: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class RegistrationCertificate(TimestampMixin, db.Model):
    """A signed registration certificate: one per validity period of a registration number (a renewal issues the
    next, ``sequence`` + 1). The signed statement stays as issued; suspension and delisting of the product are
    read from the product when the certificate is shown or verified."""

    __tablename__ = "registration_certificates"
    __table_args__ = (UniqueConstraint("registration_number", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    registration_number: Mapped[str] = mapped_column(String(40), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("public_notices.id", ondelete="SET NULL"))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    statement: Mapped[dict] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(100))
    # Days before expiry whose reminder was sent (each once), and the holder's pending request for renewal.
    reminders_sent: Mapped[list] = mapped_column(JSON, default=list)
    renewal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    renewal_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    version: Mapped[ProductVersion] = relationship()
    product: Mapped[DataProduct] = relationship()
    organization: Mapped[Organization] = relationship()
