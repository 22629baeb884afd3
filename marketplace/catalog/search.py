"""Catalog search: words in English or Chinese, facets that combine, sorting, and paging that stays fast.

Words of three characters or more go to the full-text index (SQLite FTS5 trigram, PostgreSQL pg_trgm), which finds
交通 inside 香港交通数据; one- and two-character words are matched as substrings. Every word is quoted, so no
query syntax reaches the database: ``"``, ``*``, ``NEAR(``, ``%`` and ``_`` are just characters. A query with no
exact match falls back to close matches on shared trigrams ("trafic" finds traffic).

Facets are disjunctive within a facet and conjunctive across facets; each facet's counts apply every other
filter, so a buyer sees what choosing another value would give. Deep pages in the "newest" and "price" orders use
a keyset cursor instead of an offset.

Counting reads no rows: each process keeps, per facet value, the bitmap of the entries having it (``FacetBitmaps``,
built from one scan of the index), and a count is the size of an intersection of the words' matches with those
bitmaps. The bitmaps belong to one catalog generation (``CatalogState``), a token every change to the index
rewrites in its own transaction; each search reads it first (one primary-key read) and rebuilds on a change, so
counts are exact whichever process or machine listed or suspended a product.
"""
from __future__ import annotations

import base64
import functools
import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app, has_app_context
from pyroaring import FrozenBitMap
from sqlalchemy import ARRAY, Integer, any_, case, func, literal, or_, select, text, tuple_
from sqlalchemy.orm import Session

from marketplace.catalog.models import MASK_FACETS, CatalogEntry, CatalogState, CatalogText, mask_of
from marketplace.chinese import fold
from marketplace.errors import ValidationFailed
from marketplace.i18n import catalog_key, gettext
from marketplace.i18n import lazy_gettext as _l
from marketplace.inputs import MAX_ROW_ID
from marketplace.listings.vocab import Category, Currency, DeliveryMethod, Region, UpdateFrequency

# Names for people are translated when shown (lazy); the keys are the stable values of the query string and API.
FACETS = {
    "category": _l("Category"), "region": _l("Region"), "seller": _l("Seller"), "licence": _l("Licence"),
    "price": _l("Price"), "currency": _l("Currency"), "delivery": _l("Delivery"), "format": _l("Format"),
    "frequency": _l("Update frequency"),
}
SORTS = {"relevance": _l("Best match"), "newest": _l("Newest"), "price_asc": _l("Price: low to high"),
         "price_desc": _l("Price: high to low")}
LICENCE_LABELS = {"free": _l("Free"), "commercial": _l("Commercial use allowed"),
                  "research_only": _l("Research only"), "ai_training": _l("AI / model training"),
                  "exclusive": _l("Exclusive (capped)")}
PRICE_LABELS = {"free": _l("Free"), "under_100": _l("Under US$100"), "100_1000": _l("US$100–1,000"),
                "1000_10000": _l("US$1,000–10,000"), "over_10000": _l("Over US$10,000")}
VOCABULARIES = {"category": Category, "region": Region, "delivery": DeliveryMethod, "frequency": UpdateFrequency,
                "currency": Currency}
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_PER_PAGE = 100
MAX_CURSOR_CHARS = 200  # a real cursor (an ISO time or a price, and an id) is under 80
MAX_OFFSET = 10_000  # past this, pages are reached by cursor (newest and price orders)
# The sorts a cursor pages: (column, direction) of the key after the entry id.
CURSOR_KEYS = {"newest": ("listed_at", "desc"), "price_asc": ("price_sort", "asc"),
               "price_desc": ("price_sort", "desc")}
