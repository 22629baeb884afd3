"""What every order move shares: who is acting, the audited move itself, checked messages, the capped plan's
lock and count, and telling the buyer.

A capped plan's licences are counted under a lock on the plan row (``SELECT ... FOR UPDATE`` on PostgreSQL,
SQLite's write lock taken first), so concurrent buyers never get more than the cap between them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, member_organizations_query, permits
from marketplace.accounts.models import Organization, User
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.licensing.models import Licence
from marketplace.lifecycle import Moved
from marketplace.listings.models import PricingPlan
from marketplace.notifications.services import notify_organization
from marketplace.orders.models import Order
from marketplace.orders.states import HOLDS_LICENCE, ORDER_LIFECYCLE, OrderAction, OrderActor, OrderStatus

MAX_MESSAGE = 5000


def buyer_organizations(session: Session, user: User) -> list[Organization]:
    """The organizations ``user`` may license for (every organization they belong to)."""
    return list(session.scalars(
        select(Organization).where(Organization.id.in_(member_organizations_query(user))).order_by(Organization.name)
    ))


def actor_for(session: Session, user: User, order: Order, action: OrderAction) -> OrderActor:
    """The role ``user`` plays for ``action`` on ``order`` (asked of ``accounts.access``); the lifecycle table then
    says whether that role may make the move. Forbidden if they play none (pages load the order through
    ``order_for`` first, which hides it from strangers)."""
    buyer = permits(user, Permission.ACT_FOR_BUYER, order)
    seller = permits(user, Permission.ACT_FOR_SELLER, order)
    if action in (OrderAction.APPROVE, OrderAction.DECLINE, OrderAction.REFUND):
        if seller:
            return OrderActor.SELLER
        if action is OrderAction.REFUND and permits(user, Permission.REFUND, order):
            return OrderActor.ADMIN
    if buyer:
        return OrderActor.BUYER
    if seller:
        return OrderActor.SELLER
    raise Forbidden(_("This order belongs to another organization."))


def is_buyer(session: Session, user: User, held: Order | Licence) -> bool:
    """Whether ``user`` acts for the buyer organization of an order or licence (the seller may look at it, never
    pay, cancel or renew)."""
    return permits(user, Permission.ACT_FOR_BUYER, held)


def require_buyer(session: Session, user: User, order: Order) -> None:
    """Forbidden unless ``user`` acts for the buyer: the seller may not pay, nor may anyone else."""
    if not permits(user, Permission.ACT_FOR_BUYER, order):
        raise Forbidden(_("Only the buyer pays for an order."))


def move_order(session: Session, user: User | None, order: Order, action: OrderAction, actor: OrderActor, *,
               check: Callable[[OrderStatus], Mapping | None] | None = None, **payload) -> Moved[OrderStatus]:
    """The order's locked transition (``Lifecycle.apply``): the order row is locked and re-read, the move checked
    against the table and ``check``, the status set, the time stamped and the event ``order.<action>`` written.
    Lock order: an order is always locked before its plan and its licence."""
    return ORDER_LIFECYCLE.apply(session, order, action, actor, user=user, payload=payload, check=check)


def payment_deadline() -> datetime:
    """When an order that waits for payment from now must be paid by (ORDER_PAYMENT_HOURS from now)."""
    return utcnow() + timedelta(hours=current_app.config["ORDER_PAYMENT_HOURS"])


def lock_order(session: Session, order: Order) -> OrderStatus:
    """Lock the order's row until the transaction ends and re-read it; its status now (for work that must see the
    order as it is before deciding, such as charging a card)."""
    return ORDER_LIFECYCLE.lock(session, order)


def checked_message(value: str | None, field: str, what: str, required: bool) -> str:
    """``value`` stripped; ValidationFailed when it is required and empty, or too long (``what`` names it)."""
    value = (value or "").strip()
    if required and not value:
        needed = {"reason": _("A reason is required."), "message": _("A message to the buyer is required.")}.get(
            field, _("Required."))
        raise ValidationFailed(needed, {field: [needed]})
    if len(value) > MAX_MESSAGE:
        too_long = _("At most %(count)s characters.", count=MAX_MESSAGE)
        raise ValidationFailed(too_long, {field: [too_long]})
    return value


# ---------------------------------------------------------------- capped plans


def lock_plan(session: Session, plan_id: int) -> None:
    """Serialise the moves that count a plan's licences: a row lock on PostgreSQL, the write lock on SQLite. A move
    of an existing order locks the order first (``move_order``), then its plan."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(PricingPlan.id).where(PricingPlan.id == plan_id).with_for_update())
    else:
        # A no-op write takes SQLite's database write lock for the rest of the transaction.
        session.execute(update(PricingPlan).where(PricingPlan.id == plan_id).values(id=PricingPlan.id))


def licences_held(session: Session, plan_id: int) -> int:
    """Orders holding one of the plan's licences: sold, or being paid for. A renewal continues a licence already
    counted and takes none."""
    return session.scalar(
        select(func.count(Order.id)).where(Order.plan_id == plan_id, Order.status.in_(HOLDS_LICENCE),
                                           Order.renews_order_id.is_(None))
    ) or 0


def take_licence(session: Session, plan: PricingPlan) -> None:
    """Refuse (Conflict) when a capped plan has no licence left; call with the plan locked."""
    if plan.licence_cap is not None and licences_held(session, plan.id) >= plan.licence_cap:
        raise Conflict(_("All %(count)s licences of the plan “%(name)s” are taken.", count=plan.licence_cap,
                         name=plan.name),
                       {"plan_id": [_("This plan is sold out.")]})


def notify_buyer(session: Session, order: Order, subject: str, body: str) -> None:
    link = (f"/seller/{order.buyer_organization.slug}/assessments" if order.is_assessment_fee
            else f"/orders/{order.id}")
    notify_organization(session, order.buyer_organization, subject, body, link=link)
