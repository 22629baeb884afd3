"""Who belongs to an organization: listing members, changing a member's role, removing a member, leaving.

An organization always keeps at least one owner. A role change or a removal ends the member's sessions, so
a browser that still shows the old access loses it on its next request.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import MemberRole, Membership, Organization, User
from marketplace.accounts.services import end_sessions, membership, require_owner
from marketplace.audit.services import record
from marketplace.errors import Conflict, NotFound

LAST_OWNER = _l("An organization needs at least one owner: make someone else an owner first.")


def members_of(session: Session, user: User, org: Organization) -> list[Membership]:
    """The memberships of ``org``, oldest first; only its members may look (anyone else gets NotFound)."""
    if membership(session, user, org.id) is None:
        raise NotFound(_("No such organization."))
    return list(
        session.scalars(
            select(Membership).where(Membership.organization_id == org.id).order_by(Membership.created_at,
                                                                                  Membership.id)
        )
    )


def _locked_memberships(session: Session, org: Organization) -> list[Membership]:
    # Lock every membership of the organization (PostgreSQL; SQLite has one writer anyway), so that two owners
    # demoting each other at once cannot leave it without an owner.
    return list(
        session.scalars(
            select(Membership).where(Membership.organization_id == org.id).order_by(Membership.id)
            .with_for_update().execution_options(populate_existing=True)
        )
    )


def _target(memberships: list[Membership], user_id: int) -> Membership:
    for m in memberships:
        if m.user_id == user_id:
            return m
    raise NotFound(_("No such member."))


def _owners(memberships: list[Membership]) -> int:
    return sum(1 for m in memberships if m.role == MemberRole.OWNER)


def change_member_role(session: Session, owner: User, org: Organization, user_id: int, role: MemberRole) -> Membership:
    """Make a member an owner or a plain member (owners only); ends that member's sessions; audited.

    Refuses a non-member (NotFound), a caller who is not an owner (Forbidden) and demoting the last owner
    (Conflict). Setting the role a member already has changes nothing.
    """
    require_owner(session, owner, org)
    memberships = _locked_memberships(session, org)
    target = _target(memberships, user_id)
    if target.role == role:
        return target
    if target.role == MemberRole.OWNER and _owners(memberships) <= 1:
        raise Conflict(str(LAST_OWNER))
    before = target.role
    target.role = role
    end_sessions(session, target.user)
    record(session, actor_id=owner.id, action="membership.role_changed", subject_type="membership",
           subject_id=target.id, payload={"organization": org.slug, "user_id": user_id,
                                          "from": before.value, "to": role.value})
    session.flush()
    return target


def remove_member(session: Session, actor: User, org: Organization, user_id: int) -> None:
    """Remove a member from ``org``: an owner removes anyone, any member removes themselves (leaving).

    Ends the removed user's sessions; audited as ``membership.removed`` or ``membership.left``. Refuses a
    non-member (NotFound), a plain member removing someone else (Forbidden) and the removal or leaving of the last
    owner (Conflict).
    """
    if actor.id != user_id:
        require_owner(session, actor, org)
    elif membership(session, actor, org.id) is None:
        raise NotFound(_("No such organization."))
    memberships = _locked_memberships(session, org)
    target = _target(memberships, user_id)
    if target.role == MemberRole.OWNER and _owners(memberships) <= 1:
        raise Conflict(str(LAST_OWNER))
    leaving = actor.id == user_id
    record(session, actor_id=actor.id, action="membership.left" if leaving else "membership.removed",
           subject_type="membership", subject_id=target.id,
           payload={"organization": org.slug, "user_id": user_id, "role": target.role.value})
    removed_user = target.user
    session.delete(target)
    session.flush()
    end_sessions(session, removed_user)


def leave_organization(session: Session, user: User, org: Organization) -> None:
    """``user`` leaves ``org`` (refused for its last owner); see ``remove_member``."""
    remove_member(session, user, org, user.id)
