"""Orders in the JSON API: thin handlers that parse, call one order service and dump (the request commits).

A buyer organization is named by its slug (``organization``), as everywhere else in the API. Every refusal is the
API's one error shape; a scenario the plan's terms do not allow is 422 with the field named in ``errors``
(``purpose``, ``territory`` ...). Orders of organizations the caller does not belong to are 404.
"""
from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.accounts.models import Organization, User
from marketplace.accounts.services import organization_for_member
from marketplace.errors import DomainError, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.schemas import (
    CrossBoundaryOutSchema,
    EvidenceDecisionInSchema,
    EvidenceInSchema,
    OrderCreateSchema,
    OrderDecisionInSchema,
    OrderListQuerySchema,
    OrderOutSchema,
    PositionPreviewInSchema,
    PositionPreviewOutSchema,
    RefundInSchema,
)

blp = Blueprint("orders_api", __name__,
                description="Orders: a plan requested with a declared use scenario, the seller's decisions, refunds")
ORDER = "/orders/<int:order_id>"

IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 100},
    "description": "Repeat a request safely: the same key returns the order it first created (200 instead of 201).",
}


# What a compliance reviewer may do through the API with a trade they are no party to: read it, decide its evidence.
_REVIEWER_ENDPOINTS = frozenset({"orders_api.get_order", "orders_api.decide_evidence"})


@blp.before_request
def _identify_first():
    """Who is asking, and whether they may see the order, before any body is read (the services ask again before
    they act)."""
    user = require_api_user()
    args = request.view_args or {}
    if "order_id" in args:
        find = orders.order_for_api if request.endpoint in _REVIEWER_ENDPOINTS else orders.order_for
        find(db.session, user, args["order_id"])


def _order(order_id: int) -> Order:
    return orders.order_for(db.session, require_api_user(), order_id)


def _readable_order(order_id: int) -> Order:
    """The order for its parties, or for a compliance reviewer deciding its cross-boundary evidence."""
    return orders.order_for_api(db.session, require_api_user(), order_id)


def _buyer_organization(user: User, slug: str) -> Organization:
    try:
        return organization_for_member(db.session, user, slug)
    except NotFound:
        raise ValidationFailed(_("Unknown organization."),
                               {"organization": [_("You are not a member of it.")]}) from None


@blp.route("/orders", methods=["POST"])
@blp.arguments(OrderCreateSchema)
@blp.response(201, OrderOutSchema)
@blp.alt_response(200, schema=OrderOutSchema, description="The order first created with this Idempotency-Key.")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def create_order(data):
    """Request a licence: a plan, the buyer organization (slug), the use scenario and the terms' acceptance.

    A plan that needs the seller's approval (or a purpose the terms cannot decide) waits for the seller; a paid
    plan waits for payment; a free plan is fulfilled at once. A scenario the plan's terms do not allow is 422 with
    the reason per field; a sold-out plan or an order already open for the plan is 409."""
    user = require_api_user()
    organization = _buyer_organization(user, data["organization"])
    key = request.headers.get("Idempotency-Key", "")
    req = orders.LicenceRequest(plan_id=data["plan_id"], organization_id=organization.id,
                                  scenario=data["scenario"], accept_terms=data["accept_terms"], idempotency_key=key)
    try:
        order, created = orders.place_order(db.session, user, req)
    except DomainError as exc:
        if "organization_id" in exc.errors:  # the service's name for what the API calls ``organization``
            exc.errors["organization"] = exc.errors.pop("organization_id")
        raise
    return order, 201 if created else 200


@blp.route("/orders")
@blp.arguments(OrderListQuerySchema, location="query")
@blp.response(200, OrderOutSchema(many=True))
def list_orders(query):
    """Orders, newest first: by default those your organizations placed (``organization`` narrows them to one);
    with ``role=seller&organization=<slug>`` the latest 200 orders of that organization's products."""
    user = require_api_user()
    slug = query.get("organization")
    if query["role"] == "seller":
        if not slug:
            raise ValidationFailed(_("Name the selling organization."),
                                   {"organization": [_("Required with role=seller.")]})
        return orders.seller_orders(db.session, user, organization_for_member(db.session, user, slug))
    organization = organization_for_member(db.session, user, slug) if slug else None
    return orders.buyer_orders(db.session, user, organization.id if organization else None)


@blp.route(ORDER)
@blp.response(200, OrderOutSchema)
def get_order(order_id):
    """One order of your organizations (as buyer or seller); a compliance reviewer reads a trade with a
    cross-boundary position too."""
    return _readable_order(order_id)


@blp.route(f"{ORDER}/cancel", methods=["POST"])
@blp.response(200, OrderOutSchema)
def cancel_order(order_id):
    """Cancel an order before it is paid (the buyer; 409 once paid or closed)."""
    order = _order(order_id)
    orders.cancel_order(db.session, require_api_user(), order)
    return order


@blp.route(f"{ORDER}/decision", methods=["POST"])
@blp.arguments(OrderDecisionInSchema)
@blp.response(200, OrderOutSchema)
def decide_order(data, order_id):
    """The seller approves a request (message optional) or declines it (message required)."""
    order = _order(order_id)
    orders.decide_order(db.session, require_api_user(), order, data["decision"], data.get("message", ""))
    return order


@blp.route(f"{ORDER}/refund", methods=["POST"])
@blp.arguments(RefundInSchema)
@blp.response(200, OrderOutSchema)
def refund_order(data, order_id):
    """Refund a fulfilled order through the provider that took the money and revoke its licence (the seller or a
    platform admin; a reason is required)."""
    order = _order(order_id)
    orders.refund_order(db.session, require_api_user(), order, data["reason"], current_app.extensions["payments"])
    return order


@blp.route("/orders/cross-boundary-preview", methods=["POST"])
@blp.arguments(PositionPreviewInSchema)
@blp.response(200, PositionPreviewOutSchema)
def preview_cross_boundary(data):
    """The cross-boundary position a request for the plan would get now, with the rule, its clause and why; the
    request itself decides again, counting the seller's transfers under its lock."""
    user = require_api_user()
    organization = _buyer_organization(user, data["organization"])
    return orders.preview_for_request(db.session, user, data["plan_id"], organization, data["territory"])


@blp.route(f"{ORDER}/cross-boundary/evidence", methods=["POST"])
@blp.arguments(EvidenceInSchema)
@blp.response(200, CrossBoundaryOutSchema)
def submit_evidence(data, order_id):
    """The buyer gives the filing number of the mechanism the trade needs (409 when it needs none, the evidence
    awaits the seller or is confirmed, or its deadline passed)."""
    order = _order(order_id)
    return orders.submit_evidence(db.session, require_api_user(), order, data["filing_number"],
                                  data.get("note", ""))


@blp.route(f"{ORDER}/cross-boundary/decision", methods=["POST"])
@blp.arguments(EvidenceDecisionInSchema)
@blp.response(200, CrossBoundaryOutSchema)
def decide_evidence(data, order_id):
    """The seller (or a compliance reviewer) confirms the buyer's evidence or rejects it with a reason (409 once
    the evidence deadline passed)."""
    order = _readable_order(order_id)
    return orders.decide_evidence(db.session, require_api_user(), order, data["decision"], data.get("reason", ""))
