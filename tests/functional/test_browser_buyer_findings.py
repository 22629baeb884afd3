"""In a real browser on the demo catalog, what a first-time buyer met: on a phone a long download button's file
name wraps instead of widening the order page; a licence with an end names the period its renewal buys; the
notifications written in English at the demo's load read in Chinese once the buyer switches language, with an
introduction that speaks to buyers too. Screenshots go to test-artifacts/<test name>/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.i18n import LOCALE_NAMES
from tests.functional.conftest import log_in
from tests.functional.english import no_english, typed_content
from tests.functional.test_browser_roles import BUYER, PHONE, _held

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_order_page_fits_a_phone_and_renewal_names_its_period(browsing, demo_server, artifacts):
    free = _held(demo_server)["free"]
    page = browsing.new_page(viewport=PHONE)
    log_in(page, *BUYER)
    page.goto(f"/orders/{free['order']}")
    button = page.locator("#downloads").get_by_role("link", name=re.compile(r"^Download ")).first
    expect(button).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "the order page scrolls sideways on a phone"
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=str(artifacts / "order-on-a-phone.png"), full_page=True)

    page.goto(f"/licences/{free['licence']}")
    expect(page.locator("#renew .renewal-period")).to_contain_text(re.compile(r"for the period .+ to .+\."))
    expect(page.locator("#renew").get_by_role("button", name=re.compile(r"^Renew for .+ to .+"))).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=str(artifacts / "renewal-period.png"), full_page=True)
    assert browsing.server_errors == []


@pytest.mark.parametrize("tag", ["zh-Hant-HK"])
def test_notifications_read_in_the_language_chosen_later(browsing, demo_server, artifacts, tag):
    page = browsing.new_page()
    log_in(page, *BUYER)
    page.goto("/notifications/")
    expect(page.locator("main")).to_contain_text("orders, licences, requests and products")
    english_subjects = page.locator(".notifications h2").all_inner_texts()
    assert english_subjects
    page.get_by_role("button", name=LOCALE_NAMES[tag]).click()
    page.goto("/notifications/")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    assert page.locator(".notifications h2").all_inner_texts() != english_subjects
    no_english(page, tag, allow=typed_content(demo_server.app))
    page.screenshot(path=str(artifacts / "notifications-in-chinese.png"), full_page=True)
    page.get_by_role("button", name=LOCALE_NAMES["en"]).click()  # the demo buyer reads English again
    assert browsing.server_errors == []
