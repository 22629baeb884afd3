"""In a real browser on the demo catalog: each role lands where its work is; the demo buyer walks the holes a
first-time buyer fell into (the product page knows what they hold, a second order is refused in favour of renewal, a
free licence's download button, the receipt's wording, notifications by title, a suspended product's paused
downloads); a seller who also buys switches roles; and on a phone the first product and the licence card are near
the top. Screenshots go to test-artifacts/<test name>/.
"""
from __future__ import annotations

import re
from functools import partial

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.bilingual import title_of
from marketplace.i18n import LOCALE_NAMES
from marketplace.licensing.models import Licence
from marketplace.licensing.services import held_plan_licence
from marketplace.listings.models import DataProduct, PricingPlan
from marketplace.listings.states import ProductStatus
from marketplace.listings.vocab import PlanKind
from marketplace.orders import services as orders
from marketplace.review import services as review
from tests.functional.conftest import log_in
from tests.functional.english import no_english, typed_content, words
from tests.support.races import in_app
from tests.support.report import report

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BUYER = ("buyer@demo.exchange", "demo-buyer-pass")
SELLER = ("seller@demo.exchange", "demo-seller-pass")
REVIEWER = ("reviewer@demo.exchange", "demo-reviewer-pass")
ADMIN = ("admin@demo.exchange", "demo-admin-pass")
PHONE = {"width": 390, "height": 844}


def _in_app(server, build):
    return in_app(server.app, build)


def _held(server) -> dict:
    """The demo buyer's licences by plan kind: product slug and title, plan, licence and order ids."""
    def build(session):
        user = session.scalar(select(User).where(User.email == BUYER[0]))
        org_ids = [m.organization_id for m in user.memberships]
        found = {}
        for lic in session.scalars(select(Licence).where(Licence.buyer_organization_id.in_(org_ids))):
            found[lic.plan_kind.value] = {
                "slug": lic.product.slug, "title": title_of(lic.order.version), "plan": lic.plan.name,
                "plan_id": lic.plan_id, "licence": lic.id, "order": lic.order_id, "serial": lic.serial,
                "until": lic.valid_until}
        return found
    return _in_app(server, build)


def test_each_role_lands_where_its_work_is(browsing, artifacts):
    for (email, password), home, heading in ((BUYER, r"/licences$", "My licences"),
                                              (SELLER, r"/seller/$", "My data products"),
                                              (REVIEWER, r"/review/$", "Review queue"),
                                              (ADMIN, r"/admin/$", "Overview")):
        page = browsing.new_page()
        log_in(page, email, password)
        expect(page).to_have_url(re.compile(home))
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.get_by_text("Create your first product")).to_have_count(0) if email == BUYER[0] else None
        page.screenshot(path=str(artifacts / f"home-{email.split('@')[0]}.png"), full_page=True)
    # The admin's overview links into each area, the admin products page included.
    expect(page.locator("#overview-products a[href='/admin/products']")).to_be_visible()
    expect(page.locator("#overview-orders a[href='/admin/orders']").first).to_be_visible()
    expect(page.locator("#overview-jobs a[href='/admin/jobs']").first).to_be_visible()
    page.locator("#overview-audit h2 a").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    assert browsing.server_errors == []


