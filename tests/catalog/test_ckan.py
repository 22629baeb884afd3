"""The CKAN Action API over the listed catalog, through the Flask test client: CKAN's envelope and field names,
every action, fq/sort/facets/paging translated to the catalog search, errors in CKAN's shape, and only listed
products (through their listed version) ever showing."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import event

from marketplace.catalog import ckan, ckan_search
from marketplace.catalog import search as search_module
from marketplace.catalog.dcat_views import public_base_url
from marketplace.extensions import db
from marketplace.review import services as review
from tests import factories
from tests.support.sql import carries_nul

API = "/api/3/action"


def call(client, action, method="get", status=200, **params):
    if method == "get":
        response = client.get(f"{API}/{action}", query_string=params)
    else:
        response = client.post(f"{API}/{action}", json=params)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["help"].endswith(f"/api/3/action/help_show?name={action}")
    assert body["success"] is (status == 200)
    return body["result"] if status == 200 else body["error"]


def names(result):
    return [p["name"] for p in result["results"]]


@pytest.fixture
def slugs(catalog):
    return {key: p.slug for key, p in catalog.items()}


# ---------------------------------------------------------------- the site and the envelope


def test_status_show_in_the_envelope_on_both_paths(client):
    result = call(client, "status_show")
    assert result["ckan_version"].startswith("2.10") and result["extensions"] == []
    assert result["site_title"] and result["site_url"].startswith("http")
    unversioned = client.get("/api/action/status_show").get_json()
    assert unversioned["success"] and unversioned["result"] == result
    assert call(client, "site_read") is True


def test_help_show_documents_each_action(client):
    assert "fq" in call(client, "help_show", name="package_search")
    error = call(client, "help_show", status=404, name="package_create")
    assert error["__type"] == "Not Found Error"


def test_unknown_action_is_a_bad_request_in_the_envelope(client):
    for path in (f"{API}/package_create", f"{API}/", f"{API}/package_show/extra", "/api/action/datastore_search"):
        response = client.get(path)
        body = response.get_json()
        assert response.status_code == 400 and body["success"] is False
        assert body["error"]["__type"] == "Bad request"
        assert body["error"]["message"].startswith("Bad request - Action name not known")


def test_writes_are_refused_in_the_envelope(client):
    response = client.put(f"{API}/package_show", json={"id": "x"})
    assert response.status_code == 405 and response.get_json()["success"] is False
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_unreadable_json_is_a_bad_request(client, body):
    response = client.post(f"{API}/package_search", data=body, content_type="application/json")
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["__type"] == "Bad request"
    assert error["message"].startswith("Bad request - ")


def test_nul_characters_are_refused_in_the_envelope(client):
    response = client.get(f"{API}/package_search", query_string={"q": "a\x00b"})
    assert response.status_code == 400 and response.get_json()["error"]["__type"] == "Bad request"


def test_an_unexpected_failure_is_still_the_envelope(client, catalog, monkeypatch):
    monkeypatch.setattr(ckan, "package_dict", lambda *a, **k: 1 / 0)
    error = call(client, "package_show", status=500, id=catalog["traffic"].slug)
    assert error == {"__type": "Internal Server Error", "message": "Internal Server Error"}


# ---------------------------------------------------------------- package_show and package_list


def test_package_show_maps_the_listed_version(client, catalog, slugs):
    product = catalog["traffic"]
    version = product.listed_version
    pkg = call(client, "package_show", id=product.slug)
    assert pkg["id"] == product.uuid and pkg["name"] == product.slug
    assert call(client, "package_show", id=product.uuid) == pkg  # by id or by name
    assert pkg["type"] == "dataset" and pkg["state"] == "active" and pkg["private"] is False
    assert pkg["title"] == "Hong Kong Strategic Road Traffic Speeds" and "speeds" in pkg["notes"]
    assert pkg["title_translated"] == {"en": pkg["title"], "zh": "香港交通数据"}
    assert pkg["notes_translated"]["zh"] == "策略性道路车速。"
    assert pkg["organization"]["name"] == pkg["owner_org"] == "harbour-analytics"
    assert pkg["organization"]["title"] == "Harbour Analytics" and pkg["organization"]["is_organization"]
    assert [t["name"] for t in pkg["tags"]] == ["traffic", "交通"] and pkg["num_tags"] == 2
    assert pkg["groups"] == [{"id": "transport", "name": "transport", "title": "Transport",
                              "display_name": "Transport", "description": "", "image_display_url": ""}]
    assert pkg["license_id"] == "marketplace-terms" and pkg["license_url"].endswith("#licence-terms")
    assert pkg["url"].endswith(f"/products/{product.slug}") and pkg["version"] == version.label
    for stamp in ("metadata_created", "metadata_modified"):
        assert datetime.fromisoformat(pkg[stamp]).tzinfo is None  # CKAN's form: UTC, no zone
    assert pkg["num_resources"] == len(pkg["resources"]) == len(version.assets) == 2
    by_kind = {r["resource_type"]: r for r in pkg["resources"]}
    sample = by_kind["sample"]
    asset = next(a for a in version.assets if a.kind == "sample")
    assert sample["id"] == asset.uuid and sample["package_id"] == product.uuid
    assert sample["format"] == "CSV" and sample["mimetype"] == "text/csv" and sample["size"] == asset.size
    assert sample["hash"] == asset.sha256 and sample["hash_algorithm"] == "sha256"
    assert sample["url"].endswith(f"/products/{product.slug}/files/{asset.uuid}")
    assert "licence" in by_kind["deliverable"]["description"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert [e["key"] for e in pkg["extras"]] == sorted(extras)
    assert extras["registration_number"] == version.registration_number
    assert extras["regions"] == "hong_kong" and extras["update_frequency"] == "hourly"
    assert extras["classification"] == "general" and extras["personal_info"] == "none"
    assert (extras["price_from"], extras["price_currency"]) == ("0.00", "HKD")  # the free plan
    plans = json.loads(extras["plans"])
    assert {p["kind"] for p in plans} == {"free", "one_time"}
    assert next(p for p in plans if p["kind"] == "one_time")["amount"] == "1200.00"
    assert json.loads(extras["sources"])[0]["licence_id"] == "LicenseRef-DATA.GOV.HK-Terms"


def test_package_show_takes_a_json_post_too(client, catalog):
    slug = catalog["air"].slug
    assert call(client, "package_show", method="post", id=slug) == call(client, "package_show", id=slug)
    form = client.post(f"{API}/package_show", data={"id": slug}).get_json()
    assert form["result"]["name"] == slug
    query = client.post(f"{API}/package_show?id={slug}").get_json()  # no body: the query string
    assert query["result"]["name"] == slug


def test_package_show_refuses_anything_not_listed(client, session, catalog, seller, reviewer):
    draft = factories.product(session, seller, title="Unlisted draft")
    session.commit()
    for slug in (draft.slug, "no-such-product", str(catalog["traffic"].id)):
        error = call(client, "package_show", status=404, id=slug)
        assert error["__type"] == "Not Found Error" and error["message"].startswith("Not found")
    assert call(client, "package_show", status=409)["id"] == ["Missing value"]
    assert call(client, "package_show", method="post", status=409, id=["a", "b"])["__type"] == "Validation Error"


def test_suspended_products_disappear_everywhere(client, session, catalog, reviewer):
    air = catalog["air"]
    review.suspend_product(session, reviewer, air, "Under query.")
    session.commit()
    assert call(client, "package_show", status=404, id=air.slug)["__type"] == "Not Found Error"
    assert air.slug not in call(client, "package_list")
    assert air.slug not in names(call(client, "package_search", rows=100))


def test_package_list_pages_in_listing_order(client, catalog):
    everything = call(client, "package_list")
    assert everything == [p.slug for p in sorted(catalog.values(), key=lambda p: p.id)]
    assert call(client, "package_list", limit=2) == everything[:2]
    assert call(client, "package_list", limit=2, offset=2) == everything[2:]
    assert call(client, "package_list", method="post", limit=3, offset=1) == everything[1:]
    assert call(client, "package_list", status=409, limit="two")["limit"] == ["Invalid integer"]
    assert call(client, "package_list", status=409, offset=-1)["offset"] == ["Must be a natural number"]


# ---------------------------------------------------------------- package_search


def test_package_search_result_shape(client, catalog):
    result = call(client, "package_search")
    assert set(result) == {"count", "sort", "results", "facets", "search_facets"}
    assert result["count"] == 4 and result["sort"] == "score desc, metadata_modified desc"
    modified = [p["metadata_modified"] for p in result["results"]]
    assert modified == sorted(modified, reverse=True)  # no words: newest first, as CKAN
    assert result["facets"] == result["search_facets"] == {}
    assert result["results"][0] == call(client, "package_show", id=result["results"][0]["name"])


def test_drafts_never_appear_in_search(client, catalog):
    assert call(client, "package_search", q="Secret draft")["count"] == 0
    assert "secret-draft-about-traffic" not in call(client, "package_list")


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "交通"}, {"traffic"}), ({"q": "kowloon"}, {"journeys"}), ({"q": "*:*"}, "all"),
    ({"q": "organization:pudong-data-studio"}, {"air", "weather"}),
    ({"q": "wind organization:pudong-data-studio"}, {"weather"}),
    ({"fq": "organization:harbour-analytics"}, {"traffic", "journeys"}),
    ({"fq": 'owner_org:"harbour-analytics"'}, {"traffic", "journeys"}),
    ({"fq": "+groups:environment"}, {"air"}),
    ({"fq": "groups:transport AND res_format:JSON"}, set()),
    ({"fq": "groups:environment res_format:JSON"}, {"air"}),
    ({"fq": "res_format:csv"}, "all"),  # values match whatever the case
    ({"fq": "groups:(transport OR weather)"}, {"traffic", "journeys", "weather"}),
    ({"fq": "groups:transport OR groups:weather"}, {"traffic", "journeys", "weather"}),
    ({"fq": "(organization:harbour-analytics OR organization:pudong-data-studio) groups:weather"}, {"weather"}),
    ({"fq": "organization:harbour-analytics organization:pudong-data-studio"}, set()),  # one org each
    ({"fq": "tags:交通"}, {"traffic"}), ({"fq": "tags:wind tags:typhoon"}, set()), ({"fq": "tags:traf"}, set()),
    ({"fq": "-organization:harbour-analytics"}, {"air", "weather"}),
    ({"fq": "NOT groups:transport"}, {"air", "weather"}),
    ({"fq": "!groups:transport -groups:weather"}, {"air"}), ({"fq": "-groups:(transport OR weather)"}, {"air"}),
    ({"fq": "organization:harbour-analytics OR groups:environment"}, {"traffic", "journeys", "air"}),
    ({"fq": "+organization:(harbour-analytics OR pudong-data-studio) -tags:交通"}, {"journeys", "air", "weather"}),
    ({"fq": "organization:harbour-analytics OR organization:nobody -groups:transport"}, set()),
    ({"fq": "(groups:transport AND tags:交通) OR region:shanghai"}, {"traffic", "air"}),
    ({"fq": "region:hong_kong region:cross_city"}, {"weather"}),
    ({"fq": "tags:(wind OR 交通)"}, {"traffic", "weather"}),
    ({"fq": 'tags:"交通" && groups:transport'}, {"traffic"}), ({"fq": "groups:transport || groups:weather"},
                                                                  {"traffic", "journeys", "weather"}),
    ({"fq": "metadata_modified:[* TO *]"}, "all"), ({"fq": "metadata_modified:[NOW-1DAY TO NOW+1DAY]"}, "all"),
    ({"fq": "metadata_modified:[2999-01-01T00:00:00Z TO *]"}, set()),
    ({"fq": "metadata_created:{* TO 2000-01-01T00:00:00.000Z}"}, set()),
    ({"q": "name:kowloon-journey-times"}, {"journeys"}), ({"q": "title:typhoon"}, {"weather"}),
    ({"q": "title:\"road traffic\""}, {"traffic"}), ({"q": "tags:wind"}, {"weather"}),
    ({"q": "title:hong groups:transport -name:kowloon-journey-times"}, {"traffic"}),
    ({"q": "speeds title:hong"}, {"traffic"}), ({"fq": "kowloon"}, {"journeys"}),
    ({"fq": 'tags:"journey time"'}, {"journeys"}),
    ({"fq": "region:shanghai"}, {"air"}), ({"fq": "region:cross-city"}, {"weather"}),
    ({"fq": "licence:free"}, {"traffic"}), ({"fq": "currency:CNY"}, {"air"}),
    ({"fq": "frequency:hourly delivery:file"}, "all"),
    ({"fq": "+dataset_type:dataset +state:active capacity:public"}, "all"),
    ({"fq": "license_id:marketplace-terms"}, "all"), ({"fq": "license_id:CC-BY-4.0"}, set()),
    ({"fq": "*:*"}, "all"), ({"fq_list": ["groups:transport", "tags:交通"]}, {"traffic"}),
    ({"q": "hong kong", "fq": "groups:transport"}, {"traffic", "journeys"}),
])
def test_package_search_filters(client, catalog, params, expected):
    result = call(client, "package_search", method="post", **params)
    wanted = {p.slug for p in catalog.values()} if expected == "all" else {catalog[k].slug for k in expected}
    assert set(names(result)) == wanted and result["count"] == len(wanted)


@pytest.mark.parametrize(("fq", "words"), [
    ("colour:red", "Unknown field 'colour'"), ("-colour:red", "Unknown field 'colour'"),
    ("groups:transport AND tags:x OR region:shanghai", "ambiguous"), ("num_tags:[1 TO 5]", "Unknown field 'num_tags'"),
    ("groups:[a TO b]", "Ranges work on metadata_created and metadata_modified only, not groups"),
    ("tags:[a TO b]", "not tags"), ("license_id:[2020-01-01T00:00:00Z TO *]", "Ranges work on"),
    ("metadata_modified:[2020-01-01 TO *]", "not a Solr date"), ("metadata_modified:[NOW-3FORTNIGHTS TO *]", "unit"),
    ("metadata_modified:[2020-13-01T00:00:00Z TO *]", "not a valid date"), ("res_format:CS*", "Wildcards"),
    ("(organization:harbour-analytics", "unbalanced parentheses"), ("groups:transport)", "unbalanced parentheses"),
    ('groups:""', "give a value"), ("organization:x OR", "ends with an operator"),
    ("groups:(", "unbalanced parentheses"),
    ("groups:x -", "ends with an operator"), ("groups:x AND (", "unbalanced"),
    ("groups:x AND AND groups:y", "cannot read"),
    ("(" * 40 + "groups:x" + ")" * 40, "nest"), (" ".join(["groups:x"] * 101), "more than 100 clauses"),
])
def test_bad_fq_is_a_validation_error_naming_the_problem(client, catalog, fq, words):
    error = call(client, "package_search", status=409, fq=fq)
    assert error["__type"] == "Validation Error" and error["fq"][0].startswith("Search Query is invalid: ")
    assert words in error["fq"][0]
    if "colour" in fq:  # in q, a field nothing is indexed under reads as words (edismax), see below
        return
    q_error = call(client, "package_search", status=409, q=f"title:x {fq}")
    assert q_error["q"][0].startswith("Search Query is invalid: ") and words in q_error["q"][0]


def test_facets_in_both_ckan_shapes(client, catalog):
    fields = ["organization", "groups", "res_format", "license_id", "region"]
    result = call(client, "package_search", **{"facet.field": json.dumps(fields)})
    assert set(result["facets"]) == set(result["search_facets"]) == set(fields)
    assert result["facets"]["organization"] == {"harbour-analytics": 2, "pudong-data-studio": 2}
    assert result["facets"]["res_format"] == {"CSV": 4, "JSON": 1}
    assert result["facets"]["license_id"] == {"marketplace-terms": 4}
    organization = result["search_facets"]["organization"]
    assert organization["title"] == "organization"
    assert {"name": "harbour-analytics", "display_name": "Harbour Analytics", "count": 2} in organization["items"]
    groups = result["search_facets"]["groups"]["items"]
    assert groups[0] == {"name": "transport", "display_name": "Transport", "count": 2}  # most first
    for field in fields:
        assert {i["name"]: i["count"] for i in result["search_facets"][field]["items"]} == result["facets"][field]


def test_facet_options(client, catalog):
    limited = call(client, "package_search", method="post", **{"facet.field": ["groups"], "facet.limit": 1})
    assert limited["facets"]["groups"] == {"transport": 2}
    filtered = call(client, "package_search", method="post", fq="groups:transport",
                    **{"facet.field": ["organization", "groups"]})
    assert filtered["facets"] == {"organization": {"harbour-analytics": 2}, "groups": {"transport": 2}}
    # counts are over the matching datasets, as Solr counts them for CKAN
    regions = call(client, "package_search", method="post", fq="region:cross_city", **{"facet.field": ["region"]})
    assert regions["count"] == 1 and regions["facets"]["region"] == {"hong_kong": 1, "cross_city": 1}
    nothing = call(client, "package_search", method="post", q="zzzqqq", **{"facet.field": ["groups", "license_id"]})
    assert nothing["count"] == 0 and nothing["facets"] == {"groups": {}, "license_id": {}}
    off = call(client, "package_search", method="post", facet="false", **{"facet.field": ["groups"]})
    assert off["facets"] == {}
    tags = call(client, "package_search", **{"facet.field": '["tags", "colour"]'})
    assert tags["facets"]["tags"]["交通"] == 1 and tags["facets"]["tags"]["wind"] == 1
    assert tags["facets"]["colour"] == {} and tags["search_facets"]["colour"] == {"title": "colour", "items": []}
    some = call(client, "package_search", fq="groups:transport", **{"facet.field": '["tags"]'})
    assert set(some["facets"]["tags"]) <= {t for p in call(client, "package_search", fq="groups:transport")["results"]
                                            for t in (tag["name"] for tag in p["tags"])}
    assert "facet.field" in call(client, "package_search", status=409, **{"facet.field": "[oops"})


@pytest.mark.parametrize("params", [
    {}, {"sort": "metadata_modified desc"}, {"sort": "name asc"}, {"sort": "id asc"}, {"sort": "price asc"},
    {"sort": "metadata_created desc"}, {"q": "hong kong"}, {"q": "hong kong", "sort": "name desc"},
])
@pytest.mark.parametrize("rows", [1, 3])
def test_paging_visits_every_result_once(client, catalog, params, rows):
    whole = call(client, "package_search", rows=100, **params)
    seen, start = [], 0
    while True:
        page = call(client, "package_search", rows=rows, start=start, **params)
        assert page["count"] == whole["count"]
        seen += names(page)
        if len(page["results"]) < rows:
            break
        start += rows
    assert seen == names(whole) and len(set(seen)) == whole["count"]
    assert names(call(client, "package_search", rows=2, start=1, **params)) == names(whole)[1:3]  # unaligned


def test_sort_orders(client, catalog):
    by_name = names(call(client, "package_search", sort="name asc"))
    assert by_name == sorted(by_name)
    by_id = call(client, "package_search", sort="id asc")["results"]
    assert [p["id"] for p in by_id] == sorted(p["id"] for p in by_id)
    assert names(call(client, "package_search", sort="id desc")) == [p["name"] for p in by_id][::-1]
    newest = names(call(client, "package_search", sort="metadata_modified desc"))
    assert names(call(client, "package_search", sort="metadata_modified asc")) == newest[::-1]
    assert names(call(client, "package_search"))[0] == newest[0]
    titles = [p["title"].lower() for p in call(client, "package_search", sort="title_string asc")["results"]]
    assert titles == sorted(titles)
    assert names(call(client, "package_search", sort="price asc"))[0] == catalog["traffic"].slug
    assert names(call(client, "package_search", q="road traffic speeds"))[0] == catalog["traffic"].slug


@pytest.mark.parametrize(("params", "field"), [
    ({"rows": "ten"}, "rows"), ({"rows": -1}, "rows"), ({"start": "x"}, "start"), ({"start": -5}, "start"),
    ({"rows": 2.5}, "rows"), ({"rows": True}, "rows"), ({"sort": "downloads desc"}, "sort"),
    ({"sort": "score desc, popularity asc"}, "sort"), ({"facet": "maybe"}, "facet"),
    ({"facet.limit": "all"}, "facet.limit"), ({"q": ["a", "b"]}, "q"), ({"fq_list": ["colour:red"]}, "fq_list"),
])
def test_bad_parameters_are_validation_errors(client, catalog, params, field):
    error = call(client, "package_search", method="post", status=409, **params)
    assert error["__type"] == "Validation Error" and field in error


def test_unknown_search_parameters_are_a_search_query_error(client, catalog):
    error = call(client, "package_search", status=400, row=5)
    assert error["__type"] == "Search Query Error" and "row" in error["message"]
    assert call(client, "package_search", ext_bbox="1,2,3,4", include_private="true")["count"] == 4


def test_rows_are_capped_and_zero_rows_count_only(client, catalog):
    assert len(call(client, "package_search", rows=5000)["results"]) == 4
    counted = call(client, "package_search", rows=0, **{"facet.field": '["groups"]'})
    assert counted["count"] == 4 and counted["results"] == [] and counted["facets"]["groups"]["transport"] == 2
    assert call(client, "package_search", start=50)["results"] == []


def test_any_offset_is_reachable_in_every_order(client, catalog, monkeypatch):
    monkeypatch.setattr(search_module, "MAX_OFFSET", 1)  # the catalog page's limit does not apply here
    newest = names(call(client, "package_search", rows=10))
    assert names(call(client, "package_search", rows=1, start=3)) == newest[3:]
    ranked = names(call(client, "package_search", q="hong kong", rows=10))
    assert len(ranked) == 3
    assert names(call(client, "package_search", q="hong kong", rows=1, start=2)) == ranked[2:]
    assert call(client, "package_search", q="hong kong", rows=1, start=9)["results"] == []


# ---------------------------------------------------------------- organizations and licences


def test_organization_list(client, session, catalog):
    factories.user(session, organization="Idle Buyers Ltd")  # no listed product: not an organization here
    session.commit()
    assert call(client, "organization_list") == ["harbour-analytics", "pudong-data-studio"]
    full = call(client, "organization_list", all_fields="true")
    assert [o["name"] for o in full] == ["harbour-analytics", "pudong-data-studio"]
    assert full[0]["title"] == "Harbour Analytics" and full[0]["package_count"] == 2
    assert full[0]["id"] == full[0]["name"] and full[0]["type"] == "organization"
    assert call(client, "organization_list", sort="name desc") == ["pudong-data-studio", "harbour-analytics"]
    assert call(client, "organization_list", sort="package_count desc", limit=1, offset=1) == ["pudong-data-studio"]
    assert call(client, "organization_list", q="pudong") == ["pudong-data-studio"]
    assert call(client, "organization_list", method="post", organizations=["harbour-analytics"]) == \
        ["harbour-analytics"]
    assert "sort" in call(client, "organization_list", status=409, sort="created asc")
    assert "all_fields" in call(client, "organization_list", status=409, all_fields="perhaps")


@pytest.mark.parametrize("action,param", [("organization_list", "organizations"),
                                          ("package_search", "facet.field"), ("package_search", "fq_list")])
@pytest.mark.parametrize("method", ["get", "post"])
def test_nul_inside_a_json_list_in_a_string_is_refused_before_the_database(client, catalog, action, param, method):
    # One JSON layer hides the NUL from the request-wide check ("\\u0000" is six plain characters); it appears
    # only when the parameter's own JSON is parsed.
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if carries_nul(parameters):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        error = call(client, action, method=method, status=409, **{param: '["a\\u0000b"]'})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert error["__type"] == "Validation Error" and "NUL" in error[param][0]
    assert seen == []


def test_organization_show(client, session, catalog):
    factories.user(session, organization="Idle Buyers Ltd")
    session.commit()
    org = call(client, "organization_show", id="harbour-analytics")
    assert org["name"] == "harbour-analytics" and org["package_count"] == 2 and "packages" not in org
    assert org["users"] == []
    full = call(client, "organization_show", method="post", id="harbour-analytics", include_datasets=True)
    assert {p["name"] for p in full["packages"]} == {catalog["traffic"].slug, catalog["journeys"].slug}
    assert full["packages"][0]["organization"]["name"] == "harbour-analytics"
    for missing in ("idle-buyers-ltd", "nobody"):
        assert call(client, "organization_show", status=404, id=missing)["__type"] == "Not Found Error"


def test_license_list(client):
    licences = call(client, "license_list")
    assert licences[0]["id"] == "marketplace-terms"
    by_id = {lic["id"]: lic for lic in licences}
    assert by_id["CC-BY-4.0"]["title"] and by_id["CC-BY-4.0"]["url"].startswith("http")
    assert "LicenseRef-DATA.GOV.HK-Terms" in by_id
    assert set(licences[0]) >= {"id", "title", "url", "status", "od_conformance", "osd_conformance"}


# ---------------------------------------------------------------- groups, tags, resources, autocomplete


def test_group_list_and_group_show(client, session, catalog):
    assert call(client, "group_list") == ["environment", "transport", "weather"]  # by title
    full = call(client, "group_list", all_fields="true", sort="package_count desc")
    assert [(g["name"], g["package_count"]) for g in full][0] == ("transport", 2)
    assert full[0]["title"] == "Transport" and full[0]["type"] == "group" and full[0]["is_organization"] is False
    assert call(client, "group_list", sort="name desc", limit=1, offset=1) == ["transport"]
    assert call(client, "group_list", q="weath") == ["weather"]
    assert call(client, "group_list", method="post", groups=["weather", "nothing"]) == ["weather"]
    assert call(client, "group_list", type="organization") == []
    assert "sort" in call(client, "group_list", status=409, sort="created asc")
    group = call(client, "group_show", id="transport", include_datasets="true")
    assert group["name"] == "transport" and group["package_count"] == 2
    assert {p["name"] for p in group["packages"]} == {catalog["traffic"].slug, catalog["journeys"].slug}
    assert "packages" not in call(client, "group_show", id="transport")
    for missing in ("energy", "nothing"):  # no listed dataset, or no such category
        assert call(client, "group_show", status=404, id=missing)["__type"] == "Not Found Error"
    assert call(client, "group_show", status=409)["id"] == ["Missing value"]
    # every group a package names can be shown
    for pkg in call(client, "package_search")["results"]:
        for g in pkg["groups"]:
            assert call(client, "group_show", id=g["name"])["title"] == g["title"]


def test_tag_list(client, catalog):
    tags = call(client, "tag_list")
    assert tags == sorted(tags) and {"traffic", "交通", "wind", "journey time", "air quality"} <= set(tags)
    assert call(client, "tag_list", query="AIR") == ["air quality"]
    assert call(client, "tag_list", q="journey") == ["journey time"]
    full = call(client, "tag_list", all_fields="true", query="wind")
    assert full == [{"id": full[0]["id"], "name": "wind", "display_name": "wind", "vocabulary_id": None}]
    assert full[0]["id"] == call(client, "tag_list", all_fields="true", query="wind")[0]["id"]  # stable
    assert call(client, "tag_list", status=404, vocabulary_id="genres")["__type"] == "Not Found Error"
    counts = call(client, "package_search", **{"facet.field": '["tags"]', "facet.limit": -1})["facets"]["tags"]
    assert set(counts) == set(tags)


def test_resource_show_by_the_file_uuid(client, session, catalog, reviewer):
    pkg = call(client, "package_show", id=catalog["traffic"].slug)
    for resource in pkg["resources"]:
        assert call(client, "resource_show", id=resource["id"]) == resource
    asset = catalog["traffic"].listed_version.assets[0]
    assert call(client, "resource_show", status=404, id=str(asset.id))["__type"] == "Not Found Error"
    review.suspend_product(session, reviewer, catalog["traffic"], "Under query.")
    session.commit()
    assert call(client, "resource_show", status=404, id=pkg["resources"][0]["id"])["__type"] == "Not Found Error"
    assert call(client, "resource_show", status=409)["id"] == ["Missing value"]


def test_package_autocomplete(client, catalog):
    found = call(client, "package_autocomplete", q="KOWLOON")
    assert found == [{"name": "kowloon-journey-times", "title": "Kowloon Journey Times", "match_field": "name",
                      "match_displayed": "kowloon-journey-times"}]
    by_title = call(client, "package_autocomplete", q="pm2.5")
    assert by_title[0]["match_field"] == "title" and by_title[0]["match_displayed"].endswith("(shanghai-pm2-5-hourly)")
    assert len(call(client, "package_autocomplete", q="o", limit=2)) == 2
    assert call(client, "package_autocomplete", q="secret draft") == []
    assert call(client, "package_autocomplete", q="%") == []
    assert call(client, "package_autocomplete", status=409)["q"] == ["Missing value"]


def test_current_package_list_with_resources(client, catalog):
    newest = call(client, "package_search", sort="metadata_modified desc")["results"]
    assert call(client, "current_package_list_with_resources") == newest
    assert [p["name"] for p in call(client, "current_package_list_with_resources", limit=2, offset=1)] == \
        [p["name"] for p in newest[1:3]]
    assert [p["name"] for p in call(client, "current_package_list_with_resources", limit=3, page=2)] == \
        [newest[3]["name"]]
    assert all(p["resources"] for p in newest)
    assert "page" in call(client, "current_package_list_with_resources", status=409, page=0, limit=2)
    assert "limit" in call(client, "current_package_list_with_resources", status=409, limit="x")


def test_metadata_modified_filters_by_the_value_packages_show(client, session, catalog, reviewer):
    pkg = call(client, "package_show", id=catalog["air"].slug)
    stamp = pkg["metadata_modified"] + "Z"  # CKAN shows UTC without a zone; Solr dates carry Z
    after = {p["name"] for p in call(client, "package_search", fq=f"metadata_modified:[{stamp} TO *]")["results"]}
    assert pkg["name"] in after
    later = {p["name"] for p in call(client, "package_search", fq=f"metadata_modified:{{{stamp} TO *]")["results"]}
    assert pkg["name"] not in later and later < after
    exact = call(client, "package_search", fq=f'metadata_modified:"{stamp}"')["results"]
    assert [p["name"] for p in exact] == [pkg["name"]]
    # a product suspended and reinstated is a change: it comes back with a newer metadata_modified
    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    review.reinstate_product(session, reviewer, catalog["air"], "Cleared.")
    session.commit()
    back = call(client, "package_show", id=catalog["air"].slug)
    assert back["metadata_modified"] > pkg["metadata_modified"]
    newer = call(client, "package_search", fq=f"metadata_modified:{{{stamp} TO *]")["results"]
    assert pkg["name"] in {p["name"] for p in newer}


@pytest.mark.parametrize("q", ["speeds OR kowloon", "speeds OR tags:wind", "title:typhoon OR hong", "ab OR speeds"])
def test_relevance_pages_hold_every_match(client, catalog, q):
    whole = call(client, "package_search", q=q, rows=100)
    assert whole["count"] == len(whole["results"]) > 0
    one_by_one = [names(call(client, "package_search", q=q, rows=1, start=n))[0] for n in range(whole["count"])]
    assert one_by_one == names(whole)


@pytest.mark.parametrize(("q", "expected"), [
    ("speeds OR kowloon", {"traffic", "journeys"}), ("hong kong -speeds", {"journeys", "weather"}),
    ("NOT typhoon", {"traffic", "journeys", "air"}), ("a + b (", set()),  # not a query: searched as words
])
def test_q_words_with_operators(client, catalog, q, expected):
    assert set(names(call(client, "package_search", q=q))) == {catalog[k].slug for k in expected}


# ---------------------------------------------------------------- package descriptions kept per process


def test_package_descriptions_are_kept_and_every_change_shows_at_once(client, session, storage, seller, reviewer,
                                                                       catalog):
    from marketplace.listings import services as listings
    from tests.catalog.test_product_page import approve, counted_queries

    kept = ckan_search.package_cache()
    kept.clear()
    search = {"q": "hong kong", "rows": 10}
    built = [call(client, "package_search", **search) for _ in range(2)]  # the second ask keeps them
    with counted_queries() as kept_statements:
        again = call(client, "package_search", **search)
    assert again == built[0] == built[1] and again["count"] == 3
    kept.clear()
    with counted_queries() as built_statements:
        assert call(client, "package_search", **search) == again
    # kept: only the descriptions' states are read again, not the products, files, plans and sources
    assert len(kept_statements) < len(built_statements) - 3, (kept_statements, built_statements)
    call(client, "package_search", **search)

    traffic, weather = catalog["traffic"], catalog["weather"]
    traffic.organization.name = "Kowloon Road Data Ltd"  # the seller renames itself
    session.commit()
    by_name = {p["name"]: p for p in call(client, "package_search", **search)["results"]}
    assert by_name[traffic.slug]["organization"]["title"] == "Kowloon Road Data Ltd"
    assert by_name[traffic.slug]["author"] == "Kowloon Road Data Ltd"

    v2 = listings.new_version(session, seller, traffic, "2.0", "Added the 2024 detectors.")
    listings.update_metadata(session, seller, v2, {"title_en": "Hong Kong Road Speeds 2024"})
    approve(session, storage, seller, reviewer, v2)
    session.commit()
    by_name = {p["name"]: p for p in call(client, "package_search", **search)["results"]}
    assert by_name[traffic.slug]["title"] == "Hong Kong Road Speeds 2024" and by_name[traffic.slug]["version"] == "2.0"

    review.suspend_product(session, reviewer, weather, "Under query.")
    session.commit()
    assert weather.slug not in names(call(client, "package_search", **search))
    review.reinstate_product(session, reviewer, weather, "Cleared.")
    session.commit()
    back = {p["name"]: p for p in call(client, "package_search", **search)["results"]}[weather.slug]
    assert back["metadata_modified"] > built[0]["results"][[p["name"] for p in built[0]["results"]].index(
        weather.slug)]["metadata_modified"]


def test_a_package_asked_for_once_is_not_kept(client, catalog):
    kept = ckan_search.package_cache()
    kept.clear()
    call(client, "package_search", q="typhoon")
    product = catalog["weather"]
    state = (product.listed_version_id, product.updated_at, product.organization.updated_at)
    with client.application.test_request_context():
        base = public_base_url()
    assert kept.get((product.id, base, "en"), state) is None
    call(client, "package_search", q="typhoon")
    assert kept.get((product.id, base, "en"), state)["name"] == product.slug


def test_package_descriptions_are_kept_in_each_language_apart(client, catalog):
    def groups(language):
        response = client.get(f"{API}/package_search", query_string={"q": "typhoon"},
                              headers={"Accept-Language": language})
        return [g["display_name"] for g in response.get_json()["result"]["results"][0]["groups"]]

    for language, label in [("zh-Hans", "气象"), ("en", "Weather")] * 3:  # kept from the second ask on
        assert groups(language) == [label], language
