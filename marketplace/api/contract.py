"""What the OpenAPI document says beyond each operation's own schemas, derived from the rules the API enforces.

- The error body is the one shape of ``marketplace.errors``: ``{"status": int, "code": str, "message": str,
  "errors": {...}}``.
- Who may call: operations in ``PUBLIC_OPERATIONS`` take no token (``security: []``); every other one needs the
  bearer token (the document's default).
- Which errors: every operation lists the 4xx it can answer, in the error shape: 400 (malformed JSON, NUL or
  control characters), 401 without a valid token, 403 when the token's user may not act, 404 for rows the caller
  cannot see, 409 for a state that forbids the change, 413 for a body over its cap, 422 for invalid fields, 429
  past a rate limit.
- What text is accepted: every string a request carries (query, header, JSON; the keys of free-form objects too)
  refuses the control characters ``marketplace.inputs`` refuses (400), which the document states as a ``pattern``;
  names and titles carry the narrower single-line pattern of ``marketplace.text`` in their own field's metadata.
- Rules across fields (a free plan costs nothing, declining needs a message) are stated by the schema class in
  ``OPENAPI_RULES``. Rules about other rows or state (an organization you belong to, a cursor a page gave) cannot
  be stated in a schema; the contract test names the operations that have them.
- 5xx (a 503 while the database or storage is down) are the ``default`` response, in the same error shape.
"""
from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin
from marshmallow import Schema, fields, validate

from marketplace.text import TEXT_PATTERN

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Operations anyone may call without a token.
PUBLIC_OPERATIONS = frozenset({"catalog_api.catalog", "reference_api.licences", "licensing_api.verify_certificate",
                               "assessments_api.list_providers", "assessments_api.get_provider",
                               "assessments_api.get_report", "notices_api.list_notices", "notices_api.get_notice",
                               "notices_api.get_registration"})
# Token operations about the caller's own account only: nothing to be refused (403) or not found (404).
OWN_OPERATIONS = frozenset({"accounts_api.me", "accounts_api.list_organizations", "accounts_api.create_organization",
                            "notifications_api.list_notifications", "notifications_api.mark_read",
                            "licensing_api.list_licences", "reference_api.convert_script"})
# Writes that change no lifecycle or unique row, so never 409.
WRITES_WITHOUT_CONFLICT = frozenset({"accounts_api.create_organization", "notifications_api.mark_read",
                                     "finance_api.set_fee",
                                     "listings_api.create_product", "licensing_api.verify_certificate",
                                     "reference_api.convert_script", "webhooks_api.create_endpoint",
                                     "webhooks_api.change_endpoint", "webhooks_api.delete_endpoint",
                                     "webhooks_api.roll_secret", "webhooks_api.replay_delivery"})
# Reads that look a row up by a query value (an organization slug, a dataset name): 404 when there is none.
# Operations that call the payment provider, which may refuse the payment or refund (402 payment_failed).
PAYMENT_CALLS = frozenset({"orders_api.refund_order"})
READS_THAT_LOOK_UP = frozenset({"reference_api.source_lookup", "listings_api.list_products",
                                "orders_api.list_orders", "review_api.queue", "webhooks_api.list_endpoints"})


class ErrorSchema(Schema):
    """The one error body of the API (``marketplace.errors.DomainError.to_dict`` and the HTTP error handler)."""

    status = fields.Integer(required=True, metadata={"description": "The HTTP status code, repeated."})
    code = fields.String(required=True, metadata={
        "description": "A stable machine-readable code: not_found, invalid_input, validation_failed, conflict ..."})
    message = fields.String(required=True, metadata={"description": "What went wrong, for people."})
    errors = fields.Dict(required=True, metadata={
        "description": "Per-field messages (field name to a list of messages, or to a nested object of them); "
                       "empty when the error is not about fields."})


def _rate_limited(endpoint: str, method: str) -> bool:
    from marketplace.ratelimit import LIMITS

    return method in WRITE_METHODS or any(endpoint in rule.endpoints for rule in LIMITS)


def error_statuses(endpoint: str, method: str, operation: dict, has_path_ids: bool) -> list[int]:
    """The 4xx statuses an operation can answer, from who may call it, what its path names and what it reads."""
    public = endpoint in PUBLIC_OPERATIONS
    has_input = "requestBody" in operation or any(
        isinstance(p, dict) and p.get("in") in ("query", "header") for p in operation.get("parameters", []))
    statuses = {400}
    if public and has_path_ids:
        statuses.add(404)
    if not public:
        statuses.add(401)
        if endpoint not in OWN_OPERATIONS:
            statuses.add(403)
            if has_path_ids or endpoint in READS_THAT_LOOK_UP or method in WRITE_METHODS:
                statuses.add(404)
        if method in WRITE_METHODS and endpoint not in WRITES_WITHOUT_CONFLICT:
            statuses.add(409)
    elif has_path_ids:  # a public read of a row by its id or number: 404 when there is none
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(413)
    if has_input and endpoint != "licensing_api.verify_certificate":
        statuses.add(422)
    if _rate_limited(endpoint, method):
        statuses.add(429)
    if endpoint in PAYMENT_CALLS:
        statuses.add(402)
    return sorted(statuses)


