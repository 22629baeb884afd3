"""Catalog search: English and Chinese words, combined facets, sorting, paging, and hostile queries."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from marketplace.catalog.index import reindex_all
from marketplace.catalog.models import CatalogEntry, CatalogState, CatalogText
from marketplace.catalog.search import SearchQuery, decode_cursor, facet_bitmaps, search
from marketplace.errors import ValidationFailed
from marketplace.inputs import MAX_ROW_ID
from marketplace.review import services as review
from tests import factories


def ids(result):
    return {e.id for e in result.items}


def facet(result, name):
    return {v.value: v.count for v in result.facets[name]}


def test_empty_query_lists_every_listed_product_and_no_draft(session, catalog):
    result = search(session, SearchQuery())
    assert result.total == 4 and ids(result) == {p.id for p in catalog.values()}


@pytest.mark.parametrize(("q", "expected"), [
    ("speeds", {"traffic"}), ("TRAFFIC speeds", {"traffic"}), ("交通", {"traffic"}), ("香港交通", {"traffic"}),
    ("交通数据", {"traffic"}), ("空气", {"air"}), ("上海", {"air"}), ("pm2.5", {"air"}), ("kowloon", {"journeys"}),
    ("Pudong", {"air", "weather"}),  # the seller's name
    ("Transport Department", {"traffic", "journeys", "air", "weather"}),  # an upstream source's publisher
    ("major roads", {"traffic", "journeys", "air", "weather"}),  # an upstream source's title
    ("风", {"weather"}), ("風", {"weather"}),  # one Chinese character, in either script: substring match
])
def test_words_in_english_and_chinese(session, catalog, q, expected):
    assert ids(search(session, SearchQuery(q=q))) == {catalog[k].id for k in expected}


@pytest.mark.parametrize(("simplified", "traditional", "expected"), [
    ("台风", "颱風", {"weather"}),            # written Traditional by its seller
    ("空气质量", "空氣質量", {"air"}),        # written Simplified by its seller
    ("九龙行车时间", "九龍行車時間", {"journeys"}),
    ("交通数据", "交通數據", {"traffic"}),
    ("阵风", "陣風", {"weather"}),
])
def test_either_script_finds_the_same_products(session, catalog, simplified, traditional, expected):
    """Simplified and Traditional are folded to one form in the index and in the query (on SQLite's trigram
    index and PostgreSQL's alike), so a reader finds a product whichever script either of them writes."""
    want = {catalog[k].id for k in expected}
    assert ids(search(session, SearchQuery(q=simplified))) == want
    assert ids(search(session, SearchQuery(q=traditional))) == want


def test_the_public_pages_and_apis_search_across_scripts(client, catalog):
    for q in ("台风", "颱風"):
        assert catalog["weather"].slug in client.get(f"/catalog?q={q}").get_data(as_text=True)
        found = client.get(f"/api/v1/catalog?q={q}").get_json()
        assert [p["slug"] for p in found["items"]] == [catalog["weather"].slug]
        ckan = client.get(f"/api/3/action/package_search?q={q}").get_json()["result"]
        assert ckan["count"] == 1


def test_misspelt_word_falls_back_to_close_matches(session, catalog):
    result = search(session, SearchQuery(q="speds"))
    assert result.fuzzy and catalog["traffic"].id in ids(result)
    assert any("close matches" in n for n in result.notes)


@pytest.mark.parametrize("q", ['"', '""', "*", "NEAR(a b)", "a OR", "AND", "%", "_", "\\", "'; DROP TABLE x;--",
                               "(((", "交\"通", "x" * 5000, "word " * 100, "\u200b", "🚗"])
def test_hostile_queries_never_fail(session, catalog, q):
    result = search(session, SearchQuery(q=q))
    assert result.total >= 0


def test_facets_combine_within_and_across(session, catalog):
    result = search(session, SearchQuery(filters={"category": ("transport",)}))
    assert ids(result) == {catalog["traffic"].id, catalog["journeys"].id}
    # the category facet still counts the other categories, under every other filter
    assert facet(result, "category") == {"transport": 2, "environment": 1, "weather": 1}
    assert facet(result, "region") == {"hong_kong": 2}
    both = search(session, SearchQuery(filters={"category": ("transport", "weather")}))
    assert both.total == 3
    narrowed = search(session, SearchQuery(filters={"category": ("transport", "weather"), "licence": ("free",)}))
    assert ids(narrowed) == {catalog["traffic"].id}
    assert facet(narrowed, "licence")["free"] == 1 and facet(narrowed, "licence")["research_only"] == 1


def test_facets_combine_with_the_query(session, catalog):
    result = search(session, SearchQuery(q="hong kong"))
    assert facet(result, "seller") == {"harbour-analytics": 2, "pudong-data-studio": 1}  # not the Shanghai one
    labels = {v.value: v.label for v in result.facets["seller"]}
    assert labels["harbour-analytics"] == "Harbour Analytics"
    assert facet(result, "currency") == {"HKD": 3}


def test_licence_price_and_currency_facets(session, catalog):
    result = search(session, SearchQuery())
    assert facet(result, "licence")["commercial"] == 1 and facet(result, "licence")["free"] == 1
    assert facet(result, "price") == {"free": 1, "100_1000": 4, "1000_10000": 1}
    assert facet(result, "currency") == {"HKD": 4, "CNY": 1}
    assert facet(result, "format") == {"CSV": 4, "JSON": 1}


def test_a_selected_value_without_matches_stays_visible(session, catalog):
    result = search(session, SearchQuery(q="kowloon", filters={"category": ("weather",)}))
    assert result.total == 0
    weather = next(v for v in result.facets["category"] if v.value == "weather")
    assert weather.selected and weather.count == 0


def test_sorting(session, catalog):
    cheapest_first = search(session, SearchQuery(sort="price_asc")).items
    assert cheapest_first[0].id == catalog["traffic"].id  # its free plan
    assert search(session, SearchQuery(sort="price_desc")).items[-1].id == catalog["traffic"].id
    newest = search(session, SearchQuery(sort="newest")).items
    assert [e.listed_at for e in newest] == sorted((e.listed_at for e in newest), reverse=True)
    assert search(session, SearchQuery(q="road traffic speeds")).items[0].id == catalog["traffic"].id


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_cursor_paging_visits_every_product_once(session, catalog, sort):
    seen, cursor = [], None
    while True:
        result = search(session, SearchQuery(sort=sort, per_page=1, cursor=cursor))
        seen += [e.id for e in result.items]
        cursor = result.next_cursor
        if not cursor:
            break
    offset_order = [e.id for e in search(session, SearchQuery(sort=sort, per_page=10)).items]
    assert seen == offset_order and len(seen) == 4


def test_offset_paging(session, catalog):
    first = search(session, SearchQuery(sort="newest", per_page=3))
    second = search(session, SearchQuery(sort="newest", per_page=3, page=2))
    assert len(first.items) == 3 and len(second.items) == 1 and not ids(first) & ids(second)


@pytest.mark.parametrize("query", [
    SearchQuery(sort="cheapest"), SearchQuery(per_page=0), SearchQuery(per_page=101), SearchQuery(page=0),
    SearchQuery(page=10_000), SearchQuery(filters={"colour": ("red",)}), SearchQuery(cursor="abc", sort="newest"),
    SearchQuery(cursor="eyJ4IjoxfQ", sort="newest"), SearchQuery(cursor="W251bGwsIDFd", sort="price_asc"),
    SearchQuery(cursor="WzEsMl0", sort="relevance"),
])
def test_invalid_searches_are_refused_with_the_field(session, catalog, query):
    with pytest.raises(ValidationFailed) as err:
        search(session, query)
    assert err.value.errors


def test_cursor_round_trip():
    assert decode_cursor("WzEsIDJd", "price_sort") == (1, 2)


def cursor_of(raw_json: str) -> str:
    """A cursor as the pages encode one, around any JSON text."""
    return base64.urlsafe_b64encode(raw_json.encode()).decode().rstrip("=")


# JSON a cursor could carry that no sort may accept: wrong types, booleans, non-finite or huge numbers, times
# without a zone or out of range, ids outside the row-id range.
_BAD_FOR_EVERY_SORT = [
    '["2026-01-01", 1]', '["2026-01-01T00:00:00", 1]', '[0, 100000000000000000000000]', '[true, 1]', '[1, true]',
    '[false, 1]', '[NaN, 1]', '[Infinity, 1]', '[-Infinity, 1]', '[1, NaN]', '[1e308, 1]', '[1.5, 1]', '[1, 1.0]',
    '["0001-01-01T00:00:00+00:00", 1]', '["9999-12-31T23:59:59+00:00", 1]', '["0001-01-01T00:00:00+14:00", 1]',
    '["9999-12-31T23:59:59-14:00", 1]', '["0001-01-01", 1]', '["9999-12-31", 1]', '[100000000000000000000000, 1]',
    '[1, 0]', '[1, -1]', f'[1, {MAX_ROW_ID + 1}]', '[null, 1]', '[[1], 1]', '[{"a": 1}, 1]', '["x", 1]',
    '["2026-01-01T00:00:00\\u0000+00:00", 1]', '[1, "1"]', '[1]', '[1, 2, 3]', '{"a": 1}',
]
BAD_CURSORS = [(sort, raw) for sort in ("newest", "price_asc", "price_desc", "relevance")
               for raw in _BAD_FOR_EVERY_SORT]
BAD_CURSORS += [("newest", "[1, 1]"), ("newest", f"[{2**63}, 1]")]
BAD_CURSORS += [(sort, raw) for sort in ("price_asc", "price_desc")
                for raw in ('["2026-01-01T00:00:00+00:00", 1]', f"[{2**63}, 1]", f"[{-2**63 - 1}, 1]", '["7", 1]')]


@pytest.mark.parametrize(("sort", "raw"), BAD_CURSORS)
def test_a_cursor_whose_values_do_not_fit_the_sort_is_refused(session, catalog, sort, raw):
    with pytest.raises(ValidationFailed) as err:
        search(session, SearchQuery(sort=sort, cursor=cursor_of(raw)))
    assert err.value.errors == {"cursor": ["Use the next_cursor of a previous page."]} or sort == "relevance"


@pytest.mark.parametrize(("sort", "raw", "after"), [
    ("newest", f'["1970-01-01T00:00:00+00:00", {MAX_ROW_ID}]', 0),
    ("newest", '["2999-12-30T23:00:00-01:00", 1]', 4),
    ("price_asc", f"[{2**63 - 1}, {MAX_ROW_ID}]", 0), ("price_asc", f"[{-2**63}, 1]", 4),
    ("price_desc", f"[{-2**63}, 1]", 0), ("price_desc", f"[{2**63 - 1}, {MAX_ROW_ID}]", 4),
])
def test_cursors_at_the_edges_of_their_ranges_page_on(session, catalog, sort, raw, after):
    assert len(search(session, SearchQuery(sort=sort, cursor=cursor_of(raw))).items) == after


def test_suspending_removes_and_reinstating_restores(session, catalog, reviewer):
    product = catalog["air"]
    review.suspend_product(session, reviewer, product, "Under query.")
    assert catalog["air"].id not in ids(search(session, SearchQuery()))
    review.reinstate_product(session, reviewer, product, "Cleared.")
    assert catalog["air"].id in ids(search(session, SearchQuery(q="上海")))


def test_reindex_rebuilds_the_same_index(session, catalog):
    def snapshot():
        joined = session.query(CatalogEntry, CatalogText).join(CatalogText, CatalogText.id == CatalogEntry.id)
        return {e.id: (t.title_text, t.search_text, e.price_sort) for e, t in joined}

    before = snapshot()
    facets_before = search(session, SearchQuery()).facets
    assert reindex_all(session) == 4
    after = snapshot()
    assert before == after and search(session, SearchQuery()).facets == facets_before
    assert ids(search(session, SearchQuery(q="交通"))) == {catalog["traffic"].id}


# ---------------------------------------------------------------- the per-process facet bitmaps


def test_facet_counts_follow_a_suspension_and_a_new_listing(session, storage, seller, reviewer, catalog):
    before = search(session, SearchQuery(filters={"category": ("transport",)}))  # the bitmaps are built here
    assert facet(before, "category") == {"transport": 2, "environment": 1, "weather": 1} and before.total == 2

    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    session.commit()
    suspended = search(session, SearchQuery(filters={"category": ("transport",)}))
    assert facet(suspended, "category") == {"transport": 2, "weather": 1}

    new = factories.listed_product(session, storage, seller, reviewer, title="Ferry Timetables",
                                   category="transport", regions=["hong_kong"])
    session.commit()
    listed = search(session, SearchQuery(filters={"category": ("transport",)}))
    assert listed.total == 3 and new.id in ids(listed)
    assert facet(listed, "category") == {"transport": 3, "weather": 1}
    assert facet(listed, "region")["hong_kong"] == 3


def test_every_index_change_writes_a_new_generation(session, catalog, reviewer):
    def generation():
        return session.scalar(select(CatalogState.generation))

    first = generation()
    built = facet_bitmaps(session)
    assert built.generation == first and facet_bitmaps(session) is built  # kept while nothing changes

    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    suspended = generation()
    assert suspended != first and catalog["air"].id not in facet_bitmaps(session).everything

    review.reinstate_product(session, reviewer, catalog["air"], "Cleared.")
    assert generation() not in (first, suspended) and catalog["air"].id in facet_bitmaps(session).everything

    reindex_all(session)
    assert facet_bitmaps(session).generation == generation() != suspended


def test_relevance_pages_break_rank_ties_by_newest(session, storage, seller, reviewer, catalog):
    twins = [factories.listed_product(session, storage, seller, reviewer, title="Identical twin gauges",
                                      description_en="Same words.") for _ in range(3)]
    session.commit()
    pages = [search(session, SearchQuery(q="twin gauges", per_page=1, page=n)).items[0].id for n in (1, 2, 3)]
    assert pages == [t.id for t in sorted(twins, key=lambda p: (p.listed_version.approved_at, p.id),
                                          reverse=True)]
