"""The seller's sales page draws revenue over the last twelve months in a real browser: an SVG named by its title and
described in words, one bar for each month with sales and none for the months without, on a wide screen and on a
phone (no sideways scrolling). Screenshots go to test-artifacts/<test name>/."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_skeleton
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import Membership, User
from marketplace.demo_catalog import ACCOUNTS
from marketplace.extensions import db
from marketplace.ledger.models import LedgerTransaction
from marketplace.orders.models import Order
from tests.functional.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

PHONE = {"width": 390, "height": 844}
MONTHS = 12


@pytest.fixture(scope="module")
def sales(demo_server) -> dict:
    """The demo's paid order moved two months back (mid-month, clear of any time zone's edge): its seller's e-mail,
    password and sales page, and the month label its bar must carry."""
    with demo_server.app.app_context():
        session = db.session
        order = session.scalars(select(Order).where(Order.paid_at.is_not(None)).order_by(Order.id)).first()
        now = datetime.now(UTC)
        first_of_month = now.replace(day=15, hour=12, minute=0, second=0, microsecond=0)
        paid = (first_of_month - timedelta(days=60)).replace(day=15)
        order.paid_at = order.created_at = paid
        for entry in session.scalars(select(LedgerTransaction).where(LedgerTransaction.order_id == order.id)):
            entry.occurred_at = paid  # the chart reads the ledger: its sale moves with the order
        owner = session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.organization_id == order.seller_organization_id)
                                .order_by(Membership.id)).first()
        found = {"email": owner.email, "password": next(a["password"] for a in ACCOUNTS if a["email"] == owner.email),
                 "url": f"/seller/{order.seller_organization.slug}/sales",
                 "month": format_skeleton("yMMM", paid.date(), locale="en"), "order": order.id,
                 "title": order.version.title_en}
        session.commit()
        db.session.remove()
    return found


def _bars(page) -> list[tuple[str, float]]:
    """Each bar of the revenue chart: its tooltip and its drawn height."""
    return page.locator(".sales-chart svg rect.chart-bar").evaluate_all(
        "bars => bars.map(b => [b.querySelector('title').textContent, b.getBoundingClientRect().height])")


@pytest.mark.parametrize("screen", ["wide", "phone"])
def test_the_sales_page_draws_a_bar_for_each_month_with_sales(browsing, sales, artifacts, screen):
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if screen == "phone" else {
        "viewport": {"width": 1280, "height": 900}}
    page = browsing.new_page(**options)
    log_in(page, sales["email"], sales["password"])
    page.goto(sales["url"])

    chart = page.locator(".sales-chart svg.chart-timeline")
    expect(chart).to_have_count(1)
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    expect(chart.locator("title").first).to_have_text(re.compile(r"^Revenue per month in [A-Z]{3}$"))
    labelled = chart.get_attribute("aria-labelledby").split()
    assert len(labelled) == 2 and all(page.locator(f"#{i}").count() == 1 for i in labelled)
    expect(chart.locator("desc")).to_contain_text(f"{sales['month']}:")

    bars = _bars(page)
    assert len(bars) == MONTHS
    drawn = [title for title, height in bars if height > 0]
    assert len(drawn) == 1 and drawn[0].startswith(f"{sales['month']}:"), bars
    assert bars[MONTHS - 3][0] == drawn[0]  # two months back: the tenth of twelve, oldest first

    # The orders under it name the product by its title.
    expect(page.locator(f"#order-{sales['order']}")).to_contain_text(sales["title"])

    # The months under the axis are all readable: the first and the last labelled, no two labels overlapping.
    labels = chart.locator("text.chart-label").evaluate_all(
        "ts => ts.map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.right]; })")
    assert labels[-1][0] == format_skeleton("yMMM", datetime.now(UTC).date(), locale="en") and len(labels) >= 4
    assert all(left[2] < right[1] for left, right in zip(labels, labels[1:], strict=False)), labels

    box = chart.bounding_box()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # nothing scrolls sideways
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width[1] and box["height"] > 20
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"sales-{screen}.png"), full_page=True)
    page.locator(".sales-chart").screenshot(path=str(artifacts / f"sales-chart-{screen}.png"))
    assert browsing.server_errors == []
