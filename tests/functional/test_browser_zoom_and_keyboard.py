"""What a keyboard-only and screen-reader user meets beyond axe's rules: at 200% zoom on a laptop (683x384 CSS pixels
at device scale 2) the top bar never covers the page and nothing scrolls sideways; at 320 px wide neither; the role
menu closes on Escape and when focus leaves; a form shown again with its errors moves focus to their summary and
says "Error:" in the title; texts axe cannot judge on a gradient keep their contrast.

Screenshots are kept in test-artifacts/<test name>/.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.extensions import db
from tests.functional.axe import describe, violations
from tests.functional.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BUYER = ("buyer@demo.exchange", "demo-buyer-pass")
SELLER = ("seller@demo.exchange", "demo-seller-pass")
REVIEWER = ("reviewer@demo.exchange", "demo-reviewer-pass")
ADMIN = ("admin@demo.exchange", "demo-admin-pass")
ZOOMED = {"viewport": {"width": 683, "height": 384}, "device_scale_factor": 2}
NARROW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def places(demo_server):
    """Addresses of demo objects: a licence, an order, a review case, a seller's version in the editor."""
    from marketplace.accounts.models import User
    from marketplace.licensing.models import Licence
    from marketplace.listings.models import DataProduct
    from marketplace.review.models import ReviewCase

    with demo_server.app.app_context():
        session = db.session
        org_of = {email: session.scalar(select(User).where(User.email == email)).memberships[0].organization_id
                  for email in (BUYER[0], SELLER[0])}
        # A licence of the demo buyer from the demo seller: both can read its order.
        licence = session.scalars(select(Licence).where(Licence.buyer_organization_id == org_of[BUYER[0]])
                                  .order_by(Licence.seller_organization_id != org_of[SELLER[0]], Licence.id)).first()
        case = session.scalars(select(ReviewCase.id).order_by(ReviewCase.id.desc())).first()
        product = session.scalars(select(DataProduct).where(DataProduct.id == licence.product_id)).one()
        seller_product = session.scalars(select(DataProduct).where(DataProduct.organization_id == org_of[SELLER[0]])
                                         .order_by(DataProduct.id)).first()
        version = seller_product.latest_version
        found = {
            "licence": f"/licences/{licence.id}", "order": f"/orders/{licence.order_id}",
            "case": f"/review/cases/{case}", "slug": product.slug, "delist": f"/admin/products/{product.id}/delist",
            "dictionary": f"/seller/products/{seller_product.id}/versions/{version.number}/dictionary",
            "seller_reads_order": licence.seller_organization_id == org_of[SELLER[0]],
        }
        db.session.remove()
        return found


def _bar(page) -> dict:
    return page.evaluate("""() => {
        const bar = document.querySelector('header.topbar'), box = bar.getBoundingClientRect();
        const shown = el => el.matches('summary') || !el.closest('details:not([open])');
        const outside = [...bar.querySelectorAll('a, button, summary')].filter(shown).filter(el => {
            const r = el.getBoundingClientRect();
            return r.width && (r.right > window.innerWidth + 0.5 || r.left < -0.5 || r.bottom > box.bottom + 0.5);
        }).map(el => el.textContent.trim());
        return {position: getComputedStyle(bar).position, height: box.height, viewport: window.innerHeight,
                sideways: document.documentElement.scrollWidth - window.innerWidth, outside};
    }""")


def _focus_under_bar(page, presses: int = 40) -> list[str]:
    """Tab through the page; the focused elements a fixed or sticky bar would hide."""
    hidden = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        found = page.evaluate("""() => {
            const el = document.activeElement, bar = document.querySelector('header.topbar');
            if (!el || el === document.body || bar.contains(el)) return null;
            const position = getComputedStyle(bar).position;
            if (position !== 'fixed' && position !== 'sticky') return null;
            const barBox = bar.getBoundingClientRect(), box = el.getBoundingClientRect();
            return box.top < barBox.bottom - 0.5 && box.bottom > barBox.top ? el.outerHTML.slice(0, 120) : null;
        }""")
        if found:
            hidden.append(found)
    return hidden


@pytest.mark.parametrize("account", [BUYER, ADMIN], ids=["buyer", "admin"])
def test_at_200_percent_zoom_the_top_bar_never_covers_the_page(browsing, places, account, artifacts):
    page = browsing.new_page(**ZOOMED)
    log_in(page, *account)
    paths = (["/catalog", "/licences", places["licence"], places["order"], "/notifications/"] if account == BUYER
             else ["/admin/", "/admin/products", "/admin/audit", places["case"]])
    for path in paths:
        page.goto(path)
        bar = _bar(page)
        name = re.sub(r"\W+", "_", path).strip("_")
        page.screenshot(path=str(artifacts / f"{name}.png"))
        assert bar["position"] not in ("fixed", "sticky") or bar["height"] < bar["viewport"] / 3, (path, bar)
        assert bar["sideways"] <= 0, (path, bar)
        assert bar["outside"] == [], (path, bar)  # the language switcher wraps inside the dark bar
        assert _focus_under_bar(page) == [], path
    assert browsing.server_errors == []


