"""Account pages: sign-up, log in/out, organizations, members and invitations, personal API tokens.
(The account settings, e-mail verification and password reset pages are in ``settings_views``.)

Each view parses its form, calls one service of ``marketplace.accounts.services`` and renders. A service's
refusal of the input (ValidationFailed, Conflict) goes back onto the form; anything else (NotFound,
Forbidden) reaches the app's error handler, which renders the HTML error page.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_fresh, login_required, login_user, logout_user

from marketplace.accounts import access, emails, identity, members, roles, services
from marketplace.accounts.forms import (
    ApiTokenForm,
    InviteForm,
    LocationForm,
    LoginForm,
    MemberRoleForm,
    OrganizationForm,
    SignupForm,
    apply_domain_errors,
)
from marketplace.accounts.invitations import invite_and_email
from marketplace.accounts.models import MemberRole, Organization, User
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db, login_manager

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
    """Where a logged-in user starts: the home of the role the pages show (``roles.home_of``); the catalog for a
    visitor."""
    if not current_user.is_authenticated:
        return url_for("catalog.index")
    user = current_user._get_current_object()
    return roles.home_of(db.session, user, roles.current_role(db.session, user))


@bp.app_context_processor
def _role_helpers() -> dict:
    """The navigation's roles: the one shown and the ones a user may switch to (read only when a page asks)."""
    def working_as() -> roles.Role | None:
        if not current_user.is_authenticated:
            return None
        return roles.current_role(db.session, current_user._get_current_object())

    def user_roles() -> list[roles.Role]:
        return roles.roles_of(current_user) if current_user.is_authenticated else []

    return {"working_as": working_as, "user_roles": user_roles, "Role": roles.Role}


@bp.before_app_request
def _follow_staff_page():
    """A staff page opened while working as another role switches to the page's role, and says so."""
    if not current_user.is_authenticated:
        return
    role = roles.follow_staff_page(db.session, current_user._get_current_object(), request.path)
    if role is not None:
        flash(_("You are now working as %(role)s, the role this page belongs to.", role=role.label), "info")


