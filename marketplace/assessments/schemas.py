"""The provider journey's JSON bodies (marshmallow, at the HTTP edge only): what each write takes and what it
answers. The services check the rules and refuse with the project's error shape."""
from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, validate

from marketplace.assessments.fees import MAX_FEE
from marketplace.assessments.states import (
    REPORT_KINDS,
    AssessmentKind,
    AssessmentStatus,
    ProviderStatus,
)
from marketplace.listings.vocab import Currency
from marketplace.schema_fields import choice, choices, filled, line, row_id, strict_int, text
from marketplace.text import NON_BLANK_TEXT_PATTERN

KINDS = [k.value for k in AssessmentKind]
FEE_STATES = ("none", "unpaid", "paid", "refunded", "cancelled")


class ProviderApplicationInSchema(Schema):
    services = choices(AssessmentKind, max_items=len(AssessmentKind), required=True,
                       metadata={"description": "The services the organization offers (at least one)."})
    qualifications = filled(5000, required=True)


class ProviderApplicationOutSchema(Schema):
    organization = fields.String(metadata={"description": "The applying organization's slug."})
    status = fields.String(metadata={"enum": [s.value for s in ProviderStatus]})
    services = fields.List(fields.String(metadata={"enum": KINDS}))
    qualifications = fields.String()
    applied_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String()


class AssessmentRequestInSchema(Schema):
    product_id = row_id(required=True)
    version = strict_int(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                         metadata={"description": "The version's number within the product."})
    provider = line(80, required=True, blank=False, metadata={"description": "The provider organization's slug."})
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in REPORT_KINDS]))
    note = text(5000)


class RequestDecisionInSchema(Schema):
    OPENAPI_RULES: ClassVar[dict] = {"anyOf": [
        {"properties": {"decision": {"enum": ["accept"]}}},
        {"properties": {"reason": {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN}}, "required": ["reason"]}]}

    decision = fields.String(required=True, validate=validate.OneOf(["accept", "decline"]))
    reason = text(5000, metadata={"description": "Required to decline: the seller reads it."})
    fee = strict_int(validate=validate.Range(min=0, max=MAX_FEE), allow_none=True, metadata={
        "description": "On accepting: the fee in minor units of currency (required with it). Above zero, the seller "
                       "pays it as an order before the provider may read the version's files or sign."})
    currency = choice(Currency, allow_none=True)


REPORT_DESCRIPTION = (
    "The report's fields by kind. compliance: legal_bases (one text per cited source, in order), "
    "personal_information, handling, classification, classification_reason, cross_boundary, conclusion (pass, "
    "pass_with_conditions, fail; core data must conclude fail), conclusion_text. quality: completeness_percent "
    "(text, e.g. \"99.5\"), records_examined, accuracy_checks ([{check, result: passed|failed, detail}]), "
    "timeliness_lag_days, summary. valuation: method (cost, income, market), value_low and value_high (minor "
    "units), currency, basis, assumptions.")


class ReportDraftInSchema(Schema):
    report = fields.Dict(keys=fields.String(validate=validate.Length(max=40)), required=True,
                         metadata={"description": REPORT_DESCRIPTION + " A draft may be incomplete."})


class ReportSignInSchema(Schema):
    report = fields.Dict(keys=fields.String(validate=validate.Length(max=40)), metadata={
        "description": REPORT_DESCRIPTION + " Without it, the saved draft is signed."})


class ReportWithdrawInSchema(Schema):
    reason = filled(5000, required=True)


class FeeStateSchema(Schema):
    state = fields.String(metadata={"enum": [*FEE_STATES], "description": (
        "none: no fee to pay; unpaid: the seller's payment is awaited; paid; refunded; cancelled: closed unpaid.")})
    amount = fields.Integer(allow_none=True, metadata={"description": "Minor units of currency."})
    currency = fields.String(allow_none=True)


class AssessmentOutSchema(Schema):
    number = fields.String()
    kind = fields.String(metadata={"enum": KINDS})
    status = fields.String(metadata={"enum": [s.value for s in AssessmentStatus]})
    product_id = fields.Integer()
    version = fields.Integer(metadata={"description": "The version's number within the product."})
    provider = fields.String(metadata={"description": "The provider organization's slug."})
    seller = fields.String(metadata={"description": "The seller organization's slug."})
    note = fields.String()
    decline_reason = fields.String()
    fee = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    fee_state = fields.Nested(FeeStateSchema, metadata={"description": "The fee's order as it stands."})
    draft = fields.Dict(allow_none=True, metadata={"description": "The report saved unsigned, if any."})
    draft_saved_at = fields.DateTime(allow_none=True)
    conclusion = fields.String(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawal_reason = fields.String()
