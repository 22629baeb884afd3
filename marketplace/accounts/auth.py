"""Who is asking: Flask-Login sessions for pages, personal API tokens (Bearer) for the JSON API."""
from __future__ import annotations

import logging

from flask import Flask, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.accounts.services import stamp_token_use, token_for_secret, token_stamp_due
from marketplace.errors import Unauthorized
from marketplace.extensions import db, login_manager
from marketplace.uow import unit_of_work


def init_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "accounts.login"
    login_manager.needs_refresh_message = _l("Please log in again to continue.")
    login_manager.needs_refresh_message_category = "info"
    login_manager.localize_callback = str  # the lazy messages above, in the request's language
    # "basic": a session seen from another address or browser is no longer fresh (creating an API token then
    # asks for the password again). "strong" would log out anyone whose mobile address changes, and its address
    # comes from the client-chosen X-Forwarded-For; ending stolen sessions is the session version's job.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.teardown_request(_stamp_token_use)


def load_user(user_id: str) -> User | None:
    """The active user a session cookie names ("42:3", from ``User.get_id``), if its session version is still
    the user's current one: log-out, a password change or a role change move the version on."""
    uid, _, version = user_id.partition(":")
    if not (uid.isascii() and uid.isdigit() and version.isascii() and version.isdigit()):
        return None  # cookies from before session versions, or forged junk
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def api_user() -> User | None:
    """The user of the request's Bearer token, or None. Cookies never authenticate the API.

    Looked up once per request (kept in the WSGI environ: ``g`` can outlive a request when an app context
    was already pushed, as in the CLI and tests). Reading the token writes nothing: a use to record (at most once
    a minute) is recorded after the request, see ``_stamp_token_use``.
    """
    key = "marketplace.api_user"
    if key not in request.environ:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        token = token_for_secret(db.session, secret.strip()) if scheme.lower() == "bearer" and secret else None
        if token is not None and token_stamp_due(token):
            request.environ[_STAMP] = token.id
        request.environ[key] = token.user if token is not None else None
    return request.environ[key]


_STAMP = "marketplace.api_token_to_stamp"


def _stamp_token_use(exc: BaseException | None) -> None:
    """Record a token's use after the request's own unit of work has ended, in a short one of its own: a GET with a
    token never holds (or waits for) the write lock while it works, and a lost stamp costs nothing but precision."""
    token_id = request.environ.pop(_STAMP, None)
    if token_id is None:
        return
    db.session.rollback()  # the request's work is committed or rolled back by now; end any read after it
    try:
        with unit_of_work() as session:
            stamp_token_use(session, token_id)
    except Exception as error:  # noqa: BLE001 - the request is answered already; the stamp waits for the next call
        logging.getLogger(__name__).warning("API token %s: last use not recorded (%s)", token_id, error)


def require_api_user() -> User:
    user = api_user()
    if user is None:
        raise Unauthorized(_("Send a personal API token as 'Authorization: Bearer <token>'."))
    return user


def require_admin_page():
    """A before-request guard of the platform admin's pages: anyone signed out is sent to log in, anyone else who
    is not a platform admin gets the 403 page."""
    from flask_login import current_user

    from marketplace.accounts.access import Permission, require

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(current_user, Permission.ADMIN)
    return None
