"""The notifications page, and the unread count every page shows in the top bar."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.notifications import services
from marketplace.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        return services.unread_count(db.session, current_user) if current_user.is_authenticated else 0
    return {"unread_notifications": unread_notifications}


@bp.get("/")
@login_required
def index():
    return render_template("notifications/index.html",
                           notifications=services.notifications_for(db.session, current_user))


@bp.post("/read")
@login_required
def read_all():
    marked = services.mark_read(db.session, current_user)
    flash(ngettext("Marked %(num)d notification read.", "Marked %(num)d notifications read.", marked), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/open")
@login_required
def open_one(notification_id: int):
    """Mark one notification read and follow its link."""
    try:
        services.mark_read(db.session, current_user, notification_id)
    except NotFound:
        return render_template("notifications/index.html", error=_("No such notification."),
                               notifications=services.notifications_for(db.session, current_user)), 404
    note = db.session.get(Notification, notification_id)
    return redirect(note.link if note.link and note.link.startswith("/") else url_for("notifications.index"))
