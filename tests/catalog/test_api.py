"""The catalog API: public, facets as repeated query parameters, one error shape for bad input."""
from __future__ import annotations

import pytest

from tests import factories
from tests.catalog.test_search import BAD_CURSORS, cursor_of


def test_catalog_needs_no_token_and_lists_listed_products(client, catalog):
    body = client.get("/api/v1/catalog").get_json()
    assert body["total"] == 4 and len(body["items"]) == 4
    item = next(i for i in body["items"] if i["id"] == catalog["air"].id)
    assert item["seller"] == {"slug": "pudong-data-studio", "name": "Pudong Data Studio"}
    assert item["regions"] == ["shanghai"] and item["registration_number"].startswith("REG-")
    assert item["url"] == f"/products/{catalog['air'].slug}"
    assert {"category", "region", "seller", "licence", "price", "currency", "delivery", "format",
            "frequency"} == set(body["facets"])


def test_repeated_facet_parameters_are_or_and_facets_are_and(client, catalog):
    body = client.get("/api/v1/catalog?category=transport&category=weather").get_json()
    assert body["total"] == 3
    body = client.get("/api/v1/catalog?category=transport&category=weather&licence=free&q=香港").get_json()
    assert [i["id"] for i in body["items"]] == [catalog["traffic"].id]
    selected = [v for v in body["facets"]["category"] if v["selected"]]
    assert {v["value"] for v in selected} == {"transport", "weather"}


def test_cursor_paging_through_the_api(client, catalog):
    seen, url = [], "/api/v1/catalog?sort=newest&per_page=3"
    while url:
        body = client.get(url).get_json()
        seen += [i["id"] for i in body["items"]]
        url = f"/api/v1/catalog?sort=newest&per_page=3&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert sorted(seen) == sorted(p.id for p in catalog.values())


@pytest.mark.parametrize(("query", "field"), [
    ("sort=cheapest", "sort"), ("page=0", "page"), ("per_page=500", "per_page"), ("page=abc", "page"),
    ("cursor=zzz&sort=newest", "cursor"), ("cursor=WzEsMl0", "cursor"), ("colour=red", "colour"),
])
def test_bad_input_is_422_with_the_field(client, catalog, query, field):
    response = client.get(f"/api/v1/catalog?{query}")
    body = response.get_json()
    assert response.status_code == 422 and field in body["errors"]
    assert set(body) == {"status", "code", "message", "errors"}


@pytest.mark.parametrize(("sort", "raw"), BAD_CURSORS)
def test_a_crafted_cursor_is_422_not_500(client, catalog, sort, raw):
    response = client.get(f"/api/v1/catalog?sort={sort}&cursor={cursor_of(raw)}")
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]


def test_long_and_strange_queries_are_fine(client, catalog):
    for q in ["x" * 999, "%22", "NEAR(", "交通" * 300]:
        assert client.get(f"/api/v1/catalog?q={q}").status_code == 200


def test_drafts_never_appear(session, client, seller, catalog):
    factories.product(session, seller, title="Unlisted speeds")
    session.commit()
    assert client.get("/api/v1/catalog?q=unlisted").get_json()["total"] == 0
