"""Data service providers and signed assessment reports in the JSON API, public (no token): the directory of
approved providers, one provider with its signed reports, and a signed report with its document."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from marketplace.assessments import reports, services
from marketplace.assessments.states import AssessmentKind, Conclusion
from marketplace.extensions import db

blp = Blueprint("assessments_api", __name__,
                description="Data service providers and the signed assessment reports they write (public)")

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


@blp.route("/assessments/<number>")
@blp.response(200, ReportSchema)
def get_report(number):
    """A signed assessment report and its signed document (404 until it is signed)."""
    a = services.signed_assessment(db.session, number)
    return {"number": a.number, "kind": a.kind.value, "provider": a.provider.organization.slug,
            "conclusion": a.conclusion, "signed_at": a.signed_at, "document": reports.report_document(a)}
