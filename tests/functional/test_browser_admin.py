"""End to end in a real browser: the reviewer's case opens on what matters (findings, the sample, the checklist),
and the admin suspends, reinstates and delists a product from the products page, then finds each move on the
audit page by actor and by product. Screenshots go to test-artifacts/<test name>/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.listings.models import DataProduct
from marketplace.listings.states import ProductStatus
from tests.functional.conftest import log_in
from tests.functional.test_browser_reviewer import ADMIN, AQHI, RAIN, REVIEWER, open_case, open_queue

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

FIRST_SCREEN = {"width": 1280, "height": 900}


def top_of(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


def a_listed_product(server) -> tuple[int, str, str]:
    """A listed demo product: its id, slug and English title."""
    with server.app.app_context():
        product = db.session.scalars(select(DataProduct).where(DataProduct.status == ProductStatus.LISTED)
                                     .order_by(DataProduct.id)).first()
        found = (product.id, product.slug, product.listed_version.title_en)
        db.session.remove()
    return found


def status_in_db(server, product_id: int) -> ProductStatus:
    with server.app.app_context():
        status = db.session.get(DataProduct, product_id).status
        db.session.remove()
    return status


@pytest.mark.parametrize("title", [AQHI, RAIN])  # a clean pre-screen; one with findings to review
def test_the_reviewer_sees_findings_sample_and_checklist_on_the_first_screen(browsing, artifacts, title):
    page = browsing.new_page(viewport=FIRST_SCREEN)
    log_in(page, *REVIEWER)
    open_queue(page)
    open_case(page, title)
    page.screenshot(path=artifacts / "case-first-screen.png")
    page.screenshot(path=artifacts / "case-whole.png", full_page=True)

    summary = page.locator("#findings")
    expect(summary).to_contain_text("blocking")
    expect(summary).to_contain_text("Source legality")
    expect(page.locator("#preview")).to_contain_text("Preview of the sample")
    expect(page.locator("#preview table.product-preview tbody tr").first).to_be_visible()
    expect(page.locator("#checklist")).to_contain_text("Claim this case to answer the checklist and decide.")
    for selector in ("#findings", "#preview", "#checklist"):
        assert top_of(page, selector) < FIRST_SCREEN["height"], selector

    # A finding's count leads to its item in the checklist.
    summary.locator(".review-summary-item a").first.click()
    expect(page).to_have_url(re.compile(r"#item-[a-z_]+$"))
    assert browsing.server_errors == []


def test_the_admin_suspends_reinstates_and_delists_then_finds_it_in_the_audit(browsing, demo_server, artifacts):
    product_id, slug, title = a_listed_product(demo_server)
    page = browsing.new_page(viewport=FIRST_SCREEN)
    log_in(page, *ADMIN)
    page.goto("/admin/products")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Products")
    page.get_by_label("Title or slug contains").fill(title)
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f"#product-{product_id}")
    expect(row).to_contain_text("listed")
    page.screenshot(path=artifacts / "products.png", full_page=True)

    def move(action: str, reason: str) -> None:
        row.get_by_role("link", name=action, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"{action}: {title}")
        page.get_by_label("Reason").fill(reason)
        page.get_by_role("button", name=action, exact=True).click()

    move("Suspend", "A buyer reports the sample names real people; hidden while we check.")
    expect(page.locator(".flash-success")).to_contain_text(f"Suspended {title}")
    expect(row.locator(".badge")).to_have_text("suspended")
    expect(page.get_by_label("Title or slug contains")).to_have_value(title)  # the filter kept
    move("Reinstate", "Checked: the names are public officers' titles.")
    expect(row.locator(".badge")).to_have_text("listed")

    # Delisting is final: refused until the admin ticks that they understand, with the reason kept.
    row.get_by_role("link", name="Delist", exact=True).click()
    expect(page.locator(".admin-final")).to_contain_text("Delisting is final.")
    page.get_by_label("Reason").fill("The upstream source was withdrawn by its publisher.")
    page.get_by_role("button", name="Delist", exact=True).click()
    expect(page.locator(".field-error")).to_contain_text("Tick this box to confirm")
    expect(page.get_by_label("Reason")).to_have_value("The upstream source was withdrawn by its publisher.")
    assert status_in_db(demo_server, product_id) == ProductStatus.LISTED
    page.screenshot(path=artifacts / "delist-confirm.png", full_page=True)
    page.get_by_label("I understand that delisting is final").check()
    page.get_by_role("button", name="Delist", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(f"Delisted {title}")
    expect(row.locator(".badge")).to_have_text("delisted")
    expect(row.get_by_role("link", name="Suspend")).to_have_count(0)
    assert status_in_db(demo_server, product_id) == ProductStatus.DELISTED
    page.screenshot(path=artifacts / "delisted.png", full_page=True)

    # The product's own status page says delisted, not listed.
    row.get_by_role("link", name=title).click()
    expect(page.locator("#versions .badge")).not_to_have_text(["listed"])
    expect(page.locator("#status")).to_contain_text("delisted")

    page.goto("/admin/audit")
    page.get_by_label("Actor (name or e-mail)").fill("Platform Admin")
    page.get_by_label("Product (slug or number)").fill(slug)
    page.get_by_role("button", name="Filter").click()
    events = page.locator("table.audit-events tbody tr")
    expect(events).to_have_count(3)
    # Each action in words, its code kept in the link's title, and the reason the admin gave under it.
    actions = events.locator("td.audit-action > a")
    expect(actions).to_have_text(["Product delisted", "Product reinstated", "Product suspended"])
    expect(actions.first).to_have_attribute("title", "product.delist")
    expect(events.first.locator(".audit-note")).to_have_count(1)
    expect(events.first.locator(".audit-actor")).to_have_text("Platform Admin")
    expect(events.first.locator(".audit-object")).to_contain_text(title)
    page.screenshot(path=artifacts / "audit.png", full_page=True)
    events.first.locator(".audit-object").get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(rf"/review/products/{product_id}$"))
    assert browsing.server_errors == []
