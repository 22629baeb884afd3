"""Users, organizations, memberships, invitations and API tokens."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from marketplace.extensions import db
from marketplace.places import Place


class PlatformRole(enum.StrEnum):
    NONE = "none"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"none": _("none"), "reviewer": _("reviewer"), "admin": _("admin")}[self.value]


class MemberRole(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return {"owner": _("owner"), "member": _("member")}[self.value]


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="en")  # a tag of marketplace.i18n.LOCALES
    # Asia/Shanghai or Asia/Hong_Kong; None shows times in the zone of the locale's city.
    timezone: Mapped[str | None] = mapped_column(String(40))
    platform_role: Mapped[PlatformRole] = mapped_column(str_enum(PlatformRole), default=PlatformRole.NONE)
    active: Mapped[bool] = mapped_column(default=True)
    # None until the owner of the address followed the verification link.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every session cookie; raising it ends all of the user's sessions (log-out, password or role change).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Consecutive failed log-ins, and until when further attempts are refused.
    failed_login_count: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session names the session version too, see accounts/auth.py
        return f"{self.id}:{self.session_version}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_reviewer(self) -> bool:
        return self.platform_role in (PlatformRole.REVIEWER, PlatformRole.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.platform_role == PlatformRole.ADMIN


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    website: Mapped[str | None] = mapped_column(String(500))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # The platform fee on this seller's sales in basis points, set by a platform admin; None keeps the platform's
    # default (PLATFORM_FEE_BPS). Copied onto each order when it is placed.
    fee_bps: Mapped[int | None] = mapped_column()
    # Where the organization is established: decides which side of the Mainland's border its trades cross.
    location: Mapped[Place | None] = mapped_column(str_enum(Place, 20))

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")


class Membership(TimestampMixin, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole), default=MemberRole.MEMBER)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")


class Invitation(TimestampMixin, db.Model):
    """An invitation of an e-mail address into an organization; accepted by the user with that address."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole), default=MemberRole.MEMBER)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()

    @property
    def expired(self) -> bool:
        return self.expires_at < utcnow()


class ApiToken(TimestampMixin, db.Model):
    """A personal API token: only its SHA-256 is stored; the secret is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class AccountTokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class AccountToken(TimestampMixin, db.Model):
    """A single-use secret mailed to a user (address verification, password reset): only its SHA-256 is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[AccountTokenPurpose] = mapped_column(str_enum(AccountTokenPurpose, 20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the token proves (an address change must not verify the old one).
    email: Mapped[str] = mapped_column(String(254))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
