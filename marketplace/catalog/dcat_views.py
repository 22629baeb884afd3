"""DCAT-AP documents of the listed catalog, for harvesters (no login):

- ``/catalog.jsonld``, ``/catalog.ttl``: the dcat:Catalog a page at a time (``?page=N``, from 1; the page size is
  ``DCAT_PAGE_SIZE``, 100 by default), with hydra paging links as ckanext-dcat publishes them. A page that is not a
  whole number from 1 is 400; a page past the last one is 404 (page 1 of an empty catalog is an empty catalog).
- ``/products/<slug>.jsonld``, ``/products/<slug>.ttl``: one listed product as a dcat:Dataset; 404 for any slug
  that is not listed (drafts, suspended and delisted products included).

Identifiers are built on ``PUBLIC_BASE_URL`` (the request's own root when it is not configured), so that a dataset
keeps one IRI however the catalog was reached. Errors come in the API's JSON error shape: harvesters read these.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from marketplace.catalog import dcat
from marketplace.catalog.services import (
    catalog_dates,
    first_approvals,
    listed_count,
    listed_product,
    listed_products,
)
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db

bp = Blueprint("dcat", __name__)

MEDIA_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle; charset=utf-8"}
DEFAULT_PAGE_SIZE = 100


@bp.errorhandler(DomainError)
def _error(error: DomainError):
    return jsonify(error.to_dict()), error.status


def public_base_url() -> str:
    """The root every identifier is built on: ``PUBLIC_BASE_URL``, else the request's own (CKAN's too)."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")


def _document(graph, fmt: str, alternate: str) -> Response:
    response = Response(dcat.serialize(graph, fmt), content_type=MEDIA_TYPES[fmt])
    other = "ttl" if fmt == "jsonld" else "jsonld"
    response.headers["Link"] = f'<{alternate}.{other}>; rel="alternate"; type="{MEDIA_TYPES[other].split(";")[0]}"'
    return response


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not re.fullmatch(r"[0-9]{1,30}", raw) or int(raw) < 1:
        raise DomainError(_("The page must be a whole number from 1 (got %(got)s).", got=repr(raw[:40])))
    return int(raw)


@bp.get("/catalog.jsonld", defaults={"fmt": "jsonld"})
@bp.get("/catalog.ttl", defaults={"fmt": "ttl"})
def catalog(fmt: str):
    base, session = public_base_url(), db.session
    number = _page_number()
    size = max(1, int(current_app.config.get("DCAT_PAGE_SIZE", DEFAULT_PAGE_SIZE)))
    page = dcat.CatalogPage(number=number, size=size, total=listed_count(session))
    if number > page.last:
        raise NotFound(_("Page %(number)d is past the last page of the catalog (%(last)d).", number=number,
                         last=page.last))
    products = listed_products(session, limit=page.size, offset=page.offset)
    graph = dcat.catalog_graph(
        products, base=base, page=page, page_url=lambda n: f"{base}{request.path}?page={n}",
        issued=first_approvals(session, [p.id for p in products]), dates=catalog_dates(session),
        licence_url=current_app.config.get("DCAT_CATALOG_LICENSE"),
    )
    return _document(graph, fmt, f"{base}/catalog")


@bp.get("/products/<slug>.jsonld", defaults={"fmt": "jsonld"})
@bp.get("/products/<slug>.ttl", defaults={"fmt": "ttl"})
def product(slug: str, fmt: str):
    base, session = public_base_url(), db.session
    found = listed_product(session, slug)
    graph = dcat.product_graph(found, base=base, issued=first_approvals(session, [found.id]).get(found.id))
    return _document(graph, fmt, f"{base}/products/{found.slug}")
