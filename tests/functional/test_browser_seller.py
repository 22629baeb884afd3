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


def form(page: Page, action_suffix: str):
    """A form of the page by the end of its action URL (stable, unlike the visible headings)."""
    return page.locator(f"form[action$='{action_suffix}']")


def flash(page: Page):
    return page.locator(".flash-success")


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


def create_product(page: Page) -> None:
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


def add_source_from_lookup(page: Page) -> None:
    lookup = form(page, "/sources/lookup#sources")
    lookup.get_by_label("DATA.GOV.HK dataset URL or name").fill(DATASET_NAME)
    lookup.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("status").filter(has_text="Found")).to_contain_text(f"Found “{DATASET_TITLE}”")

    source = form(page, "/sources#sources")
    expect(source.get_by_label("Dataset title")).to_have_value(DATASET_TITLE)
    expect(source.get_by_label("Dataset URL")).to_have_value(f"https://data.gov.hk/en-data/dataset/{DATASET_NAME}")
    expect(source.get_by_label("Publisher")).to_have_value("Transport Department")
    expect(source.get_by_label("Licence")).to_have_value("LicenseRef-DATA.GOV.HK-Terms")
    expect(source.get_by_label("Attribution text")).to_contain_text("Source: DATA.GOV.HK (Transport Department)")
    source.get_by_role("button", name="Add source").click()
    expect(flash(page)).to_have_text("Source added.")
    expect(page.locator("#sources table")).to_contain_text(DATASET_TITLE)


def upload(page: Page, kind: str) -> None:
    uploader = form(page, "/assets#files")
    uploader.get_by_label("Kind").select_option(label=kind)
    uploader.get_by_label("File").set_input_files(SAMPLE_FILE)
    uploader.get_by_role("button", name="Upload").click()
    expect(flash(page)).to_have_text(f"Uploaded {SAMPLE_FILE.name} ({kind.lower()}).")


def infer_dictionary(page: Page) -> None:
    page.locator("#files").get_by_role("button", name="Infer dictionary").first.click()
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


def add_plan(page: Page) -> None:
    plan = form(page, "/plans#plans")
    plan.get_by_label("Plan name").fill("Research licence")
    plan.get_by_label("Kind").select_option(label="One time")
    plan.get_by_label("Price").fill("1200.00")
    plan.get_by_label("Currency").select_option("HKD")
    plan.get_by_label("Research", exact=True).check()
    plan.get_by_label("Internal analysis", exact=True).check()
    plan.get_by_label("Resale", exact=True).check()
    plan.get_by_label("Territory").select_option(label="Hong Kong")
    plan.get_by_label("Duration (days)").fill("365")
    plan.get_by_role("button", name="Add plan").click()
    expect(flash(page)).to_have_text("Pricing plan added.")
    plans = page.locator("#plans")
    expect(plans.locator("article")).to_have_count(1)
    expect(plans.locator("article")).to_contain_text("HK$1,200.00, paid once")
    expect(plans.locator("article")).to_contain_text("May be used for: internal analysis, research.")


def fill_compliance(page: Page) -> None:
    compliance = form(page, "/compliance#compliance")
    compliance.get_by_label("Personal information").select_option(label="None")
    compliance.get_by_label("Data classification (GB/T 43697-2024)").select_option(label="General")
    compliance.get_by_label("How the sources were lawfully obtained").fill(
        "Downloaded from DATA.GOV.HK under its terms of use.")
    compliance.get_by_label("No", exact=True).check()
    compliance.get_by_label("Legal basis").fill("DATA.GOV.HK Terms and Conditions of Use")
    compliance.get_by_label("I attest that this compliance profile is true and complete.").check()
    expect(compliance.get_by_label("Attested by (full name)")).to_have_value(SELLER_NAME)
    compliance.get_by_role("button", name="Save compliance profile").click()
    expect(flash(page)).to_have_text("Compliance profile saved and attested.")
    expect(page.locator("#compliance")).to_contain_text(f"Attested by {SELLER_NAME}")


def edit_overview(page: Page) -> None:
    page.locator("#overview").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit overview")).to_be_visible()
    expect(page.get_by_label("Title (English)")).to_have_value(TITLE_EN)
    expect(page.get_by_label("Description (English)")).to_have_value(DESCRIPTION_EN)
    page.get_by_label("Title (English)").fill(TITLE_EN_EDITED)
    page.get_by_role("button", name="Save overview").click()
    expect(flash(page)).to_have_text("Overview saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE_EN_EDITED)
    expect(page.locator("p.lead[lang|=zh]")).to_have_text(TITLE_ZH)  # the untouched fields are kept


def submit_for_review(page: Page) -> None:
    checklist = page.locator("#submit")
    expect(checklist.get_by_label("incomplete")).to_have_count(0)
    expect(checklist.get_by_label("complete", exact=True)).to_have_count(6)
    checklist.get_by_role("button", name="Submit v1.0 for review").click()
    expect(flash(page)).to_have_text("Version 1.0 submitted for compliance review. It is read-only now.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v1.0 · submitted")
    expect(page.locator(".notice-warning")).to_contain_text("Version 1.0 is submitted and read-only.")
    expect(page.locator("#submit")).to_contain_text("Submitted ")
    # Read-only now: no edit link, no forms but the log-out button's.
    expect(page.locator("#overview").get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Submit v"))).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Infer|Delete|Remove|Save|Add|Upload|Look up"))).to_have_count(0)


def test_seller_creates_edits_uploads_to_and_submits_a_product(page: Page, live_server, tmp_path):
    log_in(page)
    create_product(page)
    check_overview(page)
    add_source_from_lookup(page)
    upload(page, "Sample")
    upload(page, "Deliverable")
    expect(page.locator("#files tbody tr")).to_have_count(2)
    infer_dictionary(page)
    add_plan(page)
    fill_compliance(page)
    edit_overview(page)
    submit_for_review(page)
    check_overview(page)  # the Markdown still renders on the read-only page
    page.screenshot(path=tmp_path / "seller-workspace-submitted.png", full_page=True)

    # What the browser did is what the database holds.
    digest = hashlib.sha256(SAMPLE_FILE.read_bytes()).hexdigest()
    with live_server.app.app_context():
        product = db.session.scalars(select(DataProduct)).one()
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
