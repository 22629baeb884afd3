"""In a real browser: signed-in pages and the API docs run under the Content-Security-Policy without a single
violation, behaviour moved out of inline handlers still works, and another site cannot frame the app."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.functional.conftest import SELLER_EMAIL, SELLER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

# Records every CSP violation the page reports, before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page: Page):
    """The page, and the console errors it logs (a blocked script or style shows up there too)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)
    return page, errors


def assert_no_violation(page: Page, errors: list[str]) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(SELLER_EMAIL)
    page.get_by_label("Password").fill(SELLER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=f"Log out ({SELLER_EMAIL})")).to_be_visible()


def test_signed_in_pages_load_without_a_csp_violation_and_confirmations_still_ask(watched, live_server):
    page, errors = watched
    log_in(page)
    for path in ("/seller/", "/seller/products/new", "/", "/notifications/", "/organizations", "/licences", "/orders"):
        page.goto(path)
        assert_no_violation(page, errors)

    page.goto("/settings/tokens")
    page.get_by_label("Token name").fill("nightly export")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret")
    expect(secret).to_be_visible()
    secret.focus()  # the field selects its whole value on focus (was an inline onfocus handler)
    assert page.evaluate("() => { const f = document.getElementById('token-secret');"
                         " return f.selectionStart === 0 && f.selectionEnd === f.value.length; }")
    assert_no_violation(page, errors)

    page.goto("/settings/tokens")
    revoke = page.get_by_role("button", name="Revoke")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    revoke.click()
    expect(page.get_by_text("Revoke the token")).to_have_count(0)
    expect(revoke).to_be_visible()  # dismissed: nothing revoked
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    revoke.click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)  # confirmed: revoked
    assert questions == ["Revoke the token “nightly export”? Programs using it will stop working."] * 2
    assert_no_violation(page, errors)


def test_the_api_docs_render_under_the_csp(watched, live_server):
    page, errors = watched
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Data Product Marketplace API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert_no_violation(page, errors)
    assert errors == []


def test_another_site_cannot_frame_the_app(page: Page, live_server):
    # A page of another origin (about:blank under the test's control) that frames the log-in page.
    page.goto("about:blank")
    page.set_content(f'<iframe id="victim" src="{live_server.url}/login" width="600" height="400" '
                     'onload="window.frameDone = true"></iframe>')
    page.wait_for_function("window.frameDone === true")  # the browser finished with the frame, loaded or blocked
    frame = page.frame_locator("#victim")
    expect(frame.get_by_label("E-mail address")).to_have_count(0)
    framed = [f for f in page.frames if f.url.startswith(live_server.url)]
    assert all(not re.search("Log in", f.content()) for f in framed)
