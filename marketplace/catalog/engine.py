"""The catalog's search engine: an embedded tantivy index of the catalog entries, beside the database.

English words are stemmed tokens ranked by BM25 with a title boost, and tantivy finds the top of a ranking without
scoring every match (block-max WAND). Chinese has no spaces: each run of Han characters (folded to Simplified, as
the database index folds it) is indexed as its overlapping character pairs and as single characters, and a
query's run of two or more characters is the phrase of its pairs, so 交通 finds 香港交通数据 as the trigram index
did. A misspelt word finds close matches by edit distance (one edit up to seven letters, two from eight).

Facets are counted by the engine (term aggregations over fast fields): disjunctive within a facet, conjunctive
across facets, each chosen facet counted under every other filter, as ``catalog.search`` documents.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import tantivy

from marketplace.catalog.models import MASK_FACETS

WORD_FIELDS = {"title": 10.0, "body": 1.0}  # field -> boost (the database ranked title matches 10 to 1 too)
PAIR_FIELDS = {"title_pairs": 10.0, "body_pairs": 1.0}
CHAR_FIELD = "body_chars"
FACET_FIELDS = ("category", "seller", "frequency", *MASK_FACETS)
SELLER_LABEL = "seller_label"  # "slug\tname", counted for the seller facet so that its labels need no query
LABEL_SEPARATOR = "\t"
MAX_FACET_VALUES = 1000
PREFIX_FROM = 2  # a word this long also finds the longer words it begins ("hk" finds HKO)
SPELLED_FIELDS = {"title_spelled": 10.0, "body_spelled": 1.0}  # the words as written, for close matches
FUZZY_FROM = 3  # shorter words have no close matches (one edit away from a two-letter word is everything)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SORT_FIELDS = {"listed_at": tantivy.FieldType.Integer, "price_sort": tantivy.FieldType.Integer}
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp can be one off, and the cursor compares them)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def han_runs(text: str) -> list[str]:
    return _HAN.findall(text)


def without_han(text: str) -> str:
    return _HAN.sub(" ", text)


def pairs(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def pair_text(text: str) -> str:
    """Each Han run's overlapping pairs, one token each; a "|" between runs keeps a phrase from spanning two."""
    return " | ".join(" ".join(pairs(run)) for run in han_runs(text) if len(run) > 1)


def char_text(text: str) -> str:
    return " ".join(dict.fromkeys(ch for run in han_runs(text) for ch in run))


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("listed_at", fast=True)  # microseconds since the epoch
    builder.add_integer_field("price_sort", fast=True)
    for name in WORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="words")
    for name in PAIR_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace")
    builder.add_text_field(CHAR_FIELD, tokenizer_name="whitespace", index_option="basic")
    for name in SPELLED_FIELDS:
        builder.add_text_field(name, tokenizer_name="spelled", index_option="freq")
    for name in (*FACET_FIELDS, SELLER_LABEL):
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


SCHEMA = build_schema()
WORDS = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
         .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("english")).build())
# Close matches are looked for among the words as written: a stem is often further from a misspelling than the
# word ("pollutoin" is one transposition from pollution, three edits from its stem pollut).
SPELLED = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
           .filter(tantivy.Filter.lowercase()).build())


def open_index(path: str | None) -> tantivy.Index:
    """The index in the folder ``path`` (created when missing), or in memory for None."""
    index = tantivy.Index(SCHEMA, path=path, reuse=True) if path else tantivy.Index(SCHEMA)
    index.register_tokenizer("words", WORDS)
    index.register_tokenizer("spelled", SPELLED)
    return index


def masked_values(facet: str, mask: int) -> list[str]:
    return [value for bit, value in enumerate(MASK_FACETS[facet]) if mask & (1 << bit)]


