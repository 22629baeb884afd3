"""The reviewer's pages: queue, case, checklist and decision, downloads, product status. Refusals re-render the
page with the right status, the messages beside the right item and everything typed kept."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.listings.states import ProductStatus, VersionStatus
from marketplace.review import services as review
from marketplace.review.checklist import PrescreenOutcome
from tests import factories
from tests.review.conftest import PASSING


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def curl(case, suffix: str = "") -> str:
    return f"/review/cases/{case.id}{suffix}"


def answers_form(answers: dict, **extra) -> dict:
    data = {}
    for item, answer in answers.items():
        data[f"{item}-result"] = answer.get("result", "")
        data[f"{item}-comment"] = answer.get("comment", "")
    return {**data, **extra}


def checked(page: str, name: str) -> str | None:
    """The value of the checked radio button called ``name``, if any."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


@pytest.fixture
def reviewer_client(client, auth, reviewer):
    auth.login(reviewer.email)
    return client


@pytest.fixture
def admin_client(client, auth, admin):
    auth.login(admin.email)
    return client


@pytest.fixture
def listed(session, reviewer, claimed):
    review.decide(session, reviewer, claimed, "approve", answers=PASSING)
    session.commit()
    return claimed.product


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("url", ["/review/", "/review/cases/1", "/review/products/1", "/review/cases/1/assets/1"])
def test_review_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_claiming_requires_login(client, case):
    response = client.post(curl(case, "/claim"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert case.version.status == VersionStatus.SUBMITTED


def test_sellers_are_not_reviewers(client, auth, seller, case):
    auth.login(seller.email)
    for response in (client.get("/review/"), client.get(curl(case)), client.post(curl(case, "/claim")),
                     client.get(f"/review/products/{case.product_id}")):
        assert response.status_code == 403
        assert "compliance reviewers" in text(response)
    assert case.version.status == VersionStatus.SUBMITTED


# ---------------------------------------------------------------- the queue


def test_queue_lists_a_submitted_case(reviewer_client, case):
    page = text(reviewer_client.get("/review/"))
    assert "Strategic road detectors" in page and "香港交通数据" in page
    assert "Harbour Analytics" in page and "Transport" in page
    assert f'href="/review/cases/{case.id}"' in page
    assert f"badge-prescreen-{case.prescreen_outcome.value}" in page
    assert "just now" in page and "badge-submitted" in page


def test_queue_filters_by_organization_category_and_prescreen(reviewer_client, case):
    other = PrescreenOutcome.PASS if case.prescreen_outcome != PrescreenOutcome.PASS else PrescreenOutcome.FAIL
    assert "Strategic road" in text(reviewer_client.get(f"/review/?prescreen={case.prescreen_outcome.value}"))
    assert "Strategic road" not in text(reviewer_client.get(f"/review/?prescreen={other.value}"))
    assert "Strategic road" in text(reviewer_client.get(f"/review/?organization={case.organization_id}"))
    assert "Strategic road" not in text(reviewer_client.get("/review/?category=health"))
    page = text(reviewer_client.get("/review/?category=transport"))
    assert "Strategic road" in page and '<option selected value="transport">' in page


def test_queue_tabs(reviewer_client, session, reviewer, case):
    assert "You have not claimed any case" in text(reviewer_client.get("/review/?status=mine"))
    assert "Strategic road" in text(reviewer_client.get("/review/?status=submitted"))
    review.claim_case(session, reviewer, case)
    session.commit()
    assert "Strategic road" in text(reviewer_client.get("/review/?status=mine"))
    assert "Strategic road" not in text(reviewer_client.get("/review/?status=submitted"))
    assert "No case has been decided yet" in text(reviewer_client.get("/review/?status=decided"))


@pytest.mark.parametrize("query", ["?prescreen=zzz", "?page=abc", "?page=0", "?page=-3", "?organization=abc",
                                   "?organization=999999", "?status=everything",
                                   "?page=99999999999999999999999", "?page=" + "9" * 5000, "?page=²"])
def test_bad_queue_filters_are_ignored_with_a_notice(reviewer_client, case, query):
    response = reviewer_client.get(f"/review/{query}")
    assert response.status_code == 200
    page = text(response)
    assert "ignored" in page or "not a page number" in page
    assert "Strategic road" in page


def test_a_page_past_the_end_says_so(reviewer_client, case):
    page = text(reviewer_client.get("/review/?page=7"))
    assert "There is no page 7" in page


def test_empty_queue(reviewer_client):
    assert "Nothing is waiting for review" in text(reviewer_client.get("/review/"))


# ---------------------------------------------------------------- the case page


def test_case_page_shows_what_a_reviewer_checks(reviewer_client, case, version):
    page = text(reviewer_client.get(curl(case)))
    assert "<strong>speeds</strong>" in page  # the description, rendered from markdown
    assert "Traffic Data of Strategic / Major Roads" in page and "LicenseRef-DATA.GOV.HK-Terms" in page
    assert "AID_ID_Number" in page and "Detector id" in page
    asset = version.assets[0]
    assert asset.sha256 in page and f"/review/cases/{case.id}/assets/{asset.id}" in page
    assert "Research licence" in page and "Territory: Hong Kong" in page
    assert "Attested by" in page and "Ada Seller" in page
    for label in ("Source legality", "Personal information", "Cross-border", "Licence terms", "Quality"):
        assert label in page
    assert "detectors.csv" in page  # files scanned by the pre-screen
    assert "Claim this case" in page and "Claim this case to answer the checklist" in page
    assert 'name="quality-result"' not in page  # read-only until claimed


def test_claim_puts_the_case_in_review(reviewer_client, reviewer, case):
    response = reviewer_client.post(curl(case, "/claim"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{curl(case)}#checklist")
    assert case.version.status == VersionStatus.IN_REVIEW and case.reviewer_id == reviewer.id
    page = text(reviewer_client.get(curl(case)))
    assert "You claimed this case" in page and 'name="quality-result"' in page and "Release to the queue" in page


def test_claiming_a_claimed_case_is_a_conflict(client, auth, admin, claimed):
    auth.login(admin.email)
    response = client.post(curl(claimed, "/claim"))
    assert response.status_code == 409
    page = text(response)
    assert "Cannot claim a version that is in review" in page and "Grace Reviewer is reviewing" in page
    assert "Release to the queue" in page  # an admin may release someone else's case


def test_release_puts_the_case_back(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/release"))
    assert response.status_code == 302
    assert claimed.version.status == VersionStatus.SUBMITTED and claimed.reviewer_id is None


def test_reviewer_in_the_seller_organization_is_refused(client, auth, session, seller, case):
    seller.platform_role = PlatformRole.REVIEWER
    session.commit()
    auth.login(seller.email)
    assert "Claim this case" not in text(client.get(curl(case)))
    response = client.post(curl(case, "/claim"))
    assert response.status_code == 403
    assert "another reviewer must review" in text(response)
    assert case.version.status == VersionStatus.SUBMITTED


def test_saved_checklist_answers_come_back(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/checklist"), data=answers_form({
        "quality": {"result": "fail", "comment": "The sample has no header row."},
        "cross_border": {"result": "not_applicable", "comment": ""}}))
    assert response.status_code == 302
    page = text(reviewer_client.get(curl(claimed)))
    assert checked(page, "quality-result") == "fail" and checked(page, "cross_border-result") == "not_applicable"
    assert checked(page, "source_legality-result") is None
    assert "The sample has no header row." in page and "Checklist saved." in page


def test_failed_item_without_a_comment_is_refused_beside_the_item(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/checklist"), data=answers_form({
        "quality": {"result": "fail", "comment": ""}, "classification": {"result": "pass", "comment": "General."}}))
    assert response.status_code == 422
    page = text(response)
    checklist = page.split('id="checklist"')[1]
    quality = checklist.split('id="item-quality"')[1]
    assert "Say what fails" in quality and "Say what fails" not in checklist.split('id="item-quality"')[0]
    assert 'href="#item-quality"' in page  # and a link to it from the message at the top
    assert checked(page, "quality-result") == "fail" and checked(page, "classification-result") == "pass"
    assert "General." in page
    assert claimed.current_round.answers == []


def test_approval_lists_the_version_and_shows_its_registration_number(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/decision"),
                                    data=answers_form(PASSING, decision="approve", comment="Clean."))
    assert response.status_code == 302
    version = claimed.version
    assert version.status == VersionStatus.LISTED and claimed.product.status == ProductStatus.LISTED
    page = text(reviewer_client.get(curl(claimed)))
    assert version.registration_number and version.registration_number in page
    assert "Approved:" in page and "Clean." in page and 'name="quality-result"' not in page


def test_request_changes_without_a_comment_keeps_everything_typed(reviewer_client, claimed):
    typed = {**PASSING, "source_legality": {"result": "fail", "comment": "The second source is not cited."},
             "quality": {"result": "pass", "comment": "Sample looks fine 很好."}}
    response = reviewer_client.post(curl(claimed, "/decision"),
                                    data=answers_form(typed, decision="request_changes", comment="  "))
    assert response.status_code == 422
    page = text(response)
    assert "A comment for the seller is required." in page
    assert checked(page, "source_legality-result") == "fail" and checked(page, "decision") == "request_changes"
    assert "The second source is not cited." in page and "Sample looks fine 很好." in page
    assert claimed.version.status == VersionStatus.IN_REVIEW and claimed.current_round.answers == []


def test_a_nul_typed_into_a_comment_is_refused_and_nothing_changes(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/decision"), data=answers_form(
        {**PASSING, "quality": {"result": "fail", "comment": "No\x00 unit."}},
        decision="request_changes", comment="Fix\x00 it."))
    assert response.status_code == 400  # refused app-wide (marketplace/inputs.py)
    assert claimed.current_round.answers == [] and claimed.version.status == VersionStatus.IN_REVIEW