# A cursor's time lies in this range: a real one is a listing's time; outside it, shifting to UTC could overflow.
CURSOR_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_LATEST = datetime(2999, 12, 31, tzinfo=UTC)
BIGINT_MIN, BIGINT_MAX = -2**63, 2**63 - 1  # price_sort is a 64-bit signed column


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    cursor: str | None = None
    close_matches: bool = True  # fall back to close matches when the words match nothing (pages: yes; CKAN: no)


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    items: list[CatalogEntry]
    total: int
    facets: dict[str, list[FacetValue]]
    query: SearchQuery
    terms: list[str]
    fuzzy: bool = False
    next_cursor: str | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- parsing


def parse_terms(q: str) -> tuple[list[str], list[str]]:
    """Normalised search words (NFKC, lower case), and notes about what was trimmed."""
    notes = []
    q = unicodedata.normalize("NFKC", q or "").replace("\x00", "")
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        notes.append(gettext("Your search was shortened to its first %(num)d characters.", num=MAX_QUERY_CHARS))
    terms = []
    for word in fold(q.lower()).split():  # Traditional and Simplified are one script to the index
        word = word.strip("\"'“”‘’,.;:!?()[]{}<>")
        if word and word not in terms:
            terms.append(word[:50])
    if len(terms) > MAX_TERMS:
        notes.append(gettext("Only the first %(num)d words were used.", num=MAX_TERMS))
        terms = terms[:MAX_TERMS]
    return terms, notes


def check_query(query: SearchQuery) -> None:
    """Refuse (ValidationFailed) unknown facets, sorts and out-of-range paging, with field messages."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(query.filters) - set(FACETS))
    if unknown:
        errors["filters"] = [gettext("Unknown facet(s): %(unknown)s; use %(known)s.", unknown=", ".join(unknown),
                               known=", ".join(FACETS))]
    if query.sort not in SORTS:
        errors["sort"] = [gettext("Sort by %(sorts)s.", sorts=", ".join(SORTS))]
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        errors["per_page"] = [gettext("Between 1 and %(most)d.", most=MAX_PER_PAGE)]
    if query.page < 1 or (query.page - 1) * query.per_page > MAX_OFFSET:
        errors["page"] = [gettext("Pages go up to %(last)d; sort by newest or price and follow the cursor to go "
                                  "deeper.", last=MAX_OFFSET // max(query.per_page, 1) + 1)]
    if query.cursor and query.sort not in CURSOR_KEYS:
        errors["cursor"] = [gettext("A cursor pages the newest and price orders only.")]
    elif query.cursor and query.sort in SORTS:
        try:
            decode_cursor(query.cursor, CURSOR_KEYS[query.sort][0])
        except ValidationFailed as refused:
            errors.update(refused.errors)
    if errors:
        raise ValidationFailed(gettext("The search is not valid."), errors)


# ---------------------------------------------------------------- matching


def like_pattern(term: str) -> str:
    """A LIKE pattern (escape ``\\``) matching ``term`` anywhere, its ``%`` and ``_`` taken literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_expression(terms: list[str], fuzzy: bool) -> tuple[str, list]:
    """SQLite: the FTS5 expression for the words of three characters or more (every word quoted), and LIKE
    clauses for the shorter ones (none when ``fuzzy``: close matches are shared trigrams of the long words)."""
    long_terms = [t for t in terms if len(t) >= 3]
    if fuzzy:
        grams = sorted({t[i:i + 3] for t in long_terms for i in range(len(t) - 2)})
        return " OR ".join(_fts_phrase(g) for g in grams), []
    short = [CatalogText.search_text.like(like_pattern(t), escape="\\") for t in terms if len(t) < 3]
    return " AND ".join(_fts_phrase(t) for t in long_terms), short


# Every match of an expression in rank order, as two comma-joined strings (ids, bm25 ranks): a broad search
# matches tens of thousands of entries, and two strings cost far less to fetch than as many row tuples (whose
# allocation also sets off full garbage collections of the whole app).
RANKED = text("SELECT group_concat(id), group_concat(rank) FROM (SELECT rowid AS id, bm25(catalog_fts, 10.0, 1.0) "
              "AS rank FROM catalog_fts WHERE catalog_fts MATCH :expression ORDER BY rank)")


