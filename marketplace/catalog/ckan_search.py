"""package_search over the catalog index: a query tree (``ckan_query``) as one WHERE clause, its matches counted
and faceted as Solr does for CKAN (counts over the matching datasets), and a page of them in the order asked for.

The matches are read once as a bitmap of entry ids; facet counts are intersections with the catalog search's
facet bitmaps (tags are counted from the matching versions' tag lists). Relevance order exists only with words:
SQLite ranks them with FTS5's bm25, PostgreSQL by title similarity; every other order pages the index in SQL, so
any offset is reachable.

With the search engine (``SEARCH_ENGINE=tantivy``), a query of words only (no fields, operators or fq) in
relevance, newest, oldest or price order is answered by the engine instead: its count, its page and its facet
counts, as the catalog search asks it.

The package descriptions of a page are kept per process (``catalog.kept``), each with the state it was built under:
the product's listed version and its own and its seller's last changes. A page reads those states again in one
indexed query and builds only the descriptions whose state moved, so a suspension, a new listing or a seller's
edit on any machine shows at once.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from cachetools import LRUCache
from flask import current_app
from pyroaring import FrozenBitMap
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization
from marketplace.catalog import engine
from marketplace.catalog.ckan_mapping import NotFoundError, package_dict, tag_names
from marketplace.catalog.ckan_query import (
    CONSTANTS,
    FIELD_FACETS,
    FIELDS,
    All,
    Any,
    Not,
    QueryError,
    QueryRefused,
    Term,
    parse_query,
    to_sql,
)
from marketplace.catalog.dcat_views import public_base_url
from marketplace.catalog.kept import KeptByState
from marketplace.catalog.models import CatalogEntry
from marketplace.catalog.search import (
    CURSOR_KEYS,
    RANKED,
    facet_bitmaps,
    facet_label,
    fts_expression,
    parse_terms,
    text_match,
)
from marketplace.catalog.services import with_listed_content
from marketplace.i18n import current_locale_tag
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible

ORDER_BY = {
    "newest": (CatalogEntry.listed_at.desc(), CatalogEntry.id.desc()),
    "oldest": (CatalogEntry.listed_at.asc(), CatalogEntry.id.asc()),
    "price_asc": (CatalogEntry.price_sort.asc(), CatalogEntry.id.asc()),
    "price_desc": (CatalogEntry.price_sort.desc(), CatalogEntry.id.desc()),
    "name_asc": (CatalogEntry.slug.asc(),), "name_desc": (CatalogEntry.slug.desc(),),
    "id_asc": (DataProduct.uuid.asc(),), "id_desc": (DataProduct.uuid.desc(),),
    "title_asc": (func.lower(CatalogEntry.title_en).asc(), CatalogEntry.slug.asc()),
    "title_desc": (func.lower(CatalogEntry.title_en).desc(), CatalogEntry.slug.desc()),
    "created_asc": (CatalogEntry.id.asc(),), "created_desc": (CatalogEntry.id.desc(),),
}
# The orders the search engine pages, by fast field (None: relevance); the others are read from the database.
ENGINE_ORDERS = {"relevance": None, "oldest": ("listed_at", "asc"), **CURSOR_KEYS}
# A q is read as Solr syntax when it has a field:value clause; otherwise it is just words (as CKAN's edismax).
_FIELDED_Q = re.compile(r'(?:^|[\s(+\-!])(?:[A-Za-z_][\w.]*:|\*:\*)')
_OPERATOR_Q = re.compile(r'(?:^|\s)(?:AND|OR|NOT|&&|\|\|)(?=\s)|(?:^|\s)[+\-!](?=\S)')


def _unknown_fields_as_words(node: object) -> object:
    """``Note: typhoon`` in q: a field nothing is indexed under reads as its words (``Note typhoon``), as
    edismax reads a clause on a field it does not know."""
    if isinstance(node, Term) and node.field not in FIELDS:
        return Term("text", f"{node.field} {node.value}")
    if isinstance(node, Not):
        return Not(_unknown_fields_as_words(node.item))
    if isinstance(node, (All, Any)):
        return type(node)(tuple(_unknown_fields_as_words(item) for item in node.items))
    return node


def q_tree(q: str) -> object | None:
    """The tree of a CKAN ``q``: Solr syntax when it names fields (``name:x``, ``title:y``; a QueryError if it
    cannot be read; a field we do not know reads as words), words joined by operators (``a OR b``, ``-c``) when
    they read as such, otherwise words. AND beside OR, and chains of operators, are refused as in fq."""
    if not q.strip():
        return None
    if q.strip() == "*:*" or _FIELDED_Q.search(q):
        return _unknown_fields_as_words(parse_query(q))
    if _OPERATOR_Q.search(q):
        try:
            return parse_query(q)
        except QueryRefused:
            raise
        except QueryError:  # not a query after all: words, as edismax takes them
            pass
    return Term("text", q)


def where_of(session: Session, node: object) -> object:
    """The WHERE clause of a query tree on this session's database (QueryError for what it cannot filter by)."""
    return to_sql(node, session.get_bind().dialect.name)


