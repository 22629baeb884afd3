"""Account pages: sign-up, log in/out, organizations and invitations, personal API tokens.

Each view parses its form, calls one service of ``marketplace.accounts.services`` and renders. A service's
refusal of the input (ValidationFailed, Conflict) goes back onto the form; anything else (NotFound,
Forbidden) reaches the app's error handler, which renders the HTML error page.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import services
from marketplace.accounts.forms import (
    ApiTokenForm,
    InviteForm,
    LoginForm,
    OrganizationForm,
    SignupForm,
    apply_domain_errors,
)
from marketplace.accounts.models import MemberRole, Organization
from marketplace.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from marketplace.extensions import db
from marketplace.accounts.invitations import invite_and_email

bp = Blueprint("accounts", __name__)

# Refusals of what the user typed: shown on the form. Other DomainErrors become the error page.
INPUT_ERRORS = (ValidationFailed, Conflict)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/..."), else None: never follow a link off-site."""
    if not target:
        return None
    # Browsers read "\" as "/" and drop control characters, so "/\evil.example" would leave the site.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url() -> str:
    """Where a logged-in user starts: the review queue for staff who sell nothing, else the seller dashboard."""
    if current_user.is_authenticated and current_user.is_reviewer and not current_user.memberships:
        return url_for("review.queue")
    return url_for("seller.dashboard")


@bp.get("/")
def index():
    return redirect(home_url() if current_user.is_authenticated else url_for("catalog.index"))


# ---------------------------------------------------------------- sign-up, log in, log out

@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(home_url())
    form = SignupForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.register_user(
                db.session, email=form.email.data, password=form.password.data,
                display_name=form.display_name.data, organization_name=form.organization_name.data or None,
                locale=form.locale.data,
            )
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc, aliases={"name": "organization_name"})
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(safe_next(form.next.data) or home_url())
    return render_template("accounts/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data) or home_url())
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data)
        except Unauthorized as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()  # authenticate() may have upgraded the password hash
            login_user(user)
            return redirect(safe_next(form.next.data or request.args.get("next")) or home_url())
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


# ---------------------------------------------------------------- organizations and invitations

@bp.route("/organizations", methods=["GET", "POST"])
@login_required
def organizations():
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            org = services.create_organization(
                db.session, current_user, name=form.name.data, description=form.description.data or "",
                website=form.website.data or None,
            )
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Organization “{org.name}” created. You are its owner.", "success")
            return redirect(url_for("accounts.organization", slug=org.slug))
    memberships = services.memberships_of(db.session, current_user)
    return render_template("accounts/organizations.html", memberships=memberships, form=form)


def _organization_page(org: Organization, form: InviteForm):
    me = services.membership(db.session, current_user, org.id)
    return render_template(
        "accounts/organization.html", org=org, me=me, is_owner=me is not None and me.role == MemberRole.OWNER,
        invitations=services.pending_invitations(db.session, org), form=form,
    )


@bp.get("/organizations/<slug>")
@login_required
def organization(slug: str):
    org = services.organization_for_member(db.session, current_user, slug)
    return _organization_page(org, InviteForm())


@bp.post("/organizations/<slug>/invitations")
@login_required
def invite(slug: str):
    org = services.organization_for_member(db.session, current_user, slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, sent = invite_and_email(
                db.session, current_user, org, form.email.data, MemberRole(form.role.data)
            )
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        else:
            if sent:
                flash(f"Invitation sent to {invitation.email}.", "success")
            else:
                flash(f"The invitation for {invitation.email} was saved but the e-mail could not be sent.", "error")
            return redirect(url_for("accounts.organization", slug=org.slug))
    return _organization_page(org, form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    if request.method == "POST":
        try:
            joined = services.accept_invitation(db.session, current_user, token)
        except (Conflict, Forbidden) as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("accounts.accept_invitation", token=token))
        db.session.commit()
        flash(f"You joined {joined.organization.name} as {joined.role.value}.", "success")
        return redirect(url_for("accounts.organization", slug=joined.organization.slug))
    invitation = services.invitation_for_token(db.session, token)
    return render_template(
        "accounts/invitation.html", invitation=invitation, token=token,
        expired=invitation.expired, addressed_to_me=invitation.email == current_user.email,
    )


# ---------------------------------------------------------------- API tokens

@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = services.create_api_token(db.session, current_user, form.name.data)
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        else:
            db.session.commit()
            # The secret is on this one response only: never flashed, stored or cached.
            response = make_response(render_template("accounts/token_created.html", token=token, secret=secret))
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("accounts/tokens.html", form=form,
                           tokens=services.api_tokens_of(db.session, current_user))


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    services.revoke_api_token(db.session, current_user, token_id)
    db.session.commit()
    flash("Token revoked. Programs using it can no longer call the API.", "success")
    return redirect(url_for("accounts.tokens"))
