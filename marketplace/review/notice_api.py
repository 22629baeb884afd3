"""Public notices and registrations in the JSON API: reading them is public; objecting needs a member's token, deciding
an objection a reviewer's."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.accounts.models import Organization
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import upload_endpoint
from marketplace.review import public_notice as notices
from marketplace.review import registration
from marketplace.review.notice_models import Objection
from marketplace.review.notice_schemas import (
    EvidenceQuerySchema,
    NoticeOutSchema,
    NoticePageSchema,
    NoticeQuerySchema,
    ObjectionDecisionInSchema,
    ObjectionInSchema,
    ObjectionOutSchema,
    RegistrationOutSchema,
)

blp = Blueprint("notices_api", __name__, description="Public notices, objections and registration certificates")


def _out(notice) -> dict:
    return {**{c: getattr(notice, c) for c in ("id", "registration_number", "opens_at", "closes_at", "ended_at")},
            "status": notice.status.value, "trading_starts_at": notice.trading_starts_at.value,
            "taking_objections": notices.taking_objections(notice), "product": notice.product,
            "version": notice.version, "organization": notice.organization, "objections": len(notice.objections)}


@blp.route("/notices")
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, NoticePageSchema)
@blp.doc(security=[])
def list_notices(query):
    """Public notices, newest first: open (objections still taken), recent (closed) or all."""
    page, per_page = query["page"], query["per_page"]
    items, total = notices.notices(db.session, state=query.get("state"), limit=per_page,
                                   offset=(page - 1) * per_page)
    return {"items": [_out(n) for n in items], "total": total, "page": page, "per_page": per_page}


@blp.route("/notices/<int:notice_id>")
@blp.response(200, NoticeOutSchema)
@blp.doc(security=[])
def get_notice(notice_id):
    """One public notice."""
    return _out(notices.notice_by_id(db.session, notice_id))


@blp.route("/notices/<int:notice_id>/objections", methods=["POST"])
@blp.arguments(ObjectionInSchema)
@blp.response(201, ObjectionOutSchema)
def object_to(body, notice_id):
    """Object to a notice for one of your organizations (not the seller's) while it takes objections; send an
    evidence file next with ``PUT .../objections/{objection_id}/evidence``. 409 once the notice has ended, and while
    your organization's earlier objection to it waits for a decision."""
    user = require_api_user()
    notice = notices.notice_by_id(db.session, notice_id)
    organization = db.session.get(Organization, body["organization_id"])
    if organization is None:
        raise Forbidden(_("You may only object for an organization you belong to."),
                        {"organization_id": [_("Choose one of your organizations.")]})
    return notices.object_to(db.session, user, notice, organization, body["reasons"])


@blp.route("/notices/<int:notice_id>/objections/<int:objection_id>/evidence", methods=["PUT"])
@blp.arguments(EvidenceQuerySchema, location="query")
@blp.response(200, ObjectionOutSchema)
@blp.doc(requestBody={"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
def attach_evidence(query, notice_id, objection_id):
    """Send the evidence of your organization's waiting objection as the raw request body (a PDF, PNG or JPEG file
    or plain text, at most ``NOTICE_EVIDENCE_MAX_BYTES``; streamed to storage): one file per objection. 413 over
    the cap, 422 for an empty file or another type, 409 once the objection is decided, the notice has closed or the
    objection already has its evidence."""
    user = require_api_user()
    objection = _objection(notice_id, objection_id)
    return notices.attach_evidence(db.session, user, objection, query["filename"], request.stream)


def _may_send_evidence() -> None:
    require_api_user()  # an anonymous body is never read


def declare_uploads() -> None:
    """The evidence endpoint takes a file as its body, under the evidence cap."""
    upload_endpoint("notices_api.attach_evidence", _may_send_evidence,
                    cap="NOTICE_EVIDENCE_MAX_BYTES")


def _objection(notice_id: int, objection_id: int) -> Objection:
    notices.notice_by_id(db.session, notice_id)
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.notice_id != notice_id:
        raise NotFound(_("No such objection."))
    return objection


@blp.route("/notices/<int:notice_id>/objections/<int:objection_id>/decision", methods=["POST"])
@blp.arguments(ObjectionDecisionInSchema)
@blp.response(200, ObjectionOutSchema)
def decide_objection(body, notice_id, objection_id):
    """A reviewer upholds (the version returns to review) or dismisses an objection, with a reason."""
    user = require_api_user()
    objection = _objection(notice_id, objection_id)
    return notices.decide_objection(db.session, user, objection, body["decision"], body["reason"])


@blp.route("/registrations/<registration_number>")
@blp.response(200, RegistrationOutSchema)
@blp.doc(security=[])
def get_registration(registration_number):
    """A registration: its current signed certificate, what it is worth today, and its earlier certificates."""
    certificates = registration.certificates_of(db.session, registration_number)
    current = certificates[0]
    return {"registration_number": current.registration_number,
            "standing": registration.standing(db.session, current).value,
            "lapsed_assessments": registration.lapsed_assessments(db.session, current),
            "document": registration.document(current), "earlier": [c.serial for c in certificates[1:]]}