def test_the_buyer_walks_through_each_hole(browsing, demo_server, artifacts):
    held = _held(demo_server)
    free, paid = held["free"], held["one_time"]
    assert free["until"] is not None and paid["until"] is None  # the demo's free plan runs a year, the paid never ends
    page = browsing.new_page(accept_downloads=True)
    log_in(page, *BUYER)
    expect(page).to_have_url(re.compile(r"/licences$"))

    # The product page shows the plan held with no expiry, its period and files, and nothing more to order.
    page.goto(f"/products/{paid['slug']}")
    holdings = page.locator("#your-licences")
    expect(holdings).to_contain_text(paid["plan"])
    expect(holdings).to_contain_text("no expiry")
    expect(holdings.get_by_role("link", name=re.compile(r"^Download "))).not_to_have_count(0)
    expect(page.locator(f"a[href$='/plans/{paid['plan_id']}/license']")).to_have_count(0)
    expect(page.locator(".product-buy")).to_contain_text("nothing more to order")
    page.screenshot(path=str(artifacts / "product-held-plan.png"), full_page=True)
    with page.expect_download() as download:
        holdings.get_by_role("link", name=re.compile(r"^Download ")).first.click()
    assert download.value.suggested_filename

    # Ordering it again anyway (the request page by its address): warned, with no form to fill in (a post is
    # refused with 409, as the page tests show).
    page.goto(f"/products/{paid['slug']}/plans/{paid['plan_id']}/license")
    expect(page.locator(".held-plan")).to_contain_text("nothing more to order")
    expect(page.get_by_label("Purpose")).to_have_count(0)
    expect(page.get_by_role("button", name="Request licence")).to_have_count(0)
    page.screenshot(path=str(artifacts / "order-again-refused.png"), full_page=True)

    # A plan held with an end: the product page offers renewal from that end, which leads to the renewal form.
    page.goto(f"/products/{free['slug']}")
    page.locator(".product-buy").get_by_role("link", name=re.compile(r"^Renew from ")).click()
    expect(page).to_have_url(re.compile(rf"/licences/{free['licence']}#renew$"))
    expect(page.locator("#renew")).to_be_visible()
    page.screenshot(path=str(artifacts / "renewal-offer.png"), full_page=True)

    # The free licence's order page has its download buttons.
    page.goto(f"/orders/{free['order']}")
    button = page.locator("#downloads").get_by_role("link", name=re.compile(r"^Download "))
    expect(button.first).to_be_visible()
    with page.expect_download() as download:
        button.first.click()
    assert download.value.suggested_filename
    page.screenshot(path=str(artifacts / "free-licence-download.png"), full_page=True)

    # The receipt names the plan once.
    page.goto(f"/orders/{paid['order']}")
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text(f"plan “{paid['plan']}”")
    assert "licence licence" not in receipt.inner_text()

    # Notifications name products by title, never by slug.
    page.goto("/notifications")
    text = page.locator("main").inner_text()
    assert free["title"] in text and free["slug"] not in text and paid["slug"] not in text
    page.screenshot(path=str(artifacts / "notifications.png"), full_page=True)

    # A suspended product: the licence says downloads are paused, with the reason, and links no file.
    reason = "Source licence under review after a complaint."

    def suspend(session):
        reviewer = session.scalar(select(User).where(User.email == REVIEWER[0]))
        review.suspend_product(session, reviewer, session.scalar(select(DataProduct).where(
            DataProduct.slug == paid["slug"])), reason)
    _in_app(demo_server, suspend)
    try:
        for url in ("/licences", f"/licences/{paid['licence']}"):
            page.goto(url)
            expect(page.locator(".downloads-paused").first).to_contain_text(reason)
            expect(page.locator(f"main a[href^='/products/{paid['slug']}/assets/']")).to_have_count(0)
        expect(page.locator("h1 .badge-suspended")).to_have_text("Downloads paused")
        page.screenshot(path=str(artifacts / "downloads-paused.png"), full_page=True)
        page.goto(f"/products/{paid['slug']}")
        expect(page.locator("#your-licences .downloads-paused")).to_contain_text(reason)
        expect(page.locator(f"main a[href^='/products/{paid['slug']}/assets/']")).to_have_count(0)
        page.screenshot(path=str(artifacts / "product-paused.png"), full_page=True)
    finally:
        def reinstate(session):
            reviewer = session.scalar(select(User).where(User.email == REVIEWER[0]))
            review.reinstate_product(session, reviewer, session.scalar(select(DataProduct).where(
                DataProduct.slug == paid["slug"])), "Cleared.")
        _in_app(demo_server, reinstate)
    assert browsing.server_errors == []


