"""Events told to an organization, its webhook endpoints, and each endpoint's deliveries and their attempts."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, str_enum, utcnow
from marketplace.extensions import db

MAX_URL = 2048


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


class EventType(enum.StrEnum):
    VERSION_LISTED = "product.version_listed"
    DICTIONARY_CHANGED = "product.dictionary_changed"
    SUSPENDED = "product.suspended"
    REINSTATED = "product.reinstated"
    DELISTED = "product.delisted"
    LICENCE_ENDING = "licence.ending"


class OrganizationEvent(db.Model):
    """One thing that happened, told to one organization once: ``key`` names the occurrence (the version listed,
    the product's move at its time, the licence's reminder), so a job run twice records and tells it once."""

    __tablename__ = "organization_events"
    __table_args__ = (UniqueConstraint("organization_id", "key", name="uq_organization_events_organization_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=new_event_id)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def payload(self) -> dict:
        """The JSON body a webhook endpoint receives."""
        return {"id": self.public_id, "type": self.type, "created": int(self.created_at.timestamp()),
                "data": self.data}


class WebhookEndpoint(db.Model):
    """A URL an organization registered to receive its events of the chosen types, signed with its secret (kept
    encrypted with the app's key: the server must sign with it again at every delivery)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(MAX_URL))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secret_rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in (self.event_types or [])


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"      # waiting for its first attempt or its next retry
    SUCCEEDED = "succeeded"  # the endpoint answered 2xx
    FAILED = "failed"        # retried for the whole period without success; a replay tries again


class WebhookDelivery(db.Model):
    """One event for one endpoint: its state, attempts and next retry (``retry_until`` ends the retries)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("organization_events.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    retry_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # A worker's claim: no other worker sends it before then (a killed worker's claim runs out).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[OrganizationEvent] = relationship()
    tries: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.id", cascade="all, delete-orphan",
                                                       passive_deletes=True)


class WebhookAttempt(db.Model):
    """One HTTP call of a delivery: when, the answer's status (None when no answer came), latency and error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
