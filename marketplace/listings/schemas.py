"""Marshmallow schemas of the listings API (the HTTP edge only: types, lengths, vocabularies).

Business rules (a free plan costs nothing, a subscription has a period ...) live in the services.
Unknown fields are rejected (marshmallow's default RAISE) and integers are strict.
"""
from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, validate

from marketplace.listings.assets import upload_warnings
from marketplace.listings.services import MAX_INDIVIDUALS
from marketplace.listings.states import VersionStatus
from marketplace.listings.vocab import (
    AssetKind,
    BillingPeriod,
    Category,
    Classification,
    Currency,
    DataFormat,
    DeliveryMethod,
    FieldType,
    PermittedUse,
    PersonalInfo,
    PlanKind,
    Portal,
    Prohibition,
    Region,
    SourceUsage,
    Territory,
    UpdateFrequency,
)
from marketplace.places import Place
from marketplace.schema_fields import (
    choice,
    choices,
    documented,
    filled,
    flag,
    http_url,
    line,
    row_id,
    strict_int,
    text,
)
from marketplace.text import SINGLE_LINE_NON_BLANK_PATTERN

# ---------------------------------------------------------------- input

class MetadataInSchema(Schema):
    title_en = line(200, min_len=1, blank=False)
    title_zh = line(200)
    description_en = text(20000)
    description_zh = text(20000)
    category = choice(Category, allow_none=True)
    tags = fields.List(text(40), validate=validate.Length(max=20))
    regions = choices(Region)
    temporal_start = fields.Date(allow_none=True)
    temporal_end = fields.Date(allow_none=True)
    spatial_coverage = text(500)
    update_frequency = choice(UpdateFrequency, allow_none=True)
    delivery_methods = choices(DeliveryMethod)
    formats = choices(DataFormat)


class ProductCreateSchema(MetadataInSchema):
    organization = fields.String(required=True, validate=validate.Length(min=1, max=80),
                                 metadata={"description": "Slug of the seller organization you act for."})
    title_en = line(200, min_len=1, blank=False, required=True)


def _licence_id(**kw) -> fields.String:
    # Not an enum of the 700 ids: the catalog is a resource of its own, like any row a request names.
    return text(80, **documented(kw, description="An id from GET /licences (SPDX or a portal's terms of use)."))


_USAGE_DOC = (
    "How the product uses the source, which the licence rules turn on: `verbatim` (the source as published), "
    "`subset` (whole records selected, not altered) or `derived` (cleaned, joined, aggregated or otherwise "
    "transformed; the default for a new source).")


class SourceInSchema(Schema):
    portal = choice(Portal, required=True)
    title = line(300, blank=False, required=True)
    url = http_url(required=True)
    publisher = line(300)
    licence_id = _licence_id(required=True)
    attribution = text(5000)
    external_id = line(200, allow_none=True)
    usage = choice(SourceUsage, metadata={"description": _USAGE_DOC})


class SourcePatchSchema(SourceInSchema):
    portal = choice(Portal)
    title = line(300, blank=False)
    url = http_url()
    licence_id = _licence_id()


class FieldInSchema(Schema):
    name = filled(200, required=True)
    type = choice(FieldType, required=True)
    unit = text(50)
    description = text(1000)
    nullable = flag()
    personal_info = flag()
    example = text(200, allow_none=True)


class DictionaryInSchema(Schema):
    fields_ = fields.List(fields.Nested(FieldInSchema), required=True, validate=validate.Length(max=500),
                          data_key="fields")


class SubmitInSchema(Schema):
    note = text(5000, metadata={"description": "A note for the reviewer, e.g. what changed since the last round."})


class InferInSchema(Schema):
    asset_id = row_id(required=True)
    apply = flag(load_default=False, metadata={"description": "Replace the dictionary with the result."})


# The plan rules across fields (listings.services._check_plan): a free plan costs nothing and a paid one more than
# nothing; only a subscription has a billing period, and it must have one; share-alike needs derivatives allowed.
_PLAN_RULES = {
    "oneOf": [
        {"properties": {"kind": {"enum": ["free"]}, "amount": {"maximum": 0},
                        "billing_period": {"enum": [None]}}},
        {"properties": {"kind": {"enum": ["one_time"]}, "amount": {"minimum": 1},
                        "billing_period": {"enum": [None]}}},
        {"properties": {"kind": {"enum": ["subscription"]}, "amount": {"minimum": 1},
                        "billing_period": {"enum": ["month", "year"]}}, "required": ["billing_period"]},
    ],
    "not": {"properties": {"share_alike": {"enum": [True]}, "derivatives_allowed": {"enum": [False]}},
            "required": ["share_alike", "derivatives_allowed"]},
}


