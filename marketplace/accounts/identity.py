"""Proving who someone is: sign-up, and the single-use secrets mailed to a user (verifying an e-mail address,
resetting a forgotten password).

Only a token's SHA-256 is stored; each expires and works once. Signing up and asking for a link answer the same
whether or not the address has an account (the caller shows one message either way and mails only when there is
someone to mail), so these pages cannot be used to learn who is registered.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import AccountToken, AccountTokenPurpose, User
from marketplace.accounts.services import (
    check_account_names,
    digest,
    end_sessions,
    hash_password,
    normalise_email,
    register_user,
    revoke_all_api_tokens,
    typed_email_payload,
)
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound

LIFETIMES = {
    AccountTokenPurpose.VERIFY_EMAIL: timedelta(hours=48),
    AccountTokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}


def issue_token(session: Session, user: User, purpose: AccountTokenPurpose) -> str:
    """A new secret for ``user`` and ``purpose``; earlier unused ones of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None),
        ).values(used_at=now).execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    session.add(AccountToken(
        user_id=user.id, purpose=purpose, token_hash=digest(secret), email=user.email,
        expires_at=now + LIFETIMES[purpose],
    ))
    session.flush()
    return secret


@dataclass(frozen=True)
class SignUp:
    """What a sign-up did: ``user`` is the new account and ``secret`` its verification token, or ``user`` is None
    when the address was taken (``existing``, whose owner the caller tells)."""

    user: User | None
    secret: str | None = None
    existing: User | None = None


def sign_up(
    session: Session, *, email: str, password: str, display_name: str, organization_name: str | None = None,
    locale: str = "en",
) -> SignUp:
    """Sign-up from the public form: an unverified account and its verification secret, audited as
    ``account.signed_up``.

    A taken address is not refused (that would tell anyone which addresses have accounts): nothing is created,
    the password is hashed all the same so both answers take as long, and the caller mails the address's owner.
    Refuses a malformed address, a short password, or a display or organization name that is not one line of
    plain text (ValidationFailed, checked before looking the address up), which says nothing about accounts.
    """
    email = normalise_email(email)
    check_account_names(display_name, organization_name)
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        hash_password(password)
        return _address_taken(session, existing)
    try:
        user = register_user(
            session, email=email, password=password, display_name=display_name,
            organization_name=organization_name, locale=locale,
        )
    except Conflict:  # another sign-up for the address committed between the check and the insert
        return _address_taken(session, session.scalar(select(User).where(User.email == email)))
    record(session, actor_id=user.id, action="account.signed_up", subject_type="user", subject_id=user.id,
           payload={"email": user.email, "organization": organization_name or None})
    return SignUp(user, secret=issue_token(session, user, AccountTokenPurpose.VERIFY_EMAIL))


def _address_taken(session: Session, existing: User) -> SignUp:
    # Written like a new account's sign-up, so that both answers take as long; and worth knowing.
    record(session, actor_id=None, action="account.signup_address_taken", subject_type="user",
           subject_id=existing.id, payload={"email": existing.email})
    return SignUp(None, existing=existing)


def _requested(session: Session, action: str, email: str) -> User | None:
    """The active account at ``email``, or None; the request is audited either way, so that both answers
    write the same and take as long."""
    typed = typed_email_payload(email)
    user = None
    if typed["email"] is not None:
        user = session.scalar(select(User).where(User.email == typed["email"], User.active.is_(True)))
    record(session, actor_id=None, action=action, subject_type="user", subject_id=user.id if user else None,
           payload=typed)
    return user


def request_verification(session: Session, email: str) -> tuple[User, str] | None:
    """A fresh verification secret for the unverified account at ``email``, or None (no such account, or
    already verified): the caller answers the same either way. Audited as ``account.verification_requested``."""
    user = _requested(session, "account.verification_requested", email)
    if user is None or user.email_verified:
        return None
    return user, issue_token(session, user, AccountTokenPurpose.VERIFY_EMAIL)


def request_password_reset(session: Session, email: str) -> tuple[User, str] | None:
    """A password-reset secret for the account at ``email``, or None when there is no such account: the caller
    answers the same either way. Audited as ``account.password_reset_requested``."""
    user = _requested(session, "account.password_reset_requested", email)
    if user is None:
        return None
    return user, issue_token(session, user, AccountTokenPurpose.RESET_PASSWORD)


def check_token(session: Session, secret: str, purpose: AccountTokenPurpose) -> AccountToken:
    """The open token with this secret. Refuses an unknown one (NotFound), and a used, expired or outdated one
    (Conflict, saying which)."""
    token = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == digest(secret), AccountToken.purpose == purpose)
    )
    if token is None:
        raise NotFound(_("This link is not valid. Check that you copied all of it."))
    if token.used_at is not None:
        raise Conflict(_("This link was already used, or a newer one was sent. Ask for a new one."))
    if token.expires_at < utcnow():
        raise Conflict(_("This link has expired. Ask for a new one."))
    if token.email != token.user.email:
        raise Conflict(_("This link was sent to an address the account no longer uses."))
    return token


def _use(session: Session, token: AccountToken) -> None:
    # Only the request that flips used_at goes on: two clicks on one link cannot both use it.
    used = session.execute(
        update(AccountToken).where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    session.expire(token, ["used_at"])
    if used != 1:
        raise Conflict(_("This link was already used. Ask for a new one."))


def verify_email(session: Session, secret: str) -> User:
    """Mark the address the token was sent to as verified; audited as ``account.email_verified``.

    Refusals as in ``check_token``.
    """
    token = check_token(session, secret, AccountTokenPurpose.VERIFY_EMAIL)
    _use(session, token)
    user = token.user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(session, actor_id=user.id, action="account.email_verified", subject_type="user", subject_id=user.id,
               payload={"email": user.email})
    return user


def reset_password(session: Session, secret: str, new_password: str) -> User:
    """Set a new password through a reset link: ends every session, revokes every API token (whoever held the
    account before its owner took it back keeps no way in), lifts a log-in lock, and (the link proved the address)
    verifies the address. Audited as ``account.password_reset``.

    Refuses a short password (ValidationFailed, the link stays usable) and the token as in ``check_token``.
    """
    token = check_token(session, secret, AccountTokenPurpose.RESET_PASSWORD)
    password_hash = hash_password(new_password)
    _use(session, token)
    user = token.user
    user.password_hash = password_hash
    user.failed_login_count, user.locked_until = 0, None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    end_sessions(session, user)
    revoke_all_api_tokens(session, user, reason="password_reset")
    record(session, actor_id=user.id, action="account.password_reset", subject_type="user", subject_id=user.id)
    return user