def text_match(dialect: str, terms: list[str], fuzzy: bool):
    """(WHERE clauses, a relevance ordering or None) for the words; ``fuzzy`` matches shared trigrams instead.

    On SQLite, words the full-text index ranks have no ordering here: ``_run`` reads their matches in bm25 rank
    order with ``RANKED``."""
    if not terms:
        return (), None
    def texts(*conditions):  # entries whose text row meets the conditions
        return CatalogEntry.id.in_(select(CatalogText.id).where(*conditions))

    def on_text(expression):  # a value computed from the entry's own text row
        return select(expression).where(CatalogText.id == CatalogEntry.id).scalar_subquery()

    if dialect == "sqlite":
        expression, short = fts_expression(terms, fuzzy)
        short_clauses = (texts(*short),) if short else ()
        if not expression:
            in_title = texts(or_(*(CatalogText.title_text.like(like_pattern(t), escape="\\") for t in terms)))
            return short_clauses, case((in_title, 0), else_=1)
        fts = text("SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH :expression").bindparams(
            expression=expression)
        return (CatalogEntry.id.in_(fts.columns(rowid=Integer)), *short_clauses), None
    words = " ".join(terms)
    if fuzzy:
        return (texts(func.word_similarity(words, CatalogText.search_text) > 0.4),), \
            -on_text(func.word_similarity(words, CatalogText.title_text))
    clauses = (texts(*(CatalogText.search_text.ilike(like_pattern(t), escape="\\") for t in terms)),)
    return clauses, -on_text(func.similarity(CatalogText.title_text, words))


COLUMN_FACETS = {"category": CatalogEntry.category, "seller": CatalogEntry.seller_slug,
                 "frequency": CatalogEntry.frequency}


def _has_bits(facet: str, bits: int):
    return getattr(CatalogEntry, f"{facet}_mask").op("&")(bits) != 0


def filter_clause(facet: str, values: tuple[str, ...]):
    if facet in COLUMN_FACETS:
        return COLUMN_FACETS[facet].in_(values)
    return _has_bits(facet, mask_of(facet, values))


# ---------------------------------------------------------------- the search


def search(session: Session, query: SearchQuery) -> SearchResult:
    """Listed products matching the words and filters, one page of them in the chosen order, with facet counts:
    on the search engine when the app has one (``SEARCH_ENGINE``), otherwise on the database."""
    catalog_engine = current_app.extensions.get("catalog_engine") if has_app_context() else None
    if catalog_engine is not None:
        return catalog_engine.search(session, query)
    return database_search(session, query)


def database_search(session: Session, query: SearchQuery) -> SearchResult:
    """``search`` on the database's full-text index and this process's facet bitmaps."""
    check_query(query)
    terms, notes = parse_terms(query.q)
    filters = clean_filters(query.filters)
    dialect = session.get_bind().dialect.name
    bitmaps = facet_bitmaps(session)
    return with_close_matches(query, terms, notes, lambda fuzzy: _run(session, bitmaps, query, terms, filters,
                                                                     dialect, fuzzy=fuzzy))


def with_close_matches(query: SearchQuery, terms: list[str], notes: list[str],
                       run: Callable[[bool], tuple[SearchResult, bool]]) -> SearchResult:
    """The exact search (``run(False)``: the result, and whether the words alone matched anything), or, when it
    finds nothing and close matches are asked for, the close matches (``run(True)``) with a note saying so; the
    query's own notes first. No match under the filters while the words alone match is not a misspelling: the
    filters emptied the page, and the exact result stands."""
    result, words_matched = run(False)
    if query.close_matches and terms and result.total == 0 and any(len(t) >= 3 for t in terms) and not words_matched:
        fuzzy, _ = run(True)
        if fuzzy.total:
            fuzzy.notes.append(gettext("No exact matches for \u201c%(words)s\u201d; showing close matches.",
                                       words=" ".join(terms)))
            result = fuzzy
    result.notes[:0] = notes
    return result


