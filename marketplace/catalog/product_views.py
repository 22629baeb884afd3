"""The buyer's product page: a listed product through its approved listed version, public, read-only.

Everything the page shows is loaded in a fixed number of queries whatever a product carries: the product with
its seller and listed content (``catalog.services.listed_product``, eager-loaded), its approved versions, and
its related products (one query each).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import Text, case, cast, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager

from marketplace.catalog.preview import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, preview_asset
from marketplace.catalog.services import listed_product
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible
from marketplace.listings.states import VersionStatus
from marketplace.listings.view_helpers import TEMPLATE_HELPERS
from marketplace.listings.vocab import AssetKind

bp = Blueprint("product", __name__)

RELATED_LIMIT = 4
# Versions a reviewer approved: the one listed now and the ones it superseded (never drafts or versions in review).
APPROVED_STATES = (VersionStatus.APPROVED, VersionStatus.LISTED, VersionStatus.SUPERSEDED)


@bp.context_processor
def helpers() -> dict:
    return TEMPLATE_HELPERS


# ---------------------------------------------------------------- loading (one query each)


def approved_versions(session: Session, product: DataProduct) -> list[ProductVersion]:
    """The product's approved versions, newest first."""
    return list(session.scalars(
        select(ProductVersion)
        .where(ProductVersion.product_id == product.id, ProductVersion.status.in_(APPROVED_STATES),
               ProductVersion.approved_at.is_not(None))
        .order_by(ProductVersion.number.desc())
    ))


def related_products(session: Session, product: DataProduct, limit: int = RELATED_LIMIT) -> list[DataProduct]:
    """Other listed products sharing the category, a region or the seller, most in common first, with their
    listed version and seller loaded in the same query."""
    version = product.listed_version
    listed = aliased(ProductVersion)
    shared = [DataProduct.organization_id == product.organization_id]
    if version.category:
        shared.append(listed.category == version.category)
    # Regions are a JSON list; its text holds each region as a quoted string on SQLite and PostgreSQL alike.
    shared += [cast(listed.regions, Text).contains(f'"{region}"', autoescape=True) for region in version.regions or []]
    in_common = sum(case((condition, 1), else_=0) for condition in shared)
    query = (
        buyer_visible()
        .join(DataProduct.listed_version.of_type(listed))
        .join(DataProduct.organization)
        .where(DataProduct.id != product.id, or_(*shared))
        .options(contains_eager(DataProduct.listed_version.of_type(listed)), contains_eager(DataProduct.organization))
        .order_by(in_common.desc(), listed.approved_at.desc(), DataProduct.id)
        .limit(limit)
    )
    return list(session.scalars(query).unique())


def chosen_sample(version: ProductVersion, requested: int | None) -> tuple[Asset | None, list[Asset]]:
    """The sample to preview (the requested one if it is a sample of this version, else the first) and all of them."""
    samples = [a for a in version.assets if a.kind == AssetKind.SAMPLE]
    chosen = next((a for a in samples if a.id == requested), samples[0] if samples else None)
    return chosen, samples


# ---------------------------------------------------------------- the page


@bp.get("/products/<slug>")
def page(slug: str):
    try:
        product = listed_product(db.session, slug)
    except NotFound as exc:
        abort(404, exc.message)
    version = product.listed_version
    sample, samples = chosen_sample(version, request.args.get("sample", type=int))
    # Read per request (nothing is cached: the app is stateless); samples are small and the read is capped.
    preview = preview_asset(current_app.extensions["storage"], sample) if sample else None
    page_url = url_for("product.page", slug=product.slug)
    alternates = [(f"{page_url}.jsonld", "application/ld+json"), (f"{page_url}.ttl", "text/turtle")]
    html = render_template(
        "catalog/product.html", product=product, version=version, organization=product.organization,
        versions=approved_versions(db.session, product), related=related_products(db.session, product),
        sample=sample, samples=samples, preview=preview, alternates=alternates,
        deliverables=[a for a in version.assets if a.kind == AssetKind.DELIVERABLE],
        limits={"rows": MAX_ROWS, "columns": MAX_COLUMNS, "cell": MAX_CELL_CHARS},
    )
    links = ", ".join(f'<{href}>; rel="alternate"; type="{mime}"' for href, mime in alternates)
    return html, 200, {"Link": links}
