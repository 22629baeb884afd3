"""The admin's audit page: whether the hash chain and its signed checkpoints hold, and the latest events (filter by
action, page back)."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.accounts.auth import require_admin_page
from marketplace.accounts.models import User
from marketplace.audit.checkpoints import verify_audit
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import recent_events
from marketplace.extensions import db
from marketplace.inputs import MAX_ROW_ID
from marketplace.signing.services import known_keys

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 100
MAX_ACTION = 80  # the column's length


bp.before_request(require_admin_page)


@bp.get("/audit")
def audit():
    action = (request.args.get("action") or "").strip()[:MAX_ACTION]
    raw_before = (request.args.get("before") or "").strip()
    notice = None
    before = None
    if raw_before:
        if re.fullmatch(r"[0-9]{1,10}", raw_before) and 1 <= int(raw_before) <= MAX_ROW_ID:
            before = int(raw_before)
        else:
            notice = _("\u201c%(value)s\u201d is not an event number; showing the latest events.",
                       value=raw_before[:40])
    report = verify_audit(db.session, known_keys(db.session, current_app))
    events, more = recent_events(db.session, action, before, PER_PAGE)
    actors = _actors(events)
    return render_template("admin/audit.html", report=report, events=events, more=more, actors=actors,
                           action=action, before=before, notice=notice)


def _actors(events: list[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


from marketplace.admin import product_views  # noqa: E402,F401  (its pages join this blueprint)
