"""Every role in one walk, in a real browser on a fresh demo catalog, each in a browser of their own.

A new seller signs up, confirms the address and builds a product through every step of the editor; the reviewer
opens the case on its first screen and asks for changes; the seller reads them in the banner, fixes and submits
again; the reviewer approves. The demo buyer finds the product, looks at its map and column profiles, declares a
scenario among the purposes the plan allows, pays and downloads; the product page then knows the plan is held and
offers renewal instead of a second order. The admin suspends the product from the overview's products page; the
buyer's licence says downloads are paused, with the reason and no dead link; the audit page names the actors, links
the objects and filters by actor; the seller's sales page draws the sale. Then the key pages of each role again, in
Hong Kong Chinese, with none of the interface's English.

Each hole a first-time user fell into that this walk passes is asserted where it is passed. Screenshots go to
test-artifacts/<test name>/, one or more a step.
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.i18n import LOCALE_NAMES
from marketplace.licensing.scenario import PURPOSE_NEEDS
from marketplace.listings.models import DataProduct
from marketplace.listings.vocab import PermittedUse
from tests.functional.conftest import SELLER_NAME, SELLER_ORGANIZATION, log_in
from tests.functional.english import no_english, typed_content, words
from tests.functional.test_browser_reviewer import (
    ADMIN,
    ITEMS,
    REVIEWER,
    answer,
    claim,
    decide,
    item,
    open_queue,
    submit_decision,
)
from tests.functional.test_browser_seller import (
    DATASET_TITLE,
    SAMPLE_FILE,
    TITLE_EN_EDITED,
    add_plan,
    add_source_from_lookup,
    complete_steps,
    create_product,
    fill_compliance,
    flash,
    infer_dictionary,
    step,
    upload,
)
from tests.support.report import report

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BUYER = ("buyer@demo.exchange", "demo-buyer-pass")
NEW_SELLER = ("ada@kerbside-data.example", "a long passphrase for the kerbside")
TITLE = TITLE_EN_EDITED  # the seller renames the draft on the way
FIRST_SCREEN = {"width": 1280, "height": 900}
CHANGES = "Name the year of the detector survey in the description, then submit again."
FAILED_SOURCE = "The description does not say which year's survey the detector list comes from."
FIX_NOTE = "The description now names the 2024 survey."
SUSPENDED = "The Transport Department asked us to check the detector list's attribution."
HONG_KONG = "zh-Hant-HK"


class Walk:
    """The browsers of the walk (one per role, kept open) and the screenshots, numbered in the order taken."""

    def __init__(self, browsing, artifacts):
        self.browsing, self.artifacts, self.shots, self.started = browsing, artifacts, 0, time.monotonic()
        self.pages: dict[str, Page] = {}

    def page(self, role: str, **options) -> Page:
        if role not in self.pages:
            self.pages[role] = self.browsing.new_page(viewport=FIRST_SCREEN, **options)
        return self.pages[role]

    def shot(self, role: str, name: str, full_page: bool = True) -> None:
        self.shots += 1
        page = self.pages[role]
        page.screenshot(path=str(self.artifacts / f"{self.shots:02d}-{role}-{name}.png"), full_page=full_page)

    def seller_shots(self, name: str) -> None:
        """The seller test's helpers take a callable for their own screenshots."""
        self.pages["seller"].evaluate("window.scrollTo(0, 0)")
        self.shot("seller", name)


