"""The catalog in the JSON API: search with facets, public (no token needed)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE

from marketplace.catalog.schemas import CatalogPageSchema, CatalogQuerySchema
from marketplace.catalog.search import FACETS, SearchQuery, search
from marketplace.extensions import db

blp = Blueprint("catalog_api", __name__, description="The public catalog: listed products, search and facets")


def query_from(args: dict) -> SearchQuery:
    return SearchQuery(q=args.get("q", ""), sort=args["sort"], page=args["page"], per_page=args["per_page"],
                       cursor=args.get("cursor") or None,
                       filters={f: tuple(args[f]) for f in FACETS if args.get(f)})


@blp.route("/catalog")
@blp.arguments(CatalogQuerySchema, location="query", unknown=RAISE)  # "categroy=" is an error, not ignored
@blp.response(200, CatalogPageSchema)
def catalog(args):
    """Search listed products; facets (category, region, seller, licence, price, currency, delivery, format,
    frequency) combine with the words and with each other. Deep pages: sort by newest or price and pass
    ``cursor``."""
    return search(db.session, query_from(args))
