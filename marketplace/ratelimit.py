"""Rate limits (Flask-Limiter): one table of which endpoints are limited, by which setting, per what.

Counters live where ``RATELIMIT_STORAGE_URI`` says: ``memory://`` (development's default: each process counts
alone, right for one worker; production refuses it) or Redis (``redis://host:6379/0``,
``redis+unix:///run/redis.sock``), which every worker and machine shares. The values and why they are what they are:
``config.Config``. ``RATELIMIT_ENABLED=False`` (the test configuration) applies none.

The table names endpoints, not functions: ``init_ratelimit`` runs after every blueprint is registered and wraps
``app.view_functions[endpoint]`` with each limit of its rows. Flask-Limiter files a route limit under the wrapped
function's qualified name (module, name and qualname, which the wrapper copies) and, when the innermost wrapper is
called, checks every limit filed under that name: after the before-request hooks (body caps, API authentication,
body checks) and before the view. Each row is a shared limit (its name is the scope), so its endpoints draw on one
budget per key. An endpoint of the table that does not exist (yet) is skipped; ``limited_endpoints`` tells which
were wrapped.

Who is the client: ``request.remote_addr``, the TCP peer. X-Forwarded-For is believed only for the last
``TRUSTED_PROXY_COUNT`` hops (werkzeug's ProxyFix), so a client cannot pick its own address unless a proxy is
configured; behind one proxy (nginx, a load balancer) set it to 1.

A refusal is 429 with ``Retry-After`` (whole seconds) in the shape of where it happened: the JSON error shape
under /api/v1, CKAN's envelope under /api/3, the error page elsewhere.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from redis.exceptions import RedisError
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.accounts.auth import api_user
from marketplace.accounts.services import email_key
from marketplace.i18n import N_
from marketplace.inputs import API_PREFIX
from marketplace.inputs import BODY_METHODS as WRITE_METHODS

EXTENSION = "marketplace.limiter"
FORM_METHODS = ("POST",)


def client_address() -> str:
    return f"ip:{get_remote_address()}"


def submitted_email() -> str:
    """The e-mail a form names, hashed (no addresses in the counter store) after the normalisation the accounts
    use, so that every spelling of one address (full-width letters, IDNA) draws on one budget."""
    email = email_key(request.form.get("email"))
    return f"email:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def account_or_address() -> str:
    """The API token's user, else the signed-in user, else the client address."""
    user = api_user() if request.path.startswith(f"{API_PREFIX}/") else None
    if user is None and current_user.is_authenticated:
        user = current_user
    return f"user:{user.id}" if user is not None else client_address()


def _ckan_action_but_search() -> bool:
    # CKAN's read actions (package_show, lists) are cheap look-ups; only package_search is a search.
    return request.blueprint == "ckan" and (request.view_args or {}).get("name") != "package_search"


@dataclass(frozen=True)
class LimitRule:
    """One row of the table: a shared budget (``name``) over ``endpoints``, from the ``setting``, per ``key``."""

    name: str
    setting: str
    key: Callable[[], str]
    endpoints: tuple[str, ...]
    message: str  # English, marked for the catalogs: said in the language of the request it refuses
    methods: tuple[str, ...] | None = None  # None: every method
    exempt_when: Callable[[], bool] | None = None


LIMITS: tuple[LimitRule, ...] = (
    LimitRule("login", "RATELIMIT_LOGIN", client_address, ("accounts.login",),
              N_("Too many log-in attempts from your address."), FORM_METHODS),
    LimitRule("login-email", "RATELIMIT_LOGIN_EMAIL", submitted_email, ("accounts.login",),
              N_("Too many log-in attempts for this e-mail address."), FORM_METHODS),
    LimitRule("signup", "RATELIMIT_SIGNUP", client_address, ("accounts.signup",),
              N_("Too many sign-ups from your address."), FORM_METHODS),
    # A taken address is mailed a note on each sign-up attempt: per address too, or many senders flood one inbox.
    LimitRule("signup-email", "RATELIMIT_SIGNUP_EMAIL", submitted_email, ("accounts.signup",),
              N_("Too many sign-ups for this e-mail address."), FORM_METHODS),
    LimitRule("password-reset", "RATELIMIT_PASSWORD_RESET", client_address, ("accounts.password_reset_request",),
              N_("Too many password reset requests from your address."), FORM_METHODS),
    LimitRule("password-reset-email", "RATELIMIT_PASSWORD_RESET_EMAIL", submitted_email,
              ("accounts.password_reset_request",), N_("Too many password reset requests for this e-mail address."),
              FORM_METHODS),
    LimitRule("verification-resend", "RATELIMIT_VERIFICATION_RESEND", client_address,
              ("accounts.resend_verification",), N_("Too many requests for a confirmation e-mail from your address."),
              FORM_METHODS),
    LimitRule("verification-resend-email", "RATELIMIT_VERIFICATION_RESEND_EMAIL", submitted_email,
              ("accounts.resend_verification",), N_("Too many requests for a confirmation e-mail for this address."),
              FORM_METHODS),
    LimitRule("api-token", "RATELIMIT_API_TOKEN", account_or_address, ("accounts.tokens",),
              N_("Too many API tokens created."), FORM_METHODS),
    LimitRule("invite", "RATELIMIT_INVITE", account_or_address, ("accounts.invite", "accounts_api.invite"),
              N_("Too many invitations sent."), FORM_METHODS),
    LimitRule("search", "RATELIMIT_SEARCH", client_address,
              ("catalog.index", "catalog_api.catalog", "ckan.call", "ckan.call_unversioned"),
              N_("Too many searches from your address."), exempt_when=_ckan_action_but_search),
    # "Check my listing" queues a scan of the version's files (a job): a few requests a minute per seller.
    LimitRule("prescreen-check", "RATELIMIT_PRESCREEN_CHECK", account_or_address,
              ("seller.check", "review_api.prescreen"),
              N_("Too many listing checks: the full pre-screen runs when you submit.")),
)


