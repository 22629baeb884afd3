"""``/admin/payments/anomalies``: money the payment provider took that paid no order, for platform admins to give
back (see ``marketplace.orders.anomalies``). Everyone else is refused (403)."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.errors import DomainError, NotFound, error_headers
from marketplace.extensions import db
from marketplace.listings.view_helpers import acting_user
from marketplace.orders import anomalies as service
from marketplace.orders.models import AnomalyStatus

bp = Blueprint("payment_anomalies", __name__)


def render_anomalies(*, status: int = 200, error: str | None = None, headers: dict | None = None):
    found = service.anomalies(db.session, acting_user())
    return render_template("admin/payment_anomalies.html", anomalies=found, error=error, AnomalyStatus=AnomalyStatus,
                           anomaly_detail=service.ANOMALY_DETAILS.shown,
                           open_count=sum(1 for a in found if a.status == AnomalyStatus.OPEN)), status, headers or {}


@bp.get("/admin/payments/anomalies")
@login_required
def anomalies():
    return render_anomalies()


@bp.post("/admin/payments/anomalies/<int:anomaly_id>/refund")
@login_required
def refund(anomaly_id: int):
    try:
        anomaly = service.refund_anomaly(db.session, acting_user(), anomaly_id, current_app.extensions["payments"])
    except NotFound as exc:
        db.session.rollback()
        abort(404, exc.message)
    except DomainError as exc:
        db.session.rollback()
        if exc.status in (401, 403):
            raise
        return render_anomalies(status=exc.status, error=exc.message, headers=error_headers(exc))
    flash(_("Refunded payment %(payment)s (%(refund)s).", payment=anomaly.payment_reference,
            refund=anomaly.refund_reference), "success")
    return redirect(url_for(".anomalies"))