class PlanInSchema(Schema):
    OPENAPI_RULES: ClassVar[dict] = _PLAN_RULES

    name = line(120, blank=False, required=True)
    kind = choice(PlanKind, required=True)
    billing_period = choice(BillingPeriod, allow_none=True)
    amount = strict_int(required=True, validate=validate.Range(min=0, max=10**12),
                        metadata={"description": "Price in minor units of the currency (cents, fen)."})
    currency = choice(Currency, required=True)
    requires_approval = flag()
    licence_cap = strict_int(allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    permitted_uses = choices(PermittedUse, required=True, metadata={"minItems": 1})
    prohibitions = choices(Prohibition)
    territory = choice(Territory, required=True)
    duration_days = strict_int(allow_none=True, validate=validate.Range(min=1, max=36500))
    attribution_required = flag()
    derivatives_allowed = flag()
    share_alike = flag(metadata={"description": "Adaptations must be shared under the same terms."})


class PlanPatchSchema(PlanInSchema):
    # A change is checked with the plan's other values, which the request does not carry: no rules across fields.
    OPENAPI_RULES: ClassVar[dict] = {"not": _PLAN_RULES["not"]}

    name = line(120, blank=False)
    kind = choice(PlanKind)
    amount = strict_int(validate=validate.Range(min=0, max=10**12))
    currency = choice(Currency)
    permitted_uses = choices(PermittedUse, metadata={"minItems": 1})
    territory = choice(Territory)


class ComplianceInSchema(Schema):
    personal_info = choice(PersonalInfo, allow_none=True)
    classification = choice(Classification, allow_none=True)
    classification_reason = text(5000)
    source_legality = text(5000)
    cross_border_transfer = flag(allow_none=True)
    legal_basis = text(5000)
    collected_in = choice(Place, allow_none=True, metadata={"description": "Where the data was collected."})
    individuals = strict_int(allow_none=True, validate=validate.Range(min=0, max=MAX_INDIVIDUALS), metadata={
        "description": "Individuals whose personal information the data holds (required with personal "
                       "information)."})
    attest = flag(load_default=False)
    attested_by_name = line(200, allow_none=True)

    # Attesting names the person who attests.
    OPENAPI_RULES: ClassVar[dict] = {"anyOf": [
        {"properties": {"attest": {"enum": [False]}}},
        {"not": {"required": ["attest"]}},
        {"properties": {"attested_by_name": {"type": "string", "pattern": SINGLE_LINE_NON_BLANK_PATTERN}},
         "required": ["attested_by_name"]},
    ]}


class NewVersionSchema(Schema):
    label = line(40, blank=False, required=True)
    changelog = filled(20000, required=True)


class AssetQuerySchema(Schema):
    kind = choice(AssetKind, required=True)
    filename = text(255, required=True)


class ProductListQuerySchema(Schema):
    organization = text(80)


class LookupQuerySchema(Schema):
    q = text(1000, min_len=1, required=True)


# ---------------------------------------------------------------- output

class SourceOutSchema(Schema):
    id = fields.Integer()
    portal = fields.String()
    title = fields.String()
    url = fields.String()
    publisher = fields.String()
    licence_id = fields.String()
    licence_name = fields.Method("_licence_name")
    attribution = fields.String()
    external_id = fields.String(allow_none=True)
    usage = fields.String(metadata={"enum": [u.value for u in SourceUsage], "description": _USAGE_DOC})

    def _licence_name(self, obj) -> str | None:
        from marketplace.listings.licences import get_licence

        lic = get_licence(obj["licence_id"] if isinstance(obj, dict) else obj.licence_id)
        return lic.name if lic else None


class FieldOutSchema(FieldInSchema):
    id = fields.Integer()
    position = fields.Integer()


class AssetRefSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    size = fields.Integer()


class AssetOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()


class UploadedAssetSchema(AssetOutSchema):
    """The answer to an upload: the file, the file of the version with the same bytes (or null), and what the
    seller should know about it, in their language."""

    identical_to = fields.Nested(AssetRefSchema, allow_none=True, dump_only=True)
    warnings = fields.Function(upload_warnings, dump_only=True,
                               metadata={"type": "array", "items": {"type": "string"}})


class PlanOutSchema(PlanInSchema):
    id = fields.Integer()


class VersionSummarySchema(Schema):
    number = fields.Integer()
    label = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in VersionStatus]})
    changelog = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    registration_number = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class VersionOutSchema(VersionSummarySchema, MetadataInSchema):
    personal_info = fields.String(allow_none=True)
    classification = fields.String(allow_none=True)
    classification_reason = fields.String()
    source_legality = fields.String()
    cross_border_transfer = fields.Boolean(allow_none=True)
    legal_basis = fields.String()
    collected_in = fields.String(allow_none=True)
    individuals = fields.Integer(allow_none=True)
    attested_by_name = fields.String(allow_none=True)
    attested_at = fields.DateTime(allow_none=True)
    sources = fields.List(fields.Nested(SourceOutSchema))
    fields_ = fields.List(fields.Nested(FieldOutSchema), data_key="fields", attribute="fields")
    assets = fields.List(fields.Nested(AssetOutSchema))
    plans = fields.List(fields.Nested(PlanOutSchema))
    readiness = fields.Method("_readiness", metadata={"description": "What is still missing before submission."})

    def _readiness(self, obj) -> dict:
        from marketplace.listings.services import readiness_problems

        return readiness_problems(obj)


class ProductOutSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    status = fields.String()
    organization = fields.Function(lambda p: p.organization.slug)
    title_en = fields.Function(lambda p: p.latest_version.title_en)
    listed_version = fields.Function(lambda p: p.listed_version.number if p.listed_version else None)
    latest_version = fields.Function(lambda p: VersionSummarySchema().dump(p.latest_version))
    versions = fields.List(fields.Nested(VersionSummarySchema))
    status_reason = fields.String()
    status_changed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InferenceOutSchema(Schema):
    format = fields.String()
    rows_scanned = fields.Integer()
    truncated = fields.Boolean()
    geometry_types = fields.List(fields.String())
    bbox = fields.List(fields.Float(), allow_none=True)
    fields_ = fields.List(fields.Dict(), data_key="fields", attribute="fields")
    dictionary = fields.List(fields.Nested(FieldInSchema), metadata={"description": "Proposed dictionary rows."})
    applied = fields.Boolean()