def clean_filters(filters: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Filters without empty or repeated values, at most 50 values a facet."""
    return {f: tuple(dict.fromkeys(v for v in values if v))[:50] for f, values in filters.items() if values}


def matching(session: Session, terms: list[str], filters: Mapping[str, tuple[str, ...]]) -> tuple:
    """The WHERE clauses of exact matches for the words and filters: the one definition of what matches, for
    callers that order or page the index themselves (the CKAN API)."""
    where, _ = text_match(session.get_bind().dialect.name, terms, fuzzy=False)
    return (*where, *(filter_clause(f, values) for f, values in clean_filters(filters).items()))


def _run(session: Session, bitmaps: FacetBitmaps, query: SearchQuery, terms: list[str], filters: dict,
         dialect: str, fuzzy: bool) -> tuple[SearchResult, bool]:
    """One search, and whether the words alone matched anything."""
    text_where, relevance = text_match(dialect, terms, fuzzy)
    expression = fts_expression(terms, fuzzy)[0] if dialect == "sqlite" else ""
    ranked = None  # (ids, ranks) of every entry matching the words in rank order, when the full-text index ranks
    if not terms:
        words = bitmaps.everything
    elif expression:  # SQLite FTS5: one read gives the matches in rank order
        ids, ranks = session.execute(RANKED, {"expression": expression}).one()
        ranked = (list(map(int, ids.split(","))), ranks.split(",")) if ids else ([], [])
        words = FrozenBitMap(ranked[0])
        if len(text_where) > 1:  # and the one- and two-character words, as substrings
            words &= FrozenBitMap(session.scalars(select(CatalogEntry.id).where(*text_where[1:])))
    else:
        words = FrozenBitMap(session.scalars(select(CatalogEntry.id).where(*text_where)))
    chosen = {f: bitmaps.having(f, values) for f, values in filters.items()}
    matched, facets = _facet_counts(bitmaps, words, chosen, filters)
    total = len(matched)
    items, next_cursor = [], None
    if total and ranked is not None and query.sort == "relevance":
        items = _ranked_page(session, ranked, matched, query)
    elif total:
        if terms and dialect == "postgresql":  # the matches are known: do not test every text again
            text_where = (CatalogEntry.id == any_(literal(list(words), ARRAY(Integer))),)
        where = (*text_where, *(filter_clause(f, values) for f, values in filters.items()))
        items, next_cursor = ordered_page(session, query, where, relevance)
    return SearchResult(list(items), total, facets, query, terms, fuzzy, next_cursor, []), bool(words)


def _ranked_page(session: Session, ranked: tuple[list[int], list[str]], matched: FrozenBitMap,
                 query: SearchQuery) -> list[CatalogEntry]:
    """A page in relevance order (rank, then newest) from the matches in rank order, loading only the rows up to
    the page's end and those tied with its last rank, so that ties break exactly as the SQL order did."""
    wanted = query.page * query.per_page
    page, ranks, cut = [], {}, None
    for entry_id, rank in zip(*ranked):
        if entry_id not in matched:
            continue
        if len(page) >= wanted and rank != cut:
            break
        page.append(entry_id)
        cut = rank
        ranks[entry_id] = float(rank)
    entries = list(session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(page))))
    entries.sort(key=lambda e: (ranks[e.id], -e.listed_at.timestamp(), -e.id))
    return entries[(query.page - 1) * query.per_page:wanted]