def document(entry: Mapping, text: Mapping) -> tantivy.Document:
    """The engine's document of one catalog entry (a row of ``catalog_entries``) and its text row: the same
    folded, lower-cased text the database index reads, and the same facet values."""
    doc = tantivy.Document()
    doc.add_unsigned("id", entry["id"])
    doc.add_integer("listed_at", micros(entry["listed_at"]))
    doc.add_integer("price_sort", entry["price_sort"])
    title, body = text["title_text"] or "", text["search_text"] or ""
    doc.add_text("title", without_han(title))
    doc.add_text("body", without_han(body))
    doc.add_text("title_spelled", without_han(title))
    doc.add_text("body_spelled", without_han(body))
    doc.add_text("title_pairs", pair_text(title))
    doc.add_text("body_pairs", pair_text(body))
    doc.add_text(CHAR_FIELD, char_text(body))
    values = [("category", entry["category"]), ("frequency", entry["frequency"]), ("seller", entry["seller_slug"])]
    values += [(facet, value) for facet in MASK_FACETS for value in masked_values(facet, entry[f"{facet}_mask"])]
    for facet, value in values:
        if value:
            doc.add_text(facet, value)
    doc.add_text(SELLER_LABEL, entry["seller_slug"] + LABEL_SEPARATOR + entry["seller_name"])
    return doc


# ---------------------------------------------------------------- queries


def _either(subqueries: list[tuple[tantivy.Query, float]]) -> tantivy.Query:
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.boost_query(q, boost) if boost != 1 else q) for q, boost in subqueries])


def _words_query(tokens: list[str], fields: Mapping[str, float], prefix: bool = False) -> tantivy.Query:
    """The tokens as a term or a phrase in any of ``fields``; with ``prefix``, a lone token of three characters or
    more also finds the words it begins (``tram`` finds Tramways, as the trigram index did), ranked below it."""
    if len(tokens) > 1:
        return _either([(tantivy.Query.phrase_query(SCHEMA, f, tokens), b) for f, b in fields.items()])
    exact = [(tantivy.Query.term_query(SCHEMA, f, tokens[0]), b) for f, b in fields.items()]
    if prefix and len(tokens[0]) >= PREFIX_FROM:  # the word and the longer ones it begins, each scoring b/2
        exact += [(tantivy.Query.phrase_prefix_query(SCHEMA, f, tokens), b / 2) for f, b in fields.items()]
    return _either(exact)


def _han_query(run: str) -> tantivy.Query:
    if len(run) == 1:
        return tantivy.Query.term_query(SCHEMA, CHAR_FIELD, run)
    return _words_query(pairs(run), PAIR_FIELDS)


def _fuzzy_query(token: str) -> tantivy.Query:
    """Words close to ``token`` as written, or to its stem among the stems (hospitl finds hospitals too)."""
    distance = 1 if len(token) < 8 else 2  # a swap of two letters is one edit
    asked = [(token, SPELLED_FIELDS), *((stem, WORD_FIELDS) for stem in WORDS.analyze(token)[:1])]
    close = [(tantivy.Query.fuzzy_term_query(SCHEMA, f, word, distance=distance), boost)
             for word, fields in asked for f, boost in fields.items()]
    return _either(close)


def _all(parts: list[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])


def term_query(term: str, fuzzy: bool = False) -> tantivy.Query | None:
    """The query of one search word (folded, lower-cased): every Han run and every other part must match. None
    when ``fuzzy`` and the word has nothing to misspell (Chinese is matched exactly, or not at all; a word of one
    or two letters has no close matches)."""
    if fuzzy:
        tokens = [t for t in SPELLED.analyze(without_han(term)) if len(t) >= FUZZY_FROM]
        return _all([_fuzzy_query(t) for t in tokens]) if tokens and not han_runs(term) else None
    parts = [_han_query(run) for run in han_runs(term)]
    if tokens := WORDS.analyze(without_han(term)):
        parts.append(_words_query(tokens, WORD_FIELDS, prefix=True))
    return _all(parts) if parts else tantivy.Query.empty_query()  # only punctuation: nothing to find


def words_query(terms: list[str], fuzzy: bool = False) -> tantivy.Query:
    """Every word must match (exactly); with ``fuzzy``, any word's close matches will do, ranked by how many."""
    if not terms:
        return tantivy.Query.all_query()
    queries = [q for t in terms if (q := term_query(t, fuzzy)) is not None]
    if not queries:
        return tantivy.Query.empty_query()
    occur = tantivy.Occur.Should if fuzzy else tantivy.Occur.Must
    return tantivy.Query.boolean_query([(occur, q) for q in queries])


