"""A notification addressed to one user."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.i18n import current_locale_tag


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The subject and body written in every locale ({"zh-Hans": {"subject": ..., "body": ...}, ...}), so a reader
    # who changes language reads them in the new one; ``subject`` and ``body`` are the recipient's own at the time.
    texts: Mapped[dict | None] = mapped_column(JSON)

    def shown(self, part: str) -> str:
        """The subject or body ("subject", "body") in the reader's language, else as it was written."""
        written = (self.texts or {}).get(current_locale_tag(), {}).get(part)
        return written or getattr(self, part)
