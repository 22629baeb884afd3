"""Marshmallow schemas of the catalog API (the HTTP edge only)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.catalog.search import FACETS, MAX_CURSOR_CHARS, MAX_PER_PAGE, SORTS
from marketplace.schema_fields import text

_FACET_VALUES = {name: fields.List(text(80), metadata={"description": f"{label} (repeat for several: OR)"})
                 for name, label in FACETS.items()}


CatalogQuerySchema = Schema.from_dict({
    "q": text(1000, metadata={"description": "Words in English or Chinese (trimmed to 200 characters)."}),
    "sort": fields.String(load_default="relevance", validate=validate.OneOf(list(SORTS))),
    "page": fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000)),
    "per_page": fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE)),
    "cursor": text(MAX_CURSOR_CHARS,
                   metadata={"description": "next_cursor of the previous page (newest and price orders)."}),
    **_FACET_VALUES,
}, name="CatalogQuery")


class FacetValueSchema(Schema):
    value = fields.String()
    label = fields.String()
    count = fields.Integer()
    selected = fields.Boolean()


class CatalogItemSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    title_en = fields.String()
    title_zh = fields.String()
    summary_en = fields.String()
    summary_zh = fields.String()
    seller = fields.Function(lambda e: {"slug": e.seller_slug, "name": e.seller_name})
    category = fields.String(allow_none=True)
    regions = fields.Function(lambda e: [r for r in e.regions.split(",") if r])
    registration_number = fields.String(allow_none=True)
    classification = fields.String(allow_none=True)
    personal_info = fields.String(allow_none=True)
    from_price = fields.Function(lambda e: {"amount": e.min_amount, "currency": e.min_currency})
    plan_count = fields.Integer()
    listed_at = fields.DateTime()
    url = fields.Function(lambda e: f"/products/{e.slug}")


class CatalogPageSchema(Schema):
    items = fields.List(fields.Nested(CatalogItemSchema))
    total = fields.Integer()
    page = fields.Function(lambda r: r.query.page)
    per_page = fields.Function(lambda r: r.query.per_page)
    next_cursor = fields.String(allow_none=True)
    fuzzy = fields.Boolean(metadata={"description": "No exact match: these are close matches."})
    notes = fields.List(fields.String())
    facets = fields.Function(lambda r: {name: FacetValueSchema(many=True).dump(values)
                                        for name, values in r.facets.items()})
