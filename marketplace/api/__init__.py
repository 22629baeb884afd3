"""The JSON API under /api/v1: flask-smorest (marshmallow + OpenAPI) with one error shape.

An error's ``message`` (and the messages of ``errors``) are in the language of Accept-Language; its ``code`` is
English and stable. Services translate their own refusals when they raise them; marshmallow's and webargs'
messages are translated here (``marketplace.library_messages``), and werkzeug's by status.

Writes (POST, PUT, PATCH, DELETE) authenticate before anything reads their body: flask-smorest's
``@blp.arguments`` parses the JSON before the handler asks for the token, so a before-request hook asks first and
an anonymous or bad-token write is 401 unread. The few writes anyone may make are listed in ``PUBLIC_WRITES``.
"""
from __future__ import annotations

import swagger_ui_bundle
from flask import Flask, jsonify, request, send_from_directory
from flask_babel import gettext as _
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from marketplace.accounts.auth import require_api_user
from marketplace.api.contract import PUBLIC_OPERATIONS, ContractPlugin, ErrorSchema, dict_keys2properties
from marketplace.errors import DomainError, error_headers, http_error_words
from marketplace.inputs import API_PREFIX, BODY_METHODS
from marketplace.library_messages import translated, translated_errors

WRITE_METHODS = BODY_METHODS
# Write operations that take no token (the OpenAPI document marks every public operation ``security: []``).
PUBLIC_WRITES = frozenset({"licensing_api.verify_certificate"}) & PUBLIC_OPERATIONS


def error_body(status: int, code: str, message: str, errors: dict | None = None) -> dict:
    return {"status": status, "code": code, "message": message, "errors": errors or {}}


def _flatten_webargs(messages: dict) -> dict:
    # webargs nests errors under the location ("json", "query"...); clients want the field names.
    out: dict = {}
    for location, fields in (messages or {}).items():
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out[location] = fields
    return out


class MarketplaceApi(Api):
    ERROR_SCHEMA = ErrorSchema  # documents the body the handlers below send

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith(API_PREFIX):
            from marketplace.web import render_http_error
            return render_http_error(error)
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        if status == 422:
            body = error_body(422, "invalid_input", _("The request has invalid fields."),
                              translated_errors(_flatten_webargs(data.get("messages", {}))))
        else:
            code = (error.name or "error").lower().replace(" ", "_")
            message = translated(data["message"]) if data.get("message") else http_error_words(error)[1]
            body = error_body(status, code, message)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        # Keep the headers werkzeug's exception carries (Allow on a 405, Retry-After on a 429 or 503).
        headers.update((name, value) for name, value in error.get_headers() if name.lower() != "content-type")
        return jsonify(body), status, headers


api = MarketplaceApi()


def init_api(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
        "info": {"description": "Seller listings of the data product marketplace. Authenticate with a personal "
                                "API token: `Authorization: Bearer <token>`."},
    })
    api.init_app(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    api.ma_plugin.converter.add_attribute_function(dict_keys2properties)
    from flask_smorest.spec.plugins import integerconverter2paramschema

    from marketplace.inputs import RowIdConverter

    api.register_converter(RowIdConverter, integerconverter2paramschema)

    @app.before_request
    def _authenticate_api_writes():
        if (request.method in WRITE_METHODS and request.path.startswith(f"{API_PREFIX}/")
                and request.url_rule is not None and request.endpoint not in PUBLIC_WRITES):
            require_api_user()

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if request.path.startswith(API_PREFIX):
            headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else error_headers(error)
            return jsonify(error.to_dict()), error.status, headers
        from marketplace.web import render_domain_error
        return render_domain_error(error)

    @app.route(f"{API_PREFIX}/docs/static/<path:filename>")
    def swagger_static(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
