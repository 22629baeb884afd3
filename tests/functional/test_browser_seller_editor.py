"""The seller's editor in a real browser for a seller who types what they like: the licence search never chooses
for them, and no step scrolls sideways on a phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from tests.functional.conftest import SELLER_EMAIL
from tests.functional.test_browser_seller import form, log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


@pytest.fixture(scope="module")
def draft_url(live_server):
    from marketplace.accounts.models import User
    from marketplace.listings.services import create_product

    with live_server.app.app_context():
        seller = db.session.scalars(select(User).where(User.email == SELLER_EMAIL)).one()
        product = create_product(db.session, seller, seller.memberships[0].organization,
                                 {"title_en": "Typed by hand"})
        db.session.commit()
        url = f"/seller/products/{product.id}/versions/1"
        db.session.remove()
    return url


def chosen(page: Page) -> str:
    return page.get_by_label("Licence", exact=True).input_value()


def test_the_licence_search_never_chooses_for_the_seller(page: Page, live_server, draft_url):
    log_in(page)
    page.goto(draft_url + "/sources")
    search = page.get_by_label("Search all licences")
    assert chosen(page) == ""
    for query in ("MIT", "gpl", "xyzzy"):
        search.fill(query)
        assert chosen(page) == "", query
    expect(page.locator(".licence-filter-none")).to_have_text("No licence matches this search.")

    source = form(page, "/sources")
    source.get_by_label("Dataset title").fill("Road network")
    source.get_by_label("Dataset URL").fill("https://data.gov.hk/en-data/dataset/road-network")
    source.get_by_role("button", name="Add source").click()
    expect(page.locator("#add-source")).to_contain_text("Choose a licence")
    expect(form(page, "/sources").get_by_label("Dataset title")).to_have_value("Road network")
    expect(page.locator("#sources table")).to_have_count(0)

    # A licence the seller picks from the search's matches is the one saved.
    page.get_by_label("Search all licences").fill("MIT")
    page.get_by_label("Licence", exact=True).select_option("MIT")
    form(page, "/sources").get_by_role("button", name="Add source").click()
    expect(page.locator("#sources table")).to_contain_text("MIT")
