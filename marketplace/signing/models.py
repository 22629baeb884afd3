"""Public halves of every key the platform has signed with."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The raw 32-byte Ed25519 public key, base64url without padding (a JWK's "x").
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a rotation replaced it: it no longer signs, but what it signed still verifies.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
