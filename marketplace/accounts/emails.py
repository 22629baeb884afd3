"""The account e-mails (verification, password reset, a sign-up with a taken address, a locked account) and the
links in them. Each is written in its recipient's language and time zone (``i18n.in_locale_of``), whoever asked.

Every link is built on ``PUBLIC_BASE_URL``, never on the request's Host header, which the sender of the
request chooses: a reset link pointing at an attacker's host would hand them the token.
"""
from __future__ import annotations

import logging

from flask import url_for
from flask_babel import gettext as _

from marketplace.accounts.models import User
from marketplace.accounts.services import mail_address
from marketplace.errors import ValidationFailed
from marketplace.i18n import in_locale_of, when
from marketplace.mail import public_link, send_mail

log = logging.getLogger(__name__)


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on the configured public site."""
    return public_link(url_for(endpoint, _external=False, **values))


def _ascii_domain(address: str) -> str:
    try:
        return mail_address(address)
    except ValidationFailed:  # no address at all: the mailer refuses it as it is, as a failed delivery
        return address


def deliver(to: str, subject: str, body: str) -> bool:
    """Queue one e-mail in the outbox (sent after the commit, retried while the mail server is down), to the ASCII
    form of the address's domain (a server without SMTPUTF8 refuses Unicode domains); False (logged) when the
    address cannot take mail at all, so the caller can say so."""
    try:
        send_mail(_ascii_domain(to), subject, body)
    except OSError:  # smtplib's errors are OSErrors; the token or invitation itself is saved
        log.exception("could not send %r to %s", subject, to)
        return False
    return True


def send_verification(user: User, secret: str, next_path: str | None = None) -> bool:
    """Mail ``user`` the link that verifies their address (``next_path``: where to go afterwards)."""
    link = public_url("accounts.verify_email", token=secret, next=next_path or None)
    with in_locale_of(user):
        return deliver(user.email, _("Confirm your e-mail address for Open Data Exchange"), "\n\n".join((
            _("Hello %(name)s,", name=user.display_name),
            _("Please confirm that %(email)s is your address by opening this link:", email=user.email)
            + f"\n{link}",
            _("The link works once and expires in 48 hours. Until you confirm, you cannot accept invitations, "
              "list data products or license them."),
            _("If you did not create an account, ignore this e-mail."),
        )) + "\n")


def send_signup_attempt(user: User) -> bool:
    """Tell the owner of a taken address that someone tried to sign up with it (instead of telling the visitor)."""
    with in_locale_of(user):
        return deliver(user.email, _("Someone tried to sign up with your address on Open Data Exchange"),
                       "\n\n".join((
            _("Hello %(name)s,", name=user.display_name),
            _("Someone (perhaps you) tried to create an account with %(email)s, which already has one.",
              email=user.email),
            _("Log in here: %(link)s", link=public_url("accounts.login")) + "\n"
            + _("Forgot your password? Reset it here: %(link)s", link=public_url("accounts.password_reset_request")),
            _("If it was not you, you need not do anything: no account was created."),
        )) + "\n")


def send_password_reset(user: User, secret: str) -> bool:
    """Mail ``user`` the link that sets a new password."""
    link = public_url("accounts.password_reset", token=secret)
    with in_locale_of(user):
        return deliver(user.email, _("Reset your Open Data Exchange password"), "\n\n".join((
            _("Hello %(name)s,", name=user.display_name),
            _("Someone (perhaps you) asked to reset the password of %(email)s. Choose a new one here:",
              email=user.email) + f"\n{link}",
            _("The link works once and expires in one hour. Setting a new password logs you out everywhere."),
            _("If you did not ask, ignore this e-mail: your password stays as it is."),
        )) + "\n")


def send_account_locked(user: User) -> bool:
    """Tell ``user`` that repeated failed log-ins locked their account (the log-in page does not say so, lest it
    tell strangers which addresses have accounts), until when, and that a password reset unlocks it now."""
    with in_locale_of(user):
        until = when(user.locked_until, "zone") if user.locked_until else _("a while")
        return deliver(user.email, _("Your Open Data Exchange account is locked for a while"), "\n\n".join((
            _("Hello %(name)s,", name=user.display_name),
            _("After several failed log-ins with %(email)s, we locked the account until %(until)s: until then "
              "nobody can log in to it, you included, even with the right password.", email=user.email, until=until),
            _("If that was you and you forgot your password, reset it here; that unlocks the account at once:")
            + f"\n{public_url('accounts.password_reset_request')}",
            _("If it was not you, someone may be guessing your password: you need not do anything, but choosing a "
              "long password that you use nowhere else keeps the account safe."),
        )) + "\n")
