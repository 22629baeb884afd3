"""The catalog page: search, facets as a GET form, sort, pages, without JavaScript; a fixed number of queries."""
from __future__ import annotations

import base64
import html

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from tests import factories
from tests.catalog.test_search import BAD_CURSORS, cursor_of


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("<strong>", "").replace("</strong>", "")


def test_anonymous_visitors_land_on_the_catalog(client, catalog):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/catalog")
    page = text(client.get("/catalog"))
    assert "4 products" in page and "Shanghai PM2.5 Hourly" in page and "上海空气质量" in page
    assert 'name="category" value="transport"' in page and "Commercial use allowed" in page


def test_search_and_facets_from_the_query_string(client, catalog):
    page = text(client.get("/catalog?q=交通&category=transport"))
    assert "1 product" in page and "Hong Kong Strategic Road Traffic Speeds" in page
    assert "Kowloon Journey Times" not in page
    assert 'value="transport" checked' in page and "Category: Transport ✕" in page


def test_empty_result_offers_a_way_out(client, catalog):
    page = text(client.get("/catalog?q=kowloon&category=weather"))
    assert "No products match." in page and "remove the filters" in page


def test_misspelling_shows_close_matches(client, catalog):
    page = text(client.get("/catalog?q=kowlon"))
    assert "close matches" in page and "Kowloon Journey Times" in page


@pytest.mark.parametrize("query", ["page=abc", "page=-5", "page=99999999", "sort=zzz", "per_page=0",
                                   "cursor=garbage&sort=newest", "q=" + "x" * 3000, "q=%22NEAR(", "category=nope"])
def test_nonsense_never_fails(client, catalog, query):
    assert client.get(f"/catalog?{query}").status_code == 200


def test_cursor_pages_link_on(client, catalog):
    page = text(client.get("/catalog?sort=newest&per_page=2"))
    assert 'rel="next"' in page and "cursor=" in page


def _count_queries(client, url):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_a_catalog_page_issues_a_fixed_number_of_queries(session, storage, client, seller, reviewer, catalog):
    few = _count_queries(client, "/catalog?per_page=2")
    for i in range(6):
        factories.listed_product(session, storage, seller, reviewer, title=f"Extra product {i}",
                                 plans=[{"name": f"Plan {j}", "currency": "USD"} for j in range(3)])
    session.commit()
    many = _count_queries(client, "/catalog?per_page=24")
    assert few == many
    filtered = _count_queries(client, "/catalog?q=extra&category=transport&region=hong_kong&per_page=24")
    assert filtered <= many + 2  # one grouped count per facet with a selection


@pytest.mark.parametrize("nesting", [1100, 40])
def test_a_deeply_nested_or_overlong_cursor_starts_from_the_first_page(client, catalog, nesting):
    cursor = base64.urlsafe_b64encode(b"[" * nesting + b"]" * nesting).decode()
    response = client.get(f"/catalog?sort=newest&cursor={cursor}")
    assert response.status_code == 200
    assert "That page link is out of date; showing the first page." in text(response)



@pytest.mark.parametrize(("sort", "raw"), BAD_CURSORS)
def test_a_crafted_cursor_starts_from_the_first_page(client, catalog, sort, raw):
    response = client.get(f"/catalog?sort={sort}&cursor={cursor_of(raw)}")
    assert response.status_code == 200
    page = text(response)
    assert "That page link is out of date; showing the first page." in page and "4 products" in page
