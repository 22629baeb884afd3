"""Account settings and proving who you are: the account page, password change, log out everywhere,
e-mail verification and its resend, password reset by e-mail.

The pages that take an address (resend, reset) answer the same whether or not it has an account. Links in
e-mails lead to a page with a button: the GET shows, the POST uses the single-use token, so a mail scanner
that opens links cannot spend it.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from marketplace.accounts import emails, identity, services
from marketplace.accounts.forms import (
    EmailForm,
    LanguageForm,
    PasswordChangeForm,
    PasswordResetForm,
    PreferencesForm,
    apply_domain_errors,
)
from marketplace.accounts.models import AccountTokenPurpose
from marketplace.accounts.preferences import set_preferences
from marketplace.accounts.views import bp, home_url, safe_next, start_session
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import csrf, db
from marketplace.i18n import COOKIE_MAX_AGE, LOCALE_COOKIE, forget_locale


@bp.get("/settings")
@login_required
def account():
    form = PreferencesForm(locale=current_user.locale, timezone=current_user.timezone or "")
    return render_template("accounts/account.html", preferences=form)


@bp.post("/settings/preferences")
@login_required
def preferences():
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            set_preferences(db.session, current_user._get_current_object(), locale=form.locale.data,
                            timezone=form.timezone.data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            forget_locale()  # the message below is in the language just chosen
            flash(_("Preferences saved."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", preferences=form), 400


@bp.post("/language")
@csrf.exempt  # a visitor's choice is only a cookie of theirs: the form holds no token, so visitors get no session
def choose_language():
    """The switcher: the visitor's choice is kept in a cookie; a signed-in user's is saved to the account, behind
    the CSRF token of the user's session."""
    form = LanguageForm() if current_user.is_authenticated else LanguageForm(meta={"csrf": False})
    if not form.validate_on_submit():
        flash(_("That language is not offered."), "error")
        return redirect(safe_next(form.next.data) or url_for("catalog.index"))
    tag = form.locale.data
    if current_user.is_authenticated:
        set_preferences(db.session, current_user._get_current_object(), locale=tag)
    response = redirect(safe_next(form.next.data) or url_for("catalog.index"))
    response.set_cookie(LOCALE_COOKIE, tag, max_age=COOKIE_MAX_AGE, secure=request.is_secure, httponly=True,
                        samesite="Lax")
    return response


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(db.session, user, form.current_password.data, form.password.data)
        except services.AccountLocked as exc:
            form.form_errors.append(exc.message)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            start_session(user)  # this session goes on with the new version; every other one ended
            flash(_("Password changed. You were logged out on every other device."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/password_change.html", form=form)


@bp.post("/settings/logout-everywhere")
@login_required
def logout_everywhere():
    services.log_out_everywhere(db.session, current_user._get_current_object())
    logout_user()
    flash(_("You are logged out on every device, this one included."), "info")
    return redirect(url_for("accounts.login"))


# ---------------------------------------------------------------- e-mail verification

@bp.get("/verify-email/<token>")
def verify_email(token: str):
    try:
        identity.check_token(db.session, token, AccountTokenPurpose.VERIFY_EMAIL)
    except (NotFound, Conflict) as exc:
        return render_template("accounts/link_refused.html", message=exc.message, resend=True), exc.status
    return render_template("accounts/verify_email.html", token=token, next=safe_next(request.args.get("next")))


@bp.post("/verify-email/<token>")
def confirm_email(token: str):
    try:
        user = identity.verify_email(db.session, token)
    except (NotFound, Conflict) as exc:
        db.session.rollback()
        return render_template("accounts/link_refused.html", message=exc.message, resend=True), exc.status
    flash(_("Thank you: %(email)s is confirmed.", email=user.email), "success")
    target = safe_next(request.form.get("next"))
    if current_user.is_authenticated:
        return redirect(target or home_url())
    return redirect(url_for("accounts.login", next=target))


@bp.route("/verify-email/resend", methods=["GET", "POST"])
def resend_verification():
    form = EmailForm()
    if request.method == "GET" and current_user.is_authenticated:
        form.email.data = current_user.email
    if form.validate_on_submit():
        found = identity.request_verification(db.session, form.email.data)
        if found is not None:
            emails.send_verification(*found)
        flash(_("If an unconfirmed account uses that address, we sent it a new confirmation link."), "info")
        return redirect(url_for("accounts.resend_verification"))
    return render_template("accounts/resend_verification.html", form=form)


# ---------------------------------------------------------------- password reset

@bp.route("/password/reset", methods=["GET", "POST"])
def password_reset_request():
    form = EmailForm()
    if form.validate_on_submit():
        found = identity.request_password_reset(db.session, form.email.data)
        if found is not None:
            emails.send_password_reset(*found)
        flash(_("If an account uses that address, we sent it a link to choose a new password. "
                "The link works for one hour."), "info")
        return redirect(url_for("accounts.password_reset_request"))
    return render_template("accounts/password_reset_request.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    form = PasswordResetForm()
    try:
        identity.check_token(db.session, token, AccountTokenPurpose.RESET_PASSWORD)
    except (NotFound, Conflict) as exc:
        return render_template("accounts/link_refused.html", message=exc.message, reset=True), exc.status
    if form.validate_on_submit():
        try:
            identity.reset_password(db.session, token, form.password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_domain_errors(form, exc)
        except Conflict as exc:  # used by a concurrent request a moment ago
            db.session.rollback()
            return render_template("accounts/link_refused.html", message=exc.message, reset=True), exc.status
        else:
            logout_user()
            flash(_("Your password is changed and every session of yours has ended. Log in with the new one."),
                  "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/password_reset.html", form=form, token=token)
