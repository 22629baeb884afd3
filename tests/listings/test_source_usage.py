"""How a product uses each cited source (verbatim copy, unaltered subset, derived work): set by the seller on the
product editor and through the API, shown to the reviewer and on the product page."""
from __future__ import annotations

import pytest

from marketplace.listings import services as listings
from marketplace.listings.vocab import SourceUsage
from marketplace.review import services as review
from tests import factories
from tests.support.api import assert_error

V1 = "/api/v1"
SOURCE_FORM = {f"source-{k}": v for k, v in factories.SOURCE.items()}


def vurl(product, suffix: str = "") -> str:
    return f"/seller/products/{product.id}/versions/1{suffix}"


# ---------------------------------------------------------------- the product editor


def test_the_add_source_form_records_the_usage(seller_client, session, draft):
    page = seller_client.get(vurl(draft, "/sources")).get_data(as_text=True)
    assert 'name="source-usage"' in page and "Subset of records, unaltered" in page
    response = seller_client.post(vurl(draft, "/sources"), data=SOURCE_FORM | {"source-usage": "verbatim"})
    assert response.status_code == 302
    session.expire_all()
    [source] = draft.latest_version.sources
    assert source.usage == SourceUsage.VERBATIM


def test_a_source_added_without_usage_is_a_derived_work(seller_client, session, draft):
    assert seller_client.post(vurl(draft, "/sources"), data=SOURCE_FORM).status_code == 302
    session.expire_all()
    assert draft.latest_version.sources[0].usage == SourceUsage.DERIVED


def test_a_bad_usage_reshows_the_form_with_a_message(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/sources"), data=SOURCE_FORM | {"source-usage": "borrowed"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    session.expire_all()
    assert draft.latest_version.sources == []


def test_the_seller_changes_a_cited_sources_usage(seller_client, session, seller, draft):
    source = listings.add_source(session, seller, draft.latest_version, factories.SOURCE)
    session.commit()
    page = seller_client.get(vurl(draft, "/sources")).get_data(as_text=True)
    assert f'action="{vurl(draft, f"/sources/{source.id}/usage")}"' in page
    response = seller_client.post(vurl(draft, f"/sources/{source.id}/usage"), data={"usage": "subset"})
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft, "/sources"))
    session.expire_all()
    assert source.usage == SourceUsage.SUBSET

    response = seller_client.post(vurl(draft, f"/sources/{source.id}/usage"), data={"usage": "copied"})
    assert response.status_code == 422
    assert "Choose how the product uses the source" in response.get_data(as_text=True)
    assert seller_client.post(vurl(draft, "/sources/99999/usage"), data={"usage": "subset"}).status_code == 404
    session.expire_all()
    assert source.usage == SourceUsage.SUBSET


def test_the_lookup_prefills_a_derived_work_for_the_seller_to_change(seller_client, draft):
    page = seller_client.post(vurl(draft, "/sources/lookup"),
                              data={"lookup-q": "hk-wsd-wsd5-water-consumption"}).get_data(as_text=True)
    assert '<option selected value="derived">' in page or '<option value="derived" selected>' in page


# ---------------------------------------------------------------- the API


def test_api_sources_carry_their_usage(api, session, seller, draft):
    base = f"{V1}/products/{draft.id}/versions/1"
    looked_up = api.get(f"{V1}/sources/lookup", query_string={"q": "hk-wsd-wsd5-water-consumption"}).get_json()
    assert looked_up["usage"] == "derived"

    resp = api.post(f"{base}/sources", json=factories.SOURCE | {"usage": "subset"})
    assert resp.status_code == 201 and resp.get_json()["usage"] == "subset"
    sid = resp.get_json()["id"]
    other = api.post(f"{base}/sources", json=factories.SOURCE | {"url": "https://example.org/other"}).get_json()
    assert other["usage"] == "derived"

    resp = api.patch(f"{base}/sources/{sid}", json={"usage": "verbatim"})
    assert resp.status_code == 200 and resp.get_json()["usage"] == "verbatim"
    resp = api.patch(f"{base}/sources/{sid}", json={"title": "Renamed"})  # a change that leaves the usage alone
    assert resp.get_json()["usage"] == "verbatim"
    assert api.get(base).get_json()["sources"][0]["usage"] == "verbatim"


@pytest.mark.parametrize("bad", ["copied", "", None, 1, ["verbatim"], "VERBATIM"])
def test_api_refuses_a_bad_usage_with_422(api, session, draft, bad):
    base = f"{V1}/products/{draft.id}/versions/1"
    assert_error(api.post(f"{base}/sources", json=factories.SOURCE | {"usage": bad}), 422, field="usage")
    sid = api.post(f"{base}/sources", json=factories.SOURCE).get_json()["id"]
    assert_error(api.patch(f"{base}/sources/{sid}", json={"usage": bad}), 422, field="usage")


def test_the_service_refuses_a_bad_usage(session, seller, draft):
    from marketplace.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        listings.add_source(session, seller, draft.latest_version, factories.SOURCE | {"usage": "rewritten"})
    assert "usage" in err.value.errors


def test_openapi_documents_the_usage(client):
    schemas = client.get(f"{V1}/openapi.json").get_json()["components"]["schemas"]
    usage_in = schemas["SourceIn"]["properties"]["usage"]
    assert usage_in["enum"] == ["verbatim", "subset", "derived"] and "derived" in usage_in["description"]
    assert schemas["SourceOut"]["properties"]["usage"]["enum"] == ["verbatim", "subset", "derived"]


# ---------------------------------------------------------------- the reviewer and the buyer see it


def test_the_product_page_shows_the_usage(client, session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Detector registry")
    assert product.latest_version.sources[0].usage == SourceUsage.DERIVED
    page = client.get(f"/products/{product.slug}").get_data(as_text=True)
    assert "Used as: Derived work (transformed)" in page


def test_the_reviewers_case_page_shows_the_usage_and_the_verdict_it_gives(client, auth, session, storage, seller,
                                                                          reviewer, draft):
    version = factories.complete_version(session, storage, seller, draft.latest_version)
    listings.add_source(session, seller, version, factories.SOURCE | {
        "title": "Road works notices (copy)", "url": "https://example.org/nd", "licence_id": "CC-BY-ND-4.0",
        "usage": "verbatim"})
    review.submit_version(session, seller, version, storage)
    session.commit()
    case = review.case_for_version(session, version)
    auth.login(reviewer.email)
    page = client.get(f"/review/cases/{case.id}").get_data(as_text=True)
    assert '<td class="source-usage">Verbatim copy</td>' in page
    assert '<td class="source-usage">Derived work (transformed)</td>' in page
    # The factory's plan allows derivatives: the ND source fails on that, not on the product transforming it.
    assert "must not allow derivatives" in page and "this data product transforms the source" not in page
