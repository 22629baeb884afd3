"""Compliance review through the JSON API: the queue, a case, claiming, the checklist, decisions, the seller's
pre-screen and review, product status, notifications, the audit check, and submission with a note."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Membership, PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.listings import services as listings
from marketplace.review import services as review
from tests import factories
from tests.review.conftest import PASSING, check_listing
from tests.support.api import assert_error

V1 = "/api/v1"
QUEUE = f"{V1}/review/cases"
CHECKLIST_ITEMS = set(PASSING)


def token_client(client, session, user):
    return factories.TokenClient(client, factories.api_token(session, user))


def submitted(session, storage, owner, *, title=None, category=None, note=""):
    """A complete version of a new product of ``owner``, submitted for review (arranged with services)."""
    product = factories.product(session, owner, title=title)
    version = factories.complete_version(session, storage, owner, product.latest_version)
    if category:
        listings.update_metadata(session, owner, version, {"category": category})
    review.submit_version(session, owner, version, storage, note=note)
    session.commit()
    return review.case_for_version(session, version)


def approved(session, storage, reviewer, seller, version):
    """Submit, claim and approve ``version`` with services; the product is listed."""
    round_ = factories.submit(session, seller, version, storage)  # its pre-screen runs after the commit
    review.claim_case(session, reviewer, round_.case)
    review.decide(session, reviewer, round_.case, "approve", "Clean.", answers=PASSING)
    session.commit()
    return round_.case


@pytest.fixture
def reviewer_api(client, session, reviewer):
    return token_client(client, session, reviewer)


@pytest.fixture
def admin_api(client, session, admin):
    return token_client(client, session, admin)


@pytest.fixture
def other_seller(session):
    user = factories.user(session, email="pudong@example.org", organization="Pudong Data Co")
    session.commit()
    return user


@pytest.fixture
def listed(session, storage, reviewer, seller, version):
    approved(session, storage, reviewer, seller, version)
    return version.product


def case_url(case_id, suffix=""):
    return f"{QUEUE}/{case_id}{suffix}"


# ---------------------------------------------------------------- the queue


def test_reviewer_queue_lists_the_submitted_case(reviewer_api, case, version):
    resp = reviewer_api.get(QUEUE)
    assert resp.status_code == 200, resp.get_json()
    page = resp.get_json()
    assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 50
    [item] = page["items"]
    assert item["id"] == case.id and item["product_id"] == version.product_id
    assert item["title_en"] == "Strategic road detectors"
    assert item["organization"] == "harbour-analytics"
    assert item["status"] == "submitted"
    assert item["prescreen_outcome"] == case.prescreen_outcome.value
    assert item["submitted_at"] and item["reviewer"] is None and item["decision"] is None


def test_queue_is_oldest_first_and_filters(session, storage, reviewer_api, seller, other_seller):
    first = submitted(session, storage, seller, title="First", category="transport")
    second = submitted(session, storage, other_seller, title="Second", category="environment")
    third = submitted(session, storage, seller, title="Third", category="environment")

    def ids(**query):
        resp = reviewer_api.get(QUEUE, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return [c["id"] for c in resp.get_json()["items"]]

    assert ids() == [first.id, second.id, third.id]
    assert ids(organization="pudong-data-co") == [second.id]
    assert ids(organization="harbour-analytics") == [first.id, third.id]
    assert ids(organization="no-such-org") == []
    assert ids(category="environment") == [second.id, third.id]
    assert ids(category="transport") == [first.id]
    outcome = first.prescreen_outcome.value
    same = ids(prescreen=outcome)
    assert first.id in same
    assert all(reviewer_api.get(case_url(i)).get_json()["prescreen_outcome"] == outcome for i in same)

    assert reviewer_api.post(case_url(second.id, "/claim")).status_code == 200
    assert ids(status="in_review") == [second.id]
    assert ids(status="mine") == [second.id]
    assert ids(status="submitted") == [first.id, third.id]
    assert ids(status="decided") == []
    resp = reviewer_api.post(case_url(second.id, "/decision"), json={"decision": "reject", "comment": "No."})
    assert resp.status_code == 200, resp.get_json()
    assert ids(status="decided") == [second.id]
    assert ids(status="mine") == [] and ids() == [first.id, third.id]


def test_queue_pages(session, storage, reviewer_api, seller):
    cases = [submitted(session, storage, seller, title=f"P{i}") for i in range(3)]
    resp = reviewer_api.get(QUEUE, query_string={"page": 2, "per_page": 2})
    assert resp.status_code == 200, resp.get_json()
    page = resp.get_json()
    assert page["total"] == 3 and page["page"] == 2 and page["per_page"] == 2
    assert [c["id"] for c in page["items"]] == [cases[2].id]
    first = reviewer_api.get(QUEUE, query_string={"page": 1, "per_page": 2}).get_json()
    assert [c["id"] for c in first["items"]] == [cases[0].id, cases[1].id] and first["total"] == 3
    beyond = reviewer_api.get(QUEUE, query_string={"page": 5, "per_page": 2}).get_json()
    assert beyond["items"] == [] and beyond["total"] == 3


@pytest.mark.parametrize("query,field", [
    ({"status": "zzz"}, "status"),
    ({"page": "0"}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"per_page": "1000"}, "per_page"),
    ({"per_page": "0"}, "per_page"),
    ({"prescreen": "maybe"}, "prescreen"),
    ({"organization": "x" * 81}, "organization"),
])
def test_invalid_queue_filters_are_422_naming_the_field(reviewer_api, case, query, field):
    assert_error(reviewer_api.get(QUEUE, query_string=query), 422, "invalid_input", field)


def test_queue_is_for_reviewers_only(client, api, case):
    assert_error(api.get(QUEUE), 403, "forbidden")
    resp = client.get(QUEUE)
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_queue_hides_cases_of_the_reviewers_own_organization(client, session, case, seller_org):
    insider = factories.user(session, email="insider@example.org", role=PlatformRole.REVIEWER)
    session.add(Membership(user_id=insider.id, organization_id=seller_org.id))
    session.commit()
    page = token_client(client, session, insider).get(QUEUE).get_json()
    assert page == {"items": [], "total": 0, "page": 1, "per_page": 50}


# ---------------------------------------------------------------- one case


def test_case_shows_content_and_rounds_with_the_prescreen(reviewer_api, case, version):
    resp = reviewer_api.get(case_url(case.id))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["id"] == case.id and body["status"] == "submitted" and body["version"] == 1
    content = body["content"]
    assert content["title_en"] == "Strategic road detectors" and content["title_zh"] == "香港交通数据"
    assert content["category"] == "transport" and content["status"] == "submitted"
    assert [s["portal"] for s in content["sources"]] == ["data_gov_hk"]
    assert content["sources"][0]["licence_id"] == "LicenseRef-DATA.GOV.HK-Terms"
    assert [p["name"] for p in content["plans"]] == ["Research licence"]
    assert [f["name"] for f in content["fields"]] == ["AID_ID_Number", "Latitude"]
    assert {a["kind"] for a in content["assets"]} == {"sample", "deliverable"}
    [round_] = body["rounds"]
    assert round_["number"] == 1 and round_["decision"] is None and round_["answers"] == []
    assert round_["reviewer"] is None and round_["claimed_at"] is None
    prescreen = round_["prescreen"]
    assert prescreen["outcome"] == case.prescreen_outcome.value
    assert prescreen["findings"]
    for finding in prescreen["findings"]:
        assert {"item", "rule", "outcome", "message"} <= set(finding)
        assert finding["item"] in CHECKLIST_ITEMS
    assert sum(prescreen["counts"].values()) == len(prescreen["findings"])


def test_unknown_case_is_404(reviewer_api, case):
    assert_error(reviewer_api.get(case_url(case.id + 1000)), 404, "not_found")
    assert_error(reviewer_api.post(case_url(case.id + 1000, "/claim")), 404, "not_found")


def test_seller_cannot_read_a_case(api, case):
    assert_error(api.get(case_url(case.id)), 403, "forbidden")


# ---------------------------------------------------------------- claim and release


def test_claim_then_claim_again_is_409(reviewer_api, admin_api, case):
    resp = reviewer_api.post(case_url(case.id, "/claim"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "in_review" and body["reviewer"] == "Grace Reviewer"
    assert body["rounds"][0]["reviewer"] == "Grace Reviewer" and body["rounds"][0]["claimed_at"]
    assert_error(reviewer_api.post(case_url(case.id, "/claim")), 409, "invalid_transition")
    assert_error(admin_api.post(case_url(case.id, "/claim")), 409, "invalid_transition")
    assert reviewer_api.get(case_url(case.id)).get_json()["reviewer"] == "Grace Reviewer"


def test_reviewer_in_the_seller_organization_cannot_claim(client, session, case, seller_org):
    insider = factories.user(session, email="insider@example.org", role=PlatformRole.REVIEWER)
    session.add(Membership(user_id=insider.id, organization_id=seller_org.id))
    session.commit()
    as_insider = token_client(client, session, insider)
    assert_error(as_insider.post(case_url(case.id, "/claim")), 403, "forbidden")
    assert as_insider.get(case_url(case.id)).get_json()["status"] == "submitted"


def test_seller_cannot_claim(api, case):
    assert_error(api.post(case_url(case.id, "/claim")), 403, "forbidden")


def test_release_by_another_reviewer_is_403_and_by_an_admin_200(client, session, reviewer_api, admin_api, case):
    assert reviewer_api.post(case_url(case.id, "/claim")).status_code == 200
    other = factories.user(session, email="other-reviewer@example.org", role=PlatformRole.REVIEWER)
    session.commit()
    assert_error(token_client(client, session, other).post(case_url(case.id, "/release")), 403, "forbidden")
    resp = admin_api.post(case_url(case.id, "/release"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "submitted" and body["reviewer"] is None
    assert body["rounds"][0]["claimed_at"] is None
    assert_error(admin_api.post(case_url(case.id, "/release")), 409, "invalid_transition")


def test_claimant_releases_their_own_case(reviewer_api, claimed):
    resp = reviewer_api.post(case_url(claimed.id, "/release"))
    assert resp.status_code == 200 and resp.get_json()["status"] == "submitted"


# ---------------------------------------------------------------- the checklist


def test_checklist_saves_answers(reviewer_api, claimed):
    answers = {**PASSING, "quality": {"result": "fail", "comment": "No sample rows for 2024."}}
    resp = reviewer_api.put(case_url(claimed.id, "/checklist"), json={"answers": answers})
    assert resp.status_code == 200, resp.get_json()
    saved = {a["item"]: (a["result"], a["comment"]) for a in resp.get_json()["rounds"][0]["answers"]}
    assert saved["quality"] == ("fail", "No sample rows for 2024.")
    assert saved["source_legality"] == ("pass", "") and set(saved) == CHECKLIST_ITEMS
    resp = reviewer_api.put(case_url(claimed.id, "/checklist"),
                            json={"answers": {"quality": {"result": "pass", "comment": "Fixed."}}})
    saved = {a["item"]: (a["result"], a["comment"]) for a in resp.get_json()["rounds"][0]["answers"]}
    assert saved["quality"] == ("pass", "Fixed.") and len(saved) == 6
    again = reviewer_api.get(case_url(claimed.id)).get_json()["rounds"][0]["answers"]
    assert len(again) == 6


def test_failed_item_without_a_comment_is_422_naming_it(reviewer_api, claimed):
    body = assert_error(reviewer_api.put(case_url(claimed.id, "/checklist"), json={"answers": {
        "quality": {"result": "fail"}, "cross_border": {"result": "fail", "comment": "  "}}}), 422)
    assert set(body["errors"]) == {"quality", "cross_border"}
    assert reviewer_api.get(case_url(claimed.id)).get_json()["rounds"][0]["answers"] == []


@pytest.mark.parametrize("body,field", [
    ({"answers": {"colour": {"result": "pass"}}}, "answers"),
    ({"answers": {"quality": {"result": "maybe"}}}, "answers"),
    ({"answers": {"quality": {"comment": "no result"}}}, "answers"),
    ({"answers": {"quality": {"result": "pass", "comment": "x" * 5001}}}, "answers"),
    ({"answers": "all good"}, "answers"),
    ({}, "answers"),
    ({"answers": PASSING, "extra": 1}, "extra"),
])
def test_malformed_checklist_is_422_invalid_input(reviewer_api, claimed, body, field):
    assert_error(reviewer_api.put(case_url(claimed.id, "/checklist"), json=body), 422, "invalid_input", field)


def test_unknown_item_key_is_named(reviewer_api, claimed):
    body = assert_error(reviewer_api.put(case_url(claimed.id, "/checklist"),
                                         json={"answers": {"colour": {"result": "pass"}}}), 422, "invalid_input")
    assert "colour" in str(body["errors"])


def test_checklist_before_claiming_is_409(reviewer_api, case):
    assert_error(reviewer_api.put(case_url(case.id, "/checklist"), json={"answers": PASSING}), 409,
                 "invalid_transition")


def test_checklist_by_another_reviewer_is_403(client, session, claimed):
    other = factories.user(session, email="other-reviewer@example.org", role=PlatformRole.REVIEWER)
    session.commit()
    assert_error(token_client(client, session, other).put(case_url(claimed.id, "/checklist"),
                                                          json={"answers": PASSING}), 403, "forbidden")


# ---------------------------------------------------------------- decisions


def test_approval_lists_the_version_for_the_seller(api, reviewer_api, claimed, version):
    resp = reviewer_api.post(case_url(claimed.id, "/decision"),
                             json={"decision": "approve", "comment": "Clean.", "answers": PASSING})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "listed" and body["decision"] == "approve" and body["decided_at"]
    registration = body["content"]["registration_number"]
    assert registration and registration.startswith("REG-") and registration.endswith(f"{version.id:06d}")
    assert body["rounds"][0]["decision"] == "approve" and body["rounds"][0]["decision_comment"] == "Clean."

    product = api.get(f"{V1}/products/{version.product_id}").get_json()
    assert product["status"] == "listed" and product["listed_version"] == 1
    assert product["latest_version"]["registration_number"] == registration
    seen = api.get(f"{V1}/products/{version.product_id}/versions/1/review").get_json()
    assert seen["status"] == "listed" and seen["registration_number"] == registration


def test_approval_after_saving_the_checklist_needs_no_answers(reviewer_api, claimed):
    assert reviewer_api.put(case_url(claimed.id, "/checklist"), json={"answers": PASSING}).status_code == 200
    resp = reviewer_api.post(case_url(claimed.id, "/decision"), json={"decision": "approve"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "listed"


def test_approval_with_missing_answers_is_422_listing_them(reviewer_api, claimed):
    body = assert_error(reviewer_api.post(case_url(claimed.id, "/decision"), json={
        "decision": "approve", "answers": {"quality": {"result": "pass"}}}), 422, "validation_failed")
    assert set(body["errors"]) == CHECKLIST_ITEMS - {"quality"}
    assert reviewer_api.get(case_url(claimed.id)).get_json()["status"] == "in_review"


def test_approval_with_a_failed_item_is_422(reviewer_api, claimed):
    answers = {**PASSING, "cross_border": {"result": "fail", "comment": "Worldwide plan."}}
    body = assert_error(reviewer_api.post(case_url(claimed.id, "/decision"),
                                          json={"decision": "approve", "answers": answers}), 422)
    assert list(body["errors"]) == ["cross_border"]


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_changes_or_rejection_without_a_comment_is_422(reviewer_api, claimed, decision):
    for body in ({"decision": decision}, {"decision": decision, "comment": "   "}):
        assert_error(reviewer_api.post(case_url(claimed.id, "/decision"), json=body), 422, "validation_failed",
                     "comment")
    assert reviewer_api.get(case_url(claimed.id)).get_json()["status"] == "in_review"


def test_requested_changes_reach_the_seller(api, reviewer_api, claimed, version):
    resp = reviewer_api.post(case_url(claimed.id, "/decision"), json={
        "decision": "request_changes", "comment": "Cite the detector locations dataset.",
        "answers": {**PASSING, "source_legality": {"result": "fail", "comment": "One source is missing."}}})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "changes_requested"

    seen = api.get(f"{V1}/products/{version.product_id}/versions/1/review")
    assert seen.status_code == 200, seen.get_json()
    body = seen.get_json()
    assert body["status"] == "changes_requested" and body["registration_number"] is None
    [round_] = body["rounds"]
    assert round_["number"] == 1 and round_["decision"] == "request_changes"
    assert round_["decision_comment"] == "Cite the detector locations dataset."
    answers = {a["item"]: a for a in round_["answers"]}
    assert answers["source_legality"]["comment"] == "One source is missing."
    assert round_["prescreen"]["findings"]


def test_a_decision_after_a_decision_is_409(reviewer_api, claimed):
    url = case_url(claimed.id, "/decision")
    assert reviewer_api.post(url, json={"decision": "reject", "comment": "Not open data."}).status_code == 200
    assert_error(reviewer_api.post(url, json={"decision": "approve", "answers": PASSING}), 409,
                 "invalid_transition")
    assert_error(reviewer_api.post(url, json={"decision": "reject", "comment": "Again."}), 409,
                 "invalid_transition")


@pytest.mark.parametrize("body,field", [
    ({"decision": "maybe", "comment": "hmm"}, "decision"),
    ({"comment": "no decision"}, "decision"),
    ({"decision": "approve", "answers": {"colour": {"result": "pass"}}}, "answers"),
    ({"decision": "reject", "comment": "x" * 5001}, "comment"),
])
def test_malformed_decision_is_422(reviewer_api, claimed, body, field):
    assert_error(reviewer_api.post(case_url(claimed.id, "/decision"), json=body), 422, "invalid_input", field)


def test_decision_by_the_seller_is_403(api, claimed):
    assert_error(api.post(case_url(claimed.id, "/decision"), json={"decision": "approve"}), 403, "forbidden")


def test_decision_before_claiming_is_409(reviewer_api, case):
    assert_error(reviewer_api.post(case_url(case.id, "/decision"), json={"decision": "reject", "comment": "x"}),
                 409, "invalid_transition")


# ---------------------------------------------------------------- the seller's view: check my listing, review


def test_check_my_listing_reports_the_prescreen(api, case, version):
    resp = check_listing(api, f"{V1}/products/{version.product_id}/versions/1/prescreen")
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    assert report["outcome"] in {"pass", "review", "fail"} and report["ran_at"]
    assert set(report["counts"]) == {"pass", "review", "fail"}
    assert sum(report["counts"].values()) == len(report["findings"]) > 0
    for finding in report["findings"]:
        assert {"item", "rule", "outcome", "message"} <= set(finding)
        assert finding["item"] in CHECKLIST_ITEMS and finding["outcome"] in report["counts"] and finding["message"]
    # the factory uploads the same bytes as sample and deliverable: read and reported once, in both roles
    assert [(f["filename"], f["kind"]) for f in report["files"]] == [("detectors.csv", "sample, deliverable")]


def test_check_my_listing_reads_at_most_the_configured_rows_of_each_file(app, api, session, storage, seller,
                                                                        version, monkeypatch):
    import io

    from marketplace.listings.assets import upload_asset

    rows = "".join(f"AID{n:05d},22.{n % 10}\n" for n in range(50))
    upload_asset(session, storage, seller, version, kind="deliverable", filename="all-detectors.csv",
                 stream=io.BytesIO(f"AID_ID_Number,Latitude\n{rows}".encode()), content_type="text/csv",
                 max_bytes=10_000)
    session.commit()
    url = f"{V1}/products/{version.product_id}/versions/1/prescreen"
    scanned = {f["filename"]: f for f in check_listing(api, url).get_json()["files"]}
    assert scanned["all-detectors.csv"]["rows_scanned"] == 50 and not scanned["all-detectors.csv"]["truncated"]
    monkeypatch.setitem(app.config, "PRESCREEN_MAX_ROWS", 10)
    scanned = {f["filename"]: f for f in check_listing(api, url).get_json()["files"]}
    assert scanned["all-detectors.csv"]["rows_scanned"] == 10 and scanned["all-detectors.csv"]["truncated"]


def test_check_my_listing_works_on_a_draft(api, session, seller, version):
    resp = check_listing(api, f"{V1}/products/{version.product_id}/versions/1/prescreen")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["findings"] and version.status == "draft"
    empty = factories.product(session, seller)  # an incomplete draft can be checked too
    session.commit()
    resp = check_listing(api, f"{V1}/products/{empty.id}/versions/1/prescreen")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["outcome"] in {"review", "fail"} and resp.get_json()["files"] == []


def test_check_my_listing_of_another_organization_is_404(api, session, storage, other_seller):
    theirs = factories.product(session, other_seller)
    session.commit()
    assert_error(api.post(f"{V1}/products/{theirs.id}/versions/1/prescreen"), 404, "not_found")
    assert_error(api.get(f"{V1}/products/{theirs.id}/versions/1/prescreen"), 404, "not_found")
    assert_error(api.post(f"{V1}/products/{theirs.id}/versions/9/prescreen"), 404, "not_found")
    assert_error(api.get(f"{V1}/products/{theirs.id}/versions/1/review"), 404, "not_found")


def test_review_of_an_unsubmitted_version_is_404(api, version):
    assert_error(api.get(f"{V1}/products/{version.product_id}/versions/1/review"), 404, "not_found")


def test_reviewer_outside_the_organization_cannot_use_the_sellers_endpoints(reviewer_api, case, version):
    assert_error(reviewer_api.post(f"{V1}/products/{version.product_id}/versions/1/prescreen"), 404)
    assert_error(reviewer_api.get(f"{V1}/products/{version.product_id}/versions/1/prescreen"), 404)
    assert_error(reviewer_api.get(f"{V1}/products/{version.product_id}/versions/1/review"), 404)


# ---------------------------------------------------------------- product status


def status_url(product_id):
    return f"{V1}/review/products/{product_id}/status"


def test_suspend_with_a_reason(api, reviewer_api, listed):
    resp = reviewer_api.post(status_url(listed.id), json={"action": "suspend",
                                                          "reason": "Upstream licence under query."})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "suspended" and body["status_reason"] == "Upstream licence under query."
    assert body["status_changed_at"] and body["listed_version"] == 1
    seen = api.get(f"{V1}/products/{listed.id}").get_json()
    assert seen["status"] == "suspended" and seen["status_reason"] == "Upstream licence under query."
    resp = reviewer_api.post(status_url(listed.id), json={"action": "reinstate", "reason": "Licence confirmed."})
    assert resp.status_code == 200 and resp.get_json()["status"] == "listed"


@pytest.mark.parametrize("body,field", [
    ({"action": "suspend"}, "reason"),
    ({"action": "list", "reason": "again"}, "action"),
    ({"action": "explode", "reason": "why not"}, "action"),
    ({"reason": "no action"}, "action"),
    ({"action": "suspend", "reason": "x" * 5001}, "reason"),
])
def test_bad_status_change_is_422_invalid_input(reviewer_api, listed, body, field):
    assert_error(reviewer_api.post(status_url(listed.id), json=body), 422, "invalid_input", field)
    assert reviewer_api.post(status_url(listed.id), json={"action": "reinstate", "reason": "x"}).status_code == 409


def test_blank_reason_is_422(reviewer_api, listed):
    assert_error(reviewer_api.post(status_url(listed.id), json={"action": "suspend", "reason": "  "}), 422,
                 "validation_failed", "reason")


def test_status_change_by_the_seller_is_403(api, listed):
    assert_error(api.post(status_url(listed.id), json={"action": "suspend", "reason": "I want to"}), 403,
                 "forbidden")
    assert api.get(f"{V1}/products/{listed.id}").get_json()["status"] == "listed"


def test_reinstating_a_listed_product_is_409(reviewer_api, listed):
    assert_error(reviewer_api.post(status_url(listed.id), json={"action": "reinstate", "reason": "Not suspended."}),
                 409, "invalid_transition")


def test_delisting_is_final(reviewer_api, listed):
    resp = reviewer_api.post(status_url(listed.id), json={"action": "delist", "reason": "Seller withdrew it."})
    assert resp.status_code == 200 and resp.get_json()["status"] == "delisted"
    assert_error(reviewer_api.post(status_url(listed.id), json={"action": "reinstate", "reason": "Oops."}), 409)


def test_status_of_an_unknown_product_is_404(reviewer_api, listed):
    assert_error(reviewer_api.post(status_url(listed.id + 1000), json={"action": "suspend", "reason": "x"}), 404,
                 "not_found")


# ---------------------------------------------------------------- notifications


def test_seller_is_notified_and_marks_notifications_read(api, reviewer_api, listed, seller):
    resp = reviewer_api.post(status_url(listed.id), json={"action": "suspend", "reason": "Licence under query."})
    assert resp.status_code == 200
    notes = api.get(f"{V1}/notifications").get_json()
    assert [n["subject"].split(":")[0] for n in notes] == ["Suspended", "Approved and listed"]  # newest first
    approval = notes[1]
    assert "REG-" in approval["body"] and approval["link"] == f"/seller/products/{listed.id}/versions/1#review"
    assert all(n["read_at"] is None for n in notes)

    resp = api.post(f"{V1}/notifications/read", json={"id": approval["id"]})
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1}
    unread = api.get(f"{V1}/notifications", query_string={"unread": "true"}).get_json()
    assert [n["id"] for n in unread] == [notes[0]["id"]]
    everything = api.get(f"{V1}/notifications", query_string={"unread": "false"}).get_json()
    assert len(everything) == 2 and {n["id"]: n["read_at"] is not None for n in everything} == {
        notes[0]["id"]: False, approval["id"]: True}

    # another user's notification is not found
    assert_error(reviewer_api.post(f"{V1}/notifications/read", json={"id": notes[0]["id"]}), 404, "not_found")
    assert_error(api.post(f"{V1}/notifications/read", json={"id": notes[0]["id"] + 1000}), 404, "not_found")

    resp = api.post(f"{V1}/notifications/read", json={})
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1}
    assert api.get(f"{V1}/notifications", query_string={"unread": "true"}).get_json() == []
    resp = api.post(f"{V1}/notifications/read")
    assert resp.status_code == 200 and resp.get_json() == {"marked": 0}


def test_mark_all_read_without_a_body(api, reviewer_api, claimed):
    assert reviewer_api.post(case_url(claimed.id, "/decision"),
                             json={"decision": "reject", "comment": "Not open data."}).status_code == 200
    [note] = api.get(f"{V1}/notifications").get_json()
    assert note["subject"].startswith("Rejected") and "Not open data." in note["body"]
    resp = api.post(f"{V1}/notifications/read")
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1}
    assert api.get(f"{V1}/notifications", query_string={"unread": True}).get_json() == []


@pytest.mark.parametrize("kwargs,field", [
    ({"json": {"id": "1"}}, "id"),
    ({"json": {"id": 1.5}}, "id"),
    ({"json": {"all": True}}, "all"),
])
def test_bad_mark_read_is_422(api, kwargs, field):
    assert_error(api.post(f"{V1}/notifications/read", **kwargs), 422, "invalid_input", field)


def test_bad_unread_filter_is_422(api):
    assert_error(api.get(f"{V1}/notifications", query_string={"unread": "perhaps"}), 422, "invalid_input", "unread")


def test_notifications_need_a_token(client):
    assert_error(client.get(f"{V1}/notifications"), 401, "unauthorized")
    assert_error(client.post(f"{V1}/notifications/read", json={}), 401, "unauthorized")


# ---------------------------------------------------------------- the audit chain


def test_admin_verifies_the_audit_chain_and_tampering_is_caught(session, admin_api, listed):
    resp = admin_api.get(f"{V1}/audit/verify")
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    assert report["ok"] is True and report["checked"] > 0 and report["broken_at"] is None

    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    target = events[len(events) // 2]
    session.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(payload={"forged": True}))
    session.expire_all()
    report = admin_api.get(f"{V1}/audit/verify").get_json()
    assert report["ok"] is False and report["broken_at"] == target.id and "altered" in report["reason"]
    assert report["checked"] == len(events) // 2 + 1


def test_audit_verify_is_for_admins_only(client, api, reviewer_api, case):
    assert_error(reviewer_api.get(f"{V1}/audit/verify"), 403, "forbidden")
    assert_error(api.get(f"{V1}/audit/verify"), 403, "forbidden")
    assert_error(client.get(f"{V1}/audit/verify"), 401, "unauthorized")


# ---------------------------------------------------------------- submission with a note


def test_submit_with_a_note_and_without_a_body(api, reviewer_api, session, storage, seller, version):
    resp = api.post(f"{V1}/products/{version.product_id}/versions/1/submit", json={"note": "First listing."})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "submitted"
    other = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    session.commit()
    resp = api.post(f"{V1}/products/{other.product_id}/versions/1/submit")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "submitted"

    items = reviewer_api.get(QUEUE).get_json()["items"]
    by_product = {c["product_id"]: c["id"] for c in items}
    noted = reviewer_api.get(case_url(by_product[version.product_id])).get_json()
    assert noted["rounds"][0]["seller_note"] == "First listing."
    bare = reviewer_api.get(case_url(by_product[other.product_id])).get_json()
    assert bare["rounds"][0]["seller_note"] == ""
    seen = api.get(f"{V1}/products/{version.product_id}/versions/1/review").get_json()
    assert seen["status"] == "submitted" and seen["rounds"][0]["seller_note"] == "First listing."


def test_resubmission_note_opens_a_second_round(api, reviewer_api, claimed, version):
    resp = reviewer_api.post(case_url(claimed.id, "/decision"), json={
        "decision": "request_changes", "comment": "Cite the second source."})
    assert resp.status_code == 200
    base = f"{V1}/products/{version.product_id}/versions/1"
    assert api.patch(base, json={"description_en": "Hourly speeds; detector locations cited."}).status_code == 200
    resp = api.post(f"{base}/submit", json={"note": "Added the detector locations source."})
    assert resp.status_code == 200, resp.get_json()
    rounds = api.get(f"{base}/review").get_json()["rounds"]
    assert [r["number"] for r in rounds] == [1, 2]
    assert rounds[0]["decision"] == "request_changes" and rounds[0]["decision_comment"] == "Cite the second source."
    assert rounds[1]["seller_note"] == "Added the detector locations source." and rounds[1]["decision"] is None
    case = reviewer_api.get(case_url(claimed.id)).get_json()
    assert case["status"] == "submitted" and case["reviewer"] is None and len(case["rounds"]) == 2


@pytest.mark.parametrize("body,field", [
    ({"note": "x" * 5001}, "note"),
    ({"note": 5}, "note"),
    ({"remark": "hi"}, "remark"),
])
def test_bad_submit_note_is_422(api, version, body, field):
    assert_error(api.post(f"{V1}/products/{version.product_id}/versions/1/submit", json=body), 422,
                 "invalid_input", field)
    assert api.get(f"{V1}/products/{version.product_id}/versions/1").get_json()["status"] == "draft"


def test_submitting_twice_is_409(api, case, version):
    assert_error(api.post(f"{V1}/products/{version.product_id}/versions/1/submit", json={"note": "again"}), 409,
                 "invalid_transition")
