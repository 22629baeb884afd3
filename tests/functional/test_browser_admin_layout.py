"""The admin's pages laid out at a laptop's 1366x768 and a phone's 390x844: the bar on at most two lines, the audit
page's date fields no wider than a date, the products table's action buttons on one line each. Screenshots go to
test-artifacts/<test name>/."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.functional.conftest import log_in
from tests.functional.test_browser_reviewer import ADMIN

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def line_height(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 24")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_the_admin_pages_fit_the_screen(browsing, artifacts, viewport):
    page = browsing.new_page(viewport=viewport)
    log_in(page, *ADMIN)
    for name, path in (("overview", "/admin/"), ("audit", "/admin/audit"), ("products", "/admin/products"),
                       ("orders", "/admin/orders")):
        page.goto(path)
        page.screenshot(path=artifacts / f"{name}.png")
        page.screenshot(path=artifacts / f"{name}-whole.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} scrolls sideways: {width} px"

    page.goto("/admin/audit")
    since, until = box(page, "#since"), box(page, "#until")
    assert until["width"] <= 320 and since["width"] <= 320, (since, until)
    if viewport is LAPTOP:
        bar = box(page, "header.topbar nav")
        links = box(page, "header.topbar nav a")
        assert bar["height"] <= 2 * links["height"] + 16, f"the bar takes {bar['height']} px"

        page.goto("/admin/products")
        rows = page.locator("table.admin-products tbody tr")
        acting = rows.filter(has=page.locator("td.admin-actions .btn"))
        acting.first.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "products-actions.png")
        for i in range(min(rows.count(), 10)):
            buttons = rows.nth(i).locator("td.admin-actions .btn")
            tops = {round(buttons.nth(j).bounding_box()["y"]) for j in range(buttons.count())}
            assert len(tops) <= 1, f"row {i}'s actions wrap onto {len(tops)} lines"
    assert browsing.server_errors == []
