"""End to end in a real browser: the demo reviewer works the queue, approves, requests changes and rejects.

The app runs in a LiveServer of its own (SQLite file, CSRF on) with the demo catalog loaded, which leaves two
submitted cases on the queue and one already claimed by reviewer@demo.exchange. Headless Chromium drives the
reviewer's pages by the labels and button names a person sees; the seller who was asked for changes and the
admin who checks the audit chain log in in their own browser contexts.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.listings.models import ProductVersion
from marketplace.listings.states import VersionStatus
from marketplace.notifications.services import unread_count
from tests.functional.conftest import log_in
from tests.support.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

REVIEWER = ("reviewer@demo.exchange", "demo-reviewer-pass")
SELLER2 = ("seller2@demo.exchange", "demo-seller2-pass")  # Huangpu Environmental Data Studio
ADMIN = ("admin@demo.exchange", "demo-admin-pass")

# The demo catalog's review states (marketplace/demo_catalog.py, "review": "queue" / "claimed").
AQHI = "AQHI Health-Risk Alerts for Outdoor Workforce"  # queue, category health, pre-screen pass
RAIN = "Rain Washout of PM2.5 in Shanghai"  # queue, category environment, pre-screen review (Huangpu)
HKO = "HKO Current Weather Report, Archived API Responses"  # claimed by the demo reviewer

ITEMS = ("source_legality", "personal_information", "classification", "cross_border", "licence_terms", "quality")
SCREENSHOTS = "/tmp"


# ---------------------------------------------------------------- helpers


def flash(page: Page):
    return page.locator(".flash-success")


def open_queue(page: Page) -> None:
    page.locator("header nav").get_by_role("link", name="Review queue").click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review queue")


def tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Queue").get_by_role("link", name=name, exact=True)


def queue_rows(page: Page):
    return page.locator("table tbody tr")


def queue_titles(page: Page):
    return page.locator("table tbody tr td:first-child strong")


def item(page: Page, key: str):
    return page.locator(f"#item-{key}")


def answer(page: Page, key: str, result: str, comment: str) -> None:
    """One checklist item: the Pass / Fail / Not applicable radio and the comment for the seller."""
    block = item(page, key)
    block.get_by_label(result, exact=True).check()
    block.get_by_label("Comment for the seller").fill(comment)


def decide(page: Page, decision: str, comment: str) -> None:
    section = page.locator("#decision")
    section.get_by_label(decision, exact=True).check()
    section.get_by_label("Comment to the seller").fill(comment)


def submit_decision(page: Page) -> int:
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/decision")) as sent:
        page.get_by_role("button", name="Submit decision").click()
    return sent.value.status


def open_case(page: Page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"/review/cases/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)


def claim(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · submitted")
    expect(page.locator("#checklist")).to_contain_text("Claim this case to answer the checklist and decide.")
    expect(page.get_by_role("button", name="Submit decision")).to_have_count(0)
    page.get_by_role("button", name="Claim this case").click()
    expect(flash(page)).to_have_text(f"You claimed this case: {title} v1.0 is in review.")
    expect(page).to_have_url(re.compile(r"#checklist$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · in review")
    expect(page.get_by_role("button", name="Claim this case")).to_have_count(0)
    expect(page.get_by_role("button", name="Release to the queue")).to_be_visible()
    expect(page.locator(".page-header")).to_contain_text("reviewer Grace Li (you)")


def version_in_db(server: LiveServer, title: str) -> tuple[VersionStatus, str | None]:
    with server.app.app_context():
        version = db.session.scalars(select(ProductVersion).where(ProductVersion.title_en == title)).one()
        found = (version.status, version.registration_number)
        db.session.remove()
    return found


def chinese_title(server, title: str) -> str:
    """A demo version's Chinese title (what a reader of Chinese sees first), by its English one."""
    with server.app.app_context():
        found = db.session.scalars(select(ProductVersion.title_zh).where(ProductVersion.title_en == title)).first()
        db.session.remove()
    return found or title


# ---------------------------------------------------------------- the journey