def ordered_page(session: Session, query: SearchQuery, where, relevance):
    """One page of the entries ``where`` in the query's order (a keyset cursor for the newest and price orders),
    and the cursor of the next."""
    stmt = select(CatalogEntry).where(*where)
    newest = (CatalogEntry.listed_at.desc(), CatalogEntry.id.desc())
    key = CURSOR_KEYS.get(query.sort)
    if key:
        column, direction = getattr(CatalogEntry, key[0]), key[1]
        order = (column.asc(), CatalogEntry.id.asc()) if direction == "asc" else (column.desc(), CatalogEntry.id.desc())
    else:
        order = newest if relevance is None else (relevance.asc(), *newest)
    if query.cursor and key:
        stmt = stmt.where(_after(key, decode_cursor(query.cursor, key[0])))
    else:
        stmt = stmt.offset((query.page - 1) * query.per_page)
    rows = session.scalars(stmt.order_by(*order).limit(query.per_page + 1)).all()
    items = rows[:query.per_page]
    next_cursor = encode_cursor(key, items[-1]) if key and len(rows) > query.per_page else None
    return items, next_cursor


def _after(key: tuple[str, str], position: tuple):
    """The entries after a cursor's (value, id), as one row-value comparison: the database seeks to it in the
    (column, id) index instead of scanning the index from its start, so a deep page costs what the first does."""
    column, direction = key
    value, entry_id = position
    col = getattr(CatalogEntry, column)
    row, cursor = tuple_(col, CatalogEntry.id), tuple_(literal(value, col.type), literal(entry_id, Integer))
    return row < cursor if direction == "desc" else row > cursor


def encode_cursor(key: tuple[str, str], entry: CatalogEntry) -> str:
    value = getattr(entry, key[0])
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, entry.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a cursor value")


