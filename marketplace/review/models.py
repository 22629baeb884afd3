"""Review cases: one per submitted version, a round per submission, a checklist answer per item per round."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.review.checklist import ChecklistItem, ChecklistResult, Decision, PrescreenOutcome, PrescreenState


class ReviewCase(TimestampMixin, db.Model):
    """The compliance review of one product version, across every round until a final decision."""

    __tablename__ = "review_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Copied from the latest round so the queue filters and sorts without a join per row.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # None until the current round's pre-screen is done.
    prescreen_outcome: Mapped[PrescreenOutcome | None] = mapped_column(str_enum(PrescreenOutcome), index=True)
    prescreen_state: Mapped[PrescreenState] = mapped_column(str_enum(PrescreenState, 16), default=PrescreenState.DONE)
    prescreen_rows: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[ProductVersion] = relationship()
    product: Mapped[DataProduct] = relationship()
    organization: Mapped[Organization] = relationship()
    reviewer: Mapped[User | None] = relationship()
    rounds: Mapped[list[ReviewRound]] = relationship(
        back_populates="case", order_by="ReviewRound.number", cascade="all, delete-orphan"
    )

    @property
    def current_round(self) -> ReviewRound:
        return self.rounds[-1]


class ReviewRound(db.Model):
    """One submission of the version and what the reviewer made of it."""

    __tablename__ = "review_rounds"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    seller_note: Mapped[str] = mapped_column(Text, default="")
    prescreen: Mapped[dict] = mapped_column(JSON, default=dict)
    prescreen_outcome: Mapped[PrescreenOutcome | None] = mapped_column(str_enum(PrescreenOutcome))
    # The pre-screen job: its state, rows scanned so far, why it failed, and its worker's claim (a claim that runs
    # out, its worker gone, lets another worker take over; ``prescreen_attempt`` tells a stale worker it lost it).
    prescreen_state: Mapped[PrescreenState] = mapped_column(str_enum(PrescreenState, 16), default=PrescreenState.DONE)
    prescreen_rows: Mapped[int] = mapped_column(Integer, default=0)
    prescreen_error: Mapped[str] = mapped_column(Text, default="")
    prescreen_attempt: Mapped[int] = mapped_column(Integer, default=0)
    prescreen_failures: Mapped[int] = mapped_column(Integer, default=0)
    prescreen_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[ReviewCase] = relationship(back_populates="rounds")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    answers: Mapped[list[ChecklistAnswer]] = relationship(
        back_populates="round", order_by="ChecklistAnswer.id", cascade="all, delete-orphan"
    )

    def answer(self, item: ChecklistItem) -> ChecklistAnswer | None:
        return next((a for a in self.answers if a.item == item), None)


class ChecklistAnswer(db.Model):
    """A reviewer's pass / fail / not-applicable on one checklist item, with a comment the seller sees."""

    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("round_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    item: Mapped[ChecklistItem] = mapped_column(str_enum(ChecklistItem))
    result: Mapped[ChecklistResult] = mapped_column(str_enum(ChecklistResult))
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[ReviewRound] = relationship(back_populates="answers")


class ListingCheck(db.Model):
    """The seller's latest "check my listing" of one version: the pre-screen run as a job, off the request.

    One row per version: asking again while a check is queued or running is the same check; once it is done (or
    failed) asking again queues a new one in its place. ``attempt`` tells a worker whose claim ran out that another
    took the scan over (its result is then not saved)."""

    __tablename__ = "listing_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), unique=True)
    state: Mapped[PrescreenState] = mapped_column(str_enum(PrescreenState, 16), default=PrescreenState.QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report: Mapped[dict] = mapped_column(JSON, default=dict)  # the PrescreenReport once done
    outcome: Mapped[PrescreenOutcome | None] = mapped_column(str_enum(PrescreenOutcome))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(4000), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[ProductVersion] = relationship()

    @property
    def pending(self) -> bool:
        return self.state in (PrescreenState.QUEUED, PrescreenState.RUNNING)