def filter_query(facet: str, values: Iterable[str]) -> tantivy.Query:
    """Entries having any of ``values`` of ``facet``: term queries, which an intersection can skip through
    (a term set query first marks every entry having a value, a pass over the whole index)."""
    terms = [tantivy.Query.term_query(SCHEMA, facet, v) for v in values]
    return terms[0] if len(terms) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, t) for t in terms])


def _with(query: tantivy.Query, filters: list[tantivy.Query]) -> tantivy.Query:
    if not filters:
        return query
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *((tantivy.Occur.Must, f) for f in filters)])


# ---------------------------------------------------------------- searching


@dataclass
class EngineResult:
    ids: list[int]  # the page, in order
    total: int
    counts: dict[str, dict[str, int]]  # facet -> value -> count (the seller facet's values are "slug\tname")
    words_matched: bool
    more: bool = False  # entries follow the page (in a sorted order: the page's last one is the next cursor)


def facet_counts(searcher: tantivy.Searcher, query: tantivy.Query, facets: Iterable[str],
                 ) -> tuple[dict[str, dict[str, int]], int]:
    """(counts per value of ``facets`` among the entries matching ``query``, how many match), in one pass over
    them that scores none."""
    aggregations = {f: {"terms": {"field": SELLER_LABEL if f == "seller" else f, "size": MAX_FACET_VALUES}}
                    for f in facets}
    found = searcher.aggregate(query, {**aggregations, "matched": {"value_count": {"field": "id"}}})
    return {f: {b["key"]: b["doc_count"] for b in found[f]["buckets"]} for f in aggregations}, \
        int(found["matched"]["value"] or 0)


def by_seller(counts: Mapping[str, int]) -> tuple[dict[str, int], dict[str, str]]:
    """The seller facet's counts (by "slug\tname") as (counts by slug, names by slug)."""
    named = [key.split(LABEL_SEPARATOR, 1) for key in counts]
    return {slug: n for (slug, _), n in zip(named, counts.values())}, dict(named)


TIES_AT_ONCE = 1000  # the depth of a page's first top-k search


def _top(searcher: tantivy.Searcher, query: tantivy.Query, end: int, **order) -> list:
    """The hits up to position ``end`` (inclusive) and every one tied with it, which is as deep as a tie-break
    can reach: (key, address) pairs, the key a score or, with ``order_by_field``, the field's value."""
    most = max(searcher.num_docs, 1)  # never more than there are (tantivy sets aside room for ``limit`` hits)
    # Room for many ties at once: each deeper try is another search, which costs about as much whatever its depth
    # (every match is visited), and a catalog holds runs of equal scores (a seller's series of like products).
    depth = min(max(2 * (end + 1), TIES_AT_ONCE), most)
    while True:
        hits = searcher.search(query, limit=depth, count=False, **order).hits
        if len(hits) < depth or depth >= most or hits[-1][0] != hits[end][0]:
            return hits
        depth = min(4 * depth, most)


def _reaching(hits: list, end: int, descending: bool) -> list:
    """The hits that can reach the first ``end`` places once ties are broken: those keyed at least as high as
    (or, ascending, as low as) the one in place ``end``."""
    if len(hits) <= end:
        return hits
    bound = hits[end - 1][0]
    return [h for h in hits if (h[0] >= bound if descending else h[0] <= bound)]


def _ranked_page(searcher: tantivy.Searcher, query: tantivy.Query, offset: int, limit: int) -> list[int]:
    """The ids of a page in relevance order, ties newest first as the database broke them."""
    hits = _reaching(_top(searcher, query, offset + limit), offset + limit, descending=True)
    addresses = [address for _, address in hits]
    ids = searcher.fast_field_values("id", addresses)
    listed = searcher.fast_field_values("listed_at", addresses)
    order = sorted(zip(hits, listed, ids), key=lambda h: (-h[0][0], -h[1], -h[2]))
    return [entry_id for _, _, entry_id in order[offset:]]


