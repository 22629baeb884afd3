"""End to end in a real browser: a seller logs in and creates, edits, uploads to and submits a product.

The app runs in a LiveServer (its own SQLite file, CSRF on, real multipart uploads) and headless Chromium
fills the seller pages the way a person would: by the labels and button names they see.
"""
from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.listings.models import DataProduct
from tests.factories import SAMPLES
from tests.functional.conftest import SELLER_EMAIL, SELLER_NAME, SELLER_ORGANIZATION, SELLER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

SAMPLE_FILE = SAMPLES / "hk" / "hk_td_traffic_detector_locations.csv"
# A real dataset of the shipped DATA.GOV.HK catalog (marketplace/data/catalogs/datagovhk_datasets_catalog.json).
DATASET_NAME = "hk-td-sm_4-traffic-data-strategic-major-roads"
DATASET_TITLE = "Traffic Data of Strategic / Major Roads"

TITLE_EN = "Hong Kong Traffic Detector Locations"
TITLE_EN_EDITED = "Hong Kong Strategic Road Traffic Detectors"
TITLE_ZH = "香港交通探測器位置"
DESCRIPTION_EN = "Locations of **every** traffic detector on strategic roads.\n\n- AID number\n- WGS84 coordinates"
DESCRIPTION_ZH = "策略性道路上**所有**交通探測器的位置。"
SLUG = "hong-kong-traffic-detector-locations"


def form(page: Page, action_suffix: str):
    """A form of the page by the end of its action URL (stable, unlike the visible headings)."""
    return page.locator(f"form[action$='{action_suffix}']")


def flash(page: Page):
    return page.locator(".flash-success")


def step(page: Page, title: str):
    """Open a step of the editor from its progress indicator."""
    page.locator(".editor-steps").get_by_role("link", name=re.compile("^" + re.escape(title))).click()
    expect(page.locator(".editor-steps [aria-current=step]")).to_contain_text(title)


