"""Browser tests: the app served by a LiveServer (own SQLite file, CSRF on) and driven by headless Chromium.

Playwright's own browser downloads need the internet, so the system Chromium is launched instead; the tests
are skipped only when no Chromium is installed at all.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from marketplace.accounts.services import register_user
from marketplace.demo import load_demo
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
                          organization_name=SELLER_ORGANIZATION, email_verified=True)
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


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A live server of the test module's own with the demo catalog loaded (accounts, organizations, 30 products)."""
    with LiveServer(tmp_path_factory.mktemp("live-demo")) as live:
        with live.app.app_context():
            load_demo(db.session, live.app.extensions["storage"])
            db.session.commit()
            db.session.remove()
        yield live


class Browsing:
    """Fresh browser contexts (no cookies) on the demo server; every response of 500 or more is recorded."""

    def __init__(self, browser, server: LiveServer):
        self.browser, self.server = browser, server
        self.contexts = []
        self.server_errors: list[str] = []

    def new_page(self, **options):
        context = self.browser.new_context(base_url=self.server.url, locale="en-GB", **options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("response", lambda r: self.server_errors.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 500 else None)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, demo_server):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    browsing = Browsing(browser, demo_server)
    try:
        yield browsing
    finally:
        browsing.close()


def log_in(page, email: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # After log-in the pages speak the user's saved language, so the log-out button is found by its form.
    expect(page.locator("form[action='/logout'] button", has_text=email)).to_be_visible()


@pytest.fixture
def artifacts(request) -> Path:
    """The folder kept after the run for this test's screenshots: test-artifacts/<test name>/ (gitignored)."""
    folder = Path(request.config.rootpath) / "test-artifacts" / re.sub(r"[^\w.\-\[\]]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