def test_reviewer_filters_the_queue_and_approves_a_case(browsing, demo_server):
    page = browsing.new_page()
    log_in(page, *REVIEWER)
    open_queue(page)

    # The Open tab: every submitted or claimed case, oldest submission first.
    expect(tab(page, "Open")).to_have_attribute("aria-current", "page")
    expect(queue_titles(page)).to_have_text([HKO, AQHI, RAIN])
    # Waiting: the two submitted cases nobody claimed, oldest first, each with its pre-screen badge.
    tab(page, "Waiting").click()
    expect(tab(page, "Waiting")).to_have_attribute("aria-current", "page")
    expect(page.locator("h1 .count")).to_have_text("2")
    expect(queue_titles(page)).to_have_text([AQHI, RAIN])
    aqhi_row, rain_row = queue_rows(page).nth(0), queue_rows(page).nth(1)
    expect(aqhi_row.locator(".badge-prescreen-pass")).to_have_text("✓ pass")
    expect(aqhi_row).to_contain_text(re.compile(r"\d+ pass"))
    expect(rain_row.locator(".badge-prescreen-review")).to_have_text("? review")
    expect(rain_row).to_contain_text(re.compile(r"\d+ review, \d+ pass"))
    expect(aqhi_row).to_contain_text("Kowloon Climate Risk Lab")
    expect(rain_row).to_contain_text("Huangpu Environmental Data Studio")
    page.screenshot(path=f"{SCREENSHOTS}/review-queue.png", full_page=True)

    # Filters narrow the list (staying on the tab) and Clear brings everything back.
    page.get_by_label("Category").select_option(label="Health")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"category=health"))
    expect(queue_titles(page)).to_have_text([AQHI])
    expect(tab(page, "Waiting")).to_have_attribute("aria-current", "page")
    page.get_by_label("Category").select_option(label="Any category")
    page.get_by_label("Pre-screen").select_option(label="Review")
    page.get_by_role("button", name="Filter").click()
    expect(queue_titles(page)).to_have_text([RAIN])
    page.get_by_label("Pre-screen").select_option(label="Fail")
    page.get_by_role("button", name="Filter").click()
    expect(queue_rows(page)).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("Nothing is waiting for review with these filters.")
    page.get_by_role("link", name="Clear", exact=True).click()
    expect(page.get_by_label("Pre-screen")).to_have_value("")
    expect(page.get_by_label("Category")).to_have_value("")
    expect(queue_titles(page)).to_have_text([AQHI, RAIN])

    # The case: claim it, and the automated findings stand beside each checklist item.
    open_case(page, AQHI)
    claim(page, AQHI)
    for key in ITEMS:
        expect(item(page, key).locator(".review-item-head .badge")).to_have_text("✓ pass")
    expect(item(page, "source_legality").locator(".review-finding").first).to_contain_text(
        "2 upstream source(s) cited.")
    expect(item(page, "personal_information").locator(".review-finding")).to_contain_text(
        ["no personal information found"])
    expect(item(page, "classification").locator(".review-finding")).to_contain_text(["Declared general data."])
    page.screenshot(path=f"{SCREENSHOTS}/review-case-claimed.png", full_page=True)

    # Approve with the quality item unanswered: refused, the error beside that item, everything typed kept.
    comments = {key: f"Checked {key.replace('_', ' ')} by hand against the files and sources." for key in ITEMS}
    for key in ITEMS[:-1]:
        answer(page, key, "Pass", comments[key])
    decide(page, "Approve", "Listed: a useful duty-of-care feed.")
    assert submit_decision(page) == 422
    alert = page.get_by_role("alert").filter(has_text="This version cannot be approved yet.")
    expect(alert).to_contain_text("Quality: Answer this item before approving.")
    quality = item(page, "quality")
    expect(quality).to_have_class(re.compile(r"\bhas-error\b"))
    expect(quality.locator(".field-error")).to_have_text("Answer this item before approving.")
    expect(quality.get_by_label("Comment for the seller")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".review-item.has-error")).to_have_count(1)
    for key in ITEMS[:-1]:
        expect(item(page, key).get_by_label("Pass", exact=True)).to_be_checked()
        expect(item(page, key).get_by_label("Comment for the seller")).to_have_value(comments[key])
    expect(page.locator("#decision").get_by_label("Approve", exact=True)).to_be_checked()
    expect(page.locator("#decision").get_by_label("Comment to the seller")).to_have_value(
        "Listed: a useful duty-of-care feed.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · in review")  # nothing was decided
    page.screenshot(path=f"{SCREENSHOTS}/review-case-refused.png", full_page=True)

    # Every item answered: approved and listed under a registration number.
    answer(page, "quality", "Pass", comments["quality"])
    assert submit_decision(page) == 302
    expect(flash(page)).to_contain_text(f"Approved: {AQHI} v1.0 is listed under registration number REG-")
    registration = re.search(r"REG-\d{4}-\d{6}", flash(page).inner_text()).group(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · listed")
    expect(page.locator(".review-registration")).to_contain_text(f"Registration number {registration}")
    expect(page.locator("#checklist")).to_contain_text("This round is decided; the checklist is read-only.")
    expect(page.locator("#checklist .review-decision")).to_contain_text("Listed: a useful duty-of-care feed.")
    expect(page.locator("#history .review-round").first).to_contain_text(comments["quality"])
    expect(page.get_by_role("button", name="Release to the queue")).to_have_count(0)

    assert version_in_db(demo_server, AQHI) == (VersionStatus.LISTED, registration)
    assert browsing.server_errors == []


def test_reviewer_requests_changes_and_the_seller_reads_them(browsing, demo_server):
    page = browsing.new_page()
    log_in(page, *REVIEWER)
    open_queue(page)
    open_case(page, RAIN)
    claim(page, RAIN)
    expect(item(page, "source_legality").locator(".review-item-head .badge")).to_have_text("? review")

    failing = ("The SODA weather licence is cited but not attached; upload its terms or show that resale "
               "is allowed.")
    to_seller = "Attach the SODA licence terms to the weather source, then submit again."
    answer(page, "source_legality", "Fail", failing)
    answer(page, "quality", "Pass", "Dictionary matches both files; sample is representative.")
    decide(page, "Request changes", to_seller)
    assert submit_decision(page) == 302
    expect(flash(page)).to_have_text(f"Changes requested: the seller of {RAIN} v1.0 was told what to fix.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · changes requested")
    expect(page.locator("#checklist .review-decision")).to_contain_text(to_seller)
    expect(item(page, "source_legality")).to_contain_text(failing)
    assert version_in_db(demo_server, RAIN) == (VersionStatus.CHANGES_REQUESTED, None)

    # The seller, in a browser of their own: a notification count in the nav, and the comments in the workspace.
    with demo_server.app.app_context():
        unread = unread_count(db.session, db.session.scalars(select(User).where(User.email == SELLER2[0])).one())
        db.session.remove()
    assert unread >= 1
    seller = browsing.new_page()
    log_in(seller, *SELLER2)
    # This seller reads Simplified Chinese (their saved preference): the journey goes on in their language.
    notifications = seller.locator("header nav").get_by_role("link", name=re.compile(r"^通知"))
    expect(notifications.locator(".count")).to_have_text(str(unread))
    notifications.click()
    note = seller.locator("ul.notifications > li").filter(has_text="需修改：").filter(has_text=to_seller)
    expect(note).to_have_count(1)
    expect(note).to_contain_text(to_seller)
    note.get_by_role("button", name="打开").click()
    expect(seller).to_have_url(re.compile(r"/seller/products/\d+/versions/1#review$"))
    expect(seller.get_by_role("heading", level=1)).to_contain_text(chinese_title(demo_server, RAIN))  # zh-Hans
    expect(seller.get_by_role("heading", level=1)).to_contain_text("需修改")  # this seller reads Simplified Chinese
    review = seller.locator("#review")
    expect(review.locator(".review-comment")).to_contain_text([to_seller])
    expect(review.locator(".review-finding-fail")).to_contain_text([f"来源合法性： {failing}"])
    # Opening the notification marked it read.
    if unread > 1:
        expect(seller.locator("header nav .count")).to_have_text(str(unread - 1))
    else:
        expect(seller.locator("header nav .count")).to_have_count(0)
    assert browsing.server_errors == []


def test_reviewer_rejects_the_case_already_claimed(browsing, demo_server):
    page = browsing.new_page()
    log_in(page, *REVIEWER)
    open_queue(page)
    tab(page, "Mine").click()
    expect(queue_titles(page)).to_have_text([HKO])
    expect(queue_rows(page).first).to_contain_text("Grace Li (you)")
    open_case(page, HKO)
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · in review")
    expect(page.get_by_role("button", name="Claim this case")).to_have_count(0)

    failing = "The archive repeats the free HKO open-data API responses unchanged; nothing is added."
    answer(page, "quality", "Fail", failing)
    # A rejection without a reason is refused, beside the decision comment.
    page.locator("#decision").get_by_label("Reject", exact=True).check()
    assert submit_decision(page) == 422
    expect(page.locator("#decision .field-error")).to_have_text("A comment for the seller is required.")
    expect(item(page, "quality").get_by_label("Comment for the seller")).to_have_value(failing)
    expect(item(page, "quality").get_by_label("Fail", exact=True)).to_be_checked()

    reason = "Rejected: the exchange lists value-added products; point buyers to the open HKO API instead."
    decide(page, "Reject", reason)
    assert submit_decision(page) == 302
    expect(flash(page)).to_have_text(f"Rejected: the seller of {HKO} v1.0 was told why.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · rejected")
    expect(page.locator("#checklist .review-decision")).to_contain_text(reason)
    assert version_in_db(demo_server, HKO) == (VersionStatus.REJECTED, None)
    assert browsing.server_errors == []


def test_admin_sees_the_audit_chain_intact(browsing):
    page = browsing.new_page()
    log_in(page, *ADMIN)
    page.locator("header nav").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(re.compile(r"/admin/audit"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    expect(page.locator(".audit-verdict")).to_contain_text(re.compile(r"Chain intact: [\d,]+ events verified\."))
    assert browsing.server_errors == []
