"""Licences in the JSON API: the licences an organization holds or granted, and the public certificate check.

The licences an organization holds are listed at ``/licences/held``, because ``/licences`` is already the catalog of
source licences. Licences of organizations the caller does not belong to are 404.
"""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.errors import DomainError, UploadTooLarge
from marketplace.extensions import db
from marketplace.licensing import services as licences
from marketplace.licensing.certificates import voucher_document
from marketplace.licensing.schemas import IssuedLicenceSchema, VerificationSchema, VoucherSchema
from marketplace.licensing.vouchers import voucher_for, voucher_since
from marketplace.signing.documents import KINDS

blp = Blueprint("licensing_api", __name__, description="Licences held and granted, and certificate checks")

PUBLIC_ENDPOINTS = {"licensing_api.verify_certificate"}  # anyone may check a certificate
# What certificates.check_certificate reads as a signed document (anything else is 400).
CERTIFICATE_DOCUMENT = {
    "type": "object", "required": ["signature"], "additionalProperties": False, "minProperties": 2,
    "maxProperties": 2,
    "properties": {
        "certificate": {"type": "object", "description": "The signed statement of a licence certificate."},
        "voucher": {"type": "object", "description": "The signed statement of a transaction voucher."},
        "assessment": {"type": "object", "description": "The signed statement of an assessment report."},
        "registration": {"type": "object", "description": "The signed statement of a registration certificate."},
        "signature": {"type": "object", "required": ["alg", "kid", "value"], "additionalProperties": False,
                      "properties": {"alg": {"type": "string"}, "kid": {"type": "string"},
                                     "value": {"type": "string"}}},
    },
}


@blp.before_request
def _identify_first():
    """Who is asking, and whether they may see the licence, before any body is read (the services ask again before
    they act); certificate verification is public."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    user = require_api_user()
    args = request.view_args or {}
    if "licence_id" in args:
        licences.licence_for(db.session, user, args["licence_id"])
    if "voucher_number" in args:
        voucher_for(db.session, user, args["voucher_number"])


# ``GET /licences`` is the catalog of licences a source may cite (accounts.api); held licences are listed here.
@blp.route("/licences/held")
@blp.response(200, IssuedLicenceSchema(many=True))
def list_licences():
    """The licences your organizations hold, newest first (``GET /licences`` is the catalog of source licences)."""
    return licences.buyer_licences(db.session, require_api_user())


@blp.route("/licences/<int:licence_id>")
@blp.response(200, IssuedLicenceSchema)
def get_licence(licence_id):
    """One licence your organizations hold or granted, with its frozen terms and scenario."""
    return licences.licence_for(db.session, require_api_user(), licence_id)


@blp.route("/vouchers/<voucher_number>")
@blp.response(200, VoucherSchema)
def get_voucher(voucher_number):
    """The transaction voucher of a settled order, for members of its buyer or seller organization (404 to anyone
    else): the signed document, and the refunds and disputes of its payment since."""
    voucher = voucher_for(db.session, require_api_user(), voucher_number)
    since = voucher_since(db.session, voucher)
    return {"number": voucher.number, "document": voucher_document(voucher), "refunded": since.refunded,
            "disputed": since.disputed, "dispute_lost": since.dispute_lost}


@blp.route("/certificates/verify", methods=["POST"])
@blp.response(200, VerificationSchema)
@blp.doc(security=[], requestBody={"required": True, "description": "A certificate document as downloaded from "
                                   "/certificates/<serial>.json, or a voucher from /vouchers/<number>.json or an "
                                   "assessment report from /assessments/<number>.json (its field \"voucher\" or "
                                   "\"assessment\" in place of \"certificate\")", "content": {"application/json": {
                                       "schema": CERTIFICATE_DOCUMENT}}})
def verify_certificate():
    """Verify a licence certificate (public, no token): its Ed25519 signature against this marketplace's published
    keys (a retired key only for certificates issued before its retirement), that it is the certificate on record
    under its serial, and the licence's current status. A body that is not a certificate document is 400; one over
    512 KiB is 413."""
    from marketplace.licensing.certificates import MAX_DOCUMENT_BYTES, check_certificate

    if (request.content_length or 0) > MAX_DOCUMENT_BYTES:
        raise UploadTooLarge(_("The body is larger than any certificate."))
    raw = request.get_data(cache=True)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise UploadTooLarge(_("The body is larger than any certificate."))
    result, record = check_certificate(db.session, raw)
    if result.malformed:
        raise DomainError(result.reason)
    return {"valid": result.valid, "reason": result.reason, "serial": result.serial, "kind": result.kind,
            "status": _status_of(result.kind, record) if record else None}


def _status_of(kind: str, record) -> str:
    """What the verified document's record is worth today, in the word of its kind (a licence's status, the money
    since a voucher's sale, a registration's standing ...)."""
    return KINDS[kind].status(db.session, record)
