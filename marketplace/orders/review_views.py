"""A compliance reviewer's side of cross-boundary trades: the short queue of orders whose buyer's evidence waits for
a decision (linked from the review queue), and one order read-only with its position, its evidence and the
confirm/reject form while evidence waits. A reviewer never decides the evidence of their own organization's sale
(404); anyone but a reviewer is refused (403)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.access import Permission, require
from marketplace.accounts.forms import apply_domain_errors
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db, login_manager
from marketplace.listings.view_helpers import acting_user
from marketplace.orders import services as order_services
from marketplace.orders.forms import EvidenceDecisionForm
from marketplace.orders.models import Order
from marketplace.orders.views import render_order, send_evidence_document

bp = Blueprint("order_review", __name__, url_prefix="/review/orders")
ORDER = "/<int:order_id>"


@bp.before_request
def _require_reviewer():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(acting_user(), Permission.REVIEW)  # Forbidden: the app renders the 403 page
    return None


def _order(order_id: int) -> Order:
    try:
        return order_services.order_for_review(db.session, acting_user(), order_id)
    except NotFound as exc:
        abort(404, exc.message)


@bp.get("/")
def queue():
    return render_template("review/evidence_queue.html",
                           orders=order_services.evidence_queue(db.session, acting_user()))


@bp.get(ORDER)
def order(order_id: int):
    return render_order(_order(order_id), for_reviewer=True)


@bp.get(f"{ORDER}/document")
def evidence_document(order_id: int):
    return send_evidence_document(_order(order_id))


@bp.post(f"{ORDER}/decision")
def decide_evidence(order_id: int):
    found = _order(order_id)
    form = EvidenceDecisionForm()
    if not form.validate_on_submit():
        return render_order(found, status=422, decision_form=form, for_reviewer=True)
    decision = {(True, False): "confirm", (False, True): "reject"}.get((form.confirm.data, form.reject.data), "")
    try:
        order_services.decide_evidence(db.session, acting_user(), found, decision, form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_order(found, status=exc.status, error=exc.message, decision_form=form, for_reviewer=True)
    flash(_("Evidence confirmed.") if decision == "confirm" else _("Evidence rejected; the buyer is told why."),
          "success")
    return redirect(url_for(".order", order_id=found.id) + "#cross-boundary")
