"""The audit chain check in the JSON API (admins only)."""
from __future__ import annotations

from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.audit.services import verify_chain
from marketplace.accounts.access import Permission, require
from marketplace.extensions import db
from marketplace.review.schemas import ChainReportSchema

blp = Blueprint("audit_api", __name__, description="Audit trail")


@blp.route("/audit/verify")
@blp.response(200, ChainReportSchema)
def verify():
    """Walk the hash chain and report the first broken link, if any."""
    require(require_api_user(), Permission.ADMIN)
    return verify_chain(db.session)
