"""The outbox (side effects written in the transaction that causes them, delivered after it commits) and the record
of jobs that failed for good (what the admin jobs page lists and retries)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime, str_enum, utcnow
from marketplace.extensions import db


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for delivery, or for its next attempt
    SENT = "sent"
    FAILED = "failed"    # every attempt failed; on the admin jobs page


class OutboxMessage(db.Model):
    """One side effect to perform after commit: ``kind`` names its handler ("mail"), ``payload`` its arguments."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a worker should take it (now, or after a failed attempt's back-off).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker's claim: nobody else delivers it before then (a killed worker's claim runs out).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FailedJob(db.Model):
    """A job (or outbox delivery) whose last retry failed: its task, arguments and error, until an admin retries it."""

    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retried_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
