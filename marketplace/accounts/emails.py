"""The account e-mails (verification, password reset, a sign-up with a taken address, a locked account) and the
links in them.

Every link is built on ``PUBLIC_BASE_URL``, never on the request's Host header, which the sender of the
request chooses: a reset link pointing at an attacker's host would hand them the token.
"""
from __future__ import annotations

import logging

from flask import url_for

from marketplace.accounts.models import User
from marketplace.accounts.services import mail_address
from marketplace.errors import ValidationFailed
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
    return deliver(user.email, "Confirm your e-mail address for Open Data Exchange", (
        f"Hello {user.display_name},\n\n"
        f"Please confirm that {user.email} is your address by opening this link:\n{link}\n\n"
        "The link works once and expires in 48 hours. Until you confirm, you cannot accept invitations, "
        "list data products or license them.\n\n"
        "If you did not create an account, ignore this e-mail.\n"
    ))


def send_signup_attempt(user: User) -> bool:
    """Tell the owner of a taken address that someone tried to sign up with it (instead of telling the visitor)."""
    return deliver(user.email, "Someone tried to sign up with your address on Open Data Exchange", (
        f"Hello {user.display_name},\n\n"
        f"Someone (perhaps you) tried to create an account with {user.email}, which already has one.\n\n"
        f"Log in here: {public_url('accounts.login')}\n"
        f"Forgot your password? Reset it here: {public_url('accounts.password_reset_request')}\n\n"
        "If it was not you, you need not do anything: no account was created.\n"
    ))


def send_password_reset(user: User, secret: str) -> bool:
    """Mail ``user`` the link that sets a new password."""
    link = public_url("accounts.password_reset", token=secret)
    return deliver(user.email, "Reset your Open Data Exchange password", (
        f"Hello {user.display_name},\n\n"
        f"Someone (perhaps you) asked to reset the password of {user.email}. Choose a new one here:\n{link}\n\n"
        "The link works once and expires in one hour. Setting a new password logs you out everywhere.\n\n"
        "If you did not ask, ignore this e-mail: your password stays as it is.\n"
    ))


def send_account_locked(user: User) -> bool:
    """Tell ``user`` that repeated failed log-ins locked their account (the log-in page does not say so, lest it
    tell strangers which addresses have accounts), until when, and that a password reset unlocks it now."""
    until = f"{user.locked_until:%Y-%m-%d %H:%M} UTC" if user.locked_until else "a while"
    return deliver(user.email, "Your Open Data Exchange account is locked for a while", (
        f"Hello {user.display_name},\n\n"
        f"After several failed log-ins with {user.email}, we locked the account until {until}: until then "
        "nobody can log in to it, you included, even with the right password.\n\n"
        f"If that was you and you forgot your password, reset it here; that unlocks the account at once:\n"
        f"{public_url('accounts.password_reset_request')}\n\n"
        "If it was not you, someone may be guessing your password: you need not do anything, but choosing a "
        "long password that you use nowhere else keeps the account safe.\n"
    ))
