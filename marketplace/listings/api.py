"""Seller listings in the JSON API: thin handlers that parse, call one service and dump."""
from __future__ import annotations

import dataclasses

from flask import current_app, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.accounts.services import organization_for_member
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.listings import assets as asset_services
from marketplace.listings import services
from marketplace.listings.schemas import (
    AssetQuerySchema,
    ComplianceInSchema,
    DictionaryInSchema,
    FieldOutSchema,
    InferenceOutSchema,
    InferInSchema,
    MetadataInSchema,
    NewVersionSchema,
    PlanInSchema,
    PlanOutSchema,
    PlanPatchSchema,
    ProductCreateSchema,
    ProductListQuerySchema,
    ProductOutSchema,
    SourceInSchema,
    SourceOutSchema,
    SourcePatchSchema,
    UploadedAssetSchema,
    VersionOutSchema,
)

blp = Blueprint("listings_api", __name__, description="Seller listings: products, versions and their content")
VERSION = "/products/<int:product_id>/versions/<int:number>"


def _storage():
    return current_app.extensions["storage"]


@blp.before_request
def _identify_first():
    """Who is asking, and whether they may see the product, before any body or query is read: a stranger's
    request is 401 or 404 whatever it carries (the services ask again before they act)."""
    user = require_api_user()
    if "product_id" in (request.view_args or {}):
        services.product_for_seller(db.session, user, request.view_args["product_id"])


def _version(product_id: int, number: int):
    return services.version_for_seller(db.session, require_api_user(), product_id, number)


@blp.route("/products")
@blp.arguments(ProductListQuerySchema, location="query")
@blp.response(200, ProductOutSchema(many=True))
def list_products(query):
    """Products of the organizations you belong to."""
    user = require_api_user()
    org_id = None
    if query.get("organization"):
        org_id = organization_for_member(db.session, user, query["organization"]).id
    return services.seller_products(db.session, user, org_id)


@blp.route("/products", methods=["POST"])
@blp.arguments(ProductCreateSchema)
@blp.response(201, ProductOutSchema)
def create_product(data):
    """Create a product draft (version 1.0) for one of your organizations."""
    user = require_api_user()
    org_slug = data.pop("organization")
    try:
        org = organization_for_member(db.session, user, org_slug)
    except NotFound:
        raise ValidationFailed(_("Unknown organization."),
                               {"organization": [_("You are not a member of it.")]}) from None
    product = services.create_product(db.session, user, org, data)
    return product


@blp.route("/products/<int:product_id>")
@blp.response(200, ProductOutSchema)
def get_product(product_id):
    return services.product_for_seller(db.session, require_api_user(), product_id)


@blp.route("/products/<int:product_id>/versions", methods=["POST"])
@blp.arguments(NewVersionSchema)
@blp.response(201, VersionOutSchema)
def create_version(data, product_id):
    """Open a new draft version of a listed product, copying the latest version."""
    user = require_api_user()
    product = services.product_for_seller(db.session, user, product_id)
    version = services.new_version(db.session, user, product, data["label"], data["changelog"])
    return version


@blp.route(VERSION)
@blp.response(200, VersionOutSchema)
def get_version(product_id, number):
    return _version(product_id, number)


@blp.route(VERSION, methods=["PATCH"])
@blp.arguments(MetadataInSchema)
@blp.response(200, VersionOutSchema)
def update_version(data, product_id, number):
    """Change the descriptive fields of a draft (or changes-requested) version."""
    version = _version(product_id, number)
    services.update_metadata(db.session, require_api_user(), version, data)
    return version


@blp.route(f"{VERSION}/sources", methods=["POST"])
@blp.arguments(SourceInSchema)
@blp.response(201, SourceOutSchema)
def add_source(data, product_id, number):
    """Cite an upstream open data source with its licence (SPDX id or a portal's terms)."""
    version = _version(product_id, number)
    source = services.add_source(db.session, require_api_user(), version, data)
    return source


@blp.route(f"{VERSION}/sources/<int:source_id>", methods=["PATCH"])
@blp.arguments(SourcePatchSchema)
@blp.response(200, SourceOutSchema)
def update_source(data, product_id, number, source_id):
    version = _version(product_id, number)
    source = services.update_source(db.session, require_api_user(), version, source_id, data)
    return source


