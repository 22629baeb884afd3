"""The seller's editor in a real browser for a seller who types what they like: the licence search never chooses
for them, and no step scrolls sideways on a phone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from tests.functional.conftest import SELLER_EMAIL
from tests.functional.test_browser_seller import form, log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


@pytest.fixture(scope="module")
def draft_url(live_server):
    from marketplace.accounts.models import User
    from marketplace.listings.services import create_product

    with live_server.app.app_context():
        seller = db.session.scalars(select(User).where(User.email == SELLER_EMAIL)).one()
        product = create_product(db.session, seller, seller.memberships[0].organization,
                                 {"title_en": "Typed by hand"})
        db.session.commit()
        url = f"/seller/products/{product.id}/versions/1"
        db.session.remove()
    return url


def chosen(page: Page) -> str:
    return page.get_by_label("Licence", exact=True).input_value()


def test_the_licence_search_never_chooses_for_the_seller(page: Page, live_server, draft_url):
    log_in(page)
    page.goto(draft_url + "/sources")
    search = page.get_by_label("Search all licences")
    assert chosen(page) == ""
    for query in ("MIT", "gpl", "xyzzy"):
        search.fill(query)
        assert chosen(page) == "", query
    expect(page.locator(".licence-filter-none")).to_have_text("No licence matches this search.")

    source = form(page, "/sources")
    source.get_by_label("Dataset title").fill("Road network")
    source.get_by_label("Dataset URL").fill("https://data.gov.hk/en-data/dataset/road-network")
    source.get_by_role("button", name="Add source").click()
    expect(page.locator("#add-source")).to_contain_text("Choose a licence")
    expect(form(page, "/sources").get_by_label("Dataset title")).to_have_value("Road network")
    expect(page.locator("#sources table")).to_have_count(0)

    # A licence the seller picks from the search's matches is the one saved.
    page.get_by_label("Search all licences").fill("MIT")
    page.get_by_label("Licence", exact=True).select_option("MIT")
    form(page, "/sources").get_by_role("button", name="Add source").click()
    expect(page.locator("#sources table")).to_contain_text("MIT")


@pytest.mark.parametrize("suffix", ["/details", "/sources", "/files", "/dictionary", "/plans", "/compliance", ""])
def test_no_step_scrolls_sideways_on_a_phone(browser, live_server, draft_url, suffix, tmp_path):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        log_in(page)
        page.goto(draft_url + suffix)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=tmp_path / "step.png", full_page=True)
        assert widths[0] <= widths[1], widths
        current = page.locator(".editor-steps [aria-current=step]")
        box = current.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= widths[1]
        if suffix == "/dictionary":
            region = page.get_by_role("region", name="Data dictionary fields (scrolls sideways)")
            expect(region).to_have_attribute("tabindex", "0")
            name = page.get_by_label("Field name").first
            assert name.bounding_box()["width"] >= 100
    finally:
        context.close()


def test_leaving_an_unsaved_proposal_asks_first_and_reloading_it_posts_nothing(page: Page, live_server, draft_url):
    log_in(page)
    page.goto(draft_url + "/files")
    uploader = form(page, "/assets")
    uploader.get_by_label("Kind").select_option(label="Sample")
    uploader.get_by_label("File").set_input_files(files=[{
        "name": "big.csv", "mimeType": "text/csv", "buffer": b"AID,Latitude\nA1,22.3\nA2,22.4\n"}])
    uploader.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash-success")).to_contain_text("Uploaded big.csv")
    page.goto(draft_url + "/dictionary")
    page.locator("#dictionary").get_by_role("button", name="big.csv (sample").first.click()
    expect(page.get_by_role("status").filter(has_text="Proposed")).to_contain_text("from big.csv")
    assert "proposal=" in page.url  # an address of its own: a reload asks nothing and posts nothing
    page.reload()
    expect(page.get_by_role("status").filter(has_text="Proposed")).to_contain_text("from big.csv")

    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.locator("#dictionary").get_by_label("Field name").first.click()  # the page has been used
    page.get_by_role("link", name="Next: Pricing plans").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"] and "proposal=" in page.url  # stayed
    page.get_by_role("link", name="Next: Pricing plans").click()
    expect(page).to_have_url(re.compile(r"/plans$"))
    assert asked == ["beforeunload", "beforeunload"]
