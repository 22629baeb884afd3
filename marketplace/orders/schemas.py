"""Marshmallow schemas of the orders API (the HTTP edge only: types and lengths).

The scenario's vocabularies are documented here but checked by ``licensing.scenario.parse_scenario``, so a bad
value comes back from the service with the same per-field message the pages show (``errors.purpose`` ...).
"""
from __future__ import annotations

from typing import ClassVar

from flask import request
from marshmallow import Schema, fields, validate

from marketplace.accounts.auth import api_user
from marketplace.crossborder.models import MAX_EVIDENCE_NOTE, MAX_FILING_NUMBER
from marketplace.crossborder.rules import Outcome
from marketplace.crossborder.states import EvidenceStatus
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.licensing import services as licences
from marketplace.licensing.scenario import MAX_DESCRIPTION, MAX_EXPECTED_USERS, MIN_DESCRIPTION, Purpose, Sector
from marketplace.licensing.schemas import PlanRefSchema, enum_values
from marketplace.listings.vocab import Territory
from marketplace.orders.common import MAX_MESSAGE
from marketplace.orders.crossborder import evidence_awaited, evidence_overdue, order_actions
from marketplace.orders.models import Order
from marketplace.orders.states import OrderActor, OrderStatus
from marketplace.schema_fields import filled, flag, row_id, strict_int, text
from marketplace.text import NON_BLANK_TEXT_PATTERN

# White space the service strips around a description (no control character: those are refused outright).
_SPACE = "[^\\S\x0b\x0c\x1c-\x1f]"
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f"
# Between MIN_DESCRIPTION and MAX_DESCRIPTION characters once stripped (licensing.scenario.parse_scenario).
DESCRIPTION_PATTERN = (f"^{_SPACE}*[^\\s{_CONTROL}][^{_CONTROL}]{{{MIN_DESCRIPTION - 2},{MAX_DESCRIPTION - 2}}}"
                       f"[^\\s{_CONTROL}]{_SPACE}*$")

ROLES = ("buyer", "seller")
DECISIONS = ("approve", "decline")
EVIDENCE_DECISIONS = ("confirm", "reject")


# ---------------------------------------------------------------- input


class ScenarioInSchema(Schema):
    purpose = text(40, required=True, metadata={"enum": enum_values(Purpose)})
    sector = text(40, required=True, metadata={"enum": enum_values(Sector)})
    territory = text(40, required=True, metadata={"enum": enum_values(Territory),
                                                  "description": "Where the data will be used."})
    expected_users = strict_int(required=True, metadata={"description": "How many people will use the data.",
                                                         "minimum": 1, "maximum": MAX_EXPECTED_USERS})
    description = text(MAX_DESCRIPTION * 2, required=True, metadata={
        "description": "The use in your words (20 to 2000 characters).", "pattern": DESCRIPTION_PATTERN})


class OrderCreateSchema(Schema):
    plan_id = row_id(required=True, metadata={"description": "A plan of a listed product's listed version."})
    organization = text(80, min_len=1, required=True,
                        metadata={"description": "Slug of the buyer organization you license for (one you belong "
                                                 "to; not the seller)."})
    scenario = fields.Nested(ScenarioInSchema, required=True)
    accept_terms = flag(required=True, metadata={"description": "You accept the plan's licence terms.",
                                                           "enum": [True]})


class OrderListQuerySchema(Schema):
    role = fields.String(load_default="buyer", validate=validate.OneOf(ROLES),
                         metadata={"description": "buyer (default): orders your organizations placed; seller: "
                                                  "orders of `organization`'s products."})
    organization = text(80, metadata={"description": "Organization slug; required with role=seller."})


class OrderDecisionInSchema(Schema):
    # Declining tells the buyer why.
    OPENAPI_RULES: ClassVar[dict] = {"anyOf": [{"properties": {"decision": {"enum": ["approve"]}}},
                               {"properties": {"message": {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN}},
                                "required": ["message"]}]}

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    message = text(MAX_MESSAGE, metadata={"description": "To the buyer; required to decline."})


class RefundInSchema(Schema):
    reason = filled(MAX_MESSAGE, required=True, metadata={"description": "The buyer is told this reason."})


# ---------------------------------------------------------------- output


def _caller_organization_ids() -> set[int]:
    """The API caller's organizations, looked up once per request (kept in the WSGI environ, like api_user)."""
    key = "marketplace.orders.caller_orgs"
    if key not in request.environ:
        user = api_user()
        request.environ[key] = set(licences.member_organization_ids(db.session, user)) if user else set()
    return request.environ[key]


