"""Data service providers and assessment reports in the JSON API.

Public (no token): the directory of approved providers, one provider with its signed reports, and a signed report
with its document. With a token, the provider journey: an owner applies for the organization, a seller asks a
provider for an assessment of a submitted version, the provider accepts or declines it, saves the report as a
draft, signs it and may withdraw it; each answers the assessment (or application) as it stands.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from marketplace.accounts.access import member_role
from marketplace.accounts.auth import api_user, require_api_user
from marketplace.accounts.services import organization_for_member
from marketplace.assessments import fees, reports, services
from marketplace.assessments.schemas import (
    AssessmentOutSchema,
    AssessmentRequestInSchema,
    ProviderApplicationInSchema,
    ProviderApplicationOutSchema,
    ReportDraftInSchema,
    ReportSignInSchema,
    ReportWithdrawInSchema,
    RequestDecisionInSchema,
)
from marketplace.assessments.states import AssessmentKind, AssessmentStatus, Conclusion
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.listings.services import version_for_seller

blp = Blueprint("assessments_api", __name__,
                description="Data service providers and the assessment reports they write: the public directory "
                            "and reports, and the provider journey (token)")

KINDS = [k.value for k in AssessmentKind]


class DirectoryQuerySchema(Schema):
    service = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "Only providers offering this service."})


class ReportRefSchema(Schema):
    number = fields.String(metadata={"example": "AS-2026-3F9A2C41B0"})
    kind = fields.String(metadata={"enum": KINDS})
    product = fields.String(metadata={"description": "The product's slug."})
    version = fields.String(metadata={"description": "The version's label."})
    signed_at = fields.DateTime()


class ProviderSchema(Schema):
    slug = fields.String(metadata={"description": "The provider organization's slug."})
    name = fields.String()
    services = fields.List(fields.String(metadata={"enum": KINDS}))
    qualifications = fields.String()
    approved_at = fields.DateTime(allow_none=True)


class ProviderDetailSchema(ProviderSchema):
    reports = fields.List(fields.Nested(ReportRefSchema), metadata={"description": "Signed reports, newest first."})


class ReportSchema(Schema):
    number = fields.String()
    kind = fields.String(metadata={"enum": KINDS})
    provider = fields.String(metadata={"description": "The provider organization's slug."})
    conclusion = fields.String(allow_none=True, metadata={
        "enum": [c.value for c in Conclusion] + [None], "description": "A compliance report's conclusion."})
    signed_at = fields.DateTime()
    status = fields.String(metadata={"enum": ["signed", "withdrawn"]})
    standing = fields.String(allow_none=True, metadata={
        "description": "What the report is worth today when not what it says: withdrawn (and why), its provider "
                       "suspended, or the version's files changed since; null while it stands."})
    document = fields.Dict(metadata={"description": "The signed report: {\"assessment\": statement, \"signature\": "
                                                    "{alg, kid, value}}; POST it to /certificates/verify."})


def _provider(provider) -> dict:
    return {"slug": provider.organization.slug, "name": provider.organization.name, "services": provider.services,
            "qualifications": provider.qualifications, "approved_at": provider.decided_at}


@blp.route("/providers")
@blp.arguments(DirectoryQuerySchema, location="query", unknown=RAISE)
@blp.response(200, ProviderSchema(many=True))
def list_providers(args):
    """The approved data service providers, by name; only those offering ``service`` when given."""
    kind = AssessmentKind(args["service"]) if args.get("service") else None
    return [_provider(p) for p in services.approved_providers(db.session, kind)]


@blp.route("/providers/<slug>")
@blp.response(200, ProviderDetailSchema)
def get_provider(slug):
    """An approved provider and its signed reports (404 for any organization not approved as a provider)."""
    provider = services.approved_provider(db.session, slug)
    signed = services.signed_by(db.session, provider)
    return {**_provider(provider), "reports": [
        {"number": a.number, "kind": a.kind.value, "product": a.statement["product"]["slug"],
         "version": a.statement["product_version"]["label"], "signed_at": a.signed_at} for a in signed]}


class ReportOrRequestSchema(AssessmentOutSchema, ReportSchema):
    """A signed report as anyone reads it; an open request (fee state included) as its two parties read it."""

    status = fields.String(metadata={"enum": [s.value for s in AssessmentStatus]})


@blp.route("/assessments/<number>")
@blp.response(200, ReportOrRequestSchema)
def get_report(number):
    """A signed assessment report and its signed document, public; before it is signed, the request as it stands
    to a member of its seller or provider (with a token; the provider's draft only to the provider), 404 to anyone
    else."""
    try:
        a = services.signed_assessment(db.session, number)
    except NotFound:
        user = api_user()
        if user is None:
            raise
        a = services.assessment_for_party(db.session, user, number)
        party = _assessment(a)
        if member_role(user, a.provider.organization_id, db.session) is None:
            party["draft"] = party["draft_saved_at"] = None
        return party
    return {"number": a.number, "kind": a.kind.value, "provider": a.provider.organization.slug,
            "conclusion": a.conclusion, "signed_at": a.signed_at, "status": a.status.value,
            "standing": reports.standing(a), "document": reports.report_document(a)}


# ---------------------------------------------------------------- the provider journey (token)


def _application(provider) -> dict:
    return {"organization": provider.organization.slug, "status": provider.status.value,
            "services": provider.services, "qualifications": provider.qualifications,
            "applied_at": provider.applied_at, "decision_reason": provider.decision_reason}


def _assessment(a) -> dict:
    return {"number": a.number, "kind": a.kind.value, "status": a.status.value, "product_id": a.version.product_id,
            "version": a.version.number, "provider": a.provider.organization.slug,
            "seller": a.seller_organization.slug, "note": a.note, "decline_reason": a.decline_reason,
            "fee": a.fee_amount, "currency": a.fee_currency, "fee_state": fees.fee_json(fees.fee_of(db.session, a)),
            "draft": a.draft, "draft_saved_at": a.draft_saved_at,
            "conclusion": a.conclusion, "signed_at": a.signed_at, "withdrawn_at": a.withdrawn_at,
            "withdrawal_reason": a.withdrawal_reason}


def _for_provider(number: str):
    return services.assessment_for_provider(db.session, require_api_user(), number)


@blp.route("/organizations/<slug>/provider", methods=["POST"])
@blp.arguments(ProviderApplicationInSchema)
@blp.response(201, ProviderApplicationOutSchema)
def apply(data, slug):
    """An owner applies for the organization to be a data service provider (404 to a non-member, 403 to a
    member who is not an owner, 409 once applied or approved; a rejected organization may apply again)."""
    user = require_api_user()
    organization = organization_for_member(db.session, user, slug)
    return _application(services.apply_as_provider(db.session, user, organization, services=data["services"],
                                                   qualifications=data["qualifications"]))


@blp.route("/assessments", methods=["POST"])
@blp.arguments(AssessmentRequestInSchema)
@blp.response(201, AssessmentOutSchema)
def request_assessment(data):
    """A seller asks an approved provider for an assessment of one of its submitted versions (404 for a version
    of another organization; 409 for a draft version or a second open request of that kind to that provider; 422
    for a provider one of whose members is a member of the seller)."""
    user = require_api_user()
    version = version_for_seller(db.session, user, data["product_id"], data["version"])
    try:
        provider = services.approved_provider(db.session, data["provider"])
    except NotFound:
        message = _("Choose an approved provider.")
        raise ValidationFailed(message, {"provider": [message]}) from None
    return _assessment(services.request_assessment(db.session, user, version, provider, data["kind"],
                                                   data.get("note", "")))


@blp.route("/assessments/<number>/decision", methods=["POST"])
@blp.arguments(RequestDecisionInSchema)
@blp.response(200, AssessmentOutSchema)
def decide(data, number):
    """The provider accepts a request (stating a fee, if any; the seller pays it as an order before the work
    starts) or declines it with a reason, also once accepted (a paid fee is then refunded, an unpaid one
    cancelled). 404 to anyone outside the provider; 409 once decided or signed, or accepting while the provider is
    suspended."""
    assessment = _for_provider(number)
    accept = data["decision"] == "accept"
    return _assessment(services.decide_request(
        db.session, require_api_user(), assessment, accept=accept, reason=data.get("reason") or "",
        fee=data.get("fee") if accept else None, currency=data.get("currency") if accept else None,
        after_accepting=not accept and assessment.status == "accepted"))  # a decline names what it declines


@blp.route("/assessments/<number>/draft", methods=["PUT"])
@blp.arguments(ReportDraftInSchema)
@blp.response(200, AssessmentOutSchema)
def save_draft(data, number):
    """The provider saves the report unsigned, to come back to (409 unless the request is accepted)."""
    assessment = _for_provider(number)
    return _assessment(reports.save_draft(db.session, require_api_user(), assessment, data["report"]))


@blp.route("/assessments/<number>/sign", methods=["POST"])
@blp.arguments(ReportSignInSchema)
@blp.response(200, AssessmentOutSchema)
def sign(data, number):
    """The provider signs the report sent, or the saved draft without one (409 unless accepted; 422 for an
    incomplete report; 403 to a member of the seller's organization). The signed document is then at
    GET /assessments/{number}."""
    assessment = _for_provider(number)
    return _assessment(reports.sign_report(db.session, require_api_user(), assessment, data.get("report")))


@blp.route("/assessments/<number>/withdraw", methods=["POST"])
@blp.arguments(ReportWithdrawInSchema)
@blp.response(200, AssessmentOutSchema)
def withdraw(data, number):
    """The provider withdraws a signed report with a reason: it stays readable, marked withdrawn, and counts for
    nothing (409 unless signed)."""
    assessment = _for_provider(number)
    return _assessment(reports.withdraw_report(db.session, require_api_user(), assessment, data["reason"]))
