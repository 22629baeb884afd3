"""The compliance reviewer's journey in a real browser in each Chinese locale, and the seller's view of the decision
in the seller's own language, meeting none of the interface's English on the way.

The demo catalog leaves two submitted cases on the queue. In Simplified Chinese the reviewer filters the queue to
the case whose pre-screen needs review, claims it, reads the findings, saves notes on the checklist and requests
changes; its seller (who reads Simplified Chinese) opens the notification, reads the comments and submits a new
round. In Traditional Chinese the reviewer claims the other case, is refused an approval with an item unanswered,
then approves it; its seller, who chose Traditional Chinese with the switcher, reads the notification and sees the
product listed; and rejects the case already claimed, a rejection without a reason refused first. Labels and
buttons are found by the app's own translations (gettext under the locale).
"""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, pgettext
from playwright.sync_api import Page, expect

from marketplace.i18n import BABEL_IDS, LOCALE_NAMES
from marketplace.listings.states import VersionStatus
from marketplace.listings.vocab import Category
from marketplace.review.checklist import ChecklistItem, ChecklistResult, Decision, PrescreenOutcome
from tests.functional.conftest import log_in
from tests.functional.english import no_english, typed_content, words
from tests.functional.test_browser_reviewer import (
    AQHI,
    HKO,
    RAIN,
    REVIEWER,
    SELLER2,
    chinese_title,
    version_in_db,
)

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

SELLER4 = ("seller4@demo.exchange", "demo-seller4-pass")  # Kowloon Climate Risk Lab, reads English until it switches


def written_before(app, email: str) -> list[str]:
    """The notifications a user was sent while reading English: they were written in English and stay so."""
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from marketplace.notifications.models import Notification

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        found = [line for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
                 for line in (n.subject, *n.body.splitlines())]
        db.session.remove()
    return found


def choose_language(page: Page, tag: str) -> None:
    """The switcher, unless the page already speaks ``tag`` (a saved preference)."""
    if page.locator("html").get_attribute("lang") != tag:
        page.get_by_role("button", name=LOCALE_NAMES[tag]).click()
    expect(page.locator("html")).to_have_attribute("lang", tag)


class Reviewing:
    """One person's pages in locale ``tag``: translated words, and every page checked for English."""

    def __init__(self, page: Page, app, tag: str, tmp_path):
        self.page, self.app, self.tag, self.tmp_path = page, app, tag, tmp_path
        self.tr, self.label = words(app, tag)
        self.written_in_english: list[str] = []

    def tab(self, name: str):
        with self.app.test_request_context("/"), force_locale(BABEL_IDS[self.tag]):
            text = pgettext("queue tab", name)
        return self.page.get_by_role("navigation", name=self.tr("Queue")).get_by_role("link", name=text, exact=True)

    def check(self, shot: str | None = None) -> None:
        expect(self.page.locator("html")).to_have_attribute("lang", self.tag)
        no_english(self.page, self.tag, [*typed_content(self.app), *self.written_in_english])
        if shot:
            self.page.screenshot(path=str(self.tmp_path / f"{shot}-{self.tag}.png"), full_page=True)

    def item(self, key: ChecklistItem):
        return self.page.locator(f"#item-{key.value}")

    def answer(self, key: ChecklistItem, result: ChecklistResult, comment: str) -> None:
        block = self.item(key)
        block.get_by_label(self.label(result), exact=True).check()
        block.get_by_label(self.tr("Comment for the seller"), exact=True).fill(comment)

    def decide(self, decision: Decision, comment: str = "") -> int:
        section = self.page.locator("#decision")
        section.get_by_label(self.label(decision), exact=True).check()
        section.get_by_label(self.tr("Comment to the seller"), exact=True).fill(comment)
        with self.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/decision")) as sent:
            self.page.get_by_role("button", name=self.tr("Submit decision")).click()
        return sent.value.status


