"""The rules the seller's pages enforce hold for the API too: an upload is judged by its name and first bytes, an
identical file is taken with a warning, and only a complete compliance profile can be attested."""
from __future__ import annotations

import pytest

from tests import factories
from tests.listings.test_editor_hostile import REFUSED_UPLOADS
from tests.support.api import assert_error

V1 = "/api/v1"


@pytest.fixture
def version_url(api, session, seller):
    product = factories.product(session, seller)
    session.commit()
    return f"{V1}/products/{product.id}/versions/1"


def post_file(api, url, name: str, body: bytes, kind: str = "sample"):
    return api.post(f"{url}/assets", query_string={"kind": kind, "filename": name}, data=body,
                    content_type="application/octet-stream")


@pytest.mark.parametrize(("name", "body", "says"), REFUSED_UPLOADS)
def test_an_api_upload_the_page_would_refuse_is_refused_alike(api, session, seller, version_url, storage, name,
                                                              body, says):
    body_ = assert_error(post_file(api, version_url, name, body), 422, "unsupported_file", field="file")
    assert says in body_["message"] and body_["errors"]["file"] == [body_["message"]]
    assert api.get(version_url).status_code == 200
    assert not list(storage.keys())


def test_an_api_upload_is_judged_against_the_declared_formats(api, version_url):
    assert api.patch(version_url, json={"formats": ["CSV"]}).status_code == 200
    refused = assert_error(post_file(api, version_url, "areas.geojson", b'{"type": "FeatureCollection"}'), 422,
                           "unsupported_file")
    assert "(CSV)" in refused["message"]
    taken = post_file(api, version_url, "rows.csv", "名稱,數值\n甲,1\n".encode())
    assert taken.status_code == 201, taken.get_json()


def test_a_file_longer_than_the_bytes_checked_is_stored_whole(api, version_url, storage):
    body = b"a,b\n" + b"".join(b"%d,%d\n" % (n, n * n) for n in range(5000))
    assert len(body) > 8192
    answer = post_file(api, version_url, "long.csv", body).get_json()
    assert answer["size"] == len(body)
    [key] = storage.keys()
    with storage.open(key) as stored:
        assert stored.read() == body


def test_an_identical_file_through_the_api_is_taken_with_a_warning(api, version_url):
    first = post_file(api, version_url, "big.csv", b"a,b\n1,2\n").get_json()
    assert first["identical_to"] is None and first["warnings"] == []
    again = post_file(api, version_url, "copy.csv", b"a,b\n1,2\n", kind="deliverable")
    assert again.status_code == 201
    body = again.get_json()
    assert body["identical_to"] == {"id": first["id"], "kind": "sample", "filename": "big.csv", "size": 8}
    [warning] = body["warnings"]
    assert warning.startswith("copy.csv is identical to big.csv (sample, 8 B)")


def test_the_warning_follows_the_callers_language(api, version_url):
    post_file(api, version_url, "big.csv", b"a,b\n1,2\n")
    again = api.post(f"{version_url}/assets", query_string={"kind": "deliverable", "filename": "copy.csv"},
                     data=b"a,b\n1,2\n", headers={"Accept-Language": "zh-HK"})
    [warning] = again.get_json()["warnings"]
    assert "copy.csv" in warning and "big.csv" in warning and "identical" not in warning


# ---------------------------------------------------------------- compliance


def test_an_incomplete_profile_cannot_be_attested_through_the_api(api, version_url):
    body = assert_error(api.put(f"{version_url}/compliance", json={
        "personal_info": "none", "attest": True, "attested_by_name": "Ada"}), 422, "validation_failed")
    assert body["message"] == "Complete the profile before attesting it: nothing was attested."
    assert body["errors"] == {
        "classification": ["Declare the data classification level."],
        "source_legality": ["State how the sources were lawfully obtained."],
        "cross_border_transfer": ["State whether data crosses borders."],
    }
    version = api.get(version_url).get_json()
    assert version["attested_at"] is None and version["personal_info"] is None


def test_a_complete_profile_is_attested_and_a_saved_one_completes_it(api, version_url):
    first = {k: v for k, v in factories.COMPLIANCE.items() if k != "source_legality"}
    assert api.put(f"{version_url}/compliance", json=first).status_code == 200
    # The profile judged is what it will be: the saved fields and the ones sent.
    assert_error(api.put(f"{version_url}/compliance", json={"attest": True, "attested_by_name": "Ada"}), 422,
                 field="source_legality")
    resp = api.put(f"{version_url}/compliance", json={
        "source_legality": "Public DATA.GOV.HK data.", "attest": True, "attested_by_name": "Ada"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["attested_by_name"] == "Ada" and resp.get_json()["attested_at"]


def test_a_profile_emptied_while_attesting_is_refused(api, version_url):
    assert api.put(f"{version_url}/compliance", json={**factories.COMPLIANCE, "attest": True,
                                                        "attested_by_name": "Ada"}).status_code == 200
    body = assert_error(api.put(f"{version_url}/compliance", json={
        "classification": None, "attest": True, "attested_by_name": "Ada"}), 422, field="classification")
    assert "classification" in body["errors"]
    assert api.get(version_url).get_json()["classification"] == "general"


def test_a_profile_without_personal_information_keeps_no_count_of_individuals(api, version_url):
    personal = api.put(f"{version_url}/compliance", json={**factories.COMPLIANCE, "personal_info": "personal",
                                                          "collected_in": "shanghai", "individuals": 5000})
    assert personal.status_code == 200 and personal.get_json()["individuals"] == 5000
    none = api.put(f"{version_url}/compliance", json={"personal_info": "none"})
    assert none.status_code == 200 and none.get_json()["individuals"] is None
    assert none.get_json()["collected_in"] == "shanghai"  # still decides the rules for important data
    given = api.put(f"{version_url}/compliance", json={"personal_info": "anonymised", "individuals": 5000})
    assert given.status_code == 200 and given.get_json()["individuals"] is None
