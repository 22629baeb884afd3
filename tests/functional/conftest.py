"""Browser tests: the app served by a LiveServer (own SQLite file, CSRF on) and driven by headless Chromium.

Playwright's own browser downloads need the internet, so the system Chromium is launched instead; the tests
are skipped only when no Chromium is installed at all.
"""
from __future__ import annotations

import shutil

import pytest

from marketplace.accounts.services import register_user
from marketplace.extensions import db
from tests.support.live import LiveServer

SELLER_EMAIL = "seller@harbour-mobility.example"
SELLER_PASSWORD = "correct horse battery staple"
SELLER_NAME = "Ada Seller"
SELLER_ORGANIZATION = "Harbour Mobility Analytics"

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# Generous for a loaded CI machine, short enough that a missing element fails fast.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app in a thread on a free loopback port, with a seller who owns one organization."""
    with LiveServer(tmp_path_factory.mktemp("live")) as live:
        with live.app.app_context():
            register_user(db.session, email=SELLER_EMAIL, password=SELLER_PASSWORD, display_name=SELLER_NAME,
                          organization_name=SELLER_ORGANIZATION)
            db.session.commit()
            db.session.remove()
        yield live


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with the live server as base URL."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
