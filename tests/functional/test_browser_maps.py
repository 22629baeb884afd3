"""In a real browser, on the demo catalog: a GeoJSON sample and a sample with latitude/longitude columns are drawn
as maps by the vendored Leaflet, each feature an SVG path, with no request leaving the app and no CSP violation;
the column profiles and their charts sit under the preview. Screenshots are kept in test-artifacts/."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from marketplace.catalog.profile_store import AssetProfile
from marketplace.extensions import db
from marketplace.listings.models import Asset
from tests.functional.test_browser_csp import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


def _drawn_samples(server) -> dict[str, str]:
    """Product page addresses of a listed GeoJSON sample and a listed latitude/longitude sample."""
    found = {}
    with server.app.app_context():
        rows = db.session.execute(db.select(Asset, AssetProfile).join(AssetProfile, AssetProfile.asset_id == Asset.id)
                                  .where(Asset.kind == "sample")).all()
        for asset, stored in rows:
            product = asset.version.product
            if product.listed_version_id != asset.version_id or not stored.profile.get("map"):
                continue
            kind = "geojson" if stored.preview.get("kind") == "geojson" else "points"
            found.setdefault(kind, f"/products/{product.slug}?sample={asset.id}#preview")
        db.session.remove()
    return found


def _watch(page, server):
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    # A missing resource is reported by its response below (Chromium asks for /favicon.ico on its own).
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD_VIOLATIONS)
    return requests, errors


def _assert_offline(page, server, requests, errors):
    origin = urlsplit(server.url).netloc
    assert requests and all(urlsplit(url).netloc == origin for url in requests), requests
    assert page.evaluate("window.__cspViolations") == [] and errors == []


def test_a_geojson_sample_is_drawn_as_a_map_without_leaving_the_app(browsing, artifacts):
    url = _drawn_samples(browsing.server)["geojson"]
    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = _watch(page, browsing.server)

    page.goto(url)

    paths = page.locator("#product-map path.map-feature")
    expect(paths.first).to_be_visible()
    assert paths.count() >= 10  # the district outlines
    assert page.locator("#product-map img").count() == 0  # no tiles by default
    # named on its figure: the map itself holds the zoom buttons, so it is no image (nothing interactive nested)
    expect(page.locator(".product-map-figure")).to_have_attribute("aria-label", re.compile(r"Map of the sample"))
    assert page.locator("#product-map").get_attribute("role") is None
    expect(page.get_by_role("heading", name="Column profiles")).to_be_visible()
    _assert_offline(page, browsing.server, requests, errors)
    page.locator("#preview").screenshot(path=str(artifacts / "geojson-preview.png"))
    page.screenshot(path=str(artifacts / "geojson-product-page.png"), full_page=True)
    assert browsing.server_errors == []


def test_rows_with_positions_are_drawn_as_points(browsing, artifacts):
    url = _drawn_samples(browsing.server)["points"]
    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = _watch(page, browsing.server)

    page.goto(url)

    points = page.locator("#product-map path.map-point")
    expect(points.first).to_be_visible()
    assert points.count() >= 5
    histogram = page.locator(".product-profile svg.chart-histogram").first
    expect(histogram).to_be_visible()
    assert histogram.get_attribute("role") == "img" and histogram.locator("desc").count() == 1
    _assert_offline(page, browsing.server, requests, errors)
    page.locator("#preview").screenshot(path=str(artifacts / "points-preview.png"))


def test_the_map_and_profiles_read_in_hong_kong_chinese(browsing, artifacts):
    url = _drawn_samples(browsing.server)["geojson"]
    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    page.context.add_cookies([{"name": "locale", "value": "zh-Hant-HK", "url": browsing.server.url}])
    requests, errors = _watch(page, browsing.server)

    page.goto(url)

    expect(page.locator("#product-map path.map-feature").first).to_be_visible()
    expect(page.get_by_role("heading", name="欄位概況")).to_be_visible()
    _assert_offline(page, browsing.server, requests, errors)
    page.locator("#preview").screenshot(path=str(artifacts / "geojson-preview-zh-hant-hk.png"))


def test_without_script_the_page_shows_the_numbers_and_no_empty_map(browser, demo_server, artifacts):
    context = browser.new_context(base_url=demo_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(_drawn_samples(demo_server)["geojson"])
        assert page.locator(".product-map-figure").is_hidden()
        expect(page.get_by_text("Bounding box", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Column profiles")).to_be_visible()
    finally:
        context.close()
