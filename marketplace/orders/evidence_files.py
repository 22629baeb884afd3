"""The buyer's optional evidence document of a cross-boundary mechanism (the filed standard contract, the
certificate, the assessment's decision): checked by its first bytes like objection evidence (a PDF, PNG or JPEG
file or plain text), refused when empty, capped at CROSS_BOUNDARY_EVIDENCE_MAX_BYTES, kept through the storage
interface under a sanitized name. Its page endpoint is an upload endpoint (``declare_evidence_upload``), so the
form's own cap does not cut it short and nobody but a party to the order has its body read."""
from __future__ import annotations

import uuid
from typing import BinaryIO

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from marketplace.crossborder.models import CrossBoundaryPosition
from marketplace.errors import UploadTooLarge, ValidationFailed
from marketplace.extensions import db, login_manager
from marketplace.inputs import upload_endpoint
from marketplace.storage import HeadThenRest, Storage
from marketplace.storage.filetypes import document_type

FIELD = "document"




def shown_name(filename: str, content_type: str) -> str:
    """The name the document is kept and offered under: the uploaded name made safe (no path, no markup, ASCII),
    or "evidence" with its type's extension when nothing of it is left."""
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(content_type, ".txt")
    safe = secure_filename(filename or "")[-120:]
    return safe if safe and "." in safe and not safe.startswith(".") else f"evidence{extension}"


def checked_document(filename: str, stream: BinaryIO) -> tuple[str, bytes, BinaryIO]:
    """The content type, the first bytes and the stream of an evidence document; refuses (on ``document``) one
    that is empty or not what its name says."""
    head = stream.read(8192)
    if not head:
        raise ValidationFailed(_("The evidence document is empty."), {FIELD: [_("The file is empty.")]})
    content_type = document_type(filename, head, FIELD)
    return content_type, head, stream


def store_document(position: CrossBoundaryPosition, filename: str, content_type: str, head: bytes, rest: BinaryIO,
                   storage: Storage | None = None) -> None:
    """Keep a checked document on the position; UploadTooLarge past the cap."""
    limit = int(current_app.config["CROSS_BOUNDARY_EVIDENCE_MAX_BYTES"])
    storage = storage or current_app.extensions["storage"]
    try:
        stored = storage.save(f"cross-boundary/{uuid.uuid4().hex}", HeadThenRest(head, rest),
                              content_type=content_type, max_bytes=limit)
    except UploadTooLarge:
        message = _("The evidence document is larger than %(num)s MB.", num=limit // (1024 * 1024) or 1)
        raise UploadTooLarge(message, {FIELD: [message]}) from None
    position.evidence_key, position.evidence_filename = stored.key, shown_name(filename, content_type)
    position.evidence_content_type, position.evidence_size = content_type, stored.size
    position.evidence_sha256 = stored.sha256


def refuse_unauthorized_evidence() -> ResponseReturnValue | None:
    """Nobody signed in is sent to log in; someone who may not see the order gets its 404, before the body is
    read."""
    from marketplace.orders.queries import order_for

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    order_for(db.session, current_user._get_current_object(), (request.view_args or {})["order_id"])  # NotFound
    return None


def evidence_too_large(message: str) -> ResponseReturnValue:
    """The order page with the evidence form again, empty (its body was refused unread), with why."""
    from marketplace.orders.forms import EvidenceForm
    from marketplace.orders.queries import order_for
    from marketplace.orders.views import render_order

    order = order_for(db.session, current_user._get_current_object(), request.view_args["order_id"])
    form = EvidenceForm(formdata=None)
    form.document.errors = [message]
    return render_order(order, status=413, error=message, evidence_form=form)


def declare_evidence_upload() -> None:
    """Declare the evidence form's endpoint to the request guards (the upload cap, the early access check, the
    form shown again when the body is too large)."""
    upload_endpoint("orders.submit_evidence", refuse_unauthorized_evidence,
                    cap="CROSS_BOUNDARY_EVIDENCE_MAX_BYTES", too_large_page=evidence_too_large)
