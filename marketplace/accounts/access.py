"""Who may do what to which object: the one place that answers it.

Permissions are values (``Permission.EDIT_PRODUCT``); each has one rule that looks at the user (membership of
the object's organization, membership role, platform role, a verified e-mail address) and either allows or
refuses with the error the caller should show:

- ``NotFound`` where the object belongs to an organization the user does not act for: its existence must not
  leak (another seller's draft, another buyer's order);
- ``Forbidden`` where the user may see the object but not do this to it (a member who is not an owner, a seller
  who is its own reviewer, an account whose e-mail address is not verified);
- ``Unauthorized`` for nobody signed in.

Services call ``require(user, permission, obj)`` before they act; pages call ``permits(...)`` to decide what to
offer. Objects are read by shape, not by class, so this module imports no domain package: an object names its
organization as ``organization_id`` (products, review cases), through ``product`` (versions), as buyer and
seller (``buyer_organization_id`` / ``seller_organization_id``: orders, licences), or is the Organization itself.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from marketplace.accounts.models import MemberRole, Membership, Organization, User
from marketplace.errors import DomainError, Forbidden, NotFound, Unauthorized

VERIFY_FIRST = _l("Verify your e-mail address first: follow the link we sent you (you can ask for a new one on "
                  "your account page), then try again.")


class Permission(enum.StrEnum):
    # seller side: an organization's products
    VIEW_SELLER_PRODUCT = "view_seller_product"  # a product, any version, in the seller console
    CREATE_PRODUCT = "create_product"            # on an Organization
    EDIT_PRODUCT = "edit_product"                # metadata, versions, sources, dictionary, files, plans, compliance
    SUBMIT_PRODUCT = "submit_product"            # send a version to compliance review
    # organizations
    VIEW_ORGANIZATION = "view_organization"      # its pages, sales and requests: any member
    MANAGE_ORGANIZATION = "manage_organization"  # invitations and members: owners only
    INVITE = "invite"                            # send an invitation: an owner with a verified address
    # trade
    LICENSE = "license"                          # request a licence for an Organization (the buyer)
    OBJECT = "object"                            # object to a public notice for an Organization: a verified member
    ADD_EVIDENCE = "add_evidence"                # to an Objection: a verified member of the objecting organization
    VIEW_ORDER = "view_order"                    # an order or licence: buyer's or seller's member, or an admin
    ACT_FOR_BUYER = "act_for_buyer"              # pay, cancel, renew
    ACT_FOR_SELLER = "act_for_seller"            # approve or decline a request, refund
    REFUND = "refund"                            # the seller, or a platform admin
    # platform roles
    REVIEW = "review"                            # the review queue; on a product: a reviewer outside its seller
    ADMIN = "admin"                              # every order, the audit trail
    # the user's own things
    READ_NOTIFICATION = "read_notification"
    CREATE_API_TOKEN = "create_api_token"        # needs a verified address (no object)


# ---------------------------------------------------------------- reading objects by shape


def _session(user: User, obj: Any) -> Session:
    session = object_session(obj) if obj is not None and hasattr(obj, "_sa_instance_state") else None
    session = session or object_session(user)
    if session is None:
        from marketplace.extensions import db  # detached objects: the request's session

        session = db.session
    return session


def organization_id_of(obj: Any) -> int:
    """The organization that owns ``obj`` (an Organization, or an object naming one)."""
    if isinstance(obj, Organization):
        return obj.id
    if getattr(obj, "organization_id", None) is not None:
        return obj.organization_id
    if getattr(obj, "product", None) is not None:
        return obj.product.organization_id
    raise TypeError(f"{type(obj).__name__} names no organization")


def member_role(user: User, organization_id: int, session: Session | None = None) -> MemberRole | None:
    """The user's role in the organization, or None if they are not a member (read from the database)."""
    session = session or _session(user, None)
    return session.scalar(select(Membership.role).where(
        Membership.user_id == user.id, Membership.organization_id == organization_id))


def organization_ids(user: User, session: Session | None = None) -> set[int]:
    """Every organization the user acts for."""
    session = session or _session(user, None)
    return set(session.scalars(select(Membership.organization_id).where(Membership.user_id == user.id)))


def member_organizations_query(user: User):
    """A subquery of the user's organization ids, for services that list what the user may see."""
    return select(Membership.organization_id).where(Membership.user_id == user.id)


# ---------------------------------------------------------------- the rules

Rule = Callable[[User, Any, Session], DomainError | None]


def _verified(user: User) -> DomainError | None:
    return None if user.email_verified else Forbidden(str(VERIFY_FIRST), {"email": [_("Not verified yet.")]})


def _seller_member(hidden: object) -> Rule:
    def rule(user: User, obj: Any, session: Session) -> DomainError | None:
        if member_role(user, organization_id_of(obj), session) is None:
            return NotFound(str(hidden))
        return None
    return rule


def _seller_editor(hidden: object) -> Rule:
    member = _seller_member(hidden)

    def rule(user: User, obj: Any, session: Session) -> DomainError | None:
        return member(user, obj, session) or _verified(user)
    return rule


def _owner(user: User, obj: Any, session: Session) -> DomainError | None:
    role = member_role(user, organization_id_of(obj), session)
    if role is None:
        return NotFound(_("No such organization."))
    if role != MemberRole.OWNER:
        return Forbidden(_("Only an owner of the organization can do this."))
    return None


