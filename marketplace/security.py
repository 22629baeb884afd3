"""Security headers on every response, through Flask-Talisman, and ``Cache-Control: no-store`` on what is private.

- Content-Security-Policy: scripts, styles, images and fonts from our own origin only, no inline code (templates
  keep theirs in marketplace/web/static/), no plugins, and ``frame-ancestors 'none'``; X-Frame-Options DENY for
  browsers that predate frame-ancestors.
- Referrer-Policy ``strict-origin-when-cross-origin``; ``X-Content-Type-Options: nosniff`` on every response,
  static files and the API included.
- Production only (``PRODUCTION``): HSTS on https requests (a TLS-terminating proxy says so with
  ``X-Forwarded-Proto``) and Secure session and remember-me cookies. Development serves plain http on
  127.0.0.1, so neither applies there. No redirect to https: the proxy in front does that.
- ``Cache-Control: no-store`` on every response to a signed-in user (static files excepted) and on every
  /api/v1 answer but the public OpenAPI document and the API docs' static files, so no shared or browser cache
  keeps a personal page or an API answer.

The API docs page (/api/v1/docs) is served from marketplace/web/templates/swagger_ui.html, which replaces
flask-smorest's template (its inline script moved to static/swagger-init.js), so it runs under the same policy.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request, session
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # data: for the small SVG icons the API docs' stylesheet embeds.
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS_MAX_AGE = 365 * 24 * 3600
API_PREFIX = "/api/v1"
# Public and the same for everyone: caches may keep them.
CACHEABLE_API_PATHS = (f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs/static/")
STATIC_ENDPOINTS = frozenset({"static", "swagger_static"})


def _signed_in() -> bool:
    # The session says so without loading the user (no query for a static file).
    return "_user_id" in session


def _no_store(response: Response) -> Response:
    if request.path.startswith(API_PREFIX):
        private = not request.path.startswith(CACHEABLE_API_PATHS)
    else:
        private = request.endpoint not in STATIC_ENDPOINTS and _signed_in()
    if private:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def _policy(app: Flask) -> dict[str, str]:
    """The CSP, with the origin of a configured map tile server allowed for images."""
    tiles = urlsplit(app.config.get("MAP_TILE_URL") or "")
    if tiles.scheme not in ("http", "https") or not tiles.netloc:
        return CONTENT_SECURITY_POLICY
    return {**CONTENT_SECURITY_POLICY, "img-src": f"{CONTENT_SECURITY_POLICY['img-src']} {tiles.scheme}://{tiles.netloc}"}


def init_security(app: Flask) -> None:
    production = bool(app.config.get("PRODUCTION"))
    # One Talisman per app: it keeps its options on itself, so a shared one would carry production's to the next.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,
        frame_options="DENY",
        content_security_policy=_policy(app),
        referrer_policy=REFERRER_POLICY,
        strict_transport_security=production,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=production,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        x_content_type_options=True,
    )
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.after_request(_no_store)
