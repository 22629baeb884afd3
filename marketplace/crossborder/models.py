"""A trade's cross-boundary position: the rule that decided it, the counts it was decided on, and the evidence of
the mechanism the buyer gives when one is needed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.crossborder.rules import BY_KEY, Outcome, Rule, explain
from marketplace.crossborder.states import EvidenceStatus
from marketplace.db import TimestampMixin, UTCDateTime, str_enum
from marketplace.extensions import db

MAX_FILING_NUMBER = 100
MAX_EVIDENCE_NOTE = 2000


class CrossBoundaryPosition(TimestampMixin, db.Model):
    """Decided once, when the licence is requested; one per order."""

    __tablename__ = "cross_boundary_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    rule_key: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    clause: Mapped[str] = mapped_column(String(100))
    # The individuals whose personal information this trade provides outside the Mainland (0 when it provides
    # none), and whether it is sensitive: what later trades of the seller this year add up.
    individuals: Mapped[int] = mapped_column(BigInteger, default=0)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # The seller's counts this year with this trade added, as the rules read them.
    non_sensitive_total: Mapped[int] = mapped_column(BigInteger, default=0)
    sensitive_total: Mapped[int] = mapped_column(BigInteger, default=0)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The version declared personal information but not where it was collected: read as collected in the Mainland.
    assumed_mainland: Mapped[bool] = mapped_column(Boolean, default=False)

    evidence_status: Mapped[EvidenceStatus] = mapped_column(str_enum(EvidenceStatus, 20))
    filing_number: Mapped[str] = mapped_column(String(MAX_FILING_NUMBER), default="")
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    evidence_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    evidence_reason: Mapped[str] = mapped_column(Text, default="")
    # Until when a trade waiting for evidence reserves its individuals in the seller's count; past it the order
    # expires (``expire_orders``).
    evidence_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The buyer's optional evidence document (the filed contract, the certificate), stored through the storage
    # interface under a sanitized name; the raw uploaded name is never kept.
    evidence_key: Mapped[str | None] = mapped_column(String(300))
    evidence_filename: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(BigInteger)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))

    @property
    def rule(self) -> Rule:
        return BY_KEY[self.rule_key]

    @property
    def explanation(self) -> str:
        return explain(self.rule, self.assumed_mainland)
