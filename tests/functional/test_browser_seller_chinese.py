"""The seller's whole journey in a real browser in each Chinese locale: choose the language with the switcher,
create a draft (a bad input first), read the overview, add an open-data source found on DATA.GOV.HK, upload a
sample and a deliverable, infer and save the dictionary, add a plan, attest the compliance profile, edit the
overview, check the listing and submit it; then, changes requested, read the reviewer's comment and submit a new
round with a note, meeting none of the interface's English on the way.

Labels and buttons are found by the app's own translations (gettext under the locale), so a reworded translation
does not break the test; the English of each page must be absent, but for what the seller typed in English on
purpose (the English title and description) and the source's own English.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.i18n import LOCALE_NAMES
from marketplace.listings.models import ProductVersion
from marketplace.listings.states import VersionStatus
from marketplace.listings.vocab import (
    AssetKind,
    Category,
    Classification,
    DeliveryMethod,
    PermittedUse,
    PersonalInfo,
    PlanKind,
    Prohibition,
    Region,
    Territory,
    UpdateFrequency,
)
from tests.functional.conftest import SELLER_EMAIL, SELLER_NAME, SELLER_PASSWORD, log_in
from tests.functional.english import no_english, typed_content, words
from tests.functional.test_browser_seller import DATASET_NAME, DATASET_TITLE, SAMPLE_FILE, flash, form, step

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

TITLE_ZH = {"zh-Hans": "香港交通探测器位置", "zh-Hant-HK": "香港交通探測器位置"}
DESCRIPTION_ZH = {"zh-Hans": "策略性道路上**所有**交通探测器的位置。",
                  "zh-Hant-HK": "策略性道路上**所有**交通探測器的位置。"}
COLUMNS = SAMPLE_FILE.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
DESCRIPTION_EN = "Locations of **every** traffic detector on strategic roads."


class Journey:
    """One seller's walk through the workspace in locale ``tag``, checking each page for English."""

    def __init__(self, page: Page, app, tag: str, artifacts):
        self.page, self.app, self.tag, self.artifacts = page, app, tag, artifacts
        self.tr, self.label = words(app, tag)
        self.title_en = f"Hong Kong Traffic Detectors ({tag})"

    def check(self, shot: str | None = None) -> None:
        expect(self.page.locator("html")).to_have_attribute("lang", self.tag)
        # What the seller typed in English on purpose, the English the upstream source publishes and the columns
        # of the seller's file.
        allow = [self.title_en, DATASET_TITLE, SAMPLE_FILE.name, *COLUMNS, *typed_content(self.app)]
        no_english(self.page, self.tag, allow)
        if shot:
            self.page.screenshot(path=str(self.artifacts / f"{shot}-{self.tag}.png"), full_page=True)

    def step(self, title: str) -> None:
        """Open a step of the editor from its progress indicator."""
        step(self.page, self.tr(title))

    def by_label(self, scope, text: str, **values):
        return scope.get_by_label(self.tr(text, **values), exact=True)

    def button(self, scope, text: str, **values):
        return scope.get_by_role("button", name=self.tr(text, **values), exact=True)

    def create_draft(self) -> None:
        page, tr, label = self.page, self.tr, self.label
        page.get_by_role("link", name=tr("New product")).click()
        expect(page.get_by_role("heading", name=tr("New data product"))).to_be_visible()
        self.check("seller-new-product")
        self.by_label(page, "Title (Chinese)").fill(TITLE_ZH[self.tag])
        self.by_label(page, "Description (English)").fill(DESCRIPTION_EN)
        self.by_label(page, "Description (Chinese)").fill(DESCRIPTION_ZH[self.tag])
        self.by_label(page, "Category").select_option(label=label(Category.TRANSPORT))
        self.by_label(page, "Tags").fill("交通, 探测器")
        page.get_by_label(label(Region.HONG_KONG), exact=True).check()
        self.by_label(page, "Update frequency").select_option(label=label(UpdateFrequency.YEARLY))
        page.get_by_label(label(DeliveryMethod.FILE), exact=True).check()
        page.get_by_label("CSV", exact=True).check()
        # No English title: refused beside the field, in the seller's language.
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/products/new")) as sent:
            self.button(page, "Create draft").click()
        assert sent.value.status == 422
        expect(page.locator(".field.has-error")).to_contain_text(tr("An English title is required."))
        expect(self.by_label(page, "Title (Chinese)")).to_have_value(TITLE_ZH[self.tag])
        self.check("seller-new-product-refused")
        self.by_label(page, "Title (English)").fill(self.title_en)
        self.button(page, "Create draft").click()
        expect(flash(page)).to_have_text(tr("Draft “%(title)s” created. Add its sources, dictionary, files and "
                                            "plans.", title=TITLE_ZH[self.tag]))  # the reader's language first
        expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE_ZH[self.tag])
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('draft')}")
        expect(page.locator(".editor-steps [aria-current=step]")).to_contain_text(tr("Sources"))
        self.check("seller-draft")

    def overview(self) -> None:
        self.step("Review and submit")
        overview = self.page.locator("#overview")
        expect(overview.locator(".prose[lang|=zh] strong")).to_have_text("所有")
        expect(overview.locator(".prose[lang=en] strong")).to_have_text("every")
        expect(overview).to_contain_text(self.label(Category.TRANSPORT))
        expect(overview).to_contain_text(self.label(Region.HONG_KONG))
        expect(overview).to_contain_text(self.label(UpdateFrequency.YEARLY))

    def add_source(self) -> None:
        page, tr = self.page, self.tr
        self.step("Sources")
        lookup = form(page, "/sources/lookup")
        self.by_label(lookup, "DATA.GOV.HK dataset URL or name").fill(DATASET_NAME)
        self.button(lookup, "Look up").click()
        found = tr("Found “%(title)s”. Review the details below, then add the source.", title=DATASET_TITLE)
        expect(page.get_by_role("status").filter(has_text=DATASET_TITLE)).to_have_text(found)
        self.check()
        source = form(page, "/sources")
        expect(self.by_label(source, "Dataset title")).to_have_value(DATASET_TITLE)
        self.button(source, "Add source").click()
        expect(flash(page)).to_have_text(tr("Source added."))
        expect(page.locator("#sources table")).to_contain_text(DATASET_TITLE)
        self.check("seller-step-sources")

    def upload(self, kind: AssetKind) -> None:
        page, tr = self.page, self.tr
        self.step("Files")
        uploader = form(page, "/assets")
        self.by_label(uploader, "Kind").select_option(label=self.label(kind))
        self.by_label(uploader, "File").set_input_files(SAMPLE_FILE)
        self.button(uploader, "Upload").click()
        expect(flash(page)).to_have_text(tr("Uploaded %(name)s (%(kind)s).", name=SAMPLE_FILE.name,
                                            kind=tr(kind.value)))
        self.check(f"seller-step-files-{kind.value}")

    def infer_dictionary(self) -> None:
        page, tr = self.page, self.tr
        self.step("Data dictionary")
        page.locator("#dictionary").get_by_role("button", name=SAMPLE_FILE.name).first.click()
        header = SAMPLE_FILE.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        expect(page.locator(".notice-info[role=status]")).to_contain_text(SAMPLE_FILE.name)
        expect(page.locator("#dictionary").get_by_label(tr("Field name"), exact=True).first).to_have_value(header[0])
        self.check("seller-dictionary-proposed")
        self.button(page.locator("#dictionary"), "Save dictionary").click()
        expect(flash(page)).to_be_visible()
        expect(page.locator("#dictionary h2 .count")).to_have_text(str(len(header)))
        self.check("seller-step-dictionary")

    def add_plan(self) -> None:
        page, tr, label = self.page, self.tr, self.label
        self.step("Pricing plans")
        plan = form(page, "/plans")
        self.by_label(plan, "Plan name").fill("研究许可" if self.tag == "zh-Hans" else "研究許可")
        self.by_label(plan, "Kind").select_option(label=label(PlanKind.ONE_TIME))
        self.by_label(plan, "Price").fill("1200.00")
        self.by_label(plan, "Currency").select_option("HKD")
        for use in (PermittedUse.RESEARCH, PermittedUse.INTERNAL_ANALYSIS):
            plan.get_by_label(label(use), exact=True).check()
        plan.get_by_label(label(Prohibition.RESALE), exact=True).check()
        self.by_label(plan, "Territory").select_option(label=label(Territory.HONG_KONG))
        self.by_label(plan, "Duration (days)").fill("365")
        self.button(plan, "Add plan").click()
        expect(flash(page)).to_have_text(tr("Pricing plan added."))
        expect(page.locator("#plans article")).to_have_count(1)
        self.check("seller-plan")

    def compliance(self) -> None:
        page, tr, label = self.page, self.tr, self.label
        self.step("Compliance")
        profile = form(page, "/compliance")
        self.by_label(profile, "Personal information").select_option(label=label(PersonalInfo.NONE))
        self.by_label(profile, "Data classification (GB/T 43697-2024)").select_option(
            label=label(Classification.GENERAL))
        self.by_label(profile, "How the sources were lawfully obtained").fill("按 DATA.GOV.HK 使用条款下载。")
        self.by_label(profile, "No").check()
        self.by_label(profile, "Legal basis").fill("DATA.GOV.HK 使用条款")
        self.by_label(profile, "I attest that this compliance profile is true and complete.").check()
        expect(self.by_label(profile, "Attested by (full name)")).to_have_value(SELLER_NAME)
        self.button(profile, "Save compliance profile").click()
        expect(flash(page)).to_have_text(tr("Compliance profile saved and attested."))
        # On to the last step, every step before it complete.
        expect(page.locator(".editor-steps [aria-current=step]")).to_contain_text(tr("Review and submit"))
        expect(page.locator(".editor-steps li.is-complete")).to_have_count(6)
        self.check("seller-compliance")

    def edit_details(self) -> None:
        page, tr = self.page, self.tr
        self.step("Review and submit")
        page.locator("#overview").get_by_role("link", name=tr("Edit")).click()
        expect(page.get_by_role("heading", name=tr("Details"))).to_be_visible()
        self.check("seller-step-details")
        self.by_label(page, "Tags").fill("交通, 探测器, 策略性道路")
        self.button(page, "Save details").click()
        expect(flash(page)).to_have_text(tr("Details saved."))
        self.check()

    def check_listing(self) -> None:
        page, tr = self.page, self.tr
        self.step("Review and submit")
        page.get_by_role("button", name=tr("Check my listing")).click()
        prescreen = page.locator("#prescreen")
        expect(prescreen.get_by_role("heading", name=tr("Pre-screen of v%(label)s", label="1.0"))).to_be_visible()
        expect(prescreen.locator(".prescreen-item").first).to_be_visible()
        self.check("seller-prescreen")

    def submit(self) -> None:
        page, tr = self.page, self.tr
        checklist = page.locator("#submit")
        expect(checklist.get_by_label(tr("incomplete"), exact=True)).to_have_count(0)
        expect(checklist.get_by_label(tr("complete"), exact=True)).to_have_count(6)
        self.check("seller-ready")
        self.button(checklist, "Submit v%(label)s for review", label="1.0").click()
        expect(flash(page)).to_have_text(tr("Version %(label)s submitted for compliance review. It is read-only now.",
                                            label="1.0"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('submitted')}")
        expect(page.locator("main form")).to_have_count(0)
        self.overview()
        self.check("seller-submitted")


REVIEWER_EMAIL = "reviewer@harbour-mobility.example"


def request_changes(app, title_en: str, comment: str) -> None:
    """A compliance reviewer claims the submitted version and sends it back with ``comment``."""
    from marketplace.accounts.models import PlatformRole, User
    from marketplace.accounts.services import register_user
    from marketplace.review import services as review

    with app.app_context():
        session = db.session
        reviewer = session.scalars(select(User).where(User.email == REVIEWER_EMAIL)).one_or_none()
        if reviewer is None:
            reviewer = register_user(session, email=REVIEWER_EMAIL, password=SELLER_PASSWORD,
                                     display_name="李審核", email_verified=True)
            reviewer.platform_role = PlatformRole.REVIEWER
        version = session.scalars(select(ProductVersion).where(ProductVersion.title_en == title_en)).one()
        case = review.case_for_version(session, version)
        review.claim_case(session, reviewer, case)
        review.request_changes(session, reviewer, case, comment)
        session.commit()
        session.remove()


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_seller_journey_in_chinese(page: Page, live_server, artifacts, tag):
    log_in(page, SELLER_EMAIL, SELLER_PASSWORD)
    page.get_by_role("button", name=LOCALE_NAMES[tag]).click()  # saved to the seller's account
    journey = Journey(page, live_server.app, tag, artifacts)
    expect(page.get_by_role("heading", name=journey.tr("My data products"))).to_be_visible()
    journey.check("seller-dashboard")
    journey.create_draft()
    journey.overview()
    journey.add_source()
    journey.upload(AssetKind.SAMPLE)
    journey.upload(AssetKind.DELIVERABLE)
    journey.infer_dictionary()
    journey.add_plan()
    journey.compliance()
    journey.edit_details()
    journey.check_listing()
    journey.submit()
    page.goto("/seller/")
    expect(page.locator("main")).to_contain_text(journey.title_en)
    journey.check("seller-dashboard-submitted")

    # The reviewer asks for changes: the seller reads them and submits a new round with a note.
    comment = "请在来源中说明使用的是哪一年的数据。" if tag == "zh-Hans" else "請在來源中說明使用的是哪一年的數據。"
    request_changes(live_server.app, journey.title_en, comment)
    page.get_by_role("link", name=journey.title_en).first.click()
    tr = journey.tr
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('changes requested')}")
    expect(page.locator("#review .review-comment")).to_contain_text([comment])
    # The requested changes head every step, and nothing says all is in place.
    banner = page.locator(".changes-requested")
    expect(banner).to_contain_text(tr("The reviewer asked for changes"))
    expect(banner.locator(".requested-comment")).to_have_text(comment)
    expect(page.locator("main")).not_to_contain_text(tr("Everything is in place. After submission this version is "
                                                         "read-only while a compliance reviewer checks it."))
    journey.check("seller-changes-requested")
    journey.step("Sources")
    expect(page.locator(".changes-requested .requested-comment")).to_have_text(comment)
    journey.check("seller-changes-requested-sources")
    journey.step("Review and submit")
    submit = page.locator("#submit")
    journey.by_label(submit, "Note for the reviewer").fill("已在来源中注明数据年份。")
    journey.button(submit, "Submit v%(label)s for review", label="1.0").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v1.0 · {tr('submitted')}")
    expect(page.locator("#review")).to_contain_text(tr("Round %(number)s", number=2))
    expect(page.locator("#review")).to_contain_text("已在来源中注明数据年份。")
    journey.check("seller-new-round")

    with live_server.app.app_context():
        version = db.session.scalars(select(ProductVersion).where(ProductVersion.title_en == journey.title_en)).one()
        assert version.status == VersionStatus.SUBMITTED and version.title_zh == TITLE_ZH[tag]
        assert version.tags == ["交通", "探测器", "策略性道路"] and len(version.plans) == 1
        db.session.remove()
    assert re.search(r"/seller/", page.url)