def test_approval_with_unanswered_items_names_them(reviewer_client, claimed):
    response = reviewer_client.post(curl(claimed, "/decision"), data=answers_form(
        {"quality": {"result": "pass"}}, decision="approve"))
    assert response.status_code == 422
    page = text(response)
    checklist = page.split('id="checklist"')[1]
    assert checklist.count("Answer this item before approving.") == 5 and checked(page, "quality-result") == "pass"


@pytest.mark.parametrize("decision", ["maybe", "", "<script>"])
def test_unknown_decision_is_refused(reviewer_client, claimed, decision):
    response = reviewer_client.post(curl(claimed, "/decision"), data=answers_form(PASSING, decision=decision))
    assert response.status_code == 422
    assert "Choose approve, request changes or reject." in text(response)
    assert "<script>" not in response.get_data(as_text=True).split("<main>")[1]


def test_deciding_an_unclaimed_case_is_refused(reviewer_client, case):
    response = reviewer_client.post(curl(case, "/decision"), data=answers_form(PASSING, decision="approve"))
    assert response.status_code == 409 and "Claim the case before working on it." in text(response)


def test_another_reviewer_sees_the_checklist_read_only(client, auth, session, claimed):
    other = factories.user(session, email="other@example.org", role=PlatformRole.REVIEWER)
    session.commit()
    auth.login(other.email)
    page = text(client.get(curl(claimed)))
    assert "Grace Reviewer is reviewing this case" in page and 'name="quality-result"' not in page
    response = client.post(curl(claimed, "/checklist"), data=answers_form(PASSING))
    assert response.status_code == 403 and "Another reviewer has claimed this case." in text(response)