def find(session: Session, where, words: list[str], order: str, start: int, rows: int,
         ) -> tuple[FrozenBitMap, object, list[CatalogEntry]]:
    """(the matching entry ids, the WHERE clause, entries ``start`` to ``start + rows`` in ``order``) of the
    entries ``where`` (a clause from ``where_of``; None for every listed entry) keeps."""
    dialect = session.get_bind().dialect.name
    if where is None:
        where, matched = true(), facet_bitmaps(session).everything
    else:
        matched = FrozenBitMap(session.scalars(select(CatalogEntry.id).where(where)))
    entries: list[CatalogEntry] = []
    if rows and start < len(matched):
        terms = parse_terms(" ".join(words))[0] if order == "relevance" else []
        if terms:
            entries = _ranked(session, dialect, terms, matched, where, start, rows)
        else:
            stmt = select(CatalogEntry).where(where)
            key = "newest" if order == "relevance" else order
            if key in ("id_asc", "id_desc"):
                stmt = stmt.join(DataProduct, DataProduct.id == CatalogEntry.id)
            entries = list(session.scalars(stmt.order_by(*ORDER_BY[key]).offset(start).limit(rows)))
    return matched, where, entries


def _ranked(session: Session, dialect: str, terms: list[str], matched: FrozenBitMap, where, start: int,
            rows: int) -> list[CatalogEntry]:
    """A page of the matches in relevance order (ties: newest first)."""
    _, relevance = text_match(dialect, terms, fuzzy=False)
    if relevance is not None:
        stmt = select(CatalogEntry).where(where).order_by(relevance.asc(), *ORDER_BY["newest"])
        return list(session.scalars(stmt.offset(start).limit(rows)))
    # bm25 ranks the entries having any of the words (words under OR, or beside clauses on other fields, need not
    # all be there); matches having none of them follow, newest first.
    long_terms = [t for t in terms if len(t) >= 3]
    expression = " OR ".join('"' + t.replace('"', '""') + '"' for t in long_terms) or fts_expression(terms, False)[0]
    ids, ranks = session.execute(RANKED, {"expression": expression}).one()
    ranked = [(float(rank), -int(i)) for i, rank in zip((ids or "").split(","), (ranks or "").split(","))
              if i and int(i) in matched]
    order = [-i for _, i in sorted(ranked)]
    if start + rows > len(order):
        seen = set(order)
        order += [i for i in session.scalars(select(CatalogEntry.id).where(where).order_by(*ORDER_BY["newest"]))
                  if i not in seen]
    page = order[start:start + rows]
    found = {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(page)))}
    return [found[i] for i in page if i in found]


def facets(session: Session, fields: list[str], matched: FrozenBitMap, where, limit: int, mincount: int,
           license_id: str) -> tuple[dict, dict]:
    """CKAN's two facet shapes, counted over the matching datasets. A field nothing is indexed under answers an
    empty facet, as Solr does for CKAN's catch-all dynamic field."""
    bitmaps = facet_bitmaps(session) if any(f in FIELD_FACETS for f in fields) else None

    def counted(facet: str) -> list[tuple[str, str, int]]:
        return [(value, facet_label(facet, value, bitmaps.sellers), n)
                for value, having in bitmaps.values.get(facet, {}).items()
                if (n := matched.intersection_cardinality(having))]
    return _shaped(session, fields, counted, len(matched), where, limit, mincount, license_id)


def engine_find(session: Session, words: list[str], order: str, start: int, rows: int, fields: list[str],
                ) -> engine.EngineResult | None:
    """package_search of a query of words only on the search engine, when the app has one: the count, the ids
    of the entries ``start`` to ``start + rows`` in ``order`` and the counts per value of the fields' facets.
    None when the order is not one the engine keeps (name, id, title, created: the database pages those), or the
    index failed (the database answers)."""
    catalog_engine = current_app.extensions.get("catalog_engine")
    if catalog_engine is None or order not in ENGINE_ORDERS:
        return None
    terms = parse_terms(" ".join(words))[0]
    wanted = sorted({FIELD_FACETS[f] for f in fields if f in FIELD_FACETS})
    key = ENGINE_ORDERS[order] if terms or order != "relevance" else ENGINE_ORDERS["newest"]  # no words: newest
    return catalog_engine.guarded(
        lambda: engine.run(catalog_engine.view(session).searcher, terms, {}, wanted, start, rows, order=key),
        lambda: None)


def engine_facets(session: Session, fields: list[str], counts: dict[str, dict[str, int]], count: int, where,
                  limit: int, mincount: int, license_id: str) -> tuple[dict, dict]:
    """``facets`` from the engine's counts (the seller facet's values are "slug\tname")."""
    def counted(facet: str) -> list[tuple[str, str, int]]:
        found, sellers = engine.by_seller(counts.get(facet, {})) if facet == "seller" else (counts.get(facet, {}), {})
        return [(value, facet_label(facet, value, sellers), n) for value, n in found.items()]
    return _shaped(session, fields, counted, count, true() if where is None else where, limit, mincount,
                   license_id)


