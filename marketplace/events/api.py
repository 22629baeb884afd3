"""Webhook endpoints in the JSON API: an organization's owners list, register, disable, delete them, roll the
secret, read the delivery log and replay a delivery. Endpoints of other organizations are 404."""
from __future__ import annotations

from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.events import webhooks
from marketplace.events.schemas import (
    DeliverySchema,
    EndpointChangeSchema,
    EndpointInSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
    OrganizationQuerySchema,
)
from marketplace.extensions import db

blp = Blueprint("webhooks_api", __name__, description="Your organizations' webhook endpoints")


@blp.before_request
def _identify_first():
    """Who is asking, before any body or query is read."""
    require_api_user()


@blp.route("/webhook-endpoints")
@blp.arguments(OrganizationQuerySchema, location="query")
@blp.response(200, EndpointSchema(many=True))
def list_endpoints(query):
    """The webhook endpoints of an organization you own."""
    return webhooks.endpoints_of(db.session, require_api_user(), query["organization_id"])


@blp.route("/webhook-endpoints", methods=["POST"])
@blp.arguments(EndpointInSchema)
@blp.response(201, EndpointWithSecretSchema)
def create_endpoint(data):
    """Register an endpoint; the answer carries its signing secret, shown this once."""
    return webhooks.create_endpoint(db.session, require_api_user(), data["organization_id"], data["url"],
                                    data["event_types"], data["description"])


@blp.route("/webhook-endpoints/<int:endpoint_id>")
@blp.response(200, EndpointSchema)
def get_endpoint(endpoint_id):
    """One endpoint (never its secret)."""
    return webhooks.endpoint_for(db.session, require_api_user(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>", methods=["PATCH"])
@blp.arguments(EndpointChangeSchema)
@blp.response(200, EndpointSchema)
def change_endpoint(data, endpoint_id):
    """Disable or enable an endpoint."""
    return webhooks.set_enabled(db.session, require_api_user(), endpoint_id, data["enabled"])


@blp.route("/webhook-endpoints/<int:endpoint_id>", methods=["DELETE"])
@blp.response(204)
def delete_endpoint(endpoint_id):
    """Delete an endpoint and its delivery log."""
    webhooks.delete_endpoint(db.session, require_api_user(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>/roll-secret", methods=["POST"])
@blp.response(200, EndpointWithSecretSchema)
def roll_secret(endpoint_id):
    """Give the endpoint a new signing secret, shown this once; the old one signs nothing more."""
    return webhooks.roll_secret(db.session, require_api_user(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>/deliveries")
@blp.response(200, DeliverySchema(many=True))
def list_deliveries(endpoint_id):
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    return webhooks.deliveries_of(db.session, require_api_user(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/replay", methods=["POST"])
@blp.response(202, DeliverySchema)
def replay_delivery(endpoint_id, delivery_id):
    """Send a delivery again now; the receiver sees the same event id."""
    return webhooks.replay(db.session, require_api_user(), endpoint_id, delivery_id)
