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
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user and user.active else None


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