def test_history_keeps_every_round(reviewer_client, session, storage, seller, claimed):
    reviewer_client.post(curl(claimed, "/decision"), data=answers_form(
        {**PASSING, "quality": {"result": "fail", "comment": "Latitude has no unit."}},
        decision="request_changes", comment="Give the unit of Latitude."))
    version = claimed.version
    assert version.status == VersionStatus.CHANGES_REQUESTED
    factories.submit(session, seller, version, storage, note="Unit added.")
    session.commit()
    page = text(reviewer_client.get(curl(claimed)))
    assert "Round 1" in page and "Round 2" in page and "Unit added." in page
    assert "Latitude has no unit." in page and "Give the unit of Latitude." in page


@pytest.mark.parametrize("url", ["/review/cases/999999", "/review/cases/99999999999999999999999",
                                 "/review/cases/abc", "/review/products/999999",
                                 "/review/products/99999999999999999999", "/review/cases/{case}/assets/999999",
                                 "/review/cases/{case}/assets/99999999999999999999"])
def test_unknown_ids_are_404(reviewer_client, case, url):
    assert reviewer_client.get(url.format(case=case.id)).status_code == 404


def test_post_to_unknown_case_is_404(reviewer_client):
    assert reviewer_client.post("/review/cases/999999/claim").status_code == 404