# Every setting a limit is read from (the API writes' budget is built per app, from the URL map).
LIMIT_SETTINGS: tuple[str, ...] = (*dict.fromkeys(rule.setting for rule in LIMITS), "RATELIMIT_API_WRITE")


def api_write_rule(app: Flask) -> LimitRule:
    """Every endpoint under /api/v1 that takes a write method shares one budget per user (per address if public)."""
    endpoints = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                        if rule.rule.startswith(f"{API_PREFIX}/") and rule.methods & WRITE_METHODS})
    return LimitRule("api-write", "RATELIMIT_API_WRITE", account_or_address, tuple(endpoints),
                     N_("Too many API writes."), tuple(sorted(WRITE_METHODS)))


def refusal_message(text: str, limiter: Limiter) -> str:
    """Why a request was refused and when to try again, in the request's language. flask-limiter takes any error
    raised here for its storage failing and lets the request through, so words that cannot be found fall back to
    English rather than lift the limit."""
    seconds = retry_after(limiter)
    try:
        return _("%(refusal)s Try again in %(seconds)s seconds.", refusal=_(text), seconds=seconds)
    except Exception:  # noqa: BLE001 - see above: a limit must hold whatever the catalogs do
        return f"{text} Try again in {seconds} seconds."


def retry_after(limiter: Limiter) -> int:
    """Whole seconds until the limit this request broke lets one more through (at least 1)."""
    cached = request.environ.get("marketplace.retry_after")
    if cached is None:
        limit = limiter.current_limit
        cached = max(1, math.ceil(limit.window.reset_time - time.time())) if limit is not None else 60
        request.environ["marketplace.retry_after"] = cached
    return cached


def limited_endpoints(app: Flask) -> dict[str, list[str]]:
    """Endpoint -> names of the limits wrapped around it (for tests and ``flask routes``-style checks)."""
    return app.extensions.get(f"{EXTENSION}.endpoints", {})


def init_ratelimit(app: Flask) -> None:
    """Trust the configured proxies for the client address, then wrap every endpoint of the table (call after
    every blueprint is registered)."""
    proxies = app.config["TRUSTED_PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    # One Limiter per app: Flask-Limiter keeps its storage and switches on the instance.
    limiter = Limiter(key_func=client_address)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    wrapped: dict[str, list[str]] = {}
    app.extensions[f"{EXTENSION}.endpoints"] = wrapped
    if not limiter.enabled:
        return

    for rule in (*LIMITS, api_write_rule(app)):
        decorator = limiter.shared_limit(
            app.config[rule.setting], scope=rule.name, key_func=rule.key,
            methods=list(rule.methods) if rule.methods else None, exempt_when=rule.exempt_when,
            error_message=lambda text=rule.message: refusal_message(text, limiter),
        )
        for endpoint in rule.endpoints:
            view = app.view_functions.get(endpoint)
            if view is not None:
                app.view_functions[endpoint] = decorator(view)
                wrapped.setdefault(endpoint, []).append(rule.name)

    @app.errorhandler(RedisError)
    def _store_unreachable(error: RedisError):
        # Without the counters a limited endpoint would allow unlimited guessing: refuse it until Redis is back.
        app.logger.error("Rate-limit store unreachable: %s", error)
        return app.handle_user_exception(ServiceUnavailable(
            "This action is paused for a moment; please try again shortly.", retry_after=30))

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 429 and limiter.current_limit is not None and limiter.current_limit.breached:
            response.headers["Retry-After"] = str(retry_after(limiter))
        return response
