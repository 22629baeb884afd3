"""The catalog page: search box, facets, sort and pages, as a plain GET form (works without JavaScript)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from marketplace.bilingual import bilingual, first_of, lang_attr
from marketplace.catalog.cards import cards
from marketplace.catalog.search import FACETS, MAX_PER_PAGE, SORTS, SearchQuery, search
from marketplace.errors import ValidationFailed
from marketplace.extensions import db

bp = Blueprint("catalog", __name__)
PER_PAGE = 24


@bp.record_once
def _add_template_helpers(state) -> None:
    # Every page naming a product (catalog, orders, licences) shows its title in the reader's language first.
    state.app.jinja_env.globals.update(bilingual=bilingual, first_of=first_of, lang_attr=lang_attr)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return min(max(number, low), high)


def query_from_args(args: MultiDict) -> SearchQuery:
    """A search from the page's query string; nonsense (a bad page, an unknown sort) falls back to defaults."""
    sort = args.get("sort") if args.get("sort") in SORTS else "relevance"
    return SearchQuery(
        q=args.get("q", ""), sort=sort, page=_int(args.get("page"), 1, 1, 10_000 // PER_PAGE + 1),
        per_page=_int(args.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE), cursor=args.get("cursor") or None,
        filters={f: tuple(v[:80] for v in args.getlist(f)[:20]) for f in FACETS if args.getlist(f)},
    )


def catalog_url(query: SearchQuery, **change) -> str:
    """The page's URL for ``query`` with some parts changed (a facet toggled, another page ...)."""
    params: dict = {"q": query.q or None, "sort": query.sort if query.sort != "relevance" else None}
    filters = {f: list(v) for f, v in query.filters.items()}
    if "toggle" in change:
        facet, value = change.pop("toggle")
        values = filters.setdefault(facet, [])
        values.remove(value) if value in values else values.append(value)
    params.update({f: v for f, v in filters.items() if v})
    params.update(change)
    return url_for("catalog.index", **{k: v for k, v in params.items() if v not in (None, "", [])})


@bp.get("/catalog")
def index():
    query = query_from_args(request.args)
    error = None
    try:
        result = search(db.session, query)
    except ValidationFailed:  # only a stale or edited cursor gets here: start again from the first page
        error = _("That page link is out of date; showing the first page.")
        query = SearchQuery(q=query.q, filters=query.filters, sort=query.sort, per_page=query.per_page)
        result = search(db.session, query)
    return render_template("catalog/index.html", result=result, query=query, facets=FACETS, sorts=SORTS,
                           catalog_url=catalog_url, error=error, cards=cards(result.items))
