"""Test clients that behave like separate browsers."""
from __future__ import annotations

from flask import g
from flask.testing import FlaskClient
from flask_babel import refresh


class FreshUserClient(FlaskClient):
    """A test client whose every request finds out anew who is signed in, from its cookie alone.

    The tests run inside one app context, so ``g`` (where Flask-Login keeps the request's user) would otherwise
    carry one request's user into the next, as no real request ever does: a copied or stale cookie could pass.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("current_role", None)  # nor the role the last request worked as
        refresh()  # nor the language Flask-Babel chose for the last request (also kept on the app context)
        return super().open(*args, **kwargs)
