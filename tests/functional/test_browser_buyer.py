"""End to end in a real browser: the demo buyer licenses a product, pays at the simulated checkout (a declined
card first, then a good one), downloads the licensed file and opens its certificate.

The app runs in a LiveServer of its own (SQLite file, CSRF on) with the demo catalog loaded. Headless Chromium
drives the pages by the labels and button names a person sees.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.listings.models import Asset, DataProduct, PricingPlan
from marketplace.listings.states import ProductStatus
from marketplace.listings.vocab import AssetKind, PermittedUse, PlanKind, Territory
from marketplace.orders.models import Order
from tests.functional.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BUYER = ("buyer@demo.exchange", "demo-buyer-pass")


def _offer(app):
    """A listed one-time plan the demo buyer has not ordered, with the product's deliverable files."""
    with app.app_context():
        session = db.session
        ordered = set(session.scalars(select(Order.plan_id)))
        plan = session.scalars(
            select(PricingPlan).join(DataProduct, DataProduct.listed_version_id == PricingPlan.version_id)
            .where(DataProduct.status == ProductStatus.LISTED, PricingPlan.kind == PlanKind.ONE_TIME,
                   PricingPlan.requires_approval.is_(False), PricingPlan.licence_cap.is_(None))
            .order_by(PricingPlan.id.desc())
        ).all()
        plan = next(p for p in plan if p.id not in ordered and "internal_analysis" in p.permitted_uses)
        product = plan.version.product
        files = {a.filename: a.sha256 for a in session.scalars(
            select(Asset).where(Asset.version_id == plan.version_id, Asset.kind == AssetKind.DELIVERABLE))}
        offer = {"slug": product.slug, "plan_id": plan.id, "plan": plan.name, "files": files,
                 "territory": Territory(str(plan.territory)).label if str(plan.territory) != "worldwide"
                 else "Hong Kong"}
        db.session.remove()
        return offer


def test_the_demo_buyer_licenses_pays_downloads_and_shows_the_certificate(browsing, demo_server, tmp_path):
    offer = _offer(demo_server.app)
    assert offer["files"], "the plan's version must have a deliverable to download"
    page = browsing.new_page(accept_downloads=True)
    errors = browsing.server_errors
    log_in(page, *BUYER)

    page.goto(f"/products/{offer['slug']}")
    page.locator(f"a[href='/products/{offer['slug']}/plans/{offer['plan_id']}/license']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("License")

    page.get_by_label("Purpose").select_option(label=PermittedUse.INTERNAL_ANALYSIS.label)
    page.get_by_label("Sector").select_option("logistics")
    page.get_by_label("Territory of use").select_option(label=offer["territory"])
    page.get_by_label("Expected users").fill("8")
    page.get_by_label("Describe the use").fill("Weekly planning of delivery routes for our freight team.")
    page.get_by_label(re.compile("I accept the licence terms")).check()
    page.get_by_role("button", name="Request licence").click()

    expect(page.get_by_text("Awaiting payment").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page.get_by_text("Simulated checkout")).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_text("Your card was declined.").first).to_be_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_text("Payment received, licence issued").first).to_be_visible()

    page.goto("/licences")
    filename, sha256 = next(iter(offer["files"].items()))
    with page.expect_download() as download:
        page.get_by_role("link", name=filename).first.click()
    saved = tmp_path / filename
    download.value.save_as(saved)
    assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == sha256

    serial = page.locator("a[href^='/certificates/LIC-']").first.inner_text().strip()
    page.goto(f"/certificates/{serial}")
    expect(page.get_by_text(serial).first).to_be_visible()
    expect(page.get_by_text("Active").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "certificate.png"), full_page=True)
    assert errors == []
