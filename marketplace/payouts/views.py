"""The seller's payouts, as pages:

- ``/seller/<org_slug>/payouts``: the organization's balances per currency (pending, available, held, in payout),
  where its payouts go (simulated, or its Stripe connected account and what Stripe still needs) and its payouts,
  newest first. Members of the organization only (others 404).
- ``POST /seller/<org_slug>/payouts/stripe``: an owner opens (or continues) the organization's onboarding at
  Stripe and is sent there (303). ``.../stripe/return`` is where Stripe sends the seller back (the account is read
  again); ``.../stripe/refresh`` where it sends them when the link expired (a new link, for owners).

A refusal (payouts simulated: 409; Stripe refusing: 402; Stripe down: 503 with Retry-After) re-shows the payouts
page with the message; the GETs Stripe sends the seller to flash it and go back to the page. The request commits.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.access import Permission, permits
from marketplace.accounts.models import Organization
from marketplace.accounts.services import organization_for_member
from marketplace.db import writes_when_read
from marketplace.errors import DomainError, NotFound, error_headers
from marketplace.extensions import db, login_manager
from marketplace.i18n import money
from marketplace.ledger.services import balances_of
from marketplace.payments import PaymentError
from marketplace.payments.stripe_connect import StripeConnect, connect_of
from marketplace.payouts import services
from marketplace.payouts.states import status_words
from marketplace.uow import keep_despite_error

bp = Blueprint("payouts", __name__)

PAYOUTS = "/seller/<org_slug>/payouts"


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def acting_user():
    return current_user._get_current_object()


def _organization(org_slug: str) -> Organization:
    try:
        return organization_for_member(db.session, acting_user(), org_slug)
    except NotFound as exc:
        abort(404, exc.message)


def _connect() -> StripeConnect | None:
    return connect_of(current_app.extensions["payments"])


def render_payouts(org: Organization, *, status: int = 200, error: str | None = None, headers: dict | None = None):
    session, user = db.session, acting_user()
    connect, owed = _connect(), balances_of(session, org.id)  # _organization checked membership
    minimum = current_app.config["PAYOUT_MINIMUM"]
    return render_template(
        "payouts/payouts.html", org=org, balances=owed, simulated=connect is None,
        minimums=[money(minimum, b.currency) for b in owed],
        account=None if connect is None else services.payout_account(session, org.id),
        may_set_up=permits(user, Permission.MANAGE_ORGANIZATION, org),
        payouts=services.payouts_of(session, user, org), statuses=status_words(), error=error,
        platform_short=services.PLATFORM_SHORT, owing=[b for b in owed if b.available < 0],
    ), status, headers or {}


@bp.get(PAYOUTS)
def payouts(org_slug: str):
    return render_payouts(_organization(org_slug))


def _onboarding_link(org: Organization) -> str:
    """Where the owner continues at Stripe (the organization's account opened on the first call)."""
    return services.start_onboarding(
        db.session, acting_user(), org, services.refuse_unless_stripe(_connect()),
        country=current_app.config["STRIPE_CONNECT_COUNTRY"],
        refresh_url=url_for(".stripe_refresh", org_slug=org.slug, _external=True),
        return_url=url_for(".stripe_return", org_slug=org.slug, _external=True))


@bp.post(f"{PAYOUTS}/stripe")
def start_stripe(org_slug: str):
    org = _organization(org_slug)
    try:
        link = _onboarding_link(org)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        if isinstance(exc, PaymentError):
            keep_despite_error()  # an account Stripe opened before the link failed is kept, not opened again
        else:
            db.session.rollback()
        return render_payouts(org, status=exc.status, error=exc.message, headers=error_headers(exc))
    return redirect(link, 303)


@bp.get(f"{PAYOUTS}/stripe/return")
@writes_when_read  # what Stripe now says of the account is kept
def stripe_return(org_slug: str):
    org = _organization(org_slug)
    try:
        account = services.refresh_account(db.session, acting_user(), org, services.refuse_unless_stripe(_connect()))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".payouts", org_slug=org.slug), 303)
    if account is None:
        flash(_("Payouts are not set up yet: an owner of %(name)s can set them up with Stripe here.", name=org.name),
              "info")
    elif account.ready:
        flash(_("Stripe accepted your payout account: new sales are paid to it, and what is available is paid out "
                "daily."), "success")
    else:
        flash(_("Stripe still needs some details before it can pay you: continue with Stripe when you have them."),
              "warning")
    return redirect(url_for(".payouts", org_slug=org.slug), 303)


@bp.get(f"{PAYOUTS}/stripe/refresh")
@writes_when_read  # the first link opens the organization's account
def stripe_refresh(org_slug: str):
    org = _organization(org_slug)
    if not permits(acting_user(), Permission.MANAGE_ORGANIZATION, org):
        flash(_("The link to Stripe expired. An owner of %(name)s can continue setting up payouts here.",
                name=org.name), "info")
        return redirect(url_for(".payouts", org_slug=org.slug), 303)
    try:
        link = _onboarding_link(org)
    except DomainError as exc:  # an account Stripe opened before the link failed is kept (the redirect commits)
        flash(exc.message, "error")
        return redirect(url_for(".payouts", org_slug=org.slug), 303)
    return redirect(link, 303)