def _top(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


def _product(server) -> dict:
    with server.app.app_context():
        product = db.session.scalars(select(DataProduct).where(
            DataProduct.slug.like("hong-kong-traffic-detector-locations%"))).one()
        found = {"id": product.id, "slug": product.slug, "org": product.organization.slug}
        db.session.remove()
    return found


# ---------------------------------------------------------------- the seller


def seller_signs_up(walk: Walk, server) -> None:
    page = walk.page("seller")
    page.goto("/signup")
    page.get_by_label("E-mail address").fill(NEW_SELLER[0])
    page.get_by_label("Your name").fill(SELLER_NAME)
    page.get_by_label("Password", exact=True).fill(NEW_SELLER[1])
    page.get_by_label("Repeat the password").fill(NEW_SELLER[1])
    page.get_by_label("Organization (optional)").fill(SELLER_ORGANIZATION)
    page.locator("main").get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    walk.shot("seller", "signed-up")
    mail = next(m for m in reversed(server.app.extensions["mailer"].outbox) if m.to == NEW_SELLER[0])
    page.goto(re.search(r"https?://\S+(/verify-email/\S+)", mail.body).group(1))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{NEW_SELLER[0]} is confirmed")
    log_in(page, *NEW_SELLER)
    # A new organization's work is its first product: the seller starts on the dashboard.
    expect(page).to_have_url(re.compile(r"/seller/$"))
    expect(page.get_by_role("heading", name="My data products")).to_be_visible()
    walk.shot("seller", "dashboard")


def seller_builds_and_submits(walk: Walk, server) -> None:
    page, shots = walk.pages["seller"], walk.seller_shots
    create_product(page, shots)  # details: a refused draft keeps every field, then on to the sources
    expect(page.locator(".editor-steps li")).to_have_count(7)
    add_source_from_lookup(page, shots)  # open-data licences first; the look-up's own example works
    page.get_by_role("link", name="Next: Files").click()
    upload(page, "Sample", held=True)  # progress shown, the button disabled while sending
    upload(page, "Deliverable")
    shots("3-files")
    step(page, "Data dictionary")
    infer_dictionary(page, shots)
    add_plan(page, shots)  # a typed plan survives a dictionary saved meanwhile and its own refusal
    fill_compliance(page, shots)
    step(page, "Details")
    page.get_by_label("Title (English)").fill(TITLE)
    page.get_by_role("button", name="Save details").click()
    expect(flash(page)).to_have_text("Details saved.")
    step(page, "Review and submit")
    assert complete_steps(page) == ["Details", "Sources", "Files", "Data dictionary", "Pricing plans", "Compliance"]
    page.locator("#submit").get_by_role("button", name="Submit v1.0 for review").click()
    expect(flash(page)).to_have_text("Version 1.0 submitted for compliance review. It is read-only now.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · submitted")
    shots("7-submitted")


def seller_fixes_and_resubmits(walk: Walk) -> None:
    page = walk.pages["seller"]
    page.goto("/seller/")
    page.get_by_role("link", name=TITLE, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · changes requested")
    # The requested changes are a banner at the top of every step, and nothing says all is in place.
    banner = page.locator(".changes-requested")
    expect(banner.locator(".requested-comment")).to_have_text(CHANGES)
    expect(banner.locator(".requested-items")).to_contain_text(FAILED_SOURCE)
    assert _top(page, ".changes-requested") < min(_top(page, "#submit"), FIRST_SCREEN["height"])
    expect(page.locator("main")).not_to_contain_text("Everything is in place")
    walk.shot("seller", "changes-requested")
    step(page, "Details")
    expect(page.locator(".changes-requested .requested-comment")).to_have_text(CHANGES)
    description = page.get_by_label("Description (English)")
    description.fill(description.input_value() + "\n\nFrom the Transport Department's 2024 detector survey.")
    page.get_by_role("button", name="Save details").click()
    expect(flash(page)).to_have_text("Details saved.")
    step(page, "Review and submit")
    submit = page.locator("#submit")
    submit.get_by_label("Note for the reviewer").fill(FIX_NOTE)
    submit.get_by_role("button", name="Submit v1.0 for review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · submitted")
    expect(page.locator("#review")).to_contain_text("Round 2")
    walk.shot("seller", "resubmitted")


# ---------------------------------------------------------------- the reviewer


def reviewer_opens_the_case(walk: Walk) -> None:
    page = walk.page("reviewer")
    if "/review/" not in page.url:
        log_in(page, *REVIEWER)
        expect(page).to_have_url(re.compile(r"/review/$"))  # the reviewer lands on the queue
    else:
        open_queue(page)
    page.get_by_role("link", name=TITLE, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    # The first screen holds the findings summary, the sample's preview and the checklist.
    expect(page.locator("#preview table.product-preview tbody tr").first).to_be_visible()
    expect(page.locator("#findings")).to_contain_text("Source legality")
    for selector in ("#findings", "#preview", "#checklist"):
        assert _top(page, selector) < FIRST_SCREEN["height"], selector
    walk.shot("reviewer", "case-first-screen", full_page=False)
    claim(page, TITLE)


def reviewer_requests_changes(walk: Walk) -> None:
    reviewer_opens_the_case(walk)
    page = walk.pages["reviewer"]
    answer(page, "source_legality", "Fail", FAILED_SOURCE)
    answer(page, "quality", "Pass", "The dictionary matches both files.")
    decide(page, "Request changes", CHANGES)
    assert submit_decision(page) == 302
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · changes requested")
    walk.shot("reviewer", "changes-requested")


def reviewer_approves(walk: Walk) -> None:
    reviewer_opens_the_case(walk)
    page = walk.pages["reviewer"]
    expect(page.locator("#history")).to_contain_text(FIX_NOTE)
    for key in ITEMS:
        answer(page, key, "Pass", f"Checked {key.replace('_', ' ')} against the files and the source.")
    decide(page, "Approve", "Listed: the survey year is named now.")
    assert submit_decision(page) == 302
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · listed")
    expect(item(page, "source_legality").locator(".badge").first).to_be_visible()
    walk.shot("reviewer", "approved")


# ---------------------------------------------------------------- the buyer


def buyer_finds_and_licenses(walk: Walk, product: dict) -> None:
    page = walk.page("buyer", accept_downloads=True)
    log_in(page, *BUYER)
    # The buyer lands on their licences, not on an empty seller console.
    expect(page).to_have_url(re.compile(r"/licences$"))
    expect(page.get_by_text("Create your first product")).to_have_count(0)
    page.locator("header nav").get_by_role("link", name="Catalog").click()
    page.get_by_label("Search the catalog").fill("strategic road traffic detectors")
    page.get_by_label("Search the catalog").press("Enter")
    page.locator(".product-card").get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/products/{product['slug']}"))
    # The sample drawn as a map (points, no tiles) and its columns profiled, rounded for reading.
    expect(page.locator("#product-map path.map-point").first).to_be_visible()
    assert page.locator("#product-map img").count() == 0
    expect(page.get_by_role("heading", name="Column profiles")).to_be_visible()
    histogram = page.locator(".product-profile svg.chart-histogram").first
    expect(histogram).to_be_visible()
    assert histogram.get_attribute("role") == "img" and histogram.locator("desc").count() == 1
    assert not re.search(r"\d\.\d{7,}", page.locator(".product-profile").first.inner_text())
    page.locator("#preview").screenshot(path=str(walk.artifacts / "buyer-map-and-profiles.png"))
    walk.shot("buyer", "product")

    page.locator(".product-buy").get_by_role("link", name=re.compile("^License")).first.click()
    # Only what the plan allows is offered.
    purposes = page.get_by_label("Purpose").locator("option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)")
    allowed = {PermittedUse.RESEARCH, PermittedUse.INTERNAL_ANALYSIS}  # the plan's terms; nothing else is offered
    assert sorted(purposes) == sorted(p.value for p, needs in PURPOSE_NEEDS.items() if needs in allowed), purposes
    assert "public_service" not in purposes and "other" not in purposes
    assert "commercial_product" not in purposes and "ai_training" not in purposes
    territories = page.get_by_label("Territory of use").locator("option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)")
    assert territories == ["hong_kong"], territories
    page.get_by_label("Purpose").select_option("research")
    page.get_by_label("Sector").select_option("logistics")
    page.get_by_label("Territory of use").select_option("hong_kong")
    page.get_by_label("Expected users").fill("4")
    page.get_by_label("Describe the use").fill("Comparing detector coverage with our own fleet's GPS traces.")
    page.get_by_label(re.compile("I accept the licence terms")).check()
    walk.shot("buyer", "scenario")
    page.get_by_role("button", name="Request licence").click()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_text("Payment received, licence issued").first).to_be_visible()
    expect(page.locator("#receipt")).to_contain_text("Research licence")
    assert "licence licence" not in page.locator("#receipt").inner_text()
    walk.shot("buyer", "paid")

    page.goto("/licences")
    with page.expect_download() as download:
        page.get_by_role("link", name=SAMPLE_FILE.name).first.click()
    assert download.value.suggested_filename == SAMPLE_FILE.name

    # The product page now shows the plan held, and offers renewal rather than a second order.
    page.goto(f"/products/{product['slug']}")
    holdings = page.locator("#your-licences")
    expect(holdings).to_contain_text("Research licence")
    expect(holdings.get_by_role("link", name=re.compile(r"^Download "))).not_to_have_count(0)
    expect(page.locator(".product-buy").get_by_role("link", name=re.compile(r"^Renew from "))).to_be_visible()
    walk.shot("buyer", "product-held")
    plan_link = page.locator(f"a[href^='/products/{product['slug']}/plans/'][href$='/license']")
    expect(plan_link).to_have_count(0)
    page.goto(f"/products/{product['slug']}/plans/{product['plan']}/license")
    expect(page.locator(".held-plan")).to_contain_text("already holds this plan until")
    expect(page.locator(".held-plan").get_by_role("link", name=re.compile(r"^Renew from "))).to_be_visible()
    walk.shot("buyer", "order-again-warned")

    # Notices name the product by its title, never by its slug.
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text(TITLE)
    assert product["slug"] not in page.locator("main").inner_text()


def buyer_sees_downloads_paused(walk: Walk, product: dict) -> None:
    page = walk.pages["buyer"]
    page.goto("/licences")
    card = page.locator("section.card").filter(has_text=TITLE)
    expect(card.locator(".badge-suspended")).to_have_text("Downloads paused")
    expect(card.locator(".downloads-paused")).to_contain_text(SUSPENDED)
    expect(page.locator(f"main a[href^='/products/{product['slug']}/assets/']")).to_have_count(0)
    card.locator("h2 a").first.click()
    expect(page.locator("h1 .badge-suspended")).to_have_text("Downloads paused")
    expect(page.locator(".downloads-paused").first).to_contain_text(SUSPENDED)
    expect(page.locator(f"main a[href^='/products/{product['slug']}/assets/']")).to_have_count(0)
    walk.shot("buyer", "downloads-paused")


# ---------------------------------------------------------------- the admin and the seller's sales


def admin_suspends(walk: Walk, product: dict) -> None:
    page = walk.page("admin")
    log_in(page, *ADMIN)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    walk.shot("admin", "overview")
    page.locator("#overview-products a[href='/admin/products']").click()
    page.get_by_label("Title or slug contains").fill(TITLE)
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f"#product-{product['id']}")
    expect(row.locator(".badge")).to_have_text("listed")
    row.get_by_role("link", name="Suspend", exact=True).click()
    # A page of its own says what suspending does and asks for the reason before anything changes.
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Suspend: {TITLE}")
    expect(page.locator("#status")).to_contain_text("the licences already sold stay valid")
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.locator(".field-error").first).to_be_visible()  # no reason, no change
    page.get_by_label("Reason").fill(SUSPENDED)
    walk.shot("admin", "suspend-confirm")
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(f"Suspended {TITLE}")
    expect(row.locator(".badge")).to_have_text("suspended")
    walk.shot("admin", "suspended")


