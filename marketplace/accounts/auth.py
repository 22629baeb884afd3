"""Who is asking: Flask-Login sessions for pages, personal API tokens (Bearer) for the JSON API."""
from __future__ import annotations

from flask import Flask, request

from marketplace.accounts.models import User
from marketplace.accounts.services import user_for_token
from marketplace.errors import Unauthorized
from marketplace.extensions import db, login_manager


def init_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "accounts.login"
    login_manager.needs_refresh_message = "Please log in again to continue."
    login_manager.needs_refresh_message_category = "info"
    # "basic": a session seen from another address or browser is no longer fresh (creating an API token then
    # asks for the password again). "strong" would log out anyone whose mobile address changes, and its address
    # comes from the client-chosen X-Forwarded-For; ending stolen sessions is the session version's job.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(user_id: str) -> User | None:
    """The active user a session cookie names ("42:3", from ``User.get_id``), if its session version is still
    the user's current one: log-out, a password change or a role change move the version on."""
    uid, _, version = user_id.partition(":")
    if not (uid.isdigit() and version.isdigit()):
        return None  # cookies from before session versions, or forged junk
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def api_user() -> User | None:
    """The user of the request's Bearer token, or None. Cookies never authenticate the API.

    Looked up once per request (kept in the WSGI environ: ``g`` can outlive a request when an app context
    was already pushed, as in the CLI and tests).
    """
    key = "marketplace.api_user"
    if key not in request.environ:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(db.session, secret.strip()) if scheme.lower() == "bearer" and secret else None
        if user is not None and db.session.dirty:
            db.session.commit()  # last_used_at
        request.environ[key] = user
    return request.environ[key]


def require_api_user() -> User:
    user = api_user()
    if user is None:
        raise Unauthorized("Send a personal API token as 'Authorization: Bearer <token>'.")
    return user
