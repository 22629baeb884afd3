"""An objection's evidence file: its type judged by its name and first bytes, its size capped by
``NOTICE_EVIDENCE_MAX_BYTES``, kept in storage."""
from __future__ import annotations

import uuid
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from marketplace.errors import UnsupportedFile, UploadTooLarge, ValidationFailed
from marketplace.review.notice_models import Objection
from marketplace.storage import HeadThenRest, Storage

# Evidence an objector may attach: documents and images, recognised by their first bytes as well as their name.
EVIDENCE_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
}


def check_evidence(filename: str, head: bytes) -> str:
    """The content type of an evidence file judged by its name and first bytes; refuses (UnsupportedFile on
    ``evidence``) any other type, or bytes that are not what the name says."""
    name = (filename or "").lower()
    ext = name[name.rfind("."):] if "." in name else ""
    kind = EVIDENCE_TYPES.get(ext)
    if kind is None:
        message = _("Evidence may be a PDF, PNG or JPEG file or plain text.")
        raise UnsupportedFile(message, {"evidence": [message]})
    content_type, magic = kind
    looks_right = head.startswith(magic) if magic else b"\x00" not in head and _utf8(head)
    if not looks_right:
        message = _("The content of %(name)s does not look like its type (judged by its first bytes).",
                    name=filename)
        raise UnsupportedFile(message, {"evidence": [message]})
    return content_type


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the head is still text
        return exc.start >= len(head) - 3
    return True


def store_evidence(objection: Objection, evidence: tuple[str, BinaryIO], storage: Storage | None) -> None:
    """Check an evidence file (not empty; its type by name and first bytes; its size) and keep it in storage as
    the objection's evidence; refused on ``evidence``."""
    filename, stream = evidence
    limit = int(current_app.config["NOTICE_EVIDENCE_MAX_BYTES"])
    head = stream.read(8192)
    if not head:
        message = _("The evidence file %(name)s is empty.", name=filename)
        raise ValidationFailed(message, {"evidence": [message]})
    content_type = check_evidence(filename, head)
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


