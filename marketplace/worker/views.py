"""The admin jobs page: jobs and outbox messages whose last retry failed, with their error and a retry button, and
how much waits in the outbox."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.auth import require_admin_page
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.worker import services

bp = Blueprint("jobs_admin", __name__, url_prefix="/admin/jobs")


bp.before_request(require_admin_page)


@bp.get("")
def index():
    return render_template("admin/jobs.html", failed=services.failed_jobs(db.session, current_user),
                           outbox=services.outbox_counts(db.session, current_user))


@bp.post("/<int:failed_id>/retry")
def retry(failed_id: int):
    try:
        failed = services.retry_failed_job(db.session, current_user, failed_id)
        flash(_("Job #%(id)s (%(task)s) is queued again.", id=failed.id, task=failed.task), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("jobs_admin.index"))
