"""A case handed from one reviewer to the next: releasing clears the round's checklist (kept in the audit trail), so
the next reviewer never submits another's answers as theirs; the comment boxes carry their limit; the title reads as
the product page shows it, in the reader's language first."""
from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.review import services as review
from marketplace.review.services import MAX_COMMENT
from tests import factories
from tests.review.test_languages import in_locale
from tests.review.test_views import answers_form, checked, curl, text


def test_a_released_case_reaches_the_next_reviewer_with_a_clear_checklist(client, auth, session, reviewer, claimed):
    auth.login(reviewer.email)
    client.post(curl(claimed, "/checklist"), data=answers_form({
        "quality": {"result": "fail", "comment": "The sample has no header row."},
        "source_legality": {"result": "pass", "comment": "Licence checked."}}))
    assert client.post(curl(claimed, "/release")).status_code == 302
    session.expire_all()
    assert claimed.current_round.answers == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "version.release")).one()
    kept = {a["item"]: a for a in event.payload["cleared_answers"]}
    assert kept["quality"]["comment"] == "The sample has no header row." and kept["quality"]["result"] == "fail"
    assert kept["source_legality"]["answered_by_id"] == reviewer.id

    second = factories.user(session, email="second@example.org", role=PlatformRole.REVIEWER)
    session.commit()
    auth.login(second.email)
    client.post(curl(claimed, "/claim"))
    page = text(client.get(curl(claimed)))
    assert checked(page, "quality-result") is None and checked(page, "source_legality-result") is None
    assert "The sample has no header row." not in page and "Licence checked." not in page


def test_releasing_says_the_checklist_is_cleared(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    page = text(client.get(curl(claimed)))
    assert "Releasing clears this round's checklist answers" in page
    done = text(client.post(curl(claimed, "/release"), follow_redirects=True))
    assert "its checklist cleared for them" in done


def test_the_comment_boxes_carry_their_limit_and_the_server_still_checks_it(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    page = client.get(curl(claimed)).get_data(as_text=True)
    decision = re.search(r'<textarea[^>]*name="comment"[^>]*>', page).group(0)
    assert f'maxlength="{MAX_COMMENT}"' in decision
    items = re.findall(r'<textarea[^>]*name="[a-z_]+-comment"[^>]*>', page)
    assert items and all(f'maxlength="{MAX_COMMENT}"' in box for box in items)
    response = client.post(curl(claimed, "/decision"), data=answers_form(
        {}, decision="request_changes", comment="x" * (MAX_COMMENT + 1)))
    assert response.status_code == 422


def test_the_title_reads_in_the_readers_language_first_with_the_other_under_it(client, auth, session, reviewer,
                                                                                claimed):
    client = in_locale(client, auth, session, reviewer, "zh-Hant-HK")
    page = text(client.get(curl(claimed)))
    crumb = re.search(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', page, re.S).group(1)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    other = re.search(r'<p class="lead review-other-title"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "香港交通数据" in crumb and "Strategic road detectors" not in crumb
    assert "香港交通数据" in heading and other == "Strategic road detectors"


def test_the_title_in_english_puts_the_chinese_under_it(client, auth, reviewer, claimed):
    auth.login(reviewer.email)
    page = text(client.get(curl(claimed)))
    crumb = re.search(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', page, re.S).group(1)
    assert "Strategic road detectors" in crumb and "Strategic road detectors" in re.search(
        r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert re.search(r'<p class="lead review-other-title" lang="zh[^"]*">香港交通数据</p>', page)


def test_an_admin_releasing_another_reviewers_case_clears_it_too(session, admin, reviewer, claimed):
    review.save_checklist(session, reviewer, claimed, {"quality": {"result": "pass", "comment": ""}})
    review.release_case(session, admin, claimed)
    session.commit()
    assert claimed.current_round.answers == []