def test_a_seller_who_also_buys_switches_between_roles(browsing, demo_server, artifacts):
    def buy(session):
        seller = session.scalar(select(User).where(User.email == SELLER[0]))
        own = {m.organization_id for m in seller.memberships}
        plan = next(p for p in session.scalars(
            select(PricingPlan).join(DataProduct, DataProduct.listed_version_id == PricingPlan.version_id)
            .where(DataProduct.status == ProductStatus.LISTED, PricingPlan.kind == PlanKind.FREE,
                   PricingPlan.requires_approval.is_(False)))
            if p.version.product.organization_id not in own)
        org_id = seller.memberships[0].organization_id
        if held_plan_licence(session, org_id, plan.id) is None:
            orders.request_licence(session, seller, orders.LicenceRequest(
                plan_id=plan.id, organization_id=org_id, accept_terms=True, idempotency_key="roles-switch",
                scenario={"purpose": "research", "sector": "transport", "territory": "hong_kong",
                          "expected_users": 2, "description": "Comparing our own detectors with a partner's."}))
    _in_app(demo_server, buy)
    page = browsing.new_page()
    log_in(page, *SELLER)
    expect(page).to_have_url(re.compile(r"/seller/$"))
    menu = page.locator("header .role-menu")
    expect(menu.locator("summary")).to_have_text(re.compile("Working as: Seller"))
    menu.locator("summary").click()
    page.screenshot(path=str(artifacts / "role-menu.png"))
    menu.get_by_role("button", name="Buyer").click()
    expect(page).to_have_url(re.compile(r"/licences$"))
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="My licences")).to_be_visible()
    expect(nav.get_by_role("link", name="My products")).to_have_count(0)
    expect(page.locator(".licence-downloads, .product-files").first).to_be_visible()
    page.screenshot(path=str(artifacts / "working-as-buyer.png"), full_page=True)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/licences$"))  # remembered for the session
    page.locator("header .role-menu summary").click()
    page.locator("header .role-menu").get_by_role("button", name="Seller").click()
    expect(page).to_have_url(re.compile(r"/seller/$"))
    expect(nav.get_by_role("link", name="My products")).to_be_visible()
    assert browsing.server_errors == []


def test_on_a_phone_the_first_product_and_the_licence_card_are_near_the_top(browsing, demo_server, artifacts):
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/catalog")
    first = page.locator(".product-card").first
    top = first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    expect(page.locator(".catalog-facets-toggle > summary")).to_be_visible()
    expect(page.locator("#facet-category")).to_be_hidden()  # folded until asked for
    page.screenshot(path=str(artifacts / "catalog-phone.png"))
    page.locator(".catalog-facets-toggle > summary").click()
    expect(page.locator("#facet-category")).to_be_visible()
    report(f"phone 390x844: the first catalog product starts at {top:.0f} px")
    assert top < 1.5 * PHONE["height"], top

    slug = page.locator(".product-card h2 a").first.get_attribute("href")
    page.goto(slug)
    jump = page.locator(".product-jump")
    expect(jump).to_be_visible()
    expect(jump).to_have_text(re.compile(r"^License (from |free)"))
    jump_top = jump.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    card_top = page.locator("#buy-title").evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    page.screenshot(path=str(artifacts / "product-phone.png"))
    jump.click()
    expect(page.locator("#buy-title")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "product-phone-licence-card.png"))
    report(f"phone 390x844: the product page's jump to the licence card at {jump_top:.0f} px "
           f"(the card itself at {card_top:.0f} px)")
    assert jump_top < PHONE["height"], jump_top

    # On a wide screen the filters stay open and the jump is not needed.
    wide = browsing.new_page()
    wide.goto("/catalog")
    expect(wide.locator("#facet-category")).to_be_visible()
    expect(wide.locator(".catalog-facets-toggle > summary")).to_be_hidden()
    assert browsing.server_errors == []


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_new_places_speak_chinese(browsing, demo_server, artifacts, tag):
    held = _held(demo_server)
    check = partial(no_english, tag=tag, allow=typed_content(demo_server.app))
    tr, _label = words(demo_server.app, tag)
    for account, pages in ((BUYER, [f"/products/{held['one_time']['slug']}", f"/products/{held['free']['slug']}",
                                    f"/products/{held['one_time']['slug']}/plans/{held['one_time']['plan_id']}"
                                    "/license", "/licences", f"/orders/{held['free']['order']}",
                                    f"/orders/{held['one_time']['order']}"]),
                           (ADMIN, ["/admin/"])):
        page = browsing.new_page()
        log_in(page, *account)
        page.get_by_role("button", name=LOCALE_NAMES[tag]).click()  # saved to the account
        expect(page.locator("html")).to_have_attribute("lang", tag)
        try:
            for url in pages:
                page.goto(url)
                page.evaluate("document.querySelector('#preview')?.remove()")  # a sample's rows are its own data
                check(page)
            expect(page.locator("header .role-menu summary")).to_contain_text(
                tr("Working as: %(role)s", role="@@").split("@@")[0])
            page.screenshot(path=str(artifacts / f"{account[0].split('@')[0]}.png"), full_page=True)
        finally:
            page.get_by_role("button", name=LOCALE_NAMES["en"]).click()  # the other journeys read English
            expect(page.locator("html")).to_have_attribute("lang", "en")
    assert browsing.server_errors == []