def admin_reads_the_audit(walk: Walk, product: dict) -> None:
    page = walk.pages["admin"]
    page.locator("header nav").get_by_role("link", name="Audit").click()
    page.get_by_label("Actor (name or e-mail)").fill("Grace Li")
    page.get_by_label("Product (slug or number)").fill(product["slug"])
    page.get_by_role("button", name="Filter").click()
    events = page.locator("table.audit-events tbody tr")
    expect(events.first).to_be_visible()
    assert set(events.locator(".audit-actor").all_inner_texts()) == {"Grace Li"}
    expect(events.locator(".audit-object").first).to_contain_text(TITLE)
    walk.shot("admin", "audit-by-reviewer")
    page.get_by_label("Actor (name or e-mail)").fill("Platform Admin")
    page.get_by_role("button", name="Filter").click()
    expect(events).to_have_count(1)
    expect(events.first.locator("td:nth-child(4)")).to_contain_text("Product suspended")  # the action in words,
    expect(events.first.locator("td:nth-child(4)")).to_contain_text("asked us to check")  # with its reason
    expect(events.first.locator(".audit-actor")).to_have_text("Platform Admin")
    walk.shot("admin", "audit-by-admin")
    events.first.locator(".audit-object").get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/review/products/{product['id']}$"))
    expect(page.locator("#status")).to_contain_text("suspended")


