"""Each role's main pages pass axe-core with no serious or critical violation, in English and in Traditional
Chinese (Hong Kong); the skip link is the first thing the Tab key reaches and takes focus to the page's main
content; keyboard focus shows on the dark top bar.

The demo catalog is loaded into the module's own live server; every page is checked as it first shows.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.i18n import LOCALE_NAMES
from tests.functional.axe import describe, violations
from tests.functional.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

LOCALES = ["en", "zh-Hant-HK"]
ACCOUNTS = {
    "buyer": ("buyer@demo.exchange", "demo-buyer-pass"),
    "seller": ("seller@demo.exchange", "demo-seller-pass"),
    "reviewer": ("reviewer@demo.exchange", "demo-reviewer-pass"),
    "admin": ("admin@demo.exchange", "demo-admin-pass"),
}


def _places(app) -> dict[str, str]:
    """Paths of the pages that need an object of the demo catalog: a product, a licence, an order waiting at the
    simulated checkout, a seller's product in the editor and sales, a review case."""
    from marketplace.accounts.models import Organization, User
    from marketplace.licensing.models import Licence
    from marketplace.listings.models import DataProduct, PricingPlan
    from marketplace.listings.states import ProductStatus
    from marketplace.listings.vocab import PlanKind
    from marketplace.orders import services as orders
    from marketplace.orders.models import Order
    from marketplace.review.models import ReviewCase

    with app.app_context():
        session = db.session
        buyer = session.scalar(select(User).where(User.email == ACCOUNTS["buyer"][0]))
        buyer_org = buyer.memberships[0].organization
        ordered = set(session.scalars(select(Order.plan_id)))
        plan = next(p for p in session.scalars(
            select(PricingPlan).join(DataProduct, DataProduct.listed_version_id == PricingPlan.version_id)
            .where(DataProduct.status == ProductStatus.LISTED, PricingPlan.kind == PlanKind.ONE_TIME,
                   PricingPlan.requires_approval.is_(False), PricingPlan.licence_cap.is_(None))
            .order_by(PricingPlan.id)) if p.id not in ordered)
        from marketplace.demo import _fitting_scenario

        order = orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer_org.id, accept_terms=True, idempotency_key="axe-checkout",
            scenario=_fitting_scenario(plan, "Weekly planning of delivery routes for our freight team.")))
        session.commit()
        seller_org = session.scalar(select(Organization).where(Organization.slug.like("harbourline%")))
        changes = session.scalars(select(DataProduct).where(DataProduct.organization_id == seller_org.id)).all()
        edited = next(p for p in changes if p.latest_version.status.value == "changes_requested")
        # The product page with the biggest preview: the listed product whose sample is the largest.
        listed = session.scalars(select(DataProduct).where(DataProduct.status == ProductStatus.LISTED)).all()
        biggest = max(listed, key=lambda p: max((a.size for a in p.listed_version.assets if a.kind == "sample"),
                                                default=0))
        places = {
            "product": f"/products/{biggest.slug}",
            "licence": f"/licences/{session.scalars(select(Licence.id).order_by(Licence.id)).first()}",
            "checkout": f"/orders/{order.id}/checkout",
            "editor": f"/seller/products/{edited.id}/versions/{edited.latest_version.number}",
            "sales": f"/seller/{seller_org.slug}/sales",
            "case": f"/review/cases/{session.scalars(select(ReviewCase.id).order_by(ReviewCase.id.desc())).first()}",
            "webhooks": f"/organizations/{buyer_org.id}/webhooks",
        }
        db.session.remove()
        return places


@pytest.fixture(scope="module")
def places(demo_server):
    return _places(demo_server.app)


def _pages(role: str, places: dict[str, str]) -> list[str]:
    return {
        "visitor": ["/catalog", places["product"], "/login", "/signup"],
        "buyer": ["/licences", places["licence"], places["checkout"], "/notifications/", places["webhooks"]],
        "seller": ["/seller/", places["editor"], places["sales"]],
        "reviewer": ["/review/", places["case"]],
        "admin": ["/admin/audit", "/admin/jobs", "/admin/payments/anomalies"],
    }[role]


def _speak(page, tag: str) -> None:
    """Switch the page's language with the switcher (saved to a signed-in user's account)."""
    if page.locator("html").get_attribute("lang") != tag:
        page.get_by_role("button", name=LOCALE_NAMES[tag]).click()
    expect(page.locator("html")).to_have_attribute("lang", tag)


@pytest.mark.parametrize("tag", LOCALES)
@pytest.mark.parametrize("role", ["visitor", "buyer", "seller", "reviewer", "admin"])
def test_the_main_pages_of_each_role_have_no_serious_accessibility_violation(browsing, places, role, tag):
    page = browsing.new_page()
    if role == "visitor":
        page.goto("/catalog")
    else:
        log_in(page, *ACCOUNTS[role])
    _speak(page, tag)
    found = {}
    for path in _pages(role, places):
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", tag)
        if problems := violations(page):
            found[path] = describe(problems)
    assert not found, "\n\n".join(f"{path}:\n{report}" for path, report in found.items())
    assert browsing.server_errors == []


def test_the_skip_link_comes_first_and_moves_focus_to_the_main_content(browsing, places):
    page = browsing.new_page()
    page.goto(places["product"])
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_visible()  # shown while it has focus, out of sight otherwise
    page.keyboard.press("Enter")
    expect(page.locator("main > #main-content")).to_be_focused()  # the start of the main content
    page.keyboard.press("Tab")  # the next stop is inside the main content, not back in the top bar
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_the_skip_link_is_translated(browsing):
    page = browsing.new_page()
    page.goto("/catalog")
    _speak(page, "zh-Hant-HK")
    skip = page.locator("a.skip-link")
    expect(skip).to_have_attribute("href", "#main-content")
    assert re.search(r"[\u4e00-\u9fff]", skip.inner_text())


def test_keyboard_focus_shows_on_the_dark_top_bar(browsing):
    page = browsing.new_page()
    page.goto("/catalog")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the skip link: the brand, on the dark bar
    outline = page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return {inBar: !!document.activeElement.closest('.topbar'), width: parseFloat(style.outlineWidth),
                style: style.outlineStyle, color: style.outlineColor};
    }""")
    assert outline["inBar"] and outline["style"] != "none" and outline["width"] >= 2, outline