def _inviter(user: User, obj: Any, session: Session) -> DomainError | None:
    # The invitation mail goes out in the inviter's name: an unproven address must not send it.
    return _owner(user, obj, session) or _verified(user)


def _own_verified(user: User, obj: Any, session: Session) -> DomainError | None:
    return _verified(user)


def _license(user: User, organization: Any, session: Session) -> DomainError | None:
    if member_role(user, organization_id_of(organization), session) is None:
        return Forbidden(_("You may only license for an organization you belong to."),
                         {"organization_id": [_("Choose one of your organizations.")]})
    return _verified(user)


def _objector(user: User, organization: Any, session: Session) -> DomainError | None:
    if member_role(user, organization_id_of(organization), session) is None:
        return Forbidden(_("You may only object for an organization you belong to."),
                         {"organization_id": [_("Choose one of your organizations.")]})
    return _verified(user)


def _evidence_adder(user: User, objection: Any, session: Session) -> DomainError | None:
    if member_role(user, objection.organization_id, session) is None:
        return Forbidden(_("You may only add evidence to your own organization's objection."))
    return _verified(user)


def _parties(obj: Any) -> tuple[int, int]:
    return obj.buyer_organization_id, obj.seller_organization_id


def _view_order(user: User, obj: Any, session: Session) -> DomainError | None:
    if user.is_admin or organization_ids(user, session) & set(_parties(obj)):
        return None
    return NotFound(_("No such %(thing)s.", thing=_noun(obj)))


def _buyer(user: User, obj: Any, session: Session) -> DomainError | None:
    if member_role(user, obj.buyer_organization_id, session) is not None:
        return None
    return _view_order(user, obj, session) or Forbidden(_("Only the buyer may do this to the %(thing)s.",
                                                                   thing=_noun(obj)))


def _seller(user: User, obj: Any, session: Session) -> DomainError | None:
    if member_role(user, obj.seller_organization_id, session) is not None:
        return None
    return _view_order(user, obj, session) or Forbidden(_("Only the seller may do this to the %(thing)s.",
                                                                   thing=_noun(obj)))


def _refund(user: User, obj: Any, session: Session) -> DomainError | None:
    return None if user.is_admin else _seller(user, obj, session)


# What refusals call the objects of a trade, in the reader's words.
_NOUNS = {"order": _l("order"), "licence": _l("licence"), "voucher": _l("transaction voucher")}


def _noun(obj: Any) -> str:
    name = type(obj).__name__.lower()
    return str(_NOUNS.get(name, name))


def _review(user: User, obj: Any, session: Session) -> DomainError | None:
    if not user.is_reviewer:
        return Forbidden(_("Only compliance reviewers may do this."))
    if obj is not None and member_role(user, organization_id_of(obj), session) is not None:
        return Forbidden(_("You belong to the seller organization, so another reviewer must review this "
                           "product."))
    return None


def _admin(user: User, obj: Any, session: Session) -> DomainError | None:
    return None if user.is_admin else Forbidden(_("Only admins may do this."))


def _own_notification(user: User, obj: Any, session: Session) -> DomainError | None:
    return None if obj is not None and obj.user_id == user.id else NotFound(_("No such notification."))


RULES: dict[Permission, Rule] = {
    Permission.VIEW_SELLER_PRODUCT: _seller_member(_l("No such product.")),
    Permission.CREATE_PRODUCT: _seller_editor(_l("No such organization.")),
    Permission.EDIT_PRODUCT: _seller_editor(_l("No such product.")),
    Permission.SUBMIT_PRODUCT: _seller_editor(_l("No such product.")),
    Permission.VIEW_ORGANIZATION: _seller_member(_l("No such organization.")),
    Permission.MANAGE_ORGANIZATION: _owner,
    Permission.INVITE: _inviter,
    Permission.LICENSE: _license,
    Permission.OBJECT: _objector,
    Permission.ADD_EVIDENCE: _evidence_adder,
    Permission.VIEW_ORDER: _view_order,
    Permission.ACT_FOR_BUYER: _buyer,
    Permission.ACT_FOR_SELLER: _seller,
    Permission.REFUND: _refund,
    Permission.REVIEW: _review,
    Permission.ADMIN: _admin,
    Permission.READ_NOTIFICATION: _own_notification,
    Permission.CREATE_API_TOKEN: _own_verified,
}


# ---------------------------------------------------------------- asking


def refusal(user: User | None, permission: Permission, obj: Any = None) -> DomainError | None:
    """The error that refuses ``permission`` on ``obj`` to ``user``, or None when it is allowed."""
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user  # Flask-Login's proxy
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", True):
        return Unauthorized(_("Sign in first."))
    return RULES[permission](user, obj, _session(user, obj))


def permits(user: User | None, permission: Permission, obj: Any = None) -> bool:
    """Whether ``user`` may do ``permission`` to ``obj``."""
    return refusal(user, permission, obj) is None


def require(user: User | None, permission: Permission, obj: Any = None) -> None:
    """Raise the refusal (NotFound, Forbidden or Unauthorized) unless ``user`` may do ``permission`` to ``obj``."""
    error = refusal(user, permission, obj)
    if error is not None:
        raise error
