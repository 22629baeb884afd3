"""The demo buyer's whole journey in a real browser in each Chinese locale: choose the language with the switcher,
license a product, pay at the simulated checkout (a declined card first), download the file, open the certificate,
and meet none of the interface's English on the way.

The words the test looks for come from the app's own catalogs (gettext under the locale), so a reworded
translation does not break it, but an untranslated string does: the English of each step must be absent.
"""
from __future__ import annotations

import hashlib
import re
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.i18n import LOCALE_NAMES
from marketplace.listings.vocab import PermittedUse, Territory
from tests.functional.conftest import log_in
from tests.functional.english import no_english, typed_content, words
from tests.functional.test_browser_buyer import BUYER, _offer

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_buyer_journey_in_chinese(browsing, demo_server, tmp_path, tag):
    app = demo_server.app
    tr, label = words(app, tag)
    offer = _offer(app)
    check = partial(no_english, tag=tag, allow=typed_content(app))
    page = browsing.new_page(accept_downloads=True)
    errors = browsing.server_errors
    log_in(page, *BUYER)
    page.get_by_role("button", name=LOCALE_NAMES[tag]).click()  # saved to the buyer's account
    expect(page.locator("html")).to_have_attribute("lang", tag)

    page.goto(f"/products/{offer['slug']}")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    check(page)
    page.locator(f"a[href='/products/{offer['slug']}/plans/{offer['plan_id']}/license']").first.click()

    page.get_by_label(tr("Purpose"), exact=True).select_option(label=label(PermittedUse.INTERNAL_ANALYSIS))
    page.get_by_label(tr("Sector"), exact=True).select_option("logistics")
    territory = Territory.HONG_KONG if offer["territory"] == "Hong Kong" else next(
        t for t in Territory if t.label_en == offer["territory"])
    page.get_by_label(tr("Territory of use"), exact=True).select_option(label=label(territory))
    page.get_by_label(tr("Expected users"), exact=True).fill("8")
    scenario = "每周为本公司的货运团队规划送货路线，并评估各区交通对准时送达的影响。"
    page.get_by_label(tr("Describe the use"), exact=True).fill(scenario)
    check(page)
    accept = tr("I accept the licence terms of this plan on behalf of the organization.")
    page.get_by_label(accept, exact=True).check()
    page.get_by_role("button", name=tr("Request licence")).click()

    expect(page.get_by_text(tr("Awaiting payment")).first).to_be_visible()
    check(page)
    pay = re.compile("^" + re.escape(tr("Pay %(amount)s", amount="@@")).replace("@@", ".+") + "$")
    page.get_by_role("button", name=pay).click()

    expect(page.get_by_text(tr("Simulated checkout"))).to_be_visible()
    check(page)
    page.get_by_label(tr("Card number"), exact=True).fill("4000 0000 0000 0002")
    page.get_by_role("button", name=pay).click()
    expect(page.get_by_text(tr("Your card was declined.")).first).to_be_visible()
    check(page)
    page.get_by_label(tr("Card number"), exact=True).fill("4242 4242 4242 4242")
    page.get_by_role("button", name=pay).click()
    expect(page.get_by_text(tr("Payment received, licence issued.")).first).to_be_visible()
    check(page)

    page.goto("/licences")
    check(page)
    filename, sha256 = next(iter(offer["files"].items()))
    with page.expect_download() as download:
        page.get_by_role("link", name=filename).first.click()
    saved = tmp_path / filename
    download.value.save_as(saved)
    assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == sha256

    serial = page.locator("a[href^='/certificates/LIC-']").first.inner_text().strip()
    page.goto(f"/certificates/{serial}")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    expect(page.get_by_text(serial).first).to_be_visible()
    check(page)
    page.screenshot(path=str(tmp_path / f"certificate-{tag}.png"), full_page=True)
    assert errors == []
