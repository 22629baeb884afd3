"""Data service providers (an organization approved to assess) and assessments (a seller's request to one, then
its signed report)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.assessments.states import AssessmentKind, AssessmentStatus, ProviderStatus
from marketplace.db import TimestampMixin, UTCDateTime, str_enum
from marketplace.extensions import db
from marketplace.listings.models import ProductVersion


class ServiceProvider(TimestampMixin, db.Model):
    """An organization's application to be a data service provider, and the platform's decision on it."""

    __tablename__ = "service_providers"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    status: Mapped[ProviderStatus] = mapped_column(str_enum(ProviderStatus), default=ProviderStatus.APPLIED,
                                                   index=True)
    services: Mapped[list] = mapped_column(JSON, default=list)  # AssessmentKind values
    qualifications: Mapped[str] = mapped_column(Text, default="")
    # An optional document backing the qualifications (a licence, an accreditation), in the storage.
    document_key: Mapped[str | None] = mapped_column(String(300))
    document_filename: Mapped[str | None] = mapped_column(String(255))
    document_content_type: Mapped[str | None] = mapped_column(String(120))
    document_size: Mapped[int | None] = mapped_column()
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    # The latest suspension or reinstatement, with the admin's reason.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspension_reason: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship()


class Assessment(TimestampMixin, db.Model):
    """A seller's request to a provider for one kind of assessment of one version; once signed, the report."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[AssessmentKind] = mapped_column(str_enum(AssessmentKind))
    status: Mapped[AssessmentStatus] = mapped_column(str_enum(AssessmentStatus),
                                                     default=AssessmentStatus.REQUESTED, index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    seller_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("service_providers.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The fee the provider stated on accepting (minor units in its currency), if any; it is not charged here.
    fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    # The report and its signature: set once, when the provider signs.
    conclusion: Mapped[str | None] = mapped_column(String(40))
    statement: Mapped[dict | None] = mapped_column(JSON)
    signature: Mapped[str | None] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(100))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The SHA-256 of the signed file list (``files_digest``): the report speaks for the version while it matches.
    files_digest: Mapped[str | None] = mapped_column(String(64))
    # A report saved unsigned by the provider, as entered (the form's fields); cleared on signing.
    draft: Mapped[dict | None] = mapped_column(JSON)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ProductVersion] = relationship()
    provider: Mapped[ServiceProvider] = relationship()
    seller_organization: Mapped[Organization] = relationship()
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])

    @property
    def files_changed(self) -> bool:
        """Whether the version's files differ from those the report pinned (never, before it is signed)."""
        return self.files_digest is not None and self.files_digest != files_digest(file_list(self.version.assets))


def file_list(assets) -> list[dict]:
    """The files a report pins: name, kind, size and SHA-256 of each, in a stable order."""
    return sorted(({"filename": a.filename, "kind": a.kind.value, "size": a.size, "sha256": a.sha256}
                   for a in assets), key=lambda f: (f["kind"], f["filename"], f["sha256"]))


def files_digest(files: list[dict]) -> str:
    """One SHA-256 over a file list (``file_list``), to compare a report's files with the version's in a query."""
    return hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
