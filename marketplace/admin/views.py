"""The admin's pages: the blueprint every admin page joins (each module below adds its own), open to platform admins
only: the overview at /admin/ (``overview``), the audit trail (``audit_views``) and every product with its status
(``product_views``)."""
from __future__ import annotations

from flask import Blueprint

from marketplace.accounts.auth import require_admin_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

bp.before_request(require_admin_page)

from marketplace.admin import audit_views, overview, product_views  # noqa: E402,F401  (their pages join this blueprint)
