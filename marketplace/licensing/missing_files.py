"""A download whose stored file is gone: said as such to the buyer, recorded, and told to the seller.

The asset row and the buyer's right to it are fine; the bytes are not in storage (deleted by hand, a bucket
restored from an older backup, a lifecycle rule). The buyer gets 404 with code ``file_missing``: the file does not
exist now, but 410 would promise it never will, and the seller can upload it again; a 5xx would invite retries
that cannot succeed. No download is recorded; an ``asset.file_missing`` audit event is, and the seller
organization is notified (both once a day per file, however many requests come).
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from marketplace.bilingual import title_of
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.listings.models import Asset
from marketplace.notifications.services import notify_organization

#: How often the seller is told again about the same missing file.
RENOTIFY_AFTER = timedelta(days=1)


class FileMissing(NotFound):
    code = "file_missing"


def report_missing_file(session: Session, asset: Asset, *, actor_id: int | None) -> FileMissing:
    """Record that the stored file of ``asset`` is missing and notify its seller organization (unless told within
    ``RENOTIFY_AFTER``); return the error to answer the buyer with. Flushes, never commits."""
    version = asset.version
    product = version.product
    recent = session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "asset.file_missing", AuditEvent.subject_type == "asset",
                                    AuditEvent.subject_id == asset.id,
                                    AuditEvent.occurred_at >= utcnow() - RENOTIFY_AFTER).limit(1))
    if recent is None:  # one event and one notice a day per file, however many (anonymous) requests come
        record(session, actor_id=actor_id, action="asset.file_missing", subject_type="asset", subject_id=asset.id,
               payload={"product_id": product.id, "version_id": version.id, "storage_key": asset.storage_key})
        words = {"file": asset.filename, "number": version.number}
        # Each recipient reads the product's title in their own language (the lambdas run per recipient).
        notify_organization(
            session, product.organization,
            lambda: _("A file of “%(title)s” is missing from storage", title=title_of(version), **words),
            lambda: _("A buyer tried to download %(file)s (version %(number)s of “%(title)s”), but its stored file "
                      "is missing. Please upload it again.", title=title_of(version), **words),
            link=f"/seller/products/{product.id}/versions/{version.number}")
    return FileMissing(_("The file of this deliverable is missing from our storage; the seller has been told. "
                         "Please try again later."))