def _is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _cursor_time(value: object) -> datetime:
    """A cursor's listing time: an ISO string with a time zone, as ``isoformat`` writes it (``fromisoformat`` alone
    also takes odd spellings), within the range a listing can have."""
    if not isinstance(value, str):
        raise ValueError("not a time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.isoformat() != value or not CURSOR_EARLIEST <= moment <= CURSOR_LATEST:
        raise ValueError("no time zone, not as isoformat writes it, or out of range")
    return moment


def decode_cursor(cursor: str, column: str) -> tuple:
    """(value, entry id) from a ``next_cursor`` of a sort keyed on ``column``, each typed as its column: an aware
    datetime for ``listed_at``, a 64-bit integer for ``price_sort``, a row id. ValidationFailed for anything a
    previous page did not hand out: too long, not base64 JSON, nested (a deeply nested one would otherwise raise
    RecursionError in the parser), NaN or Infinity, a boolean, or a value of the wrong type or range for the
    column (the database would otherwise fail on it: a string compared with a bigint, a 10**23 price)."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        value, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)),
                                     parse_constant=_refuse_constant)
        if not _is_int(entry_id, 1, MAX_ROW_ID):
            raise ValueError
        if column == "listed_at":
            return _cursor_time(value), entry_id
        if column == "price_sort" and _is_int(value, BIGINT_MIN, BIGINT_MAX):
            return value, entry_id
        raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError, OverflowError):
        raise ValidationFailed(gettext("The cursor is not valid."),
                               {"cursor": [gettext("Use the next_cursor of a previous page.")]}) from None


# ---------------------------------------------------------------- facet bitmaps


@dataclass(frozen=True)
class FacetBitmaps:
    """The entries having each facet value, as compressed bitmaps of entry ids, for one catalog generation."""

    generation: str | None
    everything: FrozenBitMap
    values: dict[str, dict[str, FrozenBitMap]]
    sellers: dict[str, str]  # seller slug -> name, for the seller facet's labels

    def having(self, facet: str, values: tuple[str, ...]) -> FrozenBitMap:
        """The entries having any of ``values`` of ``facet`` (a facet is disjunctive within itself)."""
        found = [self.values[facet][v] for v in values if v in self.values[facet]]
        return FrozenBitMap.union(*found) if found else FrozenBitMap()


_current: FacetBitmaps | None = None  # this process's bitmaps; rebuilt when the catalog generation moves on


def facet_bitmaps(session: Session) -> FacetBitmaps:
    """The facet bitmaps of the index as it is now: one primary-key read of the catalog generation, and one scan
    of the index when it changed since this process last looked (or, without a generation row, every time).

    The generation is read before the scan: a change committed in between makes the bitmaps newer than their
    generation (rebuilt once more next time), never older."""
    global _current
    generation = session.scalar(select(CatalogState.generation).where(CatalogState.id == 1))
    current = _current
    if current is not None and generation is not None and current.generation == generation:
        return current
    ids: dict[str, dict[str, list[int]]] = {f: {} for f in COLUMN_FACETS}
    by_mask: dict[str, dict[int, list[int]]] = {f: {} for f in MASK_FACETS}
    sellers: dict[str, str] = {}
    everything = []
    rows = session.execute(select(
        CatalogEntry.id, CatalogEntry.category, CatalogEntry.seller_slug, CatalogEntry.frequency,
        CatalogEntry.seller_name, *(getattr(CatalogEntry, f"{f}_mask") for f in MASK_FACETS)))
    for entry_id, category, seller, frequency, seller_name, *masks in rows:
        everything.append(entry_id)
        for facet, value in (("category", category), ("seller", seller), ("frequency", frequency)):
            if value is not None:
                ids[facet].setdefault(value, []).append(entry_id)
        sellers[seller] = seller_name
        for facet, mask in zip(MASK_FACETS, masks):
            if mask:
                by_mask[facet].setdefault(mask, []).append(entry_id)
    values = {f: {v: FrozenBitMap(found) for v, found in ids[f].items()} for f in COLUMN_FACETS}
    for facet, order in MASK_FACETS.items():  # a bit's entries are the union over the masks that set it
        masks = {mask: FrozenBitMap(found) for mask, found in by_mask[facet].items()}
        values[facet] = {v: FrozenBitMap.union(*(m for mask, m in masks.items() if mask & (1 << bit)))
                         for bit, v in enumerate(order) if any(mask & (1 << bit) for mask in masks)}
    built = FacetBitmaps(generation, FrozenBitMap(everything), values, sellers)
    if generation is not None:
        _current = built
    return built


def _facet_counts(bitmaps: FacetBitmaps, words: FrozenBitMap, chosen: dict[str, FrozenBitMap],
                  filters: dict) -> tuple[FrozenBitMap, dict[str, list[FacetValue]]]:
    """The entries matching the words and every filter, and the counts per facet value: each facet is counted
    under the words and every filter but its own (so a facet's other values show what choosing them would give).
    Sizes of bitmap intersections, no rows read."""
    def under(skipped: str | None) -> FrozenBitMap:
        result = words
        for facet, having in chosen.items():
            if facet != skipped:
                result = result & having
        return result

    matched = under(None)
    out = {}
    for facet in FACETS:
        base = under(facet) if facet in chosen else matched
        counts = {v: n for v, having in bitmaps.values.get(facet, {}).items()
                  if (n := base.intersection_cardinality(having))}
        selected = set(filters.get(facet, ()))
        for value in selected - counts.keys():
            counts[value] = 0  # a chosen value with no matches stays visible, so it can be unchosen
        out[facet] = sorted(
            (FacetValue(v, facet_label(facet, v, bitmaps.sellers), n, v in selected) for v, n in counts.items()),
            key=lambda fv: (-fv.count, fv.label.lower()))
    return matched, out


def facet_label(facet: str, value: str, sellers: Mapping[str, str] | None = None) -> str:
    if facet == "seller":
        return (sellers or {}).get(value, value)
    return _vocabulary_label(facet, value, catalog_key())


@functools.lru_cache(maxsize=1024)
def _vocabulary_label(facet: str, value: str, locale: str) -> str:
    """A facet value's label in ``locale`` (the request's: part of the key so each locale is kept apart)."""
    if facet == "licence":
        return str(LICENCE_LABELS.get(value, value))
    if facet == "price":
        return str(PRICE_LABELS.get(value, value))
    vocabulary = VOCABULARIES.get(facet)
    if vocabulary is not None:
        try:
            member = vocabulary(value)
            return getattr(member, "label", member.value)
        except ValueError:
            return value
    return value

