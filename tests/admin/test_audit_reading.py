"""Reading the audit trail: actions in words, the reasons and comments people gave, the time zone named once, the
overview's latest events told as the audit page tells them, and days past what a date can hold refused."""
from __future__ import annotations

import re

import pytest

from marketplace.audit.services import record
from marketplace.review import services as review
from tests import factories
from tests.admin.conftest import text
from tests.audit.test_views import table

REASON = "Source licence <b>withdrawn</b> & under review"


@pytest.fixture
def suspended(session, admin, listed):
    admin.timezone = "Asia/Hong_Kong"
    review.suspend_product(session, admin, listed, REASON)
    session.commit()
    return listed


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=9999-12-31", "since=0001-01-01&until=9999-12-31"])
@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv"])
def test_days_past_what_a_date_can_hold_are_refused_beside_the_field(admin_client, admin, session, path, query):
    admin.timezone = "Asia/Hong_Kong"  # ahead of UTC: the first day's midnight falls before the first date
    session.commit()
    response = admin_client.get(f"{path}?{query}")
    page = text(response)
    assert response.status_code == 400
    assert "is outside the dates the trail can search: pick a day from 0002-01-01 to 9998-12-31." in page
    assert 'aria-invalid="true"' in page and "audit-events" not in page


def test_the_first_and_last_days_that_can_be_searched_are_taken(admin_client, suspended):
    response = admin_client.get("/admin/audit?since=0002-01-01&until=9998-12-31")
    assert response.status_code == 200 and "product.suspend" in table(text(response))


def test_an_events_reason_is_shown_escaped_beside_its_action(admin_client, suspended):
    raw = admin_client.get("/admin/audit").get_data(as_text=True)
    events = raw[raw.index('<table class="table audit-events"'):]
    assert "Source licence &lt;b&gt;withdrawn&lt;/b&gt; &amp; under review" in events
    assert "<b>withdrawn</b>" not in raw


def test_a_review_decisions_comment_is_shown(admin_client, session, storage, seller, reviewer):
    p = factories.product(session, seller, title="Tide gauges")
    version = factories.complete_version(session, storage, seller, p.latest_version)
    case = factories.submit(session, seller, version, storage).case
    review.claim_case(session, reviewer, case)
    review.request_changes(session, reviewer, case, comment="Name the <i>gauge</i> owners.",
                           answers={**factories.ALL_PASS, "quality": {"result": "fail", "comment": "Owners?"}})
    session.commit()
    page = table(admin_client.get("/admin/audit?action=version.request_changes").get_data(as_text=True))
    assert ">Changes requested</a>" in page and "Name the &lt;i&gt;gauge&lt;/i&gt; owners." in page


def test_actions_read_as_words_with_their_code_kept_and_unknown_codes_shown_as_they_are(
        admin_client, session, admin, suspended):
    record(session, actor_id=admin.id, action="test.unheard_of", subject_type="thing", subject_id=1)
    session.commit()
    page = table(text(admin_client.get("/admin/audit")))
    assert '>Product suspended</a>' in page and 'title="product.suspend"' in page
    assert ">test.unheard_of</a>" in page
    admin.locale = "zh-Hant-HK"
    session.commit()
    chinese = table(text(admin_client.get("/admin/audit")))
    assert '>產品已暫停交易</a>' in chinese and 'title="product.suspend"' in chinese


def test_the_time_zone_is_named_once_in_the_header(admin_client, suspended):
    page = table(text(admin_client.get("/admin/audit")))
    assert page.count("Asia/Hong_Kong") == 1
    assert "Time (Asia/Hong_Kong)" in page[:page.index("</thead>")]


def test_the_overview_names_the_actor_the_action_and_the_object_as_the_audit_page_does(admin_client, admin,
                                                                                        suspended):
    page = text(admin_client.get("/admin/"))
    box = page[page.index('id="overview-audit"'):]
    box = box[:box.index("</section>")]
    assert admin.display_name in box and ">Product suspended</a>" in box
    assert re.search(r'<a href="[^"]+">Strategic road detectors</a>', box) and "audit-product-filter" in box
    assert REASON in box
    assert box.count("Asia/Hong_Kong") == 1


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_overview_and_orders_page_speak_each_chinese_locale(client, auth, session, admin, suspended, tag):
    from tests.review.test_languages import in_locale, main_text

    client = in_locale(client, auth, session, admin, tag)
    page = main_text(client.get("/admin/"))
    words = {"zh-Hans": ["产品已暂停交易", "待审核积压", "从未挂牌"],
             "zh-Hant-HK": ["產品已暫停交易", "待審核積壓", "從未掛牌"]}[tag]
    assert all(w in page for w in words), words
    english = re.sub(r"Strategic road detectors|Asia/Hong_Kong|Ada Admin|Harbour Analytics|Source licence|"
                     r"withdrawn|under review|Open Data Exchange|API|CSV|DATA\.GOV\.HK|CSDI|HKO|v1\.0", " ", page)
    english = re.sub(r"<b>|</b>|&|[\w.+-]+@[\w.-]+|Grace Reviewer|Test User", " ", english)  # names as written
    left = re.findall(r"\b[A-Za-z]{4,}\b", english)
    assert left == [], left
    response = client.get("/admin/orders?status=nope")
    assert response.status_code == 400 and "nope" in main_text(response)
    assert ("不是订单状态" if tag == "zh-Hans" else "不是訂單狀態") in main_text(response)


def test_refused_filters_are_summed_up_with_links_and_the_title_says_error(admin_client):
    response = admin_client.get("/admin/audit?since=0001-01-01&actor=nobody-at-all-here")
    page = text(response)
    assert response.status_code == 400
    assert "<title>Error: " in page
    summary = page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'href="#since"' in summary and 'href="#actor"' in summary
