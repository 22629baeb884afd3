"""The seller's upload endpoints, declared to the request guards: who may upload is checked before anything reads
the body."""
from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace.accounts.auth import require_api_user
from marketplace.extensions import db, login_manager
from marketplace.inputs import upload_endpoint
from marketplace.listings.services import version_for_seller


def refuse_unauthorized_upload() -> ResponseReturnValue | None:
    """Nobody signed in is sent to log in (401 on the API), and someone who is not a member of the product's
    organization gets the 404 the upload itself would give."""
    if request.path.startswith("/api/"):
        user = require_api_user()
    elif not current_user.is_authenticated:
        return login_manager.unauthorized()
    else:
        user = current_user._get_current_object()
    args = request.view_args or {}
    version_for_seller(db.session, user, args["product_id"], args["number"])
    return None


def declare_uploads() -> None:
    """Declare the page's and the API's upload endpoints to the request guards."""
    upload_endpoint("seller.upload", refuse_unauthorized_upload)
    upload_endpoint("listings_api.upload_asset", refuse_unauthorized_upload)