@blp.route(f"{VERSION}/sources/<int:source_id>", methods=["DELETE"])
@blp.response(204)
def remove_source(product_id, number, source_id):
    version = _version(product_id, number)
    services.remove_source(db.session, require_api_user(), version, source_id)


@blp.route(f"{VERSION}/dictionary", methods=["PUT"])
@blp.arguments(DictionaryInSchema)
@blp.response(200, FieldOutSchema(many=True))
def replace_dictionary(data, product_id, number):
    """Replace the whole data dictionary."""
    version = _version(product_id, number)
    rows = services.replace_dictionary(db.session, require_api_user(), version, data["fields_"])
    return rows


@blp.route(f"{VERSION}/dictionary/infer", methods=["POST"])
@blp.arguments(InferInSchema)
@blp.response(200, InferenceOutSchema)
def infer_dictionary(data, product_id, number):
    """Infer the dictionary from an uploaded CSV, JSON or GeoJSON file; with ``apply`` save it."""
    user = require_api_user()
    version = _version(product_id, number)
    asset = asset_services.asset_of(version, data["asset_id"])
    result = asset_services.infer_from_asset(_storage(), asset)
    rows = asset_services.dictionary_from_inference(version, result)
    if data["apply"]:
        services.replace_dictionary(db.session, user, version, rows)
    return {
        "format": result.format, "rows_scanned": result.rows_scanned, "truncated": result.truncated,
        "geometry_types": result.geometry_types, "bbox": list(result.bbox) if result.bbox else None,
        "fields": [dataclasses.asdict(f) for f in result.fields], "dictionary": rows, "applied": data["apply"],
    }


@blp.route(f"{VERSION}/assets", methods=["POST"])
@blp.arguments(AssetQuerySchema, location="query")
@blp.response(201, UploadedAssetSchema)
@blp.doc(requestBody={"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
def upload_asset(query, product_id, number):
    """Upload a sample or deliverable as the raw request body (streamed to storage, size-capped).

    Refused (422 ``unsupported_file``) as on the seller's pages: a program, a file not of the product's formats,
    or one whose first bytes are not what its name says. A file identical to one already on the version is
    taken, named in ``identical_to`` and ``warnings``."""
    user = require_api_user()
    version = _version(product_id, number)
    asset = asset_services.upload_asset(
        db.session, _storage(), user, version, kind=query["kind"], filename=query["filename"],
        stream=request.stream, content_type=request.content_type,
        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
    )
    return asset


@blp.route(f"{VERSION}/assets/<int:asset_id>", methods=["DELETE"])
@blp.response(204)
def delete_asset(product_id, number, asset_id):
    version = _version(product_id, number)
    asset_services.delete_asset(db.session, _storage(), require_api_user(), version, asset_id)


@blp.route(f"{VERSION}/plans", methods=["POST"])
@blp.arguments(PlanInSchema)
@blp.response(201, PlanOutSchema)
def add_plan(data, product_id, number):
    """Add a pricing plan (free, one-time or subscription) with the licence terms it grants."""
    version = _version(product_id, number)
    plan = services.add_plan(db.session, require_api_user(), version, data)
    return plan


@blp.route(f"{VERSION}/plans/<int:plan_id>", methods=["PATCH"])
@blp.arguments(PlanPatchSchema)
@blp.response(200, PlanOutSchema)
def update_plan(data, product_id, number, plan_id):
    version = _version(product_id, number)
    plan = services.update_plan(db.session, require_api_user(), version, plan_id, data)
    return plan


@blp.route(f"{VERSION}/plans/<int:plan_id>", methods=["DELETE"])
@blp.response(204)
def remove_plan(product_id, number, plan_id):
    version = _version(product_id, number)
    services.remove_plan(db.session, require_api_user(), version, plan_id)


@blp.route(f"{VERSION}/compliance", methods=["PUT"])
@blp.arguments(ComplianceInSchema)
@blp.response(200, VersionOutSchema)
def set_compliance(data, product_id, number):
    """Declare the compliance profile; ``attest: true`` with ``attested_by_name`` records the attestation."""
    version = _version(product_id, number)
    attest, name = data.pop("attest"), data.pop("attested_by_name", None)
    services.set_compliance(db.session, require_api_user(), version, data, attest=attest, attested_by_name=name)
    return version
