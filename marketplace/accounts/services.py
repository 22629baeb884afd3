"""Account rules: sign-up, log-in and its lockout, passwords, sessions, organizations, invitations, platform roles
and API tokens. Member management lives in ``members``, mailed single-use tokens in ``tokens``."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from slugify import slugify
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts import access
from marketplace.accounts.models import (
    ApiToken,
    Invitation,
    MemberRole,
    Membership,
    Organization,
    PlatformRole,
    User,
)
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from marketplace.i18n import DEFAULT_LOCALE, current_locale_tag, locale_tag, when
from marketplace.places import Place
from marketplace.text import require_single_line

_hasher = PasswordHasher()


def configure_password_hashing(time_cost: int, memory_cost_kib: int) -> None:
    """Set the argon2id cost (from config). Hashes made with other costs still verify and are upgraded at log-in."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)


MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "dpm_"
# After this many failed log-ins in a row the account is locked; each further run of failures doubles the lock.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MAX_LOCK = timedelta(hours=24)
WRONG_CREDENTIALS = _l("Wrong e-mail address or password.")


def _email_problem(exc: EmailNotValidError) -> str:
    # email-validator explains in English only: its words for English readers, a translated explanation for others.
    if current_locale_tag() == "en":
        return str(exc)
    return _("This is not a valid e-mail address: a name, an @ and a domain such as example.com.")


def normalise_email(email: str) -> str:
    """Return the canonical form of an e-mail address; refuse a malformed one."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(_("Invalid e-mail address."), {"email": [_email_problem(exc)]}) from exc


def mail_address(email: str) -> str:
    """The form of a valid address to store for mailing and hand to a mail server: its domain in ASCII (IDNA,
    ``xn--``), which every SMTP server delivers, not only those speaking SMTPUTF8. An address whose local part
    is not ASCII has no such form and stays as it is. ``normalise_email`` maps both forms back to one."""
    try:
        found = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(_("Invalid e-mail address."), {"email": [_email_problem(exc)]}) from exc
    return (found.ascii_email or found.normalized).lower()


def same_address(typed_or_stored: str, user: User) -> bool:
    """Whether an address (in its Unicode or its ASCII form, e.g. an invitation's) is ``user``'s."""
    return email_key(typed_or_stored) == user.email


def check_account_names(display_name: str | None, organization_name: str | None = None) -> None:
    """Refuse a display name or organization name that is not a single line of plain text (ValidationFailed on
    ``display_name`` / ``organization_name``): they are written into e-mails to other people."""
    require_single_line({"display_name": display_name, "organization_name": organization_name})


def email_key(email: str | None) -> str:
    """What typed text is looked up and counted under: its canonical address, or the stripped, lower-cased text
    when it is no address. One key for every spelling of an address (full-width letters, IDNA), so that a limit
    per address cannot be dodged by spelling it differently."""
    try:
        return normalise_email(email or "")
    except ValidationFailed:
        return (email or "").strip().lower()[:254]


def typed_email_payload(email: str | None) -> dict:
    """The audit payload naming an address someone typed: the address when it is one, else only a note, since
    a malformed "address" is often a password typed into the wrong field."""
    try:
        return {"email": normalise_email(email or "")}
    except ValidationFailed:
        return {"email": None, "malformed": True}


def hash_password(password: str) -> str:
    """Hash a password with argon2id; refuse one shorter than MIN_PASSWORD_LENGTH."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("Password too short."), {"password": [_("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)]}
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
    check_account_names(display_name, organization_name)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(_("An account with this e-mail address already exists."), {"email": [_("Already registered.")]})
    user = User(
        email=email,
        display_name=display_name.strip() or email.split("@")[0],
        password_hash=hash_password(password),
        locale=locale_tag(locale) or DEFAULT_LOCALE,
        platform_role=platform_role,
        email_verified_at=utcnow() if email_verified else None,
    )
    try:
        # Two sign-ups racing for one address both pass the check above; the unique index stops the second.
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Conflict(_("An account with this e-mail address already exists."),
                       {"email": [_("Already registered.")]}) from None
    if organization_name:
        create_organization(session, user, name=organization_name)
    return user


class AccountLocked(Unauthorized):
    """Too many failed log-ins: refused whatever the password, until ``until``. Only for a signed-in user (the
    password change): a log-in never says so, since that would tell which addresses have accounts."""

    code = "account_locked"

    def __init__(self, until: datetime):
        super().__init__(_(
            "Too many failed log-ins: this account is locked until %(until)s. Try again then, or reset your "
            "password.", until=when(until, "zone")))
        self.until = until


