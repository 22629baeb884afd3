"""Forms shown again with their errors, and the page furniture screen readers rely on: an error summary at the top
of each form (each field's message linking to it, focusable for the script that moves focus there), the title
starting with "Error:" in the reader's language, every field's message tied to it, all errors at once; the main
menu marking the current section, labelled breadcrumbs and asides, no empty table header."""
from __future__ import annotations

import html
import re

import pytest

from marketplace.review import services as review
from tests import factories

PASSING = {item: {"result": "pass", "comment": ""} for item in (
    "source_legality", "personal_information", "classification", "cross_border", "licence_terms", "quality")}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def summary(page: str) -> str:
    """The error summary's markup: focusable (tabindex -1), marked for the script, announced."""
    found = re.search(r'<div tabindex="-1" data-error-summary class="form-errors" role="alert">(.*?)</div>', page, re.S)
    assert found, "no error summary"
    return found.group(1)


def tag_with_id(page: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|textarea|select|fieldset)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert found, f"no field with id {element_id}"
    return found.group(0)


def test_signup_shown_again_sums_up_its_errors_linked_to_the_fields_and_says_so_in_the_title(client):
    response = client.post("/signup", data={"email": "", "display_name": "Ann", "password": "short",
                                            "confirm": "other", "organization_name": "", "locale": "en"})
    page = text(response)
    assert response.status_code in (200, 400, 422)
    assert title(page).startswith("Error: Sign up")
    links = re.findall(r'<a href="#([^"]+)">', summary(page))
    assert "email" in links and len(links) >= 2
    for field_id in links:  # each link leads to a field, which names its message
        field = tag_with_id(page, field_id)
        assert 'aria-invalid="true"' in field and f"{field_id}-errors" in field
    assert 'src="/static/app.js"' in page  # the script that moves focus to the summary, on a visitor's page too


def test_the_title_says_error_in_the_readers_language(client):
    client.post("/language", data={"locale": "zh-Hant-HK", "next": "/signup"})
    page = text(client.post("/signup", data={"email": "x"}))
    assert title(page).startswith("錯誤：")


def test_a_page_without_errors_keeps_its_title_and_runs_no_script_for_a_visitor(client):
    page = text(client.get("/signup"))
    assert not title(page).startswith("Error") and "data-error-summary" not in page
    assert 'src="/static/app.js"' not in page


@pytest.fixture
def buyer(session):
    user = factories.user(session, email="buyer@example.org", organization="Kowloon Research", name="Bo Buyer")
    session.commit()
    return user


def test_the_licence_request_shown_again_has_a_summary(client, auth, session, storage, seller, reviewer, buyer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road speeds")
    session.commit()
    plan = product.listed_version.plans[0]
    auth.login(buyer.email)
    url = f"/products/{product.slug}/plans/{plan.id}/license"
    response = client.post(url, data={"organization_id": buyer.memberships[0].organization.id, "description": ""})
    page = text(response)
    assert response.status_code in (400, 422)
    assert title(page).startswith("Error: ")
    for field_id in re.findall(r'<a href="#([^"]+)">', summary(page)):
        assert 'aria-invalid="true"' in tag_with_id(page, field_id)


@pytest.fixture
def claimed(session, storage, seller, reviewer):
    product = factories.product(session, seller, title="Strategic road detectors")
    version = factories.complete_version(session, storage, seller, product.latest_version)
    review.submit_version(session, seller, version, storage)
    case = review.case_for_version(session, version)
    review.claim_case(session, reviewer, case)
    session.commit()
    return case


def _answers(answers: dict, **extra) -> dict:
    data = {}
    for item, answer in answers.items():
        data[f"{item}-result"] = answer["result"]
        data[f"{item}-comment"] = answer["comment"]
    return {**data, **extra}


def test_the_review_decisions_errors_are_tied_to_their_fields_and_summed_up(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    response = client.post(f"/review/cases/{claimed.id}/decision",
                           data=_answers(PASSING, decision="request_changes", comment=" "))
    page = text(response)
    assert response.status_code == 422 and title(page).startswith("Error: ")
    assert 'tabindex="-1" data-error-summary class="notice' in page  # the case page's summary, focused on load
    comment = tag_with_id(page, "comment")
    assert 'aria-invalid="true"' in comment
    described = re.search(r'aria-describedby="([^"]+)"', comment).group(1).split()
    assert described == ["comment-help", "comment-errors"]
    assert 'id="comment-help"' in page and 'id="comment-errors"' in page
    assert 'href="#comment"' in page


def test_a_checklist_items_message_is_tied_to_its_answer_and_comment(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    typed = {**PASSING, "quality": {"result": "fail", "comment": ""}}
    response = client.post(f"/review/cases/{claimed.id}/checklist", data=_answers(typed))
    page = text(response)
    assert response.status_code == 422 and title(page).startswith("Error: ")
    quality = tag_with_id(page, "quality-comment")
    assert 'aria-invalid="true"' in quality and 'aria-describedby="item-quality-errors"' in quality
    assert 'aria-describedby="item-quality-errors"' in page.split('id="item-quality"')[1].split("</fieldset>")[0]
    assert 'id="item-quality-errors"' in page


def test_each_checklist_answer_group_is_named_by_its_item(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    page = text(client.get(f"/review/cases/{claimed.id}"))
    legends = re.findall(r'<fieldset class="review-answer"[^>]*>\s*<legend[^>]*>(.*?)</legend>', page, re.S)
    names = [re.sub(r"<[^>]+>", "", legend).strip() for legend in legends]
    assert len(names) == 6 and len(set(names)) == 6, names
    assert all(name.endswith("Result") for name in names)
    # The case page's two asides are told apart.
    asides = re.findall(r"<aside\b[^>]*>", page)
    assert len(asides) == 2 and all("aria-label" in a for a in asides)
    assert 'aria-label="Breadcrumb"' in page


def test_delisting_shows_the_unticked_box_and_the_missing_reason_at_once(client, auth, session, storage, seller,
                                                                         reviewer, admin):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road detectors")
    session.commit()
    auth.login(admin.email)
    response = client.post(f"/admin/products/{product.id}/delist", data={"reason": " "})
    page = text(response)
    assert response.status_code == 422
    assert "Tick this box to confirm" in page and "A reason is required." in page
    links = re.findall(r'<a href="#([^"]+)">', summary(page))
    assert links == ["reason", "confirm_final"]


def test_the_main_menu_marks_the_current_section(client, auth, session, storage, seller, reviewer):
    auth.login(reviewer.email)
    page = text(client.get("/review/"))
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', nav) == ["/review/"]
    page = text(client.get("/catalog"))
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', nav) == ["/catalog"]


def test_tables_name_every_column_and_the_new_product_form_skips_no_heading_level(client, auth, seller):
    auth.login(seller.email)
    for path in ("/organizations", "/settings/tokens"):
        response = client.get(path)
        if response.status_code == 200:
            assert "<th></th>" not in text(response), path
    page = text(client.get("/seller/products/new"))
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", page.split("<main>")[1])]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
