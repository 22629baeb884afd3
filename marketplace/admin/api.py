"""The audit check in the JSON API (platform admins only)."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from marketplace.accounts.access import Permission, require
from marketplace.accounts.auth import require_api_user
from marketplace.audit.checkpoints import verify_audit
from marketplace.audit.schemas import AuditReportSchema
from marketplace.extensions import db
from marketplace.signing.services import known_keys

blp = Blueprint("audit_api", __name__, description="Audit trail")


@blp.route("/audit/verify")
@blp.response(200, AuditReportSchema)
def verify():
    """Walk the hash chain and check every signed checkpoint against it: the first broken link, if any, and
    each checkpoint that no longer holds (events removed or inserted, a checkpoint altered)."""
    require(require_api_user(), Permission.ADMIN)
    return verify_audit(db.session, known_keys(db.session, current_app))