def allowed_actions(order: Order) -> list[str]:
    """What the caller may do next with the order (cancel, approve, decline, refund), from the lifecycle."""
    user = api_user()
    if user is None:
        return []
    orgs = _caller_organization_ids()
    roles = set()
    if order.buyer_organization_id in orgs:
        roles.add(OrderActor.BUYER)
    if order.seller_organization_id in orgs:
        roles.add(OrderActor.SELLER)
    if user.is_admin:
        roles.add(OrderActor.ADMIN)
    return [action.value for action in order_actions(order, roles)]


class EvidenceInSchema(Schema):
    filing_number = filled(MAX_FILING_NUMBER, required=True, metadata={
        "description": "The filing number of the standard contract, the certificate's or the security assessment's "
                       "number."})
    note = text(MAX_EVIDENCE_NOTE, metadata={"description": "Anything the seller should know about the evidence."})


class EvidenceDecisionInSchema(Schema):
    # Rejecting tells the buyer why.
    OPENAPI_RULES: ClassVar[dict] = {"anyOf": [{"properties": {"decision": {"enum": ["confirm"]}}},
                               {"properties": {"reason": {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN}},
                                "required": ["reason"]}]}

    decision = fields.String(required=True, validate=validate.OneOf(EVIDENCE_DECISIONS))
    reason = text(MAX_EVIDENCE_NOTE, metadata={"description": "To the buyer; required to reject."})


class PositionPreviewInSchema(Schema):
    plan_id = row_id(required=True, metadata={"description": "A plan of a listed product's listed version."})
    organization = text(80, min_len=1, required=True, metadata={"description": "Slug of the buyer organization."})
    territory = text(40, required=True, metadata={"enum": enum_values(Territory),
                                                  "description": "Where the data will be used."})


class PositionPreviewOutSchema(Schema):
    outcome = fields.String(metadata={"enum": enum_values(Outcome)})
    outcome_label = fields.Function(lambda p: p.outcome.label)
    rule = fields.Function(lambda p: p.rule.key)
    source = fields.Function(lambda p: p.rule.source)
    clause = fields.Function(lambda p: p.rule.clause)
    explanation = fields.Function(lambda p: p.explanation, metadata={"description": "Why, in plain words."})
    individuals = fields.Integer(metadata={"description": "Individuals whose personal information this trade "
                                                          "provides outside the Mainland."})


class CrossBoundaryOutSchema(PositionPreviewOutSchema):
    """A stored position: the preview's fields and the evidence of its mechanism."""

    evidence_status = fields.String(metadata={"enum": enum_values(EvidenceStatus)})
    filing_number = fields.String()
    evidence_reason = fields.String(metadata={"description": "Why the seller rejected the evidence, if it did."})
    evidence_due = fields.DateTime(allow_none=True, metadata={
        "description": "Until when the evidence is awaited; the order expires if it is not confirmed by then."})
    evidence_document = fields.Function(
        lambda p: {"filename": p.evidence_filename, "content_type": p.evidence_content_type,
                   "size": p.evidence_size, "sha256": p.evidence_sha256} if p.evidence_key else None,
        allow_none=True, metadata={"type": "object", "description": "The evidence document the buyer attached on the "
                                                                    "order page (its sanitized name), if any."})


def evidence_still_awaited(order: Order) -> bool:
    return evidence_awaited(order) and not evidence_overdue(order.cross_boundary, utcnow())


class OrderOutSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String(metadata={"enum": enum_values(OrderStatus)})
    product = fields.Function(lambda o: o.product.slug, metadata={"description": "Product slug."})
    plan = fields.Nested(PlanRefSchema)
    buyer_organization = fields.Function(lambda o: o.buyer_organization.slug)
    seller_organization = fields.Function(lambda o: o.seller_organization.slug)
    amount = fields.Integer(metadata={"description": "Integer minor units of `currency` (cents, fen)."})
    currency = fields.String()
    scenario = fields.Function(lambda o: o.scenario.to_dict(), metadata={"type": "object"})
    deadline = fields.DateTime(allow_none=True, metadata={"description": "Until when the current step waits."})
    decision_message = fields.String()
    payment_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    licence = fields.Function(lambda o: o.licence.serial if o.licence else None, allow_none=True,
                              metadata={"description": "The serial of the licence issued, if any."})
    cross_boundary = fields.Nested(CrossBoundaryOutSchema, allow_none=True, metadata={
        "description": "The trade's cross-boundary position and the evidence of its mechanism (null on orders "
                       "placed before the rules)."})
    evidence_awaited = fields.Function(evidence_still_awaited, metadata={
        "type": "boolean",
        "description": "Whether the trade still waits for the evidence of its cross-boundary mechanism: false once "
                       "it is confirmed, the order is closed or the evidence deadline passed (`cross_boundary."
                       "evidence_status` keeps the evidence's own state)."})
    actions = fields.Function(allowed_actions, metadata={
        "type": "array", "items": {"type": "string"},
        "description": "What you may do next: cancel, approve, decline, refund."})
