"""The seller listings API: the whole journey with a token, and every kind of bad input."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests import factories
from tests.support.api import assert_error

V1 = "/api/v1"
SAMPLE = factories.SAMPLES / "hk" / "hk_td_traffic_detector_locations.csv"


def create(api, **extra):
    body = {"organization": "harbour-analytics", "title_en": "Road speeds", **extra}
    return api.post(f"{V1}/products", json=body)


def test_seller_lists_creates_edits_uploads_and_submits_through_the_api(api, session):
    resp = create(api, title_zh="道路车速", tags=["traffic", "交通"], regions=["hong_kong"])
    assert resp.status_code == 201, resp.get_json()
    product = resp.get_json()
    pid = product["id"]
    assert product["latest_version"]["status"] == "draft" and product["organization"] == "harbour-analytics"
    base = f"{V1}/products/{pid}/versions/1"

    resp = api.patch(base, json={
        "description_en": "Hourly speeds.", "description_zh": "每小时车速。", "category": "transport",
        "update_frequency": "hourly", "delivery_methods": ["file"], "formats": ["CSV"],
        "temporal_start": "2023-01-01", "temporal_end": "2023-12-31", "spatial_coverage": "Hong Kong",
    })
    assert resp.status_code == 200 and resp.get_json()["temporal_end"] == "2023-12-31"

    looked_up = api.get(f"{V1}/sources/lookup", query_string={
        "q": "https://data.gov.hk/en-data/dataset/hk-wsd-wsd5-water-consumption"}).get_json()
    assert looked_up["licence_id"] == "LicenseRef-DATA.GOV.HK-Terms"
    looked_up.pop("licence_name")
    looked_up.pop("id", None)
    assert api.post(f"{base}/sources", json=looked_up).status_code == 201

    data = SAMPLE.read_bytes()
    resp = api.post(f"{base}/assets", query_string={"kind": "sample", "filename": "../../etc/passwd.csv"},
                    data=data, content_type="text/csv")
    assert resp.status_code == 201, resp.get_json()
    asset = resp.get_json()
    assert asset["sha256"] == hashlib.sha256(data).hexdigest() and asset["size"] == len(data)
    assert asset["filename"] == "passwd.csv"
    api.post(f"{base}/assets", query_string={"kind": "deliverable", "filename": "full.csv"}, data=data,
             content_type="text/csv")

    inferred = api.post(f"{base}/dictionary/infer", json={"asset_id": asset["id"], "apply": True}).get_json()
    assert inferred["applied"] and "Latitude" in [f["name"] for f in inferred["dictionary"]]

    plan = dict(factories.PLAN)
    assert api.post(f"{base}/plans", json=plan).status_code == 201
    resp = api.put(f"{base}/compliance", json={**factories.COMPLIANCE, "attest": True, "attested_by_name": "Ada"})
    assert resp.get_json()["attested_by_name"] == "Ada"
    assert resp.get_json()["readiness"] == {}

    resp = api.post(f"{base}/submit")
    assert resp.status_code == 200 and resp.get_json()["status"] == "submitted"
    # submitted versions are read-only
    assert_error(api.patch(base, json={"title_en": "New"}), 409, "invalid_transition")
    assert_error(api.post(f"{base}/plans", json=plan), 409)


def test_api_requires_a_valid_token(client):
    resp = client.get(f"{V1}/products")
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert_error(client.get(f"{V1}/products", headers={"Authorization": "Bearer dpm_wrong"}), 401)


def test_cookie_session_does_not_authenticate_the_api(client, auth, seller):
    auth.login(seller.email)
    assert client.get(f"{V1}/products").status_code == 401


def test_revoked_token_is_refused(api, session, seller):
    from marketplace.accounts.services import api_tokens_of, revoke_api_token

    revoke_api_token(session, seller, api_tokens_of(session, seller)[0].id)
    session.commit()
    assert_error(api.get(f"{V1}/products"), 401)


def test_another_organizations_product_is_404(api, session):
    other = factories.user(session, organization="Rival Data")
    product = factories.product(session, other)
    session.commit()
    for method, url in [
        ("get", f"{V1}/products/{product.id}"), ("get", f"{V1}/products/{product.id}/versions/1"),
        ("patch", f"{V1}/products/{product.id}/versions/1"), ("post", f"{V1}/products/{product.id}/versions/1/submit"),
    ]:
        kwargs = {"json": {"title_en": "x"}} if method == "patch" else {}
        assert_error(getattr(api, method)(url, **kwargs), 404, "not_found")
    assert_error(create(api, organization="rival-data"), 422, field="organization")


@pytest.mark.parametrize("body,field", [
    ({"title_en": "x", "colour": "red"}, "colour"),               # unknown field
    ({"title_en": ""}, "title_en"),                               # empty
    ({"title_en": "x" * 201}, "title_en"),                        # too long
    ({"title_en": "x", "regions": ["mars"]}, "regions"),          # not in vocabulary
    ({"title_en": "x", "temporal_start": "2023-02-30"}, "temporal_start"),
    ({"title_en": "x", "tags": "traffic"}, "tags"),               # wrong type
])
def test_bad_product_input_is_422_with_field_errors(api, body, field):
    assert_error(create(api, **body), 422, "invalid_input", field)


def test_missing_title_is_422(api):
    assert_error(api.post(f"{V1}/products", json={"organization": "harbour-analytics"}), 422, field="title_en")


def test_end_before_start_is_a_rule_error(api):
    assert_error(create(api, temporal_start="2024-01-01", temporal_end="2023-01-01"), 422, "validation_failed",
                 "temporal_end")


def test_malformed_json_is_400(api):
    resp = api.post(f"{V1}/products", data="{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    assert resp.get_json()["code"]


@pytest.fixture
def version_url(api, session, seller):
    product = factories.product(session, seller)
    session.commit()
    return f"{V1}/products/{product.id}/versions/1"


@pytest.mark.parametrize("patch,field", [
    ({"amount": "1200"}, "amount"),           # integers are strict
    ({"amount": 12.5}, "amount"),             # no floats in money
    ({"currency": "EUR"}, "currency"),
    ({"kind": "free", "amount": 100}, "amount"),
    ({"kind": "subscription"}, "billing_period"),
    ({"licence_cap": 0}, "licence_cap"),
    ({"licence_cap": 2**40}, "licence_cap"),   # would overflow the column
    ({"amount": 10**13}, "amount"),
    ({"permitted_uses": []}, "permitted_uses"),
    ({"prohibitions": ["research"]}, "prohibitions"),
])
def test_bad_plans_are_refused(api, version_url, patch, field):
    body = {**factories.PLAN, **patch}
    assert_error(api.post(f"{version_url}/plans", json=body), 422, field=field)


def test_unknown_licence_is_refused(api, version_url):
    body = {**factories.SOURCE, "licence_id": "Made-Up-1.0"}
    assert_error(api.post(f"{version_url}/sources", json=body), 422, field="licence_id")


def test_duplicate_dictionary_names_are_refused(api, version_url):
    fields = [{"name": "id", "type": "string"}, {"name": "ID", "type": "integer"}]
    assert_error(api.put(f"{version_url}/dictionary", json={"fields": fields}), 422, field="fields.1.name")


def test_submit_incomplete_version_lists_what_is_missing(api, version_url):
    body = assert_error(api.post(f"{version_url}/submit"), 422, "validation_failed")
    assert {"sources", "assets", "plans", "attestation"} <= set(body["errors"])


def test_too_large_upload_is_413_and_leaves_nothing(api, version_url, app, storage):
    limit = app.config["MAX_UPLOAD_BYTES"]
    resp = api.post(f"{version_url}/assets", query_string={"kind": "sample", "filename": "big.csv"},
                    data=b"a" * (limit + 10), content_type="text/csv")
    assert_error(resp, 413)
    root = Path(storage.root)
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []


def test_upload_above_request_cap_is_413(api, version_url, app):
    resp = api.post(f"{version_url}/assets", query_string={"kind": "sample", "filename": "big.csv"},
                    data=os.urandom(app.config["MAX_CONTENT_LENGTH"] + 1), content_type="text/csv")
    assert_error(resp, 413)


def test_empty_upload_and_bad_kind_are_refused(api, version_url):
    assert_error(api.post(f"{version_url}/assets", query_string={"kind": "sample", "filename": "x.csv"}, data=b""),
                 422)
    assert_error(api.post(f"{version_url}/assets", query_string={"kind": "secret", "filename": "x.csv"},
                          data=b"a,b\n"), 422, field="kind")


def test_infer_from_unsupported_file_is_422(api, version_url):
    asset = api.post(f"{version_url}/assets", query_string={"kind": "sample", "filename": "report.pdf"},
                     data=b"%PDF-1.7\n" + b"\0" * 20).get_json()
    assert_error(api.post(f"{version_url}/dictionary/infer", json={"asset_id": asset["id"]}), 422)


def test_new_version_needs_a_finished_latest_version(api, version_url):
    product_url = version_url.rsplit("/versions", 1)[0]
    assert_error(api.post(f"{product_url}/versions", json={"label": "1.1", "changelog": "More"}), 409)


def test_lookup_unknown_source_is_404(api):
    assert_error(api.get(f"{V1}/sources/lookup", query_string={"q": "no-such-dataset"}), 404)


def test_openapi_documents_the_listing_endpoints(client):
    paths = client.get(f"{V1}/openapi.json").get_json()["paths"]
    assert "/api/v1/products/{product_id}/versions/{number}/submit" in paths
    assert client.get(f"{V1}/docs").status_code == 200


def test_token_use_is_recorded_at_most_once_a_minute(api, session, seller):
    from marketplace.accounts.services import api_tokens_of

    api.get(f"{V1}/products")
    session.expire_all()
    first = api_tokens_of(session, seller)[0].last_used_at
    assert first is not None
    api.get(f"{V1}/products")
    session.expire_all()
    assert api_tokens_of(session, seller)[0].last_used_at == first