def complete_steps(page: Page) -> list[str]:
    return page.locator(".editor-steps li.is-complete .editor-step-title").all_inner_texts()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(SELLER_EMAIL)
    page.get_by_label("Password").fill(SELLER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/seller/$"))
    expect(page.get_by_role("heading", name="My data products")).to_be_visible()
    expect(page.get_by_role("button", name=f"Log out ({SELLER_EMAIL})")).to_be_visible()


def fill_new_product(page: Page, title_en: str) -> None:
    page.get_by_label("Title (English)").fill(title_en)
    page.get_by_label("Title (Chinese)").fill(TITLE_ZH)
    page.get_by_label("Description (English)").fill(DESCRIPTION_EN)
    page.get_by_label("Description (Chinese)").fill(DESCRIPTION_ZH)
    page.get_by_label("Category").select_option(label="Transport")
    page.get_by_label("Tags").fill("traffic, 交通, detectors")
    page.get_by_label("Hong Kong", exact=True).check()
    page.get_by_label("Update frequency").select_option(label="Yearly")
    page.get_by_label("File", exact=True).check()
    page.get_by_label("CSV", exact=True).check()


def create_product(page: Page, shots) -> None:
    page.get_by_role("link", name="New product").click()
    expect(page.get_by_role("heading", name="New data product")).to_be_visible()
    expect(page.get_by_label("Organization")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("Organization").locator("option:checked")).to_have_text(SELLER_ORGANIZATION)

    # A bad input first: everything but the English title. The form comes back with the error, input kept.
    fill_new_product(page, title_en="")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/seller/products/new")) as sent:
        page.get_by_role("button", name="Create draft").click()
    assert sent.value.status == 422
    title = page.get_by_label("Title (English)")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.has-error")).to_contain_text("An English title is required.")
    expect(page.get_by_label("Title (Chinese)")).to_have_value(TITLE_ZH)
    expect(page.get_by_label("Description (English)")).to_have_value(DESCRIPTION_EN)
    expect(page.get_by_label("Description (Chinese)")).to_have_value(DESCRIPTION_ZH)
    expect(page.get_by_label("Category")).to_have_value("transport")
    expect(page.get_by_label("Tags")).to_have_value("traffic, 交通, detectors")
    expect(page.get_by_label("Hong Kong", exact=True)).to_be_checked()
    expect(page.get_by_label("Shanghai", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Update frequency")).to_have_value("yearly")
    expect(page.get_by_label("File", exact=True)).to_be_checked()
    expect(page.get_by_label("CSV", exact=True)).to_be_checked()

    title.fill(TITLE_EN)
    page.get_by_role("button", name="Create draft").click()
    expect(flash(page)).to_contain_text(f"Draft “{TITLE_EN}” created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE_EN)
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · draft")
    # The draft goes on to its sources; its details are complete already, nothing else is.
    expect(page).to_have_url(re.compile(r"/versions/1/sources$"))
    expect(page.locator(".editor-steps [aria-current=step]")).to_contain_text("Sources")
    assert complete_steps(page) == ["Details"]
    expect(page.locator(".editor-steps li")).to_have_count(7)


def check_overview(page: Page) -> None:
    overview = page.locator("#overview")
    # The Markdown descriptions are rendered as HTML, not shown as asterisks.
    expect(overview.locator(".prose strong").first).to_have_text("every")
    expect(overview.locator(".prose li")).to_have_text(["AID number", "WGS84 coordinates"])
    expect(overview.locator(".prose[lang|=zh] strong")).to_have_text("所有")
    expect(overview).not_to_contain_text("**")
    expect(overview).to_contain_text("Transport")
    expect(overview).to_contain_text("Hong Kong")
    expect(overview).to_contain_text("Yearly")
    expect(overview.locator(".badge")).to_have_text(["traffic", "交通", "detectors"])


def shown_licences(page: Page) -> list[str]:
    """The licence ids the picker offers now (hidden options and groups left out)."""
    return page.get_by_label("Licence", exact=True).evaluate(
        "s => [...s.options].filter(o => o.value && !o.hidden && !o.parentElement.hidden).map(o => o.value)")


def pick_a_licence(page: Page) -> None:
    """Open-data licences first; any other licence is found by the search box."""
    picker = page.get_by_label("Licence", exact=True)
    groups = picker.locator("optgroup")
    expect(groups).to_have_count(2)
    expect(groups.first).to_have_attribute("label", "Open-data licences")
    assert shown_licences(page) == [
        "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-By-1.0", "ODbL-1.0", "PDDL-1.0", "OGL-UK-3.0",
        "LicenseRef-DATA.GOV.HK-Terms", "LicenseRef-DataShanghai-Terms", "LicenseRef-SODA-Data-Licence"]
    search = page.get_by_label("Search all licences")
    # Searching narrows the list and never chooses for the seller.
    search.fill("MIT")
    assert "MIT" in shown_licences(page) and "CC-BY-4.0" not in shown_licences(page)
    expect(picker).to_have_value("")
    picker.select_option("MIT")
    expect(picker).to_have_value("MIT")
    search.fill("gpl")  # hides the choice: it is undone, not replaced by the first match
    assert "AGPL-1.0-only" in shown_licences(page) and "MIT" not in shown_licences(page)
    expect(picker).to_have_value("")
    search.fill("odbl")
    assert shown_licences(page) == ["ODbL-1.0"]
    expect(picker).to_have_value("")
    search.fill("xyzzy")
    expect(page.locator(".licence-filter-none")).to_have_text("No licence matches this search.")
    assert shown_licences(page) == []
    expect(picker).to_have_value("")
    search.fill("")
    assert len(shown_licences(page)) == 10


def add_source_from_lookup(page: Page, shots) -> None:
    pick_a_licence(page)
    # The look-up's own example works as it stands.
    lookup = form(page, "/sources/lookup")
    query = lookup.get_by_label("DATA.GOV.HK dataset URL or name")
    example = query.get_attribute("placeholder")
    query.fill(example)
    lookup.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("status").filter(has_text="Found")).to_contain_text("Found “Traffic speed map”")
    expect(form(page, "/sources").get_by_label("Dataset URL")).to_have_value(example)

    form(page, "/sources/lookup").get_by_label("DATA.GOV.HK dataset URL or name").fill(DATASET_NAME)
    form(page, "/sources/lookup").get_by_role("button", name="Look up").click()
    expect(page.get_by_role("status").filter(has_text="Found")).to_contain_text(f"Found “{DATASET_TITLE}”")
    source = form(page, "/sources")
    expect(source.get_by_label("Dataset title")).to_have_value(DATASET_TITLE)
    expect(source.get_by_label("Dataset URL")).to_have_value(f"https://data.gov.hk/en-data/dataset/{DATASET_NAME}")
    expect(source.get_by_label("Publisher")).to_have_value("Transport Department")
    expect(source.get_by_label("Licence", exact=True)).to_have_value("LicenseRef-DATA.GOV.HK-Terms")
    expect(source.get_by_label("Attribution text")).to_contain_text("Source: DATA.GOV.HK (Transport Department)")
    source.get_by_role("button", name="Add source").click()
    expect(flash(page)).to_have_text("Source added.")
    expect(page.locator("#sources table")).to_contain_text(DATASET_TITLE)
    assert complete_steps(page) == ["Details", "Sources"]
    shots("2-sources")


def upload(page: Page, kind: str, held: bool = False) -> None:
    """Upload the sample file; ``held``: keep the request waiting to see the disabled button and the progress."""
    uploader = form(page, "/assets")
    uploader.get_by_label("Kind").select_option(label=kind)
    uploader.get_by_label("File").set_input_files(SAMPLE_FILE)
    waiting = []
    if held:
        page.route("**/versions/1/assets", lambda route: waiting.append(route))
    uploader.get_by_role("button", name="Upload").click()
    if held:
        button = form(page, "/assets").get_by_role("button", name="Upload")
        expect(button).to_be_disabled()
        progress = form(page, "/assets").locator(".upload-progress")
        expect(progress).to_be_visible()
        expect(progress.get_by_role("status")).to_contain_text(re.compile("Sending…|Sent. Storing"))
        for _ in range(100):  # the route's handler runs while Playwright waits
            if waiting:
                break
            page.wait_for_timeout(50)
        assert len(waiting) == 1
        waiting[0].continue_()
        page.unroute("**/versions/1/assets")
    expect(flash(page)).to_have_text(f"Uploaded {SAMPLE_FILE.name} ({kind.lower()}).")
    expect(page).to_have_url(re.compile(r"/versions/1/files$"))
    expect(form(page, "/assets").get_by_role("button", name="Upload")).to_be_enabled()


def too_large(page: Page, limit: int) -> None:
    """A file over the limit is refused in the browser before a byte is sent."""
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    uploader = form(page, "/assets")
    uploader.get_by_label("File").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv", "buffer": b"x" * (limit + 1)})
    uploader.get_by_role("button", name="Upload").click()
    expect(uploader.locator(".upload-progress").get_by_role("status")).to_have_text(
        "The file is too large: the upload limit is 1.0 MiB. Nothing was stored.")
    expect(uploader.get_by_role("button", name="Upload")).to_be_enabled()
    assert posts == []
    uploader.get_by_label("File").set_input_files([])


def infer_dictionary(page: Page, shots) -> None:
    page.locator("#dictionary").get_by_role("button", name=SAMPLE_FILE.name).first.click()
    expect(page.get_by_role("status").filter(has_text="Proposed")).to_contain_text(
        f"fields from {SAMPLE_FILE.name}. Review them, then save the dictionary.")
    dictionary = page.locator("#dictionary")
    names = dictionary.get_by_label("Field name")
    header = SAMPLE_FILE.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    # The proposed rows, then the blank rows to add more.
    expect(names.first).to_have_value(header[0])  # no byte-order mark in the first name
    for i, column in enumerate(header):
        expect(names.nth(i)).to_have_value(column)
    latitude_row = dictionary.locator("tbody tr").filter(has=page.locator("input[value=Latitude]"))
    expect(latitude_row.get_by_label("Type")).to_have_value("number")
    dictionary.get_by_role("button", name="Save dictionary").click()
    expect(flash(page)).to_have_text(f"Data dictionary saved ({len(header)} fields).")
    expect(page.locator("#dictionary h2 .count")).to_have_text(str(len(header)))
    shots("4-dictionary")


def fill_plan(plan, name: str, price: str) -> None:
    plan.get_by_label("Plan name").fill(name)
    plan.get_by_label("Kind").select_option(label="One time")
    plan.get_by_label("Price").fill(price)
    plan.get_by_label("Currency").select_option("HKD")
    plan.get_by_label("Research", exact=True).check()
    plan.get_by_label("Internal analysis", exact=True).check()
    plan.get_by_label("Resale", exact=True).check()
    plan.get_by_label("Territory").select_option(label="Hong Kong")
    plan.get_by_label("Duration (days)").fill("365")


def add_plan(page: Page, shots) -> None:
    """The input typed into the plan form is never lost: not when the dictionary is saved meanwhile (another page
    now), not when the plan itself is refused."""
    step(page, "Pricing plans")
    expect(form(page, "/dictionary")).to_have_count(0)  # the plans step holds only its own forms
    plan = form(page, "/plans")
    fill_plan(plan, "Research licence", "12.345")

    # The dictionary saved meanwhile, as the seller would in another tab: the typed plan stays as typed.
    other = page.context.new_page()
    other.goto(page.url.rsplit("/", 1)[0] + "/dictionary")
    expect(form(other, "/plans")).to_have_count(0)
    form(other, "/dictionary").get_by_role("button", name="Save dictionary").click()
    expect(flash(other)).to_contain_text("Data dictionary saved")
    other.close()
    expect(plan.get_by_label("Plan name")).to_have_value("Research licence")
    expect(plan.get_by_label("Price")).to_have_value("12.345")

    # A refused plan comes back with the message and every field as typed.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/plans")) as sent:
        plan.get_by_role("button", name="Add plan").click()
    assert sent.value.status == 422
    plan = form(page, "/plans")
    expect(plan.locator(".field.has-error")).to_contain_text("At most two decimal places")
    expect(plan.get_by_label("Plan name")).to_have_value("Research licence")
    expect(plan.get_by_label("Price")).to_have_value("12.345")
    expect(plan.get_by_label("Research", exact=True)).to_be_checked()
    expect(plan.get_by_label("Resale", exact=True)).to_be_checked()
    expect(plan.get_by_label("Duration (days)")).to_have_value("365")
    shots("5-plans-refused")

    plan.get_by_label("Price").fill("1200.00")
    plan.get_by_role("button", name="Add plan").click()
    expect(flash(page)).to_have_text("Pricing plan added.")
    plans = page.locator("#plans")
    expect(plans.locator("article")).to_have_count(1)
    expect(plans.locator("article")).to_contain_text("HK$1,200.00, paid once")
    expect(plans.locator("article")).to_contain_text("May be used for: internal analysis, research.")
    shots("5-plans")


def fill_compliance(page: Page, shots) -> None:
    step(page, "Compliance")
    compliance = form(page, "/compliance")
    compliance.get_by_label("Personal information").select_option(label="None")
    compliance.get_by_label("Data classification (GB/T 43697-2024)").select_option(label="General")
    compliance.get_by_label("How the sources were lawfully obtained").fill(
        "Downloaded from DATA.GOV.HK under its terms of use.")
    compliance.get_by_label("No", exact=True).check()
    compliance.get_by_label("Legal basis").fill("DATA.GOV.HK Terms and Conditions of Use")
    compliance.get_by_label("I attest that this compliance profile is true and complete.").check()
    expect(compliance.get_by_label("Attested by (full name)")).to_have_value(SELLER_NAME)
    shots("6-compliance")
    compliance.get_by_role("button", name="Save compliance profile").click()
    expect(flash(page)).to_have_text("Compliance profile saved and attested.")
    # On to the last step, every step before it complete.
    expect(page.locator(".editor-steps [aria-current=step]")).to_contain_text("Review and submit")
    assert complete_steps(page) == ["Details", "Sources", "Files", "Data dictionary", "Pricing plans", "Compliance"]
    step(page, "Compliance")
    expect(page.locator("#compliance")).to_contain_text(f"Attested by {SELLER_NAME}")


def edit_details(page: Page, shots) -> None:
    step(page, "Details")
    expect(page.get_by_label("Title (English)")).to_have_value(TITLE_EN)
    expect(page.get_by_label("Description (English)")).to_have_value(DESCRIPTION_EN)
    shots("1-details")
    page.get_by_label("Title (English)").fill(TITLE_EN_EDITED)
    page.get_by_role("button", name="Save details").click()
    expect(flash(page)).to_have_text("Details saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE_EN_EDITED)
    expect(page.locator("p.lead[lang|=zh]")).to_have_text(TITLE_ZH)  # the untouched fields are kept


def submit_for_review(page: Page, shots) -> None:
    step(page, "Review and submit")
    checklist = page.locator("#submit")
    expect(checklist.get_by_label("incomplete")).to_have_count(0)
    expect(checklist.get_by_label("complete", exact=True)).to_have_count(6)
    shots("7-review-and-submit")
    checklist.get_by_role("button", name="Submit v1.0 for review").click()
    expect(flash(page)).to_have_text("Version 1.0 submitted for compliance review. It is read-only now.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · submitted")
    expect(page.locator(".notice-warning")).to_contain_text("Version 1.0 is submitted and read-only.")
    expect(page.locator("#submit")).to_contain_text("Submitted ")
    # Read-only now, on every step: no edit link, no forms but the log-out button's.
    for title in ("Review and submit", "Details", "Sources", "Files", "Data dictionary", "Pricing plans",
                  "Compliance"):
        step(page, title)
        expect(page.get_by_role("link", name="Edit")).to_have_count(0)
        expect(page.get_by_role("button", name=re.compile("Submit v"))).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)
        expect(page.get_by_role("button", name=re.compile("Infer|Delete|Remove|Save|Add|Upload|Look up"))
               ).to_have_count(0)
    step(page, "Review and submit")


def test_seller_creates_edits_uploads_to_and_submits_a_product(page: Page, live_server, artifacts):
    def shots(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
        page.screenshot(path=artifacts / f"seller-{name}.png", full_page=True)

    log_in(page)
    create_product(page, shots)
    add_source_from_lookup(page, shots)
    page.get_by_role("link", name="Next: Files").click()
    upload(page, "Sample", held=True)
    upload(page, "Deliverable")
    expect(page.locator("#files tbody tr")).to_have_count(2)
    too_large(page, live_server.app.config["MAX_UPLOAD_BYTES"])
    shots("3-files")
    step(page, "Data dictionary")
    infer_dictionary(page, shots)
    add_plan(page, shots)
    fill_compliance(page, shots)
    edit_details(page, shots)
    submit_for_review(page, shots)
    check_overview(page)  # the Markdown still renders on the read-only page
    shots("8-submitted")

    # What the browser did is what the database holds.
    digest = hashlib.sha256(SAMPLE_FILE.read_bytes()).hexdigest()
    with live_server.app.app_context():
        product = db.session.scalars(select(DataProduct).where(DataProduct.slug == SLUG)).one()
        version = product.latest_version
        assert product.organization.name == SELLER_ORGANIZATION
        assert version.status == "submitted" and version.submitted_at is not None
        assert version.title_en == TITLE_EN_EDITED and version.title_zh == TITLE_ZH
        # Browsers submit a textarea's line breaks as CRLF (HTML spec); the text is otherwise as typed.
        assert version.description_en.replace("\r\n", "\n") == DESCRIPTION_EN
        assert version.tags == ["traffic", "交通", "detectors"]
        assert version.regions == ["hong_kong"] and version.formats == ["CSV"]
        assert [(s.external_id, s.licence_id) for s in version.sources] == [
            (DATASET_NAME, "LicenseRef-DATA.GOV.HK-Terms")]
        assert len(version.assets) >= 2
        assert sorted(a.kind for a in version.assets) == ["deliverable", "sample"]
        assert all(a.sha256 == digest and a.size == SAMPLE_FILE.stat().st_size for a in version.assets)
        assert [f.name for f in version.fields][:2] == ["AID_ID_Number", "District"]
        [plan] = version.plans
        assert (plan.kind, plan.amount, plan.currency) == ("one_time", 120000, "HKD")
        assert version.attested_by_name == SELLER_NAME and version.attested_at is not None
        db.session.remove()


def test_without_javascript_the_steps_still_work(browser, live_server, artifacts):
    """Progressive enhancement: with scripts off, the licence picker is a plain select with the open-data licences
    first, and a file uploads by a plain post."""
    from marketplace.accounts.models import User
    from marketplace.listings.services import create_product

    with live_server.app.app_context():
        seller = db.session.scalars(select(User).where(User.email == SELLER_EMAIL)).one()
        product = create_product(db.session, seller, seller.memberships[0].organization,
                                 {"title_en": "Scripts off"})
        db.session.commit()
        url = f"/seller/products/{product.id}/versions/1"
        db.session.remove()
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page)
        page.goto(url + "/sources")
        expect(page.get_by_label("Search all licences")).to_have_count(0)
        picker = page.get_by_label("Licence", exact=True)
        expect(picker.locator("optgroup").first).to_have_attribute("label", "Open-data licences")
        expect(picker.locator("optgroup").first.locator("option").first).to_have_text(
            "Creative Commons Attribution 4.0 International (CC-BY-4.0)")
        picker.select_option("MIT")  # the rest is in the second group
        expect(picker).to_have_value("MIT")

        page.goto(url + "/files")
        uploader = form(page, "/assets")
        uploader.get_by_label("Kind").select_option(label="Sample")
        uploader.get_by_label("File").set_input_files(SAMPLE_FILE)
        uploader.get_by_role("button", name="Upload").click()
        expect(flash(page)).to_have_text(f"Uploaded {SAMPLE_FILE.name} (sample).")
        expect(page.locator("#files tbody tr")).to_have_count(1)
        page.screenshot(path=artifacts / "seller-files-without-javascript.png", full_page=True)
    finally:
        context.close()
