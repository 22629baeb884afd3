"""Marshmallow schemas of the review API (the HTTP edge only)."""
from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, validate

from marketplace.listings.schemas import VersionOutSchema
from marketplace.listings.states import ProductAction
from marketplace.review.checklist import ChecklistItem, ChecklistResult, Decision, PrescreenOutcome, PrescreenState
from marketplace.review.prescreen_report import PrescreenReport
from marketplace.schema_fields import choice, filled, text
from marketplace.text import NON_BLANK_TEXT_PATTERN

QUEUE_STATUSES = ("submitted", "in_review", "mine", "decided")


class QueueQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(QUEUE_STATUSES),
                           metadata={"description": "Default: the open queue (submitted and in review)."})
    organization = text(80, metadata={"description": "Seller organization slug."})
    category = text(40)
    prescreen = choice(PrescreenOutcome)
    # Query-string values are always strings: a strict integer field would refuse every one of them.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# What the services require beyond each field: a comment (not blank) where stated.
def _comment_unless(field: str, values: list[str]) -> dict:
    return {"anyOf": [{"properties": {field: {"enum": values}}},
                      {"properties": {"comment": {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN}},
                       "required": ["comment"]}]}


class AnswerInSchema(Schema):
    OPENAPI_RULES: ClassVar[dict] = _comment_unless(
        "result", [ChecklistResult.PASS.value, ChecklistResult.NOT_APPLICABLE.value])

    result = choice(ChecklistResult, required=True)
    comment = text(5000, metadata={"description": "Required for a failed item: the seller must learn what to fix."})


class ChecklistInSchema(Schema):
    answers = fields.Dict(keys=fields.String(validate=validate.OneOf([i.value for i in ChecklistItem])),
                          values=fields.Nested(AnswerInSchema), required=True)


class DecisionInSchema(Schema):
    OPENAPI_RULES: ClassVar[dict] = _comment_unless("decision", [Decision.APPROVE.value])

    decision = choice(Decision, required=True)
    comment = text(5000, metadata={"description": "For the seller; required unless approving."})
    answers = fields.Dict(keys=fields.String(validate=validate.OneOf([i.value for i in ChecklistItem])),
                          values=fields.Nested(AnswerInSchema))


class ProductStatusInSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(
        [a.value for a in ProductAction if a != ProductAction.LIST]))
    reason = filled(5000, required=True)


class FindingSchema(Schema):
    item = fields.String()
    rule = fields.String()
    outcome = fields.String()
    message = fields.String()
    details = fields.Dict()


class PrescreenSchema(Schema):
    outcome = fields.String(metadata={"enum": [o.value for o in PrescreenOutcome]})
    summary = fields.String(metadata={"description": "The outcome in words, saying what a partial scan covered: "
                                                     "\"scanned the first 200,000 of 1,234,567 rows of big.csv "
                                                     "(deliverable); not checked beyond, so it needs review\"."})
    complete = fields.Boolean(metadata={"description": "Whether every file was scanned to its end (none stopped at "
                                                       "the row cap)."})
    ran_at = fields.DateTime()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    findings = fields.List(fields.Nested(FindingSchema))
    files = fields.List(fields.Dict())

    def dump(self, obj, *a, **kw):  # accepts a report or its stored dict
        report = obj if isinstance(obj, PrescreenReport) else PrescreenReport.from_dict(obj)
        # Each finding's message in the client's language (Accept-Language), as every API message is.
        findings = [{"item": f.item.value, "rule": f.rule, "outcome": f.outcome.value, "message": f.shown,
                     "details": f.details} for f in report.findings]
        return {**report.to_dict(), "counts": report.counts(), "findings": findings}


class ListingCheckSchema(Schema):
    """A seller's "check my listing": queued, running, done (with its report) or failed."""

    state = fields.Method("_state", metadata={"enum": [s.value for s in PrescreenState]})
    requested_at = fields.Method("_requested_at", metadata={"format": "date-time"})
    finished_at = fields.Method("_finished_at", metadata={"format": "date-time"}, allow_none=True)
    result_url = fields.String(metadata={"description": "Where the check's state and report are read (GET)."})
    report = fields.Method("_report", allow_none=True,
                           metadata={"description": "The pre-screen's report once the check is done (else null)."})

    def _state(self, out):
        return out["check"].state.value

    def _requested_at(self, out):
        return out["check"].requested_at.isoformat()

    def _finished_at(self, out):
        finished = out["check"].finished_at
        return finished.isoformat() if finished else None

    def _report(self, out):
        check = out["check"]
        return PrescreenSchema().dump(check.report) if check.state == PrescreenState.DONE else None


class AnswerOutSchema(Schema):
    item = fields.String()
    result = fields.String()
    comment = fields.String()
    answered_at = fields.DateTime()


class RoundOutSchema(Schema):
    number = fields.Integer()
    submitted_at = fields.DateTime()
    seller_note = fields.String()
    reviewer = fields.Function(lambda r: r.reviewer.display_name if r.reviewer else None)
    claimed_at = fields.DateTime(allow_none=True)
    decision = fields.String(allow_none=True)
    decision_comment = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    answers = fields.List(fields.Nested(AnswerOutSchema))
    prescreen_state = fields.Function(lambda r: PrescreenState(r.prescreen_state).value, metadata={
        "enum": [s.value for s in PrescreenState],
        "description": "The pre-screen runs as a background job after the submission: queued, running, done or "
                       "failed; the report is there once it is done."})
    prescreen_rows = fields.Integer(metadata={"description": "Rows scanned so far (all of them once done)."})
    prescreen_error = fields.String(metadata={"description": "Why the last attempt failed, if it did."})
    prescreen = fields.Function(
        lambda r: PrescreenSchema().dump(r.prescreen) if r.prescreen_state == PrescreenState.DONE else None,
        allow_none=True)


class CaseSummarySchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    version = fields.Function(lambda c: c.version.number)
    version_label = fields.Function(lambda c: c.version.label)
    status = fields.Function(lambda c: c.version.status.value)
    title_en = fields.Function(lambda c: c.version.title_en)
    title_zh = fields.Function(lambda c: c.version.title_zh)
    category = fields.Function(lambda c: c.version.category)
    organization = fields.Function(lambda c: c.organization.slug)
    reviewer = fields.Function(lambda c: c.reviewer.display_name if c.reviewer else None)
    submitted_at = fields.DateTime()
    prescreen_outcome = fields.String(allow_none=True, metadata={"description": "None until the pre-screen is done."})
    prescreen_state = fields.Function(lambda c: PrescreenState(c.prescreen_state).value,
                                      metadata={"enum": [s.value for s in PrescreenState]})
    prescreen_rows = fields.Integer()
    decision = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class CaseOutSchema(CaseSummarySchema):
    rounds = fields.List(fields.Nested(RoundOutSchema))
    content = fields.Function(lambda c: VersionOutSchema().dump(c.version))


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class SellerReviewSchema(Schema):
    status = fields.Function(lambda c: c.version.status.value)
    registration_number = fields.Function(lambda c: c.version.registration_number)
    rounds = fields.List(fields.Nested(RoundOutSchema))


class ChainReportSchema(Schema):
    ok = fields.Boolean()
    checked = fields.Integer()
    broken_at = fields.Integer(allow_none=True)
    reason = fields.String()
