"""Account rules: sign-up, passwords, organizations, invitations, platform roles and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from slugify import slugify
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import (
    ApiToken,
    Invitation,
    MemberRole,
    Membership,
    Organization,
    PlatformRole,
    User,
)
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed

_hasher = PasswordHasher()


def configure_password_hashing(time_cost: int, memory_cost_kib: int) -> None:
    """Set the argon2id cost (from config). Hashes made with other costs still verify and are upgraded at log-in."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "dpm_"


def normalise_email(email: str) -> str:
    """Return the canonical form of an e-mail address; refuse a malformed one."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed("Invalid e-mail address.", {"email": [str(exc)]}) from exc


def hash_password(password: str) -> str:
    """Hash a password with argon2id; refuse one shorter than MIN_PASSWORD_LENGTH."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Password too short.", {"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]}
        )
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def register_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    organization_name: str | None = None,
    locale: str = "en",
    platform_role: PlatformRole = PlatformRole.NONE,
    email_verified: bool = False,
) -> User:
    """Create a user (and, if named, an organization they own). Refuses a taken e-mail with Conflict.

    ``email_verified`` is for accounts made by an operator (the CLI, the demo), whose address nobody needs to prove.
    """
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("An account with this e-mail address already exists.", {"email": ["Already registered."]})
    user = User(
        email=email,
        display_name=display_name.strip() or email.split("@")[0],
        password_hash=hash_password(password),
        locale=locale if locale in ("en", "zh") else "en",
        platform_role=platform_role,
        email_verified_at=utcnow() if email_verified else None,
    )
    session.add(user)
    session.flush()
    if organization_name:
        create_organization(session, user, name=organization_name)
    _accept_pending_invitations(session, user)
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """Return the active user with these credentials; refuse anything else with one vague Unauthorized."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        email = ""
    user = session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        _hasher.hash(password or "x")  # same cost whether or not the account exists
        raise Unauthorized("Wrong e-mail address or password.")
    if not check_password(user, password) or not user.active:
        raise Unauthorized("Wrong e-mail address or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_platform_role(session: Session, email: str, role: PlatformRole) -> User:
    """Give an existing user a platform role (reviewer, admin or none)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No user with e-mail {email}.")
    user.platform_role = role
    return user


def unique_org_slug(session: Session, name: str) -> str:
    base = slugify(name, max_length=60) or "org"
    slug, n = base, 2
    while session.scalar(select(Organization.id).where(Organization.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_organization(
    session: Session, owner: User, *, name: str, description: str = "", website: str | None = None,
    contact_email: str | None = None,
) -> Organization:
    """Create an organization with ``owner`` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Organization name is required.", {"name": ["Required."]})
    org = Organization(
        slug=unique_org_slug(session, name), name=name, description=description, website=website,
        contact_email=normalise_email(contact_email) if contact_email else owner.email,
    )
    session.add(org)
    session.flush()
    session.add(Membership(user_id=owner.id, organization_id=org.id, role=MemberRole.OWNER))
    session.flush()
    return org


def memberships_of(session: Session, user: User) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).where(Membership.user_id == user.id).join(Membership.organization)
            .order_by(Organization.name)
        )
    )


def membership(session: Session, user: User, organization_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization_id)
    )


def organization_for_member(session: Session, user: User, slug: str) -> Organization:
    """Return the organization ``slug`` if ``user`` belongs to it; anyone else gets NotFound."""
    org = session.scalar(
        select(Organization).join(Membership).where(Organization.slug == slug, Membership.user_id == user.id)
    )
    if org is None:
        raise NotFound("No such organization.")
    return org


def require_owner(session: Session, user: User, org: Organization) -> None:
    m = membership(session, user, org.id)
    if m is None:
        raise NotFound("No such organization.")
    if m.role != MemberRole.OWNER:
        raise Forbidden("Only an owner of the organization can do this.")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite_member(
    session: Session, inviter: User, org: Organization, email: str, role: MemberRole = MemberRole.MEMBER,
    days: int = 14,
) -> tuple[Invitation, str]:
    """Invite an e-mail address into ``org``; only owners may invite. Returns the invitation and its secret token."""
    require_owner(session, inviter, org)
    email = normalise_email(email)
    already = session.scalar(
        select(Membership.id).join(User).where(Membership.organization_id == org.id, User.email == email)
    )
    if already:
        raise Conflict("That person is already a member.", {"email": ["Already a member."]})
    token = secrets.token_urlsafe(24)
    inv = Invitation(
        organization_id=org.id, email=email, role=role, token_hash=_digest(token), invited_by_id=inviter.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(inv)
    session.flush()
    return inv, token


def invitation_for_token(session: Session, token: str) -> Invitation:
    """The invitation with this secret token (open, accepted or expired); a revoked or unknown one is NotFound."""
    inv = session.scalar(select(Invitation).where(Invitation.token_hash == _digest(token)))
    if inv is None or inv.revoked_at is not None:
        raise NotFound("This invitation does not exist.")
    return inv


def accept_invitation(session: Session, user: User, token: str) -> Membership:
    """Join the organization of an open invitation addressed to ``user``'s e-mail; refuse expired or others'."""
    inv = invitation_for_token(session, token)
    if inv.email != user.email:
        raise Forbidden("This invitation was sent to another e-mail address.")
    if inv.accepted_at is not None:
        raise Conflict("This invitation was already accepted.")
    if inv.expired:
        raise Conflict("This invitation has expired.")
    return _accept(session, user, inv)


def _accept(session: Session, user: User, inv: Invitation) -> Membership:
    inv.accepted_at = utcnow()
    existing = membership(session, user, inv.organization_id)
    if existing:
        return existing
    m = Membership(user_id=user.id, organization_id=inv.organization_id, role=inv.role)
    session.add(m)
    session.flush()
    return m


def _accept_pending_invitations(session: Session, user: User) -> None:
    # Someone invited before they had an account joins on sign-up with that address.
    for inv in session.scalars(
        select(Invitation).where(
            Invitation.email == user.email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ):
        _accept(session, user, inv)


def pending_invitations(session: Session, org: Organization) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation).where(
                Invitation.organization_id == org.id, Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            ).order_by(Invitation.created_at)
        )
    )


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token. The secret is returned once and only its SHA-256 is stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("Give the token a name (at most 100 characters).", {"name": ["Required, 1-100 characters."]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=_digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    token.revoked_at = token.revoked_at or utcnow()


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user owning an unrevoked token with this secret, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Record use at most once a minute: a write on every API call would serialise readers on SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0
