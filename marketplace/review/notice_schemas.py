"""Marshmallow schemas of the public notice and registration API (the HTTP edge only)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.review.notice_models import ObjectionStatus
from marketplace.review.public_notice import MAX_REASONS, ObjectionAction
from marketplace.schema_fields import choice, filled, row_id


class NoticeQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(("open", "recent")),
                          metadata={"description": "open: objections still taken; recent: closed. Default: all."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class NoticeOutSchema(Schema):
    id = fields.Integer()
    registration_number = fields.String()
    status = fields.String(metadata={"enum": ["open", "ended", "withdrawn"]})
    taking_objections = fields.Boolean()
    trading_starts_at = fields.String(metadata={"enum": ["approval", "notice_end"]})
    product_slug = fields.String(attribute="product.slug")
    title = fields.String(attribute="version.title_en")
    title_zh = fields.String(attribute="version.title_zh", allow_none=True)
    version_label = fields.String(attribute="version.label")
    seller = fields.String(attribute="organization.name")
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    objections = fields.Integer(metadata={"description": "How many objections were filed."})


class NoticePageSchema(Schema):
    items = fields.List(fields.Nested(NoticeOutSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ObjectionInSchema(Schema):
    organization_id = row_id(required=True, metadata={"description": "The organization objecting: yours, not the "
                                                                     "seller's."})
    reasons = filled(MAX_REASONS, required=True)


class EvidenceQuerySchema(Schema):
    filename = filled(255, required=True, metadata={"description": "The file's name; its extension and first bytes "
                                                                   "must agree (.pdf, .png, .jpg, .jpeg, .txt)."})


class ObjectionOutSchema(Schema):
    id = fields.Integer()
    notice_id = fields.Integer()
    organization_id = fields.Integer()
    reasons = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in ObjectionStatus]})
    evidence_filename = fields.String(allow_none=True)
    evidence_sha256 = fields.String(allow_none=True)
    decision_reason = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ObjectionDecisionInSchema(Schema):
    decision = choice(ObjectionAction, required=True)
    reason = filled(MAX_REASONS, required=True)


class RegistrationOutSchema(Schema):
    registration_number = fields.String()
    standing = fields.String(metadata={"enum": ["valid", "expired", "renewed", "suspended", "delisted"],
                                       "description": "What the current certificate is worth today."})
    lapsed_assessments = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "The assessments the certificate rests on that no longer stand (withdrawn, of a suspended "
                       "provider, of files that changed): number to why. The signed certificate stays as issued."})
    document = fields.Dict(metadata={"description": "The current signed certificate: {registration, signature}."})
    earlier = fields.List(fields.String(), metadata={"description": "Serials of earlier certificates."})