def _after(field: str, direction: str, value: int, entry_id: int) -> tantivy.Query:
    """The entries after the cursor (``value``, ``entry_id``) in the order of ``field``, ties by id."""
    kind = SORT_FIELDS[field]
    if direction == "desc":
        beyond = tantivy.Query.range_query(SCHEMA, field, kind, None, value, include_upper=False)
        tied_id = tantivy.Query.range_query(SCHEMA, "id", tantivy.FieldType.Unsigned, None, entry_id,
                                            include_upper=False)
    else:
        beyond = tantivy.Query.range_query(SCHEMA, field, kind, value, None, include_lower=False)
        tied_id = tantivy.Query.range_query(SCHEMA, "id", tantivy.FieldType.Unsigned, entry_id, None,
                                            include_lower=False)
    tied = _with(tantivy.Query.range_query(SCHEMA, field, kind, value, value), [tied_id])
    return _either([(beyond, 1.0), (tied, 1.0)])


def _sorted_page(searcher: tantivy.Searcher, query: tantivy.Query, order: tuple[str, str], after: tuple | None,
                 offset: int, limit: int) -> tuple[list[int], bool]:
    """(the ids of a page in a field's order, ties by id as the keyset cursor breaks them, after the cursor
    ``after`` when given; whether more follow)."""
    field, direction = order
    if after is not None:
        value, entry_id = after
        query = _with(query, [_after(field, direction, micros(value) if isinstance(value, datetime) else value,
                                     entry_id)])
    way = tantivy.Order.Desc if direction == "desc" else tantivy.Order.Asc
    end = offset + limit
    hits = _top(searcher, query, end, order_by_field=field, order=way)
    more = len(hits) > end
    hits = _reaching(hits, end, descending=direction == "desc")
    ids = searcher.fast_field_values("id", [address for _, address in hits])
    sign = -1 if direction == "desc" else 1
    ranked = sorted(zip(hits, ids), key=lambda h: (sign * h[0][0], sign * h[1]))
    return [entry_id for _, entry_id in ranked[offset:end]], more


def counted(searcher: tantivy.Searcher, terms: list[str], filters: Mapping[str, tuple[str, ...]],
            facets: Iterable[str], fuzzy: bool = False) -> EngineResult:
    """The total and every facet's counts (no page): one count of the facets nobody chose, and one more per
    chosen facet (counted under every other filter)."""
    words = words_query(terms, fuzzy)
    chosen = {f: filter_query(f, values) for f, values in filters.items()}
    counts, total = facet_counts(searcher, _with(words, list(chosen.values())), [f for f in facets if f not in chosen])
    for facet in chosen:
        others = [q for f, q in chosen.items() if f != facet]
        counts.update(facet_counts(searcher, _with(words, others), [facet])[0])
    words_matched = bool(total) or (bool(chosen) and bool(searcher.search(words, limit=1, count=False).hits))
    return EngineResult([], total, counts, words_matched)


def page(searcher: tantivy.Searcher, terms: list[str], filters: Mapping[str, tuple[str, ...]], offset: int,
         limit: int, total: int, fuzzy: bool = False, order: tuple[str, str] | None = None,
         after: tuple | None = None) -> tuple[list[int], bool]:
    """(the ids of one page in relevance order, or in ``order``: (field, direction) after the cursor ``after``;
    whether more follow) of the ``total`` matches: one top-k search."""
    if not (limit and total) or (after is None and offset >= total):
        return [], False
    matched = _with(words_query(terms, fuzzy), [filter_query(f, values) for f, values in filters.items()])
    if order:
        return _sorted_page(searcher, matched, order, after, offset, limit)
    return _ranked_page(searcher, matched, offset, limit)[:limit], total > offset + limit


def run(searcher: tantivy.Searcher, terms: list[str], filters: Mapping[str, tuple[str, ...]], facets: Iterable[str],
        offset: int, limit: int, fuzzy: bool = False, order: tuple[str, str] | None = None,
        after: tuple | None = None) -> EngineResult:
    """``counted`` and its ``page``."""
    found = counted(searcher, terms, filters, facets, fuzzy)
    found.ids, found.more = page(searcher, terms, filters, offset, limit, found.total, fuzzy, order, after)
    return found
