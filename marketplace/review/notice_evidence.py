"""An objection's evidence file: its type judged by its name and first bytes (``storage.filetypes``), its size
capped by ``NOTICE_EVIDENCE_MAX_BYTES``, kept in storage."""
from __future__ import annotations

import uuid
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from marketplace.errors import UploadTooLarge, ValidationFailed
from marketplace.review.notice_models import Objection
from marketplace.storage import HeadThenRest, Storage
from marketplace.storage.filetypes import document_type


def store_evidence(objection: Objection, evidence: tuple[str, BinaryIO], storage: Storage | None) -> None:
    """Check an evidence file (not empty; its type by name and first bytes; its size) and keep it in storage as
    the objection's evidence; refused on ``evidence``."""
    filename, stream = evidence
    limit = int(current_app.config["NOTICE_EVIDENCE_MAX_BYTES"])
    head = stream.read(8192)
    if not head:
        message = _("The evidence file %(name)s is empty.", name=filename)
        raise ValidationFailed(message, {"evidence": [message]})
    content_type = document_type(filename, head)
    if storage is None:
        storage = current_app.extensions["storage"]
    rest = HeadThenRest(head, stream)
    try:
        stored = storage.save(f"objections/{uuid.uuid4().hex}", rest, content_type=content_type, max_bytes=limit)
    except UploadTooLarge:
        message = _("The evidence file is larger than %(num)s MB.", num=limit // (1024 * 1024) or 1)
        raise UploadTooLarge(message, {"evidence": [message]}) from None
    objection.evidence_key, objection.evidence_filename = stored.key, filename[-255:]
    objection.evidence_content_type, objection.evidence_size = content_type, stored.size
    objection.evidence_sha256 = stored.sha256


