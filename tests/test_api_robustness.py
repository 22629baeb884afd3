"""No input reaches a 500: every documented API operation, fed junk, answers a 4xx in the one error shape."""
from __future__ import annotations

import re

import pytest

from tests import factories

JUNK_BODIES = [
    {"data": "{not json", "content_type": "application/json"},
    {"json": []},
    {"json": None},
    {"json": {"name": None, "title_en": None, "fields": None, "amount": None}},
    {"json": {"name": "x" * 100_000, "title_en": "x" * 100_000}},
    {"json": {"amount": "1e309", "asset_id": -1, "fields": [{"name": {"$gt": ""}, "type": 1}]}},
    {"json": {"attest": "maybe", "cross_border_transfer": "perhaps", "regions": [None]}},
    {"data": b"\xff\xfe\x00junk", "content_type": "application/octet-stream"},
]


@pytest.fixture
def operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    return [(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"]


def _fill(path: str, product_id: int) -> str:
    values = {"product_id": product_id, "number": 1, "source_id": 999999, "plan_id": 999999, "asset_id": 999999,
              "slug": "harbour-analytics"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "x")), path)


def test_every_operation_answers_junk_with_a_4xx_in_the_error_shape(api, session, seller, operations):
    product = factories.product(session, seller)
    session.commit()
    seen = 0
    for path, method in operations:
        url = _fill(path, product.id)
        for body in JUNK_BODIES:
            resp = getattr(api, method)(url, query_string={"kind": "sample", "filename": "x.csv", "q": "x" * 5000},
                                        **body)
            assert resp.status_code < 500, (method, url, body, resp.get_data(as_text=True)[:300])
            if resp.status_code >= 400:
                err = resp.get_json()
                assert set(err) == {"status", "code", "message", "errors"}, (method, url, err)
                assert err["status"] == resp.status_code
            seen += 1
    assert seen >= 8 * 20


def test_unknown_api_path_and_method_are_json_errors(api):
    assert api.get("/api/v1/nope").get_json()["code"] == "not_found"
    resp = api.delete("/api/v1/products")
    assert resp.status_code == 405 and resp.get_json()["status"] == 405


@pytest.mark.parametrize("url", ["/api/v1/products/99999999999999999999", "/seller/products/99999999999999999999",
                                 "/review/cases/2147483648", "/api/v1/review/cases/99999999999999999999"])
def test_ids_past_any_row_are_404_not_500(client, auth, api, seller, url):
    auth.login(seller.email)
    response = api.get(url) if url.startswith("/api") else client.get(url)
    assert response.status_code == 404


def test_nul_characters_are_refused_everywhere(client, auth, api, seller):
    auth.login(seller.email)
    assert api.post("/api/v1/products", json={"organization": "x", "title_en": "a\x00b"}).status_code == 400
    body = api.get("/api/v1/review/cases?category=a%00b").get_json()
    assert body["status"] == 400 and "NUL" in body["message"]
    assert client.post("/seller/products/new", data={"title_en": "a\x00b"}).status_code == 400


@pytest.mark.parametrize("too_big", [2**63, 2**31, -(2**63) - 1, 0])
def test_ids_in_bodies_past_any_row_are_refused_before_the_database(api, too_big):
    from tests.licensing.conftest import SCENARIO

    marked = api.post("/api/v1/notifications/read", json={"id": too_big})
    assert marked.status_code == 422 and marked.get_json()["errors"].get("id"), marked.get_json()
    ordered = api.post("/api/v1/orders", json={"plan_id": too_big, "organization": "x", "scenario": SCENARIO,
                                               "accept_terms": True})
    assert ordered.status_code == 422 and ordered.get_json()["errors"].get("plan_id"), ordered.get_json()
