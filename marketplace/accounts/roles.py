"""The roles a signed-in user works in, which one the pages are showing, and where each role's work starts.

Every signed-in user can buy; a member of an organization can sell; reviewers and admins have their platform role.
A user with several roles switches between them (``ROLE_KEY`` in the session); until they do, the pages show the
role whose work they most likely came for (``default_role``), worked out once a session (``DEFAULT_KEY``) and again
only when the user's platform role or organizations change, so a page view asks the database nothing about it.
"""
from __future__ import annotations

import enum

from flask import g, session, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import column, exists, select, table
from sqlalchemy.orm import Session

from marketplace.accounts.models import User

ROLE_KEY = "role"
# The default role with what it was worked out from: [role, memberships_key(user)].
DEFAULT_KEY = "role_default"

# Accounts sits below the trading packages, so it reads whether an organization sells or buys through the tables'
# names rather than their models.
_products = table("data_products", column("organization_id"))
_licences = table("licences", column("buyer_organization_id"))
_orders = table("orders", column("buyer_organization_id"))


class Role(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {Role.BUYER: _l("Buyer"), Role.SELLER: _l("Seller"), Role.REVIEWER: _l("Reviewer"),
               Role.ADMIN: _l("Admin")}


def roles_of(user: User) -> list[Role]:
    """The roles ``user`` may work in, in the order a menu lists them."""
    roles = [Role.BUYER]
    if user.memberships:
        roles.append(Role.SELLER)
    if user.is_reviewer:
        roles.append(Role.REVIEWER)
    if user.is_admin:
        roles.append(Role.ADMIN)
    return roles


def default_role(db_session: Session, user: User) -> Role:
    """The role a user starts in: the platform role of staff; a seller for an organization that sells (or has
    neither sold nor bought yet: its first product is the work in front of it); else a buyer."""
    if user.is_admin:
        return Role.ADMIN
    if user.is_reviewer:
        return Role.REVIEWER
    org_ids = [m.organization_id for m in user.memberships]
    if not org_ids:
        return Role.BUYER
    if db_session.scalar(select(exists().where(_products.c.organization_id.in_(org_ids)))):
        return Role.SELLER
    if db_session.scalar(select(exists().where(_orders.c.buyer_organization_id.in_(org_ids)))):
        return Role.BUYER
    return Role.SELLER


def memberships_key(user: User) -> str:
    """What a user's default role depends on besides their organizations' trades: platform role and organizations."""
    return f"{user.platform_role}:" + ",".join(str(i) for i in sorted(m.organization_id for m in user.memberships))


def remembered_default(db_session: Session, user: User) -> Role:
    """``default_role``, kept in the session for the user's platform role and organizations it was worked out for;
    the session is written only when it changes."""
    key = memberships_key(user)
    kept = session.get(DEFAULT_KEY)
    if (isinstance(kept, list) and len(kept) == 2 and kept[1] == key
            and kept[0] in {r.value for r in roles_of(user)}):
        return Role(kept[0])
    role = default_role(db_session, user)
    session[DEFAULT_KEY] = [role.value, key]
    return role


def current_role(db_session: Session, user: User) -> Role:
    """The role the pages show: the one chosen in this session if the user still has it, else the default."""
    if "current_role" not in g:
        chosen = session.get(ROLE_KEY)
        roles = roles_of(user)
        g.current_role = (Role(chosen) if chosen in {r.value for r in roles}
                          else remembered_default(db_session, user))
    return g.current_role


def choose_role(user: User, value: str | None) -> Role | None:
    """Keep ``value`` as the session's role if the user has it; the role, or None for one they do not have."""
    if value not in {r.value for r in roles_of(user)}:
        return None
    session[ROLE_KEY] = value
    g.current_role = Role(value)
    return Role(value)


def holds_licences(db_session: Session, user: User) -> bool:
    org_ids = [m.organization_id for m in user.memberships]
    return bool(org_ids) and bool(db_session.scalar(
        select(exists().where(_licences.c.buyer_organization_id.in_(org_ids)))))


def home_of(db_session: Session, user: User, role: Role) -> str:
    """Where a role's work starts: a buyer's licences (the catalog while they hold none), the seller dashboard,
    the review queue, the admin overview."""
    if role == Role.ADMIN:
        return url_for("admin.overview")
    if role == Role.REVIEWER:
        return url_for("review.queue")
    if role == Role.SELLER:
        return url_for("seller.dashboard")
    return url_for("licensing.licences") if holds_licences(db_session, user) else url_for("catalog.index")


# The staff areas, by the start of their addresses, and the roles whose work each is (the first is switched to).
STAFF_AREAS = (("/admin", (Role.ADMIN,)), ("/review", (Role.REVIEWER, Role.ADMIN)))


def staff_area_roles(path: str) -> tuple[Role, ...]:
    """The roles whose work the page at ``path`` is, for a staff page; empty for any other page."""
    for prefix, area_roles in STAFF_AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return area_roles
    return ()


def follow_staff_page(db_session: Session, user: User, path: str) -> Role | None:
    """On a staff page, the working role becomes the page's when the user holds it and works as another, so the
    navigation matches the page; the role switched to, or None (nothing to switch, or a role the user lacks: the
    page's own guard refuses them)."""
    area_roles = staff_area_roles(path)
    if not area_roles or current_role(db_session, user) in area_roles:
        return None
    held = roles_of(user)
    role = next((r for r in area_roles if r in held), None)
    return choose_role(user, role.value) if role else None
