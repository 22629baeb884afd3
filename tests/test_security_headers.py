"""Security headers: a CSP without inline code and frame-ancestors 'none', X-Frame-Options, Referrer-Policy and
nosniff on every response; no-store on signed-in pages and API answers; HSTS and Secure cookies in production."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from marketplace import create_app
from tests import factories

TEMPLATES = Path(__file__).resolve().parent.parent / "marketplace" / "web" / "templates"
# Every kind of response: pages, errors, static files, the API (answers, refusals, its document and docs assets).
PATHS = ["/", "/catalog", "/login", "/no-such-page", "/static/app.css", "/healthz", "/.well-known/licence-keys.json",
         "/api/v1/catalog", "/api/v1/me", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/static/swagger-ui.css"]


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = csp_directives(response)
    assert csp["frame-ancestors"] == ["'none'"] and csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/me"), ("GET", "/api/v1/no-such-thing"),
                                              ("POST", "/api/v1/products"), ("DELETE", "/api/v1/catalog")])
def test_a_refusal_of_the_api_carries_the_headers_too(client, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code >= 400 and response.is_json
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_no_template_holds_inline_scripts_styles_or_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=", re.IGNORECASE)
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
             for path in sorted(TEMPLATES.rglob("*.html")) for match in inline.finditer(path.read_text())]
    assert found == []


def test_the_api_docs_page_runs_no_inline_script(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attributes for attributes in scripts)


# ---------------------------------------------------------------- caching


def test_a_signed_in_page_is_never_stored(client, auth, seller):
    auth.login(seller.email)
    for path in ("/seller/", "/", "/catalog", "/no-such-page", "/settings/tokens"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_the_log_in_answer_itself_is_not_stored(client, seller):
    response = client.post("/login", data={"email": seller.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"


def test_an_anonymous_page_and_static_files_may_be_cached(client, auth, seller):
    assert "no-store" not in client.get("/catalog").headers.get("Cache-Control", "")
    auth.login(seller.email)
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/api/v1/catalog", "/api/v1/me", "/api/v1/products"])
def test_every_api_answer_is_never_stored(api, path):
    response = api.get(path)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_the_public_openapi_document_may_be_cached(client):
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")


# ---------------------------------------------------------------- development and production


def session_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_development_sends_no_hsts_and_plain_cookies(client, seller):
    # The suite's app is not production: http on 127.0.0.1 must keep working.
    response = client.post("/login", data={"email": seller.email, "password": factories.PASSWORD},
                           base_url="https://localhost")
    assert response.status_code == 302 and "Strict-Transport-Security" not in response.headers
    assert "Secure" not in session_cookie(response)


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    key_file = tmp_path / "licence-key.pem"
    key_file.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return create_app(
        "production", SECRET_KEY=secrets.token_urlsafe(48), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}",
        STORAGE_LOCAL_ROOT=str(tmp_path / "storage"), PAYMENTS_BACKEND="stripe", STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x", MAIL_BACKEND="smtp", SMTP_HOST="smtp.example.org",
        LICENCE_SIGNING_KEY_FILE=str(key_file), PUBLIC_BASE_URL="https://exchange.example.org",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", JOBS_URL="redis://127.0.0.1:6379/1",
    )


def test_production_sends_hsts_on_https_and_secure_cookies(production_app):
    client = production_app.test_client()
    response = client.get("/login", base_url="https://exchange.example.org")
    assert response.status_code == 200
    assert re.fullmatch(r"max-age=31536000", response.headers["Strict-Transport-Security"])
    cookie = session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_production_behind_a_proxy_sends_hsts_when_the_proxy_says_https(production_app):
    response = production_app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200 and "Strict-Transport-Security" in response.headers


def test_production_leaves_the_redirect_to_https_to_the_proxy(production_app):
    # Plain http reaches the app only from the proxy in front of it: answered, never redirected in a loop.
    response = production_app.test_client().get("/healthz")
    assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


def test_a_production_app_in_the_same_process_leaves_other_apps_plain(production_app, client, seller):
    production_app.test_client().get("/login", base_url="https://exchange.example.org")
    response = client.post("/login", data={"email": seller.email, "password": factories.PASSWORD},
                           base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers and "Secure" not in session_cookie(response)