def seller_reads_the_sales(walk: Walk) -> None:
    page = walk.pages["seller"]
    page.goto("/seller/")
    page.get_by_role("link", name="Sales", exact=True).first.click()
    chart = page.locator(".sales-chart svg.chart-timeline")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_have_text("Revenue per month in HKD")
    expect(chart.locator("desc")).to_contain_text("HK$1,200.00")
    heights = chart.locator("rect.chart-bar").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().height)")
    assert len(heights) == 12 and heights[-1] > 0 and not any(heights[:-1]), heights  # this month's sale alone
    expect(page.locator("main table", has_text="ORD-")).to_contain_text(TITLE)  # orders name the product by title
    walk.shot("seller", "sales")


# ---------------------------------------------------------------- the key pages in Hong Kong Chinese


def in_hong_kong_chinese(walk: Walk, server, product: dict, licence_url: str) -> None:
    tr, _label = words(server.app, HONG_KONG)
    allow = [*typed_content(server.app), DATASET_TITLE, SAMPLE_FILE.name,
             *SAMPLE_FILE.read_text(encoding="utf-8-sig").splitlines()[0].split(",")]
    key_pages = {
        "seller": ["/seller/", f"/seller/products/{product['id']}/versions/1", f"/seller/{product['org']}/sales"],
        "reviewer": ["/review/", walk.pages["reviewer"].url.split("#")[0]],
        "buyer": ["/catalog", f"/products/{product['slug']}", "/licences", licence_url],
        "admin": ["/admin/", "/admin/products", f"/admin/audit?product={product['slug']}"],
    }
    for role, urls in key_pages.items():
        page = walk.pages[role]
        page.get_by_role("button", name=LOCALE_NAMES[HONG_KONG]).click()  # saved to the account
        expect(page.locator("html")).to_have_attribute("lang", HONG_KONG)
        for n, url in enumerate(urls):
            page.goto(url)
            # The sample's rows are its own data; a card's summary is the seller's text cut short, so its quoted
            # English source titles no longer match whole lines of what was typed.
            page.evaluate("document.querySelector('#preview table')?.remove();"
                          "document.querySelectorAll('.product-card p.small > span[lang]').forEach(s => s.remove())")
            no_english(page, HONG_KONG, allow)
            walk.shot(role, f"zh-hant-hk-{n + 1}")
    # The new places read in Chinese too: the paused downloads, the sales chart's title.
    buyer = walk.pages["buyer"]
    expect(buyer.locator("h1 .badge-suspended")).to_have_text(tr("Downloads paused"))
    seller = walk.pages["seller"]
    seller.goto(f"/seller/{product['org']}/sales")
    expect(seller.locator(".sales-chart svg title").first).to_have_text(
        tr("Revenue per month in %(currency)s", currency="HKD"))