def open_queue_and_claim(reviewer: Reviewing, title: str, filter_label: str, choice) -> None:
    """Log in, open the queue in the reviewer's language, narrow it with one filter (its label and a vocabulary
    member) and claim the case of ``title``."""
    page, tr = reviewer.page, reviewer.tr
    log_in(page, *REVIEWER)
    choose_language(page, reviewer.tag)
    page.locator("header nav").get_by_role("link", name=tr("Review queue")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(tr("Review queue"))
    expect(reviewer.tab("Open")).to_have_attribute("aria-current", "page")
    reviewer.check("review-queue")
    reviewer.tab("Waiting").click()
    expect(page.locator("table tbody tr td:first-child strong")).to_have_text([AQHI, RAIN])
    page.get_by_label(tr(filter_label), exact=True).select_option(label=reviewer.label(choice))
    page.get_by_role("button", name=tr("Filter")).click()
    expect(page.locator("table tbody tr td:first-child strong")).to_have_text([title])
    reviewer.check("review-queue-filtered")

    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('submitted')}")
    expect(page.locator("#checklist")).to_contain_text(tr("Claim this case to answer the checklist and decide."))
    reviewer.check("review-case")
    page.get_by_role("button", name=tr("Claim this case")).click()
    expect(page.locator(".flash-success")).to_have_text(
        tr("You claimed this case: %(title)s v%(label)s is in review.", title=chinese_title(reviewer, title),
           label="1.0"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('in review')}")
    expect(page.get_by_role("button", name=tr("Release to the queue"))).to_be_visible()
    reviewer.check("review-case-claimed")


def seller_reads(seller: Reviewing, status: str, comment: str) -> None:
    """The seller opens the newest notification and lands on the product's review, all in their language."""
    page, tr = seller.page, seller.tr
    page.locator("header nav").get_by_role("link", name=re.compile("^" + re.escape(tr("Notifications")))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("Notifications"))
    note = page.locator("ul.notifications > li").filter(has_text=comment).first
    expect(note).to_contain_text(comment)
    seller.check("seller-notifications")
    note.get_by_role("button", name=tr("Open")).click()
    expect(page).to_have_url(re.compile(r"/seller/products/\d+/versions/1#review$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(status)
    expect(page.locator("#review .review-comment").first).to_contain_text(comment)
    seller.check("seller-decision")


def test_the_reviewer_requests_changes_in_simplified_chinese_and_the_seller_submits_again(
        browsing, demo_server, tmp_path):
    tag, app = "zh-Hans", demo_server.app
    reviewer = Reviewing(browsing.new_page(), app, tag, tmp_path)
    tr, label = reviewer.tr, reviewer.label
    open_queue_and_claim(reviewer, RAIN, "Pre-screen", PrescreenOutcome.REVIEW)
    page = reviewer.page
    expect(reviewer.item(ChecklistItem.SOURCE_LEGALITY).locator(".review-item-head")).to_contain_text(
        label(PrescreenOutcome.REVIEW))

    # Notes on the checklist are saved without deciding.
    failing = "引用了 SODA 天气数据许可，但未附上条款；请上传条款或说明允许转售。"
    reviewer.answer(ChecklistItem.SOURCE_LEGALITY, ChecklistResult.FAIL, failing)
    reviewer.answer(ChecklistItem.QUALITY, ChecklistResult.PASS, "数据字典与两个文件一致，样例具有代表性。")
    page.get_by_role("button", name=tr("Save checklist")).click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(reviewer.item(ChecklistItem.SOURCE_LEGALITY).get_by_label(tr("Comment for the seller"))).to_have_value(
        failing)
    reviewer.check("review-checklist-saved")

    to_seller = "请在天气数据来源中附上 SODA 许可条款，然后重新提交。"
    assert reviewer.decide(Decision.REQUEST_CHANGES, to_seller) == 302
    expect(page.locator(".flash-success")).to_have_text(tr(
        "Changes requested: the seller of %(title)s v%(label)s was told what to fix.",
        title=chinese_title(demo_server, RAIN), label="1.0"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('changes requested')}")
    reviewer.check("review-changes-requested")
    assert version_in_db(demo_server, RAIN) == (VersionStatus.CHANGES_REQUESTED, None)

    # The seller reads Simplified Chinese (a saved preference), opens the decision and submits a new round.
    seller = Reviewing(browsing.new_page(), app, tag, tmp_path)
    log_in(seller.page, *SELLER2)
    seller_reads(seller, tr("changes requested"), to_seller)
    expect(seller.page.locator("#review .review-finding-fail")).to_contain_text([failing])
    submit = seller.page.locator("#submit")
    submit.get_by_label(tr("Note for the reviewer"), exact=True).fill("已在天气数据来源中附上 SODA 许可条款。")
    submit.get_by_role("button", name=tr("Submit v%(label)s for review", label="1.0")).click()
    expect(seller.page.locator(".flash-success")).to_be_visible()
    expect(seller.page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('submitted')}")
    expect(seller.page.locator("#review")).to_contain_text(tr("Round %(number)s", number=2))
    seller.check("seller-new-round")
    assert version_in_db(demo_server, RAIN)[0] == VersionStatus.SUBMITTED
    assert browsing.server_errors == []


def test_the_reviewer_approves_in_traditional_chinese_and_the_seller_sees_it_listed(browsing, demo_server, tmp_path):
    tag, app = "zh-Hant-HK", demo_server.app
    # The seller chooses Traditional Chinese first: the decision reaches them in it.
    seller = Reviewing(browsing.new_page(), app, tag, tmp_path)
    log_in(seller.page, *SELLER4)
    seller.written_in_english = written_before(app, SELLER4[0])
    seller.page.get_by_role("button", name=LOCALE_NAMES[tag]).click()
    expect(seller.page.locator("html")).to_have_attribute("lang", tag)

    reviewer = Reviewing(browsing.new_page(), app, tag, tmp_path)
    tr, label = reviewer.tr, reviewer.label
    open_queue_and_claim(reviewer, AQHI, "Category", Category.HEALTH)
    page = reviewer.page
    for item in ChecklistItem:
        expect(reviewer.item(item).locator(".review-item-head .badge")).to_contain_text(label(PrescreenOutcome.PASS))

    # Approving with the quality item unanswered is refused beside it; what was typed is kept.
    with app.test_request_context("/"), force_locale(BABEL_IDS[tag]):
        comments = {item: f"已人手核對：{item.label}。" for item in ChecklistItem}
    for item in list(ChecklistItem)[:-1]:
        reviewer.answer(item, ChecklistResult.PASS, comments[item])
    assert reviewer.decide(Decision.APPROVE, "已掛牌：對戶外工作團隊有用的數據。") == 422
    expect(page.get_by_role("alert").filter(has_text=tr("This version cannot be approved yet."))).to_be_visible()
    quality = reviewer.item(ChecklistItem.QUALITY)
    expect(quality.locator(".field-error")).to_have_text(tr("Answer this item before approving."))
    reviewer.check("review-refused")

    reviewer.answer(ChecklistItem.QUALITY, ChecklistResult.PASS, comments[ChecklistItem.QUALITY])
    assert reviewer.decide(Decision.APPROVE, "已掛牌：對戶外工作團隊有用的數據。") == 302
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('listed')}")
    expect(page.locator("#checklist")).to_contain_text(tr("This round is decided; the checklist is read-only."))
    reviewer.check("review-approved")
    status, registration = version_in_db(demo_server, AQHI)
    assert status == VersionStatus.LISTED and registration

    seller.page.reload()
    seller_reads(seller, tr("listed"), "已掛牌：對戶外工作團隊有用的數據。")
    expect(seller.page.locator("#review")).to_contain_text(registration)
    assert browsing.server_errors == []


def test_the_reviewer_rejects_the_case_already_claimed_in_traditional_chinese(browsing, demo_server, tmp_path):
    tag = "zh-Hant-HK"
    reviewer = Reviewing(browsing.new_page(), demo_server.app, tag, tmp_path)
    page, tr, label = reviewer.page, reviewer.tr, reviewer.label
    log_in(page, *REVIEWER)
    choose_language(page, tag)
    page.locator("header nav").get_by_role("link", name=tr("Review queue")).click()
    reviewer.tab("Mine").click()
    expect(page.locator("table tbody tr td:first-child strong")).to_have_text([HKO])
    reviewer.check("review-mine")
    page.get_by_role("link", name=HKO).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('in review')}")

    failing = "存檔只重複天文台免費開放數據 API 的回應，沒有增值。"
    reviewer.answer(ChecklistItem.QUALITY, ChecklistResult.FAIL, failing)
    # A rejection without a reason is refused beside the decision comment.
    assert reviewer.decide(Decision.REJECT) == 422
    expect(page.locator("#decision .field-error")).to_have_text(tr("A comment for the seller is required."))
    expect(reviewer.item(ChecklistItem.QUALITY).get_by_label(label(ChecklistResult.FAIL), exact=True)).to_be_checked()
    reviewer.check("review-reject-refused")

    reason = "不予掛牌：交易所只掛牌有增值的數據產品，請引導買方使用天文台開放 API。"
    assert reviewer.decide(Decision.REJECT, reason) == 302
    expect(page.locator(".flash-success")).to_have_text(
        tr("Rejected: the seller of %(title)s v%(label)s was told why.", title=chinese_title(demo_server, HKO),
           label="1.0"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('rejected')}")
    expect(page.locator("#checklist .review-decision")).to_contain_text(reason)
    reviewer.check("review-rejected")
    assert version_in_db(demo_server, HKO) == (VersionStatus.REJECTED, None)
    assert browsing.server_errors == []
