"""The buyer's product page: a listed product through its approved listed version, public, read-only.

Everything the page shows is loaded in a fixed number of queries whatever a product carries: the product with
its seller and listed content (``catalog.services.listed_product``, eager-loaded), its approved versions, and
its related products (one query each).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from marketplace.catalog.preview import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, preview_asset
from marketplace.catalog.services import approved_versions, listed_product, related_entries
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.listings.models import Asset, ProductVersion
from marketplace.listings.vocab import AssetKind

bp = Blueprint("product", __name__)




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
        versions=approved_versions(db.session, product), related=related_entries(db.session, product),
        sample=sample, samples=samples, preview=preview, alternates=alternates,
        deliverables=[a for a in version.assets if a.kind == AssetKind.DELIVERABLE],
        limits={"rows": MAX_ROWS, "columns": MAX_COLUMNS, "cell": MAX_CELL_CHARS},
    )
    links = ", ".join(f'<{href}>; rel="alternate"; type="{mime}"' for href, mime in alternates)
    return html, 200, {"Link": links}