class LoginRefused(Unauthorized):
    """A refused log-in, always worded WRONG_CREDENTIALS (an unknown address, a wrong password and a locked
    account look alike). ``newly_locked`` is the user whose account this very failure locked: the caller mails
    them, after committing, so that the real owner learns why they cannot log in."""

    def __init__(self, newly_locked: User | None = None):
        super().__init__(str(WRONG_CREDENTIALS))
        self.newly_locked = newly_locked


def authenticate(session: Session, email: str, password: str) -> User:
    """Return the active user with these credentials, audited as ``account.logged_in``.

    Refuses anything else, an account locked by repeated failures included (whether or not the password was
    right), with one LoginRefused. Every refusal is audited as ``account.login_failed`` (the address when it is
    one, never the password) and counts towards the lock; the caller commits so that it sticks.
    """
    typed = typed_email_payload(email)
    email = email_key(email)
    user = session.scalar(select(User).where(User.email == email)) if email else None
    now = utcnow()
    if user is None:
        _hasher.hash(password or "x")  # same cost whether or not the account exists
        record(session, actor_id=None, action="account.login_failed", subject_type="user", subject_id=None,
               payload={**typed, "reason": "unknown_address"})
        raise LoginRefused()
    if user.locked_until is not None and user.locked_until > now:
        _hasher.hash(password or "x")  # a locked account answers as slowly as any other
        record(session, actor_id=None, action="account.login_failed", subject_type="user", subject_id=user.id,
               payload={**typed, "reason": "locked"})
        raise LoginRefused()
    if not check_password(user, password) or not user.active:
        reason = "wrong_password" if user.active else "inactive"
        until = _count_failed_login(session, user)
        record(session, actor_id=None, action="account.login_failed", subject_type="user", subject_id=user.id,
               payload={**typed, "reason": reason, "locked_until": until})
        raise LoginRefused(newly_locked=user if until is not None and user.active else None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if user.failed_login_count or user.locked_until is not None:
        user.failed_login_count, user.locked_until = 0, None
    record(session, actor_id=user.id, action="account.logged_in", subject_type="user", subject_id=user.id)
    return user


def _count_failed_login(session: Session, user: User) -> datetime | None:
    """Add one failed log-in in the database itself (concurrent guesses each count); lock the account when the
    count reaches a multiple of MAX_FAILED_LOGINS. Returns the lock's end if this failure set one."""
    count = session.execute(
        update(User).where(User.id == user.id).values(failed_login_count=User.failed_login_count + 1)
        .returning(User.failed_login_count).execution_options(synchronize_session=False)
    ).scalar_one()
    session.expire(user, ["failed_login_count"])
    if count % MAX_FAILED_LOGINS:
        return None
    # 15 minutes after the first run of failures, 30 after the second, ... at most MAX_LOCK (the exponent is
    # capped first: a million failures must not overflow timedelta).
    doublings = min(count // MAX_FAILED_LOGINS - 1, 16)
    lock = min(timedelta(minutes=LOCK_MINUTES) * 2 ** doublings, MAX_LOCK)
    until = (utcnow() + lock).replace(microsecond=0)
    session.execute(
        update(User).where(User.id == user.id).values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["locked_until"])
    return until


def end_sessions(session: Session, user: User) -> None:
    """End every session of ``user``: their cookies carry the old session version, which no longer loads."""
    session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["session_version"])


def log_out(session: Session, user: User) -> None:
    """Log ``user`` out: the session version moves on, so a copy of this session's cookie stops working too."""
    end_sessions(session, user)
    record(session, actor_id=user.id, action="account.logged_out", subject_type="user", subject_id=user.id)


def log_out_everywhere(session: Session, user: User) -> None:
    """End all of ``user``'s sessions on every device and revoke every API token of theirs (a token is access
    too), audited as ``account.logged_out_everywhere``."""
    end_sessions(session, user)
    revoke_all_api_tokens(session, user, reason="logged_out_everywhere")
    record(session, actor_id=user.id, action="account.logged_out_everywhere", subject_type="user",
           subject_id=user.id)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Replace ``user``'s password, end their other sessions (the caller logs this one in again) and revoke
    every API token of theirs.

    Refuses a wrong current password (ValidationFailed on ``current_password``; it counts as a failed log-in,
    so a stolen session cannot guess the password without limit), a locked account, and a short new password.
    """
    if user.locked_until is not None and user.locked_until > utcnow():
        raise AccountLocked(user.locked_until)
    if not check_password(user, current):
        _count_failed_login(session, user)
        record(session, actor_id=user.id, action="account.password_change_failed", subject_type="user",
               subject_id=user.id)
        raise ValidationFailed(_("The current password is wrong."), {"current_password": [_("Wrong password.")]})
    user.password_hash = hash_password(new)
    end_sessions(session, user)
    revoke_all_api_tokens(session, user, reason="password_changed")
    record(session, actor_id=user.id, action="account.password_changed", subject_type="user", subject_id=user.id)


def set_platform_role(session: Session, email: str, role: PlatformRole, actor: User | None = None) -> User:
    """Give an existing user a platform role (reviewer, admin or none); ends their sessions and is audited."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(_("No user with e-mail %(email)s.", email=email))
    before = user.platform_role
    user.platform_role = role
    if before != role:
        end_sessions(session, user)
        record(session, actor_id=actor.id if actor else None, action="account.platform_role_changed",
               subject_type="user", subject_id=user.id, payload={"from": before.value, "to": role.value})
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
    """Create an organization with ``owner`` as its first owner; audited as ``organization.created``.

    Refuses an empty name, and one that is not a single line of plain text (it goes into invitation e-mails)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Organization name is required."), {"name": [_("Required.")]})
    require_single_line({"name": name})
    org = Organization(
        slug=unique_org_slug(session, name), name=name, description=description, website=website,
        contact_email=normalise_email(contact_email) if contact_email else owner.email,
    )
    session.add(org)
    session.flush()
    session.add(Membership(user_id=owner.id, organization_id=org.id, role=MemberRole.OWNER))
    session.flush()
    record(session, actor_id=owner.id, action="organization.created", subject_type="organization",
           subject_id=org.id, payload={"slug": org.slug, "name": org.name})
    return org


def set_location(session: Session, user: User, org: Organization, location: str | None) -> Organization:
    """Where the organization is established (an owner says; audited as ``organization.location_set``): the
    cross-boundary rules read it for every later trade. Refuses a place not on the list."""
    access.require(user, access.Permission.MANAGE_ORGANIZATION, org)
    value = (location or "").strip()
    try:
        place = Place(value) if value else None
    except ValueError:
        raise ValidationFailed(_("Choose where the organization is established from the list."),
                               {"location": [_("Choose a place from the list.")]}) from None
    if place != org.location:
        record(session, actor_id=user.id, action="organization.location_set", subject_type="organization",
               subject_id=org.id, payload={"from": org.location and str(org.location),
                                           "to": place and str(place)})
        org.location = place
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
    """Return the organization ``slug`` if ``user`` belongs to it (``access.VIEW_ORGANIZATION``); anyone else gets
    NotFound, whether or not it exists."""
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(_("No such organization."))
    access.require(user, access.Permission.VIEW_ORGANIZATION, org)
    return org


def require_owner(session: Session, user: User, org: Organization) -> None:
    """Refuse anyone but an owner of ``org`` (``access.MANAGE_ORGANIZATION``): NotFound for non-members,
    Forbidden for members who are not owners."""
    access.require(user, access.Permission.MANAGE_ORGANIZATION, org)


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a secret token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def invite_member(
    session: Session, inviter: User, org: Organization, email: str, role: MemberRole = MemberRole.MEMBER,
    days: int = 14,
) -> tuple[Invitation, str]:
    """Invite an e-mail address into ``org`` (``access.INVITE``: owners whose own address is verified, since the
    e-mail goes out in their name). Returns the invitation and its secret token (only its SHA-256 is stored).
    The address is stored in its ASCII form (``mail_address``), which any mail server delivers. Refuses a
    malformed address (ValidationFailed) and a current member's (Conflict). Audited as ``invitation.created``."""
    access.require(inviter, access.Permission.INVITE, org)
    already = session.scalar(
        select(Membership.id).join(User).where(Membership.organization_id == org.id,
                                               User.email == normalise_email(email))
    )
    if already:
        raise Conflict(_("That person is already a member."), {"email": [_("Already a member.")]})
    # Stored and mailed with an ASCII domain; accepting compares through ``same_address``.
    email = mail_address(email)
    token = secrets.token_urlsafe(24)
    inv = Invitation(
        organization_id=org.id, email=email, role=role, token_hash=digest(token), invited_by_id=inviter.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(inv)
    session.flush()
    record(session, actor_id=inviter.id, action="invitation.created", subject_type="invitation", subject_id=inv.id,
           payload={"organization": org.slug, "email": email, "role": role.value})
    return inv, token


def invitation_for_token(session: Session, token: str) -> Invitation:
    """The invitation with this secret token (open, accepted or expired); a revoked or unknown one is NotFound."""
    inv = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if inv is None or inv.revoked_at is not None:
        raise NotFound(_("This invitation does not exist."))
    return inv


def accept_invitation(session: Session, user: User, token: str) -> Membership:
    """Join the organization of an open invitation through its link; audited as ``invitation.accepted``.

    Refuses an account whose address is not verified, or not the invited one (Forbidden), and an expired or
    already accepted invitation (Conflict): only the owner of the invited address, holding the link, joins, once.
    """
    inv = invitation_for_token(session, token)
    if not user.email_verified:
        raise Forbidden(_("Verify your e-mail address before accepting an invitation."))
    if not same_address(inv.email, user):
        raise Forbidden(_("This invitation was sent to another e-mail address."))
    if inv.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted."))
    if inv.expired:
        raise Conflict(_("This invitation has expired."))
    # Single use even under concurrent accepts: only the request that flips accepted_at goes on.
    claimed = session.execute(
        update(Invitation).where(
            Invitation.id == inv.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        ).values(accepted_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    session.expire(inv, ["accepted_at", "revoked_at"])
    if claimed != 1:
        raise Conflict(_("This invitation was already accepted."))
    m = membership(session, user, inv.organization_id)
    if m is None:
        m = Membership(user_id=user.id, organization_id=inv.organization_id, role=inv.role)
        session.add(m)
        session.flush()
    record(session, actor_id=user.id, action="invitation.accepted", subject_type="invitation", subject_id=inv.id,
           payload={"organization_id": inv.organization_id, "role": m.role.value})
    return m


def revoke_invitation(session: Session, owner: User, org: Organization, invitation_id: int) -> Invitation:
    """Revoke an open invitation of ``org`` (owners only) so its link stops working; audited.

    An unknown invitation, or another organization's, is NotFound; an accepted one is a Conflict (remove the
    member instead); revoking twice keeps the first time.
    """
    require_owner(session, owner, org)
    inv = session.get(Invitation, invitation_id)
    if inv is None or inv.organization_id != org.id:
        raise NotFound(_("No such invitation."))
    if inv.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted: remove the member instead."))
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        record(session, actor_id=owner.id, action="invitation.revoked", subject_type="invitation",
               subject_id=inv.id, payload={"organization": org.slug, "email": inv.email})
    return inv


def pending_invitations(session: Session, user: User, org: Organization) -> list[Invitation]:
    """The open invitations of ``org``, oldest first: owners only (they name invitees' addresses), as in
    ``require_owner``."""
    require_owner(session, user, org)
    return list(
        session.scalars(
            select(Invitation).where(
                Invitation.organization_id == org.id, Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            ).order_by(Invitation.created_at)
        )
    )


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token. The secret is returned once and only its SHA-256 is stored.

    Refuses an account whose address is not verified (Forbidden, ``access.CREATE_API_TOKEN``): whoever signed up
    with someone else's address must not keep a way in once its real owner takes the account back.
    """
    access.require(user, access.Permission.CREATE_API_TOKEN)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("Give the token a name (at most 100 characters)."),
                               {"name": [_("Required, 1-100 characters.")]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=digest(secret))
    session.add(token)
    session.flush()
    record(session, actor_id=user.id, action="api_token.created", subject_type="api_token", subject_id=token.id,
           payload={"name": name, "prefix": token.prefix})
    return token, secret


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    """Revoke one of ``user``'s API tokens (someone else's is NotFound); revoking twice keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor_id=user.id, action="api_token.revoked", subject_type="api_token",
               subject_id=token.id, payload={"name": token.name, "prefix": token.prefix})


def revoke_all_api_tokens(session: Session, user: User, reason: str) -> int:
    """Revoke every open API token of ``user`` (a password reset or change, log out everywhere), each audited
    as ``api_token.revoked`` with ``reason``; returns how many."""
    now = utcnow()
    tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                         ApiToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = now
        record(session, actor_id=user.id, action="api_token.revoked", subject_type="api_token",
               subject_id=token.id, payload={"name": token.name, "prefix": token.prefix, "reason": reason})
    return len(tokens)


# A token's last use is recorded at most this often: a write on every API call would serialise readers on SQLite.
TOKEN_STAMP_INTERVAL = timedelta(minutes=1)


def token_for_secret(session: Session, secret: str) -> ApiToken | None:
    """The unrevoked token with this secret whose user is active, or None. Reads only."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user owning an unrevoked token with this secret, or None. Reads only: recording the use is
    ``stamp_token_use``, after the request."""
    token = token_for_secret(session, secret)
    return token.user if token is not None else None


def token_stamp_due(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether ``token``'s last use is older than ``TOKEN_STAMP_INTERVAL`` (or was never recorded)."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at > TOKEN_STAMP_INTERVAL


def stamp_token_use(session: Session, token_id: int, now: datetime | None = None) -> bool:
    """Record that the token was used ``now``, unless a use under ``TOKEN_STAMP_INTERVAL`` ago is recorded
    already (one conditional UPDATE: concurrent first calls write it once, and nothing read earlier is rewritten).
    Whether it wrote."""
    now = now or utcnow()
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_STAMP_INTERVAL))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0
