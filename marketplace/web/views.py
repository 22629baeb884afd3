"""Registers the page blueprints of every domain."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_login import login_required


def _seller_placeholder() -> Blueprint:
    # Until the seller pages exist, /seller/ sends people to their organizations, so that the
    # links of base.html to "seller.dashboard" still build.
    bp = Blueprint("seller", __name__, url_prefix="/seller")

    @bp.get("/")
    @login_required
    def dashboard():
        return redirect(url_for("accounts.organizations"))

    return bp


def init_views(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp

    app.register_blueprint(accounts_bp)

    try:
        from marketplace.listings.views import bp as seller_bp
    except ImportError as exc:
        # Only a missing module (or a module without ``bp`` yet) is expected; a broken import inside it is a bug.
        if exc.name != "marketplace.listings.views":
            raise
        seller_bp = _seller_placeholder()
    app.register_blueprint(seller_bp)