# Any JSON value whose strings (object keys included) the API accepts: what a free-form object may hold. Keys are
# stated with ``patternProperties``: OpenAPI 3.0 schemas are JSON Schema draft 4, which has no ``propertyNames``.
JSON_TEXT = "JsonText"
_JSON_TEXT_REF = {"$ref": f"#/components/schemas/{JSON_TEXT}"}
JSON_TEXT_SCHEMA = {"anyOf": [
    {"type": "string", "pattern": TEXT_PATTERN}, {"type": "number"}, {"type": "boolean"}, {"enum": [None]},
    {"type": "array", "items": _JSON_TEXT_REF},
    {"type": "object", "patternProperties": {TEXT_PATTERN: _JSON_TEXT_REF}, "additionalProperties": False},
]}


def constrain_text(schema: dict, components: dict, seen: set[str]) -> None:
    """Give every string of a request schema (following references, object keys included) the pattern of the
    characters the API accepts, unless it states a narrower rule of its own (a pattern, an enum or a format)."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen and name in components:
            seen.add(name)
            constrain_text(components[name], components, seen)
        return
    kind = schema.get("type")
    if kind == "string" and not ({"pattern", "enum", "format"} & schema.keys()):
        schema["pattern"] = TEXT_PATTERN
    for prop in (schema.get("properties") or {}).values():
        constrain_text(prop, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            constrain_text(schema[key], components, seen)
    if kind == "object" and not schema.get("properties") and schema.get("additionalProperties") in (None, True, {}):
        schema["patternProperties"] = {TEXT_PATTERN: _JSON_TEXT_REF}
        schema["additionalProperties"] = False
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            constrain_text(sub, components, seen)


def dict_keys2properties(self, field, **kwargs) -> dict:
    """An apispec attribute function: a Dict field whose keys are a closed list (``OneOf``) is an object with those
    properties and no others; other key rules (a length) become ``propertyNames``."""
    if not isinstance(field, fields.Dict) or field.key_field is None:
        return {}
    choices = next((v.choices for v in field.key_field.validators if isinstance(v, validate.OneOf)), None)
    if choices is None:
        return {"propertyNames": self.field2property(field.key_field)}
    value = self.field2property(field.value_field) if field.value_field is not None else {}
    return {"properties": {key: value for key in choices}, "additionalProperties": False}


def _requires_something(schema: dict, components: dict) -> bool:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[1], {})
    return schema.get("type") != "object" or bool(schema.get("required"))


class ContractPlugin(BasePlugin):
    """An apispec plugin completing each operation (its security, its 4xx responses, its accepted text) and each
    schema with the rules across its fields that a schema class states in ``OPENAPI_RULES`` (``anyOf``, ``not``,
    ``allOf``): the ones the services check that no single field can say."""

    def init_spec(self, spec) -> None:
        self.spec = spec
        spec.components.schema(JSON_TEXT, JSON_TEXT_SCHEMA)

    def schema_helper(self, name, definition, **kwargs) -> dict | None:
        schema = kwargs.get("schema")
        rules = getattr(schema, "OPENAPI_RULES", None)
        return dict(rules) if rules else None

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        endpoint = rule.endpoint if rule is not None else ""
        components = self.spec.components.schemas
        for method, operation in (operations or {}).items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if endpoint in PUBLIC_OPERATIONS:
                operation["security"] = []
            responses = operation.setdefault("responses", {})
            for status in error_statuses(endpoint, method, operation, bool(rule and rule.arguments)):
                responses.setdefault(str(status), HTTPStatus(status).name)
            seen: set[str] = set()
            for parameter in operation.get("parameters", []):
                if isinstance(parameter, dict) and parameter.get("in") in ("query", "header"):
                    constrain_text(parameter.get("schema", {}), components, seen)
            body = operation.get("requestBody") or {}
            for media in (body.get("content") or {}).values():
                constrain_text(media.get("schema", {}), components, seen)
                if not _requires_something(media.get("schema", {}), components):
                    body["required"] = False  # nothing to require: no body is an empty change
