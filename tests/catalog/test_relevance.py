"""Relevance: real catalog records (DATA.GOV.HK, SODA Shanghai, the demo catalog) and the products a buyer expects
at the top for a query in English, in either Chinese script, or misspelt. Any search engine behind ``search()``
must keep these passing; each case names the fewest results it can, so ranking can improve without breaking them.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from marketplace.accounts.models import Organization
from marketplace.catalog.index import reindex_all
from marketplace.catalog.search import SearchQuery, search
from marketplace.db import utcnow
from marketplace.listings.models import DataProduct, OpenDataSource, PricingPlan, ProductVersion
from tests.support.search import searching_on

RECORDS = json.loads(Path(__file__).with_name("relevance_records.json").read_text(encoding="utf-8"))["records"]
PLAN = {"name": "Research (free)", "kind": "free", "amount": 0, "currency": "HKD", "permitted_uses": ["research"],
        "territory": "worldwide", "prohibitions": ["resale"], "billing_period": None, "requires_approval": False}


@pytest.fixture
def relevance_catalog(session) -> dict[str, int]:
    """Every record listed as a product of its publisher's organization (bulk-written, then indexed by the app's
    own ``reindex_all``); the record's key -> the product's id."""
    orgs = {}
    for publisher in sorted({r["publisher"] for r in RECORDS}):
        org = Organization(slug=f"rel-{len(orgs)}-" + re.sub(r"[^a-z0-9]+", "-", publisher.lower()).strip("-")[:40],
                           name=publisher.removeprefix("demo:"), contact_email="data@relevance.example")
        session.add(org)
        orgs[publisher] = org
    session.flush()
    now = utcnow()
    first = (session.scalar(DataProduct.__table__.select().with_only_columns(
        DataProduct.id).order_by(DataProduct.id.desc()).limit(1)) or 0) + 1_000
    products, versions, plans, sources, keys = [], [], [], [], {}
    for n, record in enumerate(RECORDS):
        pid = first + n
        keys[record["key"]] = pid
        approved = now - timedelta(minutes=len(RECORDS) - n)
        products.append({"id": pid, "organization_id": orgs[record["publisher"]].id, "slug": f"rel-{pid}",
                         "status": "listed", "created_at": approved, "updated_at": approved, "status_reason": ""})
        versions.append({
            "id": pid, "product_id": pid, "number": 1, "label": "1.0", "changelog": "First release.",
            "status": "listed", "title_en": record["title_en"][:200], "title_zh": record["title_zh"],
            "description_en": record["notes"], "description_zh": "", "category": record["category"],
            "tags": record["tags"], "regions": [record["region"]], "spatial_coverage": "",
            "update_frequency": "monthly", "delivery_methods": ["file"], "formats": ["CSV"],
            "personal_info": "none", "classification": "general", "classification_reason": "",
            "source_legality": "Open data.", "cross_border_transfer": False, "legal_basis": "",
            "submitted_at": approved, "approved_at": approved, "registration_number": f"REG-REL-{pid:07d}",
            "created_at": approved, "updated_at": approved})
        plans.append({"version_id": pid, "position": 0, **PLAN})
        if not record["publisher"].startswith("demo:"):
            sources.append({"version_id": pid, "position": 0, "portal": "data_gov_hk" if record["region"] ==
                            "hong_kong" else "soda", "title": record["title_en"][:300],
                            "url": f"https://example.org/{record['key']}", "publisher": record["publisher"],
                            "licence_id": "LicenseRef-DATA.GOV.HK-Terms", "attribution": record["publisher"]})
    session.execute(DataProduct.__table__.insert(), products)
    session.execute(ProductVersion.__table__.insert(), versions)
    session.execute(DataProduct.__table__.update().where(DataProduct.id >= first)
                    .values(listed_version_id=DataProduct.id))
    session.execute(PricingPlan.__table__.insert(), plans)
    session.execute(OpenDataSource.__table__.insert(), sources)
    reindex_all(session)
    session.flush()
    return keys


# (query, n, records that must all be among the first n results)
CASES = [
    # English: a word or two of a title, a publisher's name, an acronym
    ("earthquake", 3, {"hk-hko-rss-quick-earthquake-messages"}),
    ("ferry", 10, {"sunferry-timetables-timetables", "hk-td-wcms_8-ferry-services-tt-ft"}),
    ("typhoon", 10, {"hk-md-hydro-typhoon-shelters", "hk-district-wind-exposure", "hk-road-wind-exposure"}),
    ("air quality", 10, {"hk-lamppost-air"}),
    ("rainfall", 10, {"realtime-rainfall", "hk-district-rainfall", "hk-hko-rss-daily-total-rainfall"}),
    ("traffic speed", 3, {"hk-td-sm_1-traffic-speed-map"}),
    ("journey time", 10, {"hk-td-tis_34-car-journey-time-data", "hk-kowloon-journey-times-2023",
                          "hk-td-sm_2-journey-time-indicators"}),
    ("hospital", 10, {"hk-dh-dh_hq-dh-orphf-phl"}),
    ("library", 3, {"hk-lcsd-stats-lib-stats"}),
    ("restaurant", 10, {"restaurant-inspection", "hk-censtatd-tablechart-625-68004"}),
    ("tram", 3, {"hktramways-hktramways-tram-stops", "hktramways-hktramways-main-routes"}),
    ("parking", 10, {"hk-td-msd_1-metered-parking-spaces-data", "hk-lcsd-csdi-public-bicycle-parking-spaces"}),
    ("dengue", 3, {"hk-dh-chpsebcdde-dengue-fever-cases", "hk-fehd-fehddengue-fehd-dengue-surveillance"}),
    ("Water Supplies Department", 10, {"hk-wsd-wsd5-water-consumption"}),
    ("PM2.5", 10, {"sh-pm25-hourly-2015", "sh-pm25-daily-aqi"}),
    ("AQHI", 10, {"hk-aqhi-dashboard", "hk-aqhi-workforce-alerts"}),
    # Simplified Chinese, also finding products written in Traditional
    ("交通", 10, {"traffic-index", "road-incident", "hk-detector-registry"}),
    ("交通指数", 3, {"traffic-index"}),
    ("空气质量", 10, {"AQI", "sh-pm25-daily-aqi"}),
    ("食品", 10, {"food-traceability", "food-sample-inspection"}),
    ("摩拜", 3, {"mobike-shanghai"}),
    ("雨量", 3, {"realtime-rainfall", "hk-district-rainfall"}),
    ("水质", 3, {"plant-water-quality", "pipeline-water-quality"}),
    ("污染", 10, {"key-polluants", "key-monitoring"}),  # inside 重点污染源: a substring of a longer word
    ("台风", 3, {"hk-district-wind-exposure", "hk-t8-wind-record", "hk-road-wind-exposure"}),
    ("上海市环境保护局", 3, {"key-polluants", "AQI", "key-monitoring"}),  # the publisher
    # Traditional Chinese, also finding products written in Simplified
    ("颱風", 3, {"hk-district-wind-exposure", "hk-t8-wind-record", "hk-road-wind-exposure"}),
    ("空氣質素", 3, {"hk-aqhi-dashboard", "hk-lamppost-air", "hk-aqhi-workforce-alerts"}),
    ("水質", 3, {"plant-water-quality", "pipeline-water-quality"}),
    ("陣風", 3, {"hk-station-peak-gusts"}),
    ("氣象", 3, {"weather"}),
    ("交通檢測器", 3, {"hk-detector-registry", "hk-detector-coverage", "hk-detector-district-join"}),
    # misspellings: close matches
    ("earthqake", 3, {"hk-hko-rss-quick-earthquake-messages"}),
    ("trafic", 10, {"traffic-index", "hk-td-sm_1-traffic-speed-map"}),
    ("hospitl", 10, {"hk-dh-dh_hq-dh-orphf-phl"}),
    ("pollutoin", 10, {"hk-epd-airteam-past-record-of-air-pollution-index-en"}),  # letters swapped
    ("restaurnt", 10, {"restaurant-inspection"}),
    ("weathr", 10, {"weather", "hk-current-weather-archive"}),
    ("polution", 10, {"hk-epd-airteam-past-record-of-air-pollution-index-en"}),
]


@pytest.fixture(params=["database", "tantivy"])
def searched_on(request):
    """Each case on the database search and on the embedded engine."""
    return request.getfixturevalue("database_search" if request.param == "database" else "search_engine")


@pytest.mark.parametrize(("q", "n", "expected"), CASES, ids=[case[0] for case in CASES])
def test_expected_products_are_at_the_top(session, searched_on, relevance_catalog, q, n, expected):
    result = search(session, SearchQuery(q=q, per_page=n))
    names = {product_id: key for key, product_id in relevance_catalog.items()}
    top = [names.get(entry.id, entry.id) for entry in result.items]
    assert expected <= set(top), f"{q!r}: expected {sorted(expected - set(top))} among the first {n}, got {top}"


def on_both(app, tmp_path, ask):
    """(``ask()`` on the database search, ``ask()`` on an engine of the test's own, that engine)."""
    from marketplace.catalog.engine_search import CatalogEngine

    with searching_on(app, None):
        on_database = ask()
    with searching_on(app, CatalogEngine(str(tmp_path / "index"))) as catalog_engine:
        return on_database, ask(), catalog_engine


def _every_page(session, query: SearchQuery) -> tuple[list[int], int]:
    """(every entry id, following the cursors from the first page; the total each page gave)."""
    seen, totals = [], set()
    while True:
        result = search(session, query)
        seen += [entry.id for entry in result.items]
        totals.add(result.total)
        if not result.next_cursor:
            return seen, totals.pop() if len(totals) == 1 else totals
        query = replace(query, cursor=result.next_cursor)


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
@pytest.mark.parametrize("q", ["traffic", "空气", "air quality", "hong kong"])
def test_sorted_pages_with_words_are_the_databases_on_the_engine(app, session, relevance_catalog, sort, q,
                                                                   tmp_path):
    """Words in the newest and price orders: the engine pages them as the database's keyset cursor does, ties
    (every price here is the same; a third of the listing times are made equal) broken by id, no entry twice."""
    from marketplace.catalog.models import CatalogEntry, log_change

    same = utcnow().replace(microsecond=123457)
    for product_id in sorted(relevance_catalog.values())[::3]:
        session.get(CatalogEntry, product_id).listed_at = same
        log_change(session, product_id)
    session.flush()
    query = SearchQuery(q=q, sort=sort, per_page=7, filters={"delivery": ("file",)})
    (on_database, database_total), (on_engine, engine_total), _ = on_both(app, tmp_path,
                                                                          lambda: _every_page(session, query))
    assert len(on_database) == database_total > 7
    assert on_engine == on_database
    assert engine_total == database_total


CKAN_SEARCHES = [
    {"q": "traffic", "rows": 20},
    {"q": "空气", "rows": 5, "start": 3},
    {"q": "air quality", "sort": "metadata_modified desc", "rows": 7, "start": 7},
    {"q": "hong kong", "sort": "price asc", "rows": 10, "start": 20},
    {"q": "hong kong", "sort": "metadata_modified asc", "rows": 10},
    {"q": "population", "facet.field": '["organization", "groups", "res_format", "tags", "license_id"]',
     "facet.limit": 3},
    {"rows": 0, "facet.field": '["organization", "groups", "res_format", "license_id", "type"]'},
    {"rows": 5, "start": 40},
    {"q": "nothing-matches-this-word", "facet.field": '["groups"]'},
]


@pytest.mark.parametrize("params", CKAN_SEARCHES, ids=[str(sorted(p.items())) for p in CKAN_SEARCHES])
def test_ckan_package_search_of_words_only_is_the_databases_on_the_engine(app, client, relevance_catalog, params,
                                                                         tmp_path):
    """q of words only (no fields, operators or fq) is answered by the engine: the same count and facets as the
    database's answer, the same page in the newest, oldest and price orders (and without words), the same
    entries in relevance order (each engine ranks them its own way: the cases above keep the ranking sensible)."""
    def answer():
        response = client.get("/api/3/action/package_search", query_string=params)
        assert response.status_code == 200, response.get_json()
        result = response.get_json()["result"]
        return result["count"], [p["name"] for p in result["results"]], result["facets"], result["search_facets"]

    on_database, on_engine, catalog_engine = on_both(app, tmp_path, answer)
    assert catalog_engine._view is not None  # the engine answered, not the database
    (count, names, *faceted), (database_count, database_names, *database_faceted) = on_engine, on_database
    assert (count, faceted) == (database_count, database_faceted)
    if params.get("q") and "sort" not in params:
        assert len(names) == len(database_names)
        if not params.get("start") and params.get("rows", 10) >= count:
            assert set(names) == set(database_names)
    else:
        assert names == database_names
    if params.get("rows", 10) and "nothing" not in params.get("q", ""):
        assert names


@pytest.mark.parametrize("q", ["' OR 1=1 --", "%00", "a-b-c-d-e-f", "hk-xq"])
def test_words_of_one_or_two_letters_have_no_close_matches_on_the_engine(session, search_engine, relevance_catalog,
                                                                         q):
    """One edit away from a word of one or two letters is almost every word: the engine looks for pieces that
    short as they are, never for their close matches (the database's close matches are shared trigrams of the
    whole word, "a-b" of a-b-c-d-e-f)."""
    result = search(session, SearchQuery(q=q))
    assert not result.fuzzy


@pytest.mark.parametrize("params", [{"q": "traffic", "start": 2**31 - 1}, {"start": 2**31 - 1},
                                    {"q": "air", "sort": "price asc", "start": 10**9, "rows": 1000}])
def test_a_start_past_the_end_is_an_empty_page_on_the_engine(client, search_engine, relevance_catalog, params):
    """The engine asks for no more hits than the index holds (it sets aside room for every hit asked for)."""
    response = client.get("/api/3/action/package_search", query_string=params)
    assert response.status_code == 200
    result = response.get_json()["result"]
    assert result["results"] == [] and result["count"] > 0
    assert search_engine._view is not None
