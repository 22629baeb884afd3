"""The webhook endpoints API's bodies, and the events an endpoint receives (documented in the OpenAPI
``webhooks`` section)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.events.models import MAX_URL, EventType
from marketplace.events.signing import SIGNATURE_HEADER
from marketplace.events.webhooks import MAX_DESCRIPTION
from marketplace.inputs import MAX_ROW_ID
from marketplace.schema_fields import choices, flag, line, row_id, text


class EndpointInSchema(Schema):
    organization_id = row_id(required=True, metadata={"description": "An organization you own."})
    url = text(MAX_URL, required=True, metadata={
        "description": "An https:// (or http://) URL on a public address; private, loopback, link-local, multicast "
                       "and reserved addresses are refused, at registration and again at each delivery."})
    event_types = choices(EventType, required=True, metadata={"description": "The event types it receives."})
    description = line(MAX_DESCRIPTION, load_default="")


class EndpointChangeSchema(Schema):
    enabled = flag(required=True, metadata={"description": "False stops deliveries to it; true starts them again."})


class EndpointSchema(Schema):
    id = fields.Integer()
    organization_id = fields.Integer()
    url = fields.String()
    description = fields.String()
    event_types = fields.List(fields.String())
    enabled = fields.Boolean()
    created_at = fields.DateTime()
    secret_rolled_at = fields.DateTime(allow_none=True)


class EndpointWithSecretSchema(Schema):
    endpoint = fields.Nested(EndpointSchema)
    secret = fields.String(metadata={
        "description": f"The signing secret, shown this once: verify the {SIGNATURE_HEADER} header with it."})


class AttemptSchema(Schema):
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    latency_ms = fields.Integer()
    error = fields.String()
    next_retry_at = fields.DateTime(allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer()
    event_id = fields.Function(lambda d: d.event.public_id, metadata={"type": "string"})
    event_type = fields.Function(lambda d: d.event.type, metadata={"type": "string"})
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    tries = fields.List(fields.Nested(AttemptSchema), data_key="log")


class OrganizationQuerySchema(Schema):
    organization_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ROW_ID))


class EventSchema(Schema):
    """What an endpoint receives: POSTed as JSON, signed in the ``Webhook-Signature`` header
    (``t=TIMESTAMP,v1=HEX(HMAC-SHA256(secret, "TIMESTAMP.BODY"))``), its ``id`` also in ``Webhook-Id``. A delivery
    can arrive more than once (a retry after a lost answer, a replay): keep the ids you processed and skip a repeat.
    Answer 2xx within the timeout; anything else is retried with exponential back-off for up to three days."""

    id = fields.String(required=True, metadata={"description": "The event's id (evt_...): dedup by it."})
    type = fields.String(required=True, metadata={"enum": [t.value for t in EventType]})
    created = fields.Integer(required=True, metadata={"description": "Seconds since the epoch."})
    data = fields.Dict(required=True, metadata={
        "description": "product.*: {product: {id, slug, status}, reason} for suspended, reinstated and delisted; "
                       "product.version_listed: {product, version: {label, changelog, registration_number}, "
                       "previous_version: {label}}; product.dictionary_changed: the same and dictionary: {added: "
                       "[{name, type}], removed: [{name, type}], retyped: [{name, from, to}]}; licence.ending: "
                       "{licence: {serial, valid_until}, product: {id, slug}, days_before}."})


# Each event type an endpoint can receive, as an OpenAPI 3.1 ``webhooks`` entry would name it.
WEBHOOKS_DOC = {
    event_type.value: {"post": {
        "summary": f"{event_type.value}, POSTed to each endpoint that chose it",
        "parameters": [{"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
                        "description": "t=TIMESTAMP,v1=HEX(HMAC-SHA256(secret, \"TIMESTAMP.BODY\"))"},
                       {"name": "Webhook-Id", "in": "header", "required": True, "schema": {"type": "string"},
                        "description": "The event's id: deliveries can repeat, dedup by it."}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/WebhookEvent"}}}},
        "responses": {"2XX": {"description": "Received; anything else (or no answer in time) is retried."}},
    }} for event_type in EventType}