def _shaped(session: Session, fields: list[str], counted, count: int, where, limit: int, mincount: int,
            license_id: str) -> tuple[dict, dict]:
    """The facets of ``fields`` in CKAN's two shapes; ``counted(facet)`` gives one facet's (value, label, count)."""
    plain, restructured = {}, {}
    for name in fields:
        items: list[tuple[str, str, int]] = []
        if name == "license_id":
            items = [(license_id, license_id, count)]
        elif name in CONSTANTS:
            items = [(CONSTANTS[name], CONSTANTS[name], count)]
        elif name == "tags":
            items = [(tag, tag, n) for tag, n in _tag_counts(session, where, count).items()]
        elif name in FIELD_FACETS:
            items = counted(FIELD_FACETS[name])
        items = sorted((i for i in items if i[2] >= max(mincount, 1)), key=lambda i: (-i[2], i[0]))
        items = items[:limit] if limit >= 0 else items
        plain[name] = {value: n for value, _, n in items}
        restructured[name] = {"title": name, "items": [{"name": value, "display_name": label, "count": n}
                                                       for value, label, n in items]}
    return plain, restructured


def _tag_counts(session: Session, where, count: int) -> Counter:
    if not count:
        return Counter()
    rows = session.scalars(select(ProductVersion.tags).join(CatalogEntry, CatalogEntry.version_id == ProductVersion.id)
                           .where(where))
    return Counter(tag for tags in rows for tag in tag_names(tags))


def file_times(session: Session, products: list[DataProduct]) -> dict[int, tuple[datetime, datetime]]:
    """(created, last_modified) of each file of the products' listed versions, by asset id, in one query: created
    is the upload of the first copy of the file (the same UUID in the product), last_modified the upload of the
    first copy in the latest run with the listed copy's content (SHA-256). Copies made after the listed one (a
    draft's) do not count."""
    current = {a.id: a for p in products for a in p.listed_version.assets}
    if not current:
        return {}
    rows = session.execute(
        select(Asset.id, Asset.uuid, Asset.sha256, Asset.created_at, ProductVersion.product_id)
        .join(ProductVersion, ProductVersion.id == Asset.version_id)
        .where(ProductVersion.product_id.in_({p.id for p in products}),
               Asset.uuid.in_({a.uuid for a in current.values()}))
        .order_by(Asset.id)).all()
    copies: dict[tuple[int, str], list] = {}
    for row in rows:
        copies.setdefault((row.product_id, row.uuid), []).append(row)
    out = {}
    for p in products:
        for asset in p.listed_version.assets:
            history = [r for r in copies.get((p.id, asset.uuid), []) if r.id <= asset.id] or [asset]
            modified = asset.created_at
            for r in reversed(history):
                if r.sha256 != asset.sha256:
                    break
                modified = r.created_at
            out[asset.id] = (history[0].created_at, modified)
    return out


PACKAGES_KEPT = 2048  # package descriptions kept per process (about 15 KB each as Python objects, measured)
ASKED = 32768  # descriptions asked for once, remembered (by their key's hash) so that a second ask keeps them


def package_cache() -> KeptByState:
    """This process's package descriptions, each with the state it was built under (``_state``)."""
    return current_app.extensions.setdefault("ckan_packages", KeptByState(LRUCache(PACKAGES_KEPT), ASKED))


def _state(product: DataProduct) -> tuple:
    """What a package description shows of a product, summed up: listed versions are frozen, so the listed
    version's id and the product's and its seller's last changes (any edit, suspension or new listing moves one)."""
    return product.listed_version_id, product.updated_at, product.organization.updated_at


def packages(session, ids: list[int]) -> list[dict]:
    """The package dicts of the listed products ``ids`` (catalog entry ids), in their order, each from its listed
    version: those kept under their current state (read in one query) as kept, the others built and kept."""
    if not ids:
        return []
    base, locale, kept = public_base_url(), current_locale_tag(), package_cache()  # the labels are in its language
    states = session.execute(
        buyer_visible().with_only_columns(DataProduct.id, DataProduct.listed_version_id, DataProduct.updated_at,
                                          Organization.updated_at, maintain_column_froms=False)
        .join_from(DataProduct, Organization, Organization.id == DataProduct.organization_id)
        .where(DataProduct.id.in_(ids))).all()
    out = {row[0]: found for row in states if (found := kept.get((row[0], base, locale), tuple(row[1:]))) is not None}
    if missing := [row[0] for row in states if row[0] not in out]:
        found = list(session.scalars(with_listed_content(
            buyer_visible().where(DataProduct.id.in_(missing)), dictionary=False)))
        times = file_times(session, found)
        for product in found:
            out[product.id] = package_dict(product, base=base, times=times)
            kept.keep((product.id, base, locale), _state(product), out[product.id])
    return [out[i] for i in ids if i in out]


def listed_by_id(session: Session, key: str) -> DataProduct:
    """A listed product by its id (UUID) or name (slug); NotFoundError for anything buyers cannot see."""
    product = session.scalar(with_listed_content(buyer_visible().where(
        or_(DataProduct.uuid == key, DataProduct.slug == key)), dictionary=False))
    if product is None:
        raise NotFoundError("No such product in the catalog.")
    return product