def test_on_a_wide_screen_the_top_bar_still_follows_the_reader(browsing):
    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    page.goto("/catalog")
    assert _bar(page)["position"] == "sticky"


def test_at_320_px_no_page_scrolls_sideways(browsing, places, artifacts):
    page = browsing.new_page(**NARROW)
    log_in(page, *BUYER)
    wide = {}
    for path in [places["licence"], places["order"], "/licences", "/orders"]:
        page.goto(path)
        if (extra := page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) > 0:
            wide[path] = extra
        page.screenshot(path=str(artifacts / (re.sub(r"\W+", "_", path).strip("_") + ".png")), full_page=True)
    page = browsing.new_page(**NARROW)
    log_in(page, *SELLER)
    page.goto(places["dictionary"])
    if (extra := page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) > 0:
        wide[places["dictionary"]] = extra
    page.screenshot(path=str(artifacts / "dictionary.png"), full_page=True)
    page = browsing.new_page(**NARROW)
    log_in(page, *REVIEWER)
    page.goto(places["case"])
    if (extra := page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) > 0:
        wide[places["case"]] = extra
    page.screenshot(path=str(artifacts / "case.png"), full_page=True)
    assert wide == {}


def test_the_role_menu_closes_on_escape_and_when_focus_or_a_click_leaves_it(browsing):
    page = browsing.new_page()
    log_in(page, *ADMIN)
    menu = page.locator("header details.role-menu")
    summary = menu.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    for _ in range(12):  # Tab on, past the menu's buttons, to the links beside it
        page.keyboard.press("Tab")
        if not page.evaluate("() => !!document.activeElement.closest('details.role-menu')"):
            break
    expect(menu).not_to_have_attribute("open", "")
    summary.click()
    expect(menu).to_have_attribute("open", "")
    page.locator("main h1").first.click()
    expect(menu).not_to_have_attribute("open", "")
    expect(page.locator("header").get_by_role("link", name="Account")).to_be_visible()


def test_a_form_shown_again_moves_focus_to_its_error_summary(browsing, places, artifacts):
    page = browsing.new_page()
    page.goto("/signup")
    page.get_by_role("button", name="Create account").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    page.screenshot(path=str(artifacts / "signup.png"))
    summary.get_by_role("link").first.click()
    assert page.evaluate("() => document.activeElement.id") == summary.get_by_role("link").first.get_attribute(
        "href").lstrip("#")
    assert not violations(page), describe(violations(page))
    # The delisting form: both missing answers at once, focused, and axe finds nothing serious.
    page = browsing.new_page()
    log_in(page, *ADMIN)
    page.goto(places["delist"])
    page.get_by_role("button", name="Delist").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    page.screenshot(path=str(artifacts / "delist.png"))
    assert not violations(page), describe(violations(page))


def _contrast(fg: str, bg: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    def luminance(rgb) -> float:
        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    colour = [float(v) for v in re.findall(r"[\d.]+", fg)[:3]]
    high, low = sorted([luminance(colour), luminance(bg)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _over(base: tuple, top: tuple, alpha: float) -> tuple:
    return tuple(b * (1 - alpha) + t * alpha for b, t in zip(base, top))


def test_texts_on_the_product_header_and_small_labels_keep_their_contrast(browsing, places):
    page = browsing.new_page()
    page.goto(f"/products/{places['slug']}")
    facts = page.evaluate("""() => {
        const dt = document.querySelector('.product-facts dt');
        const panel = getComputedStyle(dt.closest('.product-facts')).backgroundColor;
        return {label: getComputedStyle(dt).color, panel};
    }""")
    # The lightest part of the header's gradient (the brand's dark teal under its teal glow), under the panel.
    lightest = _over((8, 84, 92), (60, 198, 196), .35)
    rgba = [float(v) for v in re.findall(r"[\d.]+", facts["panel"])]
    behind = _over(lightest, tuple(rgba[:3]), rgba[3] if len(rgba) > 3 else 1)
    assert _contrast(facts["label"], behind) >= 4.5, facts
    # Breadcrumbs (a seller reading its order) and the admin's badges: axe judges them on plain backgrounds.
    assert places["seller_reads_order"]
    page = browsing.new_page()
    log_in(page, *SELLER)
    page.goto(places["order"])
    found = [v for v in violations(page, impacts=("serious", "critical", "moderate", "minor"))
             if v["id"] == "color-contrast"]
    assert not found, describe(found)
    page = browsing.new_page()
    log_in(page, *ADMIN)
    page.goto("/admin/")
    found = [v for v in violations(page) if v["id"] == "color-contrast"]
    assert not found, describe(found)


def test_a_focused_text_field_shows_the_same_two_pixel_outline_as_everything_else(browsing):
    page = browsing.new_page()
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link
    field = page.get_by_label("E-mail address")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "INPUT" and field.evaluate(
                "el => el === document.activeElement"):
            break
    expect(field).to_be_focused()
    ring = field.evaluate("el => [getComputedStyle(el).outlineStyle, parseFloat(getComputedStyle(el).outlineWidth)]")
    assert ring[0] == "solid" and ring[1] >= 2, ring
