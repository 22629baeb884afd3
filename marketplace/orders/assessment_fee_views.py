"""The seller's side of an assessment fee: ``POST /seller/<org_slug>/assessments/<number>/fee`` opens the fee
order's checkout (the simulated card page, or Stripe's) and sends the payer there; ``.../withdraw`` takes the
request back instead, while its fee is unpaid. A refusal goes back to the seller's assessment requests with its
message."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.accounts.services import organization_for_member
from marketplace.assessments import fees
from marketplace.errors import DomainError, NotFound, error_headers
from marketplace.extensions import db
from marketplace.orders.assessment_fees import payable_fee
from marketplace.orders.checkout import start_checkout
from marketplace.orders.views import absolute_url

bp = Blueprint("assessment_fees", __name__)


def _refused(exc: DomainError, back: str):
    """Nothing of a refused step is kept: a request that is not the user's is a 404, any other refusal goes back to
    the seller's requests with its message (and Retry-After when the payment provider is down)."""
    db.session.rollback()
    if isinstance(exc, NotFound):
        abort(404, exc.message)
    flash(exc.message, "error")
    return redirect(back, 303), error_headers(exc)


@bp.post("/seller/<org_slug>/assessments/<number>/fee")
@login_required
def pay(org_slug: str, number: str):
    user = current_user._get_current_object()
    back = url_for("assessments.seller_requests", org_slug=org_slug)
    try:
        org = organization_for_member(db.session, user, org_slug)
        order = payable_fee(db.session, user, org, number)
        url = start_checkout(db.session, user, order, current_app.extensions["payments"],
                             success_url=absolute_url("assessments.seller_requests", org_slug=org.slug),
                             cancel_url=absolute_url("assessments.seller_requests", org_slug=org.slug))
    except DomainError as exc:
        return _refused(exc, back)
    return redirect(url, 303)


@bp.post("/seller/<org_slug>/assessments/<number>/withdraw")
@login_required
def withdraw(org_slug: str, number: str):
    user = current_user._get_current_object()
    back = url_for("assessments.seller_requests", org_slug=org_slug)
    try:
        org = organization_for_member(db.session, user, org_slug)
        fees.withdraw_request(db.session, user, fees.seller_request(db.session, user, org, number))
    except DomainError as exc:
        return _refused(exc, back)
    flash(_("Request %(number)s withdrawn.", number=number), "success")
    return redirect(back, 303)