@bp.post("/role")
@login_required
def switch_role():
    """Show the pages as another of the user's roles and go to that role's home."""
    user = current_user._get_current_object()
    role = roles.choose_role(user, request.form.get("role"))
    if role is None:
        flash(_("You do not have that role."), "error")
        return redirect(home_url(), 303)
    flash(_("You are working as: %(role)s.", role=role.label), "info")
    return redirect(roles.home_of(db.session, user, role), 303)


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session: nothing from before (the CSRF token included) carries over, and the
    cookie names the user's current session version."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the request's token here
    login_user(user)


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
            result = identity.sign_up(
                db.session, email=form.email.data, password=form.password.data,
                display_name=form.display_name.data, organization_name=form.organization_name.data or None,
                locale=form.locale.data,
            )
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc, aliases={"name": "organization_name"})
        else:
            # The same page whether or not the address was taken; only the e-mail differs.
            if result.user is not None:
                emails.send_verification(result.user, result.secret, safe_next(form.next.data))
            else:
                emails.send_signup_attempt(result.existing)
            return render_template("accounts/check_inbox.html", email=services.normalise_email(form.email.data))
    return render_template("accounts/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        # A signed-in user whose session is no longer fresh is here to give the password again.
        if current_user.is_authenticated and login_fresh():
            return redirect(safe_next(form.next.data) or home_url())
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data)
        except services.LoginRefused as exc:
            if exc.newly_locked is not None:
                emails.send_account_locked(exc.newly_locked)
            form.form_errors.append(exc.message)
        else:
            start_session(user)
            return redirect(safe_next(form.next.data or request.args.get("next")) or home_url())
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.log_out(db.session, current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
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
            flash(_("Organization “%(name)s” created. You are its owner.", name=org.name), "success")
            return redirect(url_for("accounts.organization", slug=org.slug))
    memberships = services.memberships_of(db.session, current_user)
    return render_template("accounts/organizations.html", memberships=memberships, form=form)


def _organization_page(org: Organization, form: InviteForm, location_form: LocationForm | None = None):
    me = services.membership(db.session, current_user, org.id)
    is_owner = me is not None and me.role == MemberRole.OWNER
    return render_template(
        "accounts/organization.html", org=org, me=me, is_owner=is_owner,
        may_invite=access.permits(current_user, access.Permission.INVITE, org),
        members=members.members_of(db.session, current_user, org), role_form=MemberRoleForm(),
        # Invitees' addresses are for owners only; members see none.
        invitations=services.pending_invitations(db.session, current_user, org) if is_owner else [], form=form,
        location_form=location_form or LocationForm(location=str(org.location) if org.location else ""),
    )


@bp.post("/organizations/<slug>/location")
@login_required
def set_location(slug: str):
    org = services.organization_for_member(db.session, current_user, slug)
    form = LocationForm()
    if form.validate_on_submit():
        try:
            services.set_location(db.session, current_user, org, form.location.data)
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        else:
            flash(_("Location saved."), "success")
            return redirect(url_for("accounts.organization", slug=org.slug))
    return _organization_page(org, InviteForm(), form), 422


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
                flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            else:
                flash(_("The invitation for %(email)s was saved but the e-mail could not be sent.",
                        email=invitation.email), "error")
            return redirect(url_for("accounts.organization", slug=org.slug))
    return _organization_page(org, form)


@bp.post("/organizations/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    org = services.organization_for_member(db.session, current_user, slug)
    try:
        invitation = services.revoke_invitation(db.session, current_user, org, invitation_id)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The invitation for %(email)s is revoked: its link no longer works.", email=invitation.email),
              "success")
    return redirect(url_for("accounts.organization", slug=org.slug))


def _after_member_change(org: Organization, changed_user_id: int, message: str):
    """Keep the acting user signed in if the change was their own (it ended their sessions), go back."""
    if changed_user_id == current_user.id:
        start_session(current_user._get_current_object())
    flash(message, "success")
    still_member = services.membership(db.session, current_user, org.id) is not None
    return redirect(url_for("accounts.organization", slug=org.slug) if still_member
                    else url_for("accounts.organizations"))


@bp.post("/organizations/<slug>/members/<int:user_id>/role")
@login_required
def change_member_role(slug: str, user_id: int):
    org = services.organization_for_member(db.session, current_user, slug)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose owner or member."), "error")
        return redirect(url_for("accounts.organization", slug=org.slug))
    try:
        m = members.change_member_role(db.session, current_user, org, user_id, MemberRole(form.role.data))
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("accounts.organization", slug=org.slug))
    return _after_member_change(org, user_id, _("%(name)s is now %(role)s.", name=m.user.display_name,
                                                                 role=m.role.label))


@bp.post("/organizations/<slug>/members/<int:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int):
    org = services.organization_for_member(db.session, current_user, slug)
    try:
        members.remove_member(db.session, current_user, org, user_id)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("accounts.organization", slug=org.slug))
    message = (_("You left %(name)s.", name=org.name) if user_id == current_user.id
               else _("Member removed from %(name)s.", name=org.name))
    return _after_member_change(org, user_id, message)


@bp.post("/organizations/<slug>/leave")
@login_required
def leave_organization(slug: str):
    return remove_member(slug, current_user.id)


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
        flash(_("You joined %(name)s as %(role)s.", name=joined.organization.name, role=joined.role.label),
              "success")
        return redirect(url_for("accounts.organization", slug=joined.organization.slug))
    invitation = services.invitation_for_token(db.session, token)
    return render_template(
        "accounts/invitation.html", invitation=invitation, token=token,
        expired=invitation.expired, addressed_to_me=services.same_address(invitation.email, current_user),
        verified=current_user.email_verified,
    )


# ---------------------------------------------------------------- API tokens

@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = ApiTokenForm()
    if request.method == "POST" and not login_fresh():
        # A token outlives the session: a session seen from another address or browser must log in again.
        return login_manager.needs_refresh()
    if form.validate_on_submit():
        try:
            token, secret = services.create_api_token(db.session, current_user, form.name.data)
        except INPUT_ERRORS as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        else:
            # The secret is on this one response only: never flashed, stored or cached.
            response = make_response(render_template("accounts/token_created.html", token=token, secret=secret))
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("accounts/tokens.html", form=form,
                           tokens=services.api_tokens_of(db.session, current_user),
                           may_create=access.permits(current_user, access.Permission.CREATE_API_TOKEN))


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    services.revoke_api_token(db.session, current_user, token_id)
    flash(_("Token revoked. Programs using it can no longer call the API."), "success")
    return redirect(url_for("accounts.tokens"))


from marketplace.accounts import settings_views  # noqa: E402,F401  (its pages join this blueprint)