# ---------------------------------------------------------------- downloads


def test_reviewer_download_streams_the_file_and_is_audited(reviewer_client, session, reviewer, case, version):
    asset = version.assets[0]
    response = reviewer_client.get(curl(case, f"/assets/{asset.id}"))
    assert response.status_code == 200
    assert response.data == b"AID_ID_Number,Latitude\nAID01101,22.3\n"
    assert "attachment" in response.headers["Content-Disposition"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "asset.downloaded"))
    assert event.actor_id == reviewer.id and event.subject_id == asset.id
    assert event.payload["as"] == "reviewer" and event.payload["sha256"] == asset.sha256


def test_files_of_other_versions_are_not_served_through_a_case(reviewer_client, session, storage, seller, case):
    other = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    session.commit()
    response = reviewer_client.get(curl(case, f"/assets/{other.assets[0].id}"))
    assert response.status_code == 404
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "asset.downloaded")) is None


# ---------------------------------------------------------------- live products


def test_case_links_to_the_product_status_page(reviewer_client, listed, claimed):
    assert f'href="/review/products/{listed.id}"' in text(reviewer_client.get(curl(claimed)))
    page = text(reviewer_client.get(f"/review/products/{listed.id}"))
    assert "Change status" in page and 'value="suspend"' in page and 'value="reinstate"' not in page
    assert claimed.version.registration_number in page


def test_suspending_needs_a_reason(reviewer_client, listed):
    response = reviewer_client.post(f"/review/products/{listed.id}/status", data={"action": "suspend", "reason": " "})
    assert response.status_code == 422 and "A reason is required." in text(response)
    assert listed.status == ProductStatus.LISTED


def test_suspend_with_a_reason(reviewer_client, listed):
    response = reviewer_client.post(f"/review/products/{listed.id}/status",
                                    data={"action": "suspend", "reason": "Upstream licence under query."})
    assert response.status_code == 302
    assert listed.status == ProductStatus.SUSPENDED and listed.status_reason == "Upstream licence under query."
    page = text(reviewer_client.get(f"/review/products/{listed.id}"))
    assert "Upstream licence under query." in page and "Suspended:" in page and 'value="reinstate"' in page


def test_a_refused_status_change_keeps_the_reason(reviewer_client, listed):
    response = reviewer_client.post(f"/review/products/{listed.id}/status",
                                    data={"action": "reinstate", "reason": "Typed with care 小心."})
    assert response.status_code == 409
    page = text(response)
    assert "Cannot reinstate a product that is listed." in page and "Typed with care 小心." in page


def test_unknown_product_action_is_refused(reviewer_client, listed):
    response = reviewer_client.post(f"/review/products/{listed.id}/status", data={"action": "list", "reason": "x"})
    assert response.status_code == 422 and "Choose suspend, reinstate or delist." in text(response)


def test_a_draft_product_offers_nothing(reviewer_client, case):
    page = text(reviewer_client.get(f"/review/products/{case.product_id}"))
    assert "never been listed" in page and "Change status" not in page


def test_reviewer_in_the_seller_organization_cannot_change_its_status(client, auth, session, seller, listed):
    seller.platform_role = PlatformRole.REVIEWER
    session.commit()
    auth.login(seller.email)
    response = client.post(f"/review/products/{listed.id}/status",
                           data={"action": "suspend", "reason": "Conflict of interest test."})
    assert response.status_code == 403
    page = text(response)
    assert "another reviewer must review" in page and "Conflict of interest test." in page
    assert listed.status == ProductStatus.LISTED


def test_the_product_status_page_names_a_product_titled_only_in_chinese(reviewer_client, session, case):
    case.version.title_en = ""
    session.commit()

    page = text(reviewer_client.get(f"/review/products/{case.product_id}"))
    crumbs = page.split('class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    assert crumbs.endswith('<span>/</span> <span lang="zh-Hans">香港交通数据</span>')
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading.startswith('<span lang="zh-Hans">香港交通数据</span>')
    assert page.count("香港交通数据") == 3 and "Chinese only" in page  # the title, crumb and heading; said once