# ---------------------------------------------------------------- the walk


def test_every_role_walks_its_journey_end_to_end(browsing, demo_server, artifacts):
    walk = Walk(browsing, artifacts)
    timings = []

    def timed(name, run, *args):
        start = time.monotonic()
        run(*args)
        timings.append(f"{name} {time.monotonic() - start:.0f} s")

    timed("sign-up", seller_signs_up, walk, demo_server)
    timed("editor", seller_builds_and_submits, walk, demo_server)
    timed("changes requested", reviewer_requests_changes, walk)
    timed("fixed", seller_fixes_and_resubmits, walk)
    timed("approved", reviewer_approves, walk)
    product = _product(demo_server)
    product["plan"] = _plan_id(demo_server, product["id"])
    timed("bought", buyer_finds_and_licenses, walk, product)
    timed("suspended", admin_suspends, walk, product)
    timed("paused", buyer_sees_downloads_paused, walk, product)
    licence_url = walk.pages["buyer"].url
    timed("audit", admin_reads_the_audit, walk, product)
    timed("sales", seller_reads_the_sales, walk)
    timed("zh-Hant-HK", in_hong_kong_chinese, walk, demo_server, product, licence_url)
    report(f"every role's journey: {time.monotonic() - walk.started:.0f} s in the browser ({', '.join(timings)}); "
           f"{walk.shots} screenshots")
    assert browsing.server_errors == []


def _plan_id(server, product_id: int) -> int:
    with server.app.app_context():
        product = db.session.get(DataProduct, product_id)
        [plan] = product.listed_version.plans
        found = plan.id
        db.session.remove()
    return found
