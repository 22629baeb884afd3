"""The CKAN Action API against hostile and unusual input: the limits it keeps (one clause budget across q, fq and
fq_list; facet.field; operator chains; long texts; lone surrogates), the CKAN parameters it accepts and ignores,
how q reads like CKAN's (unknown fields, AND beside OR, Solr word operators), HEAD and JSONP, and the stable
resource urls and times across versions. Every refusal is CKAN's envelope, never a 500."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from sqlalchemy import event

from marketplace.catalog.ckan_query import MAX_CLAUSES, All, Not, Term, clauses
from marketplace.extensions import db
from marketplace.listings import services as listings
from marketplace.review import services as review
from tests import factories
from tests.catalog.test_ckan import API, call, names


def post_raw(client, action, body: str):
    return client.post(f"{API}/{action}", data=body.encode(), content_type="application/json")


# ---------------------------------------------------------------- one clause budget; operator chains; depth


def test_fq_list_shares_one_clause_budget_with_q_and_fq(client, catalog):
    wind = catalog["weather"].slug
    assert names(call(client, "package_search", method="post", fq_list=["tags:wind"] * MAX_CLAUSES)) == [wind]
    started = time.perf_counter()
    error = call(client, "package_search", method="post", status=409, fq_list=["tags:wind"] * 1000, rows=0)
    assert time.perf_counter() - started < 2  # refused once the budget is spent, not after reading all 1000
    assert error["__type"] == "Validation Error"
    assert f"more than {MAX_CLAUSES} clauses" in error["fq_list"][0]
    # q and fq count against the same budget: 60 + 40 fit, one more does not
    q, fq = " ".join(["tags:wind"] * 60), " ".join(["tags:wind"] * 40)
    assert call(client, "package_search", q=q, fq=fq)["count"] == 1
    error = call(client, "package_search", method="post", status=409, q=q, fq=fq, fq_list=["tags:wind"])
    assert "together have more than" in error["fq_list"][0]


@pytest.mark.parametrize(("key", "text"), [("fq", "-" * 1000 + "tags:x"), ("q", "!" * 1990 + "x"),
                                           ("fq", "NOT " * 9 + "tags:x"), ("q", "- " * 9 + "tags:wind")])
def test_chains_of_prefix_operators_are_refused(client, catalog, key, text):
    error = call(client, "package_search", method="post", status=409, **{key: text})
    assert "operators (-, +, !, NOT) stand before one clause" in error[key][0]


def test_a_few_prefix_operators_still_work(client, catalog):
    assert names(call(client, "package_search", fq="--tags:wind")) == [catalog["weather"].slug]
    assert call(client, "package_search", fq="NOT NOT -tags:wind")["count"] == 3


def test_clauses_counts_any_depth_without_recursion():
    node = Term("tags", "x")
    for _ in range(100_000):
        node = Not(node)
    assert clauses(All((node, Term("text", "a")))) == 2 and clauses(None) == 0


def test_escaped_parentheses_do_not_count_as_nesting(client, catalog):
    deep = "\\)" * 60 + " " + "(" * 60 + "tags:x" + ")" * 60
    assert "nest deeper" in call(client, "package_search", status=409, fq=deep)["fq"][0]
    escaped = "tags:" + "\\(" * 30 + "x" + "\\)" * 30  # a value with parentheses in it, no nesting at all
    assert call(client, "package_search", fq=escaped)["count"] == 0


# ---------------------------------------------------------------- facet.field


def test_facet_fields_are_counted_once_and_capped(client, catalog):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        once = call(client, "package_search", method="post", **{"facet.field": ["tags"], "rows": 0})
        statements.clear()
        started = time.perf_counter()
        many = call(client, "package_search", method="post", **{"facet.field": ["tags"] * 5000, "rows": 0})
        assert time.perf_counter() - started < 2
        # the tags facet is one query however often it is named
        assert len([s for s in statements if "product_versions.tags" in s]) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert many == once and list(many["facets"]) == ["tags"] and many["facets"]["tags"]["wind"] == 1
    fields = ["tags", "organization", "tags", "groups"]
    assert list(call(client, "package_search", method="post", **{"facet.field": fields})["facets"]) == \
        ["tags", "organization", "groups"]
    error = call(client, "package_search", method="post", status=409,
                 **{"facet.field": [f"field_{n}" for n in range(51)]})
    assert "At most 50 different fields" in error["facet.field"][0]
    assert len(call(client, "package_search", method="post",
                    **{"facet.field": [f"field_{n}" for n in range(50)]})["facets"]) == 50


# ---------------------------------------------------------------- texts no database can take


@pytest.mark.parametrize(("action", "key"), [
    ("package_search", "q"), ("package_show", "id"), ("resource_show", "id"), ("organization_show", "id"),
    ("organization_list", "q"), ("package_autocomplete", "q"), ("group_show", "id"), ("tag_list", "query"),
])
def test_lone_surrogates_in_a_json_body_are_a_bad_request(client, catalog, action, key):
    for text in ("\\ud800", "a\\udfffb"):
        response = post_raw(client, action, '{"' + key + '": "' + text + '"}')
        body = response.get_json()
        assert response.status_code == 400 and body["success"] is False
        assert body["error"]["__type"] == "Bad request" and "surrogates" in body["error"]["message"]
    # a surrogate pair is one character (an emoji): searched, not refused
    assert post_raw(client, action, '{"' + key + '": "\\ud83d\\ude00"}').status_code in (200, 404)


def test_invalid_utf8_in_the_query_string_is_read_as_replacement_characters(client, catalog):
    for action in ("package_search?q=", "package_show?id=", "package_autocomplete?q=", "organization_list?q="):
        response = client.get(f"{API}/{action}%ED%A0%80%FF")
        assert response.status_code in (200, 404) and response.get_json()["success"] is (response.status_code == 200)


@pytest.mark.parametrize(("action", "key"), [("package_autocomplete", "q"), ("organization_list", "q"),
                                             ("group_list", "q"), ("tag_list", "query")])
def test_search_texts_past_2000_characters_are_refused(client, catalog, action, key):
    error = call(client, action, method="post", status=409, **{key: "w" * 60_000})
    assert error[key] == ["Must be at most 2000 characters long."]
    assert call(client, action, method="post", **{key: "w" * 2000}) == []


# ---------------------------------------------------------------- CKAN's own parameters, HEAD and JSONP


@pytest.mark.parametrize("params", [
    {"extras": "{}"}, {"ext_bbox": "113.8,22.1,114.4,22.6"}, {"wt": "json"}, {"defType": "edismax"},
    {"qf": "title^2 notes"}, {"bf": "recip(ms(NOW,metadata_modified),3.16e-11,1,1)"}, {"boost": "x"},
    {"tie": "0.1"}, {"mm": "2<-1"}, {"df": "text"}, {"pf": "title"}, {"bq": "x"}, {"_": "1700000000000"},
])
def test_solr_and_plugin_parameters_ckan_accepts_are_ignored(client, catalog, params):
    assert call(client, "package_search", q="wind", **params) == call(client, "package_search", q="wind")


def test_extras_as_a_json_object_in_a_post(client, catalog):
    result = call(client, "package_search", method="post", q="wind", extras={"ext_bbox": "1,2,3,4"})
    assert names(result) == [catalog["weather"].slug]


def test_head_answers_like_get(client, catalog):
    for action in ("status_show", "package_list", f"package_show?id={catalog['air'].slug}"):
        response = client.head(f"{API}/{action}")
        assert response.status_code == 200 and response.mimetype == "application/json" and response.data == b""
    assert client.head(f"{API}/package_show?id=nothing").status_code == 404
    assert "HEAD" in client.delete(f"{API}/status_show").headers["Allow"]


def test_a_get_with_callback_is_answered_as_jsonp(client, catalog):
    plain = client.get(f"{API}/package_list").get_data(as_text=True)
    response = client.get(f"{API}/package_list?callback=jQuery123.done_1")
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data(as_text=True) == f"jQuery123.done_1({plain});"
    searched = client.get(f"{API}/package_search?q=wind&callback=cb").get_data(as_text=True)
    assert searched.startswith("cb({") and searched.endswith("});")
    error = call(client, "package_list", status=409, callback="alert(1)//")
    assert error["callback"] == ["Must be a JavaScript function name (letters, digits, _, $ and dots)."]
    failed = client.get(f"{API}/package_show?id=nothing&callback=cb")  # errors stay JSON, as in CKAN
    assert failed.status_code == 404 and failed.get_json()["success"] is False
    posted = client.post(f"{API}/package_list", json={"callback": "cb"})  # a POST's callback: ignored, as CKAN
    assert posted.mimetype == "application/json" and posted.get_data(as_text=True) == plain


# ---------------------------------------------------------------- q read as CKAN reads it


@pytest.mark.parametrize(("q", "expected"), [
    ("Note: typhoon", set()), ("Typhoon: wind", {"weather"}), ("title:typhoon colour:gusts", set()),
    ("title:typhoon gusts:wind", {"weather"}),
    ("wind*", {"weather"}), ("wind~", {"weather"}), ("wind~0.8", {"weather"}), ("wind^2", {"weather"}),
    ("typhoon^2 OR kowloon*", {"weather", "journeys"}), ("text:wind*", {"weather"}),
])
def test_q_reads_like_ckans(client, catalog, q, expected):
    assert set(names(call(client, "package_search", q=q))) == {catalog[k].slug for k in expected}


def test_an_unknown_field_in_q_is_its_words(client, catalog):
    # "Note" is not a word of any product: no match, rather than a refusal; "Typhoon:" finds the typhoon product
    assert call(client, "package_search", q="Note: typhoon")["count"] == 0
    assert call(client, "package_search", q="Typhoon: gusts")["count"] == 1
    assert "Unknown field 'note'" in call(client, "package_search", status=409, fq="note:typhoon")["fq"][0]


def test_and_beside_or_is_refused_in_q_as_in_fq(client, catalog):
    for key in ("q", "fq"):
        error = call(client, "package_search", status=409, **{key: "typhoon OR rainfall AND wind"})
        assert "ambiguous" in error[key][0]
    assert call(client, "package_search", q="(typhoon OR rainfall) AND wind")["count"] == 1


@pytest.mark.parametrize(("fq", "words"), [
    ("num_resources:[1 TO *]", "Unknown field 'num_resources'"),
    ("tags:[a TO b]", "Ranges work on metadata_created and metadata_modified only, not tags"),
    ("metadata_modified:[yesterday TO *]", "not a Solr date"),
])
def test_ranges_name_the_field_before_reading_dates(client, catalog, fq, words):
    for key in ("fq", "q"):
        assert words in call(client, "package_search", status=409, **{key: fq})[key][0]


# ---------------------------------------------------------------- dates that agree; resources across versions


def test_dcat_modified_is_ckans_metadata_modified_after_a_reinstatement(client, session, catalog, reviewer):
    air = catalog["air"]
    review.suspend_product(session, reviewer, air, "Under query.")
    review.reinstate_product(session, reviewer, air, "Cleared.")
    session.commit()
    ckan_modified = datetime.fromisoformat(call(client, "package_show", id=air.slug)["metadata_modified"])
    graph = Graph().parse(data=client.get(f"/products/{air.slug}.ttl").get_data(as_text=True), format="turtle")
    dataset = next(s for s in graph.subjects(DCTERMS.identifier, None) if isinstance(s, URIRef)
                   and str(s).endswith("#dataset"))
    dcat_modified = graph.value(dataset, DCTERMS.modified).toPython()
    assert dcat_modified.astimezone(UTC).replace(tzinfo=None) == ckan_modified
    assert ckan_modified > air.listed_version.approved_at.astimezone(UTC).replace(tzinfo=None)
    catalog_graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    newest = catalog_graph.value(URIRef(client.get("/catalog.ttl").request.host_url + "catalog#catalog"),
                                 DCTERMS.modified)
    assert newest is None or newest.toPython().astimezone(UTC).replace(tzinfo=None) >= ckan_modified


def _relist(session, storage, seller, reviewer, product, label, change=None):
    version = listings.new_version(session, seller, product, label, "Refreshed.")
    listings.set_compliance(session, seller, version, factories.COMPLIANCE, attest=True, attested_by_name="Ada")
    if change:
        change(version)
    round_ = factories.submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.commit()
    return version


def test_a_resource_keeps_its_url_and_creation_across_versions(client, session, storage, catalog, reviewer):
    product = catalog["traffic"]
    seller = product.created_by
    first = {r["id"]: r for r in call(client, "package_show", id=product.slug)["resources"]}
    _relist(session, storage, seller, reviewer, product, "2.0")
    second = {r["id"]: r for r in call(client, "package_show", id=product.slug)["resources"]}
    assert set(second) == set(first)
    for rid, resource in second.items():
        for key in ("url", "created", "last_modified", "hash"):
            assert resource[key] == first[rid][key], key  # same file, same content: nothing changed
        assert call(client, "resource_show", id=rid) == resource

    def new_content(version):  # the file's content replaced under the same UUID
        sample = next(a for a in version.assets if a.kind == "sample")
        sample.sha256 = "0" * 64

    _relist(session, storage, seller, reviewer, product, "3.0", new_content)
    third = {r["id"]: r for r in call(client, "package_show", id=product.slug)["resources"]}
    sample = next(r for r in third.values() if r["resource_type"] == "sample")
    assert sample["created"] == first[sample["id"]]["created"] and sample["url"] == first[sample["id"]]["url"]
    stamp = datetime.fromisoformat
    assert stamp(sample["last_modified"]) > stamp(first[sample["id"]]["last_modified"])
    deliverable = next(r for r in third.values() if r["resource_type"] == "deliverable")
    assert deliverable["last_modified"] == first[deliverable["id"]]["last_modified"]
    searched = call(client, "package_search", fq=f"name:{product.slug}")["results"][0]
    assert {r["id"]: r["last_modified"] for r in searched["resources"]} == \
        {rid: r["last_modified"] for rid, r in third.items()}


def test_a_resource_url_serves_the_listed_copy_of_the_file(client, catalog):
    product = catalog["traffic"]
    resources = {r["resource_type"]: r for r in call(client, "package_show", id=product.slug)["resources"]}
    sample = client.get(resources["sample"]["url"].split("127.0.0.1:5000", 1)[-1])
    assert sample.status_code in (200, 302)
    if sample.status_code == 200:
        assert sample.data.startswith(b"AID_ID_Number")
    assert client.get(resources["deliverable"]["url"].split("127.0.0.1:5000", 1)[-1]).status_code == 403
    assert client.get(f"/products/{product.slug}/files/no-such-uuid").status_code == 404
    assert client.get(f"/products/no-such-product/files/{resources['sample']['id']}").status_code == 404
