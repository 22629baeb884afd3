"""The admin's pages: the blueprint every admin page joins (each module below adds its own), open to platform admins
only: the overview at /admin/ (``overview``), the audit trail (``audit_views``) and every product with its status
(``product_views``)."""
from __future__ import annotations

from flask import Blueprint, url_for

from marketplace.accounts.auth import require_admin_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

bp.before_request(require_admin_page)

# Endpoint names of admin pages before they joined this blueprint, built as the page's name now (same address).
FORMER_ENDPOINTS = {"admin_overview.overview": "admin.overview"}


@bp.record_once
def _build_former_names(state) -> None:
    def former(error, endpoint: str, values: dict) -> str | None:
        return url_for(FORMER_ENDPOINTS[endpoint], **values) if endpoint in FORMER_ENDPOINTS else None

    state.app.url_build_error_handlers.append(former)


from marketplace.admin import audit_views, overview, product_views  # noqa: E402,F401  (their pages join this blueprint)
