"""Reading orders: one order for who may see it, a buyer's orders, a seller's requests and sales, every order for
platform admins, and the seller dashboard's counts."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.errors import NotFound
from marketplace.licensing.services import member_organization_ids
from marketplace.orders.models import Order
from marketplace.orders.states import REVENUE_STATES, OrderStatus


def _order_options():
    return (selectinload(Order.product), selectinload(Order.version), selectinload(Order.plan),
            selectinload(Order.licence),
            selectinload(Order.buyer_organization), selectinload(Order.seller_organization))


def order_for(session: Session, user: User, order_id: int) -> Order:
    """An order its buyer or seller organization (or a platform admin) may see; NotFound for anyone else."""
    order = session.scalar(select(Order).where(Order.id == order_id).options(*_order_options()))
    if order is None:
        raise NotFound(_("No such order."))
    require(user, Permission.VIEW_ORDER, order)
    return order


def buyer_orders(session: Session, user: User, organization_id: int | None = None) -> list[Order]:
    """The orders placed by the organizations ``user`` belongs to (or by one of them), newest first."""
    orgs = member_organization_ids(session, user)
    if organization_id is not None:
        orgs = [org for org in orgs if org == organization_id]
    return list(session.scalars(
        select(Order).where(Order.buyer_organization_id.in_(orgs)).options(*_order_options())
        .order_by(Order.id.desc())
    )) if orgs else []


def _require_seller_member(session: Session, user: User, organization: Organization) -> None:
    require(user, Permission.VIEW_ORGANIZATION, organization)


def seller_requests(session: Session, user: User, organization: Organization) -> list[Order]:
    """Requests waiting for the organization's decision, oldest first."""
    _require_seller_member(session, user, organization)
    return list(session.scalars(
        select(Order).where(Order.seller_organization_id == organization.id,
                            Order.status == OrderStatus.AWAITING_APPROVAL)
        .options(*_order_options()).order_by(Order.id)
    ))


def seller_orders(session: Session, user: User, organization: Organization, limit: int = 200) -> list[Order]:
    _require_seller_member(session, user, organization)
    return list(session.scalars(
        select(Order).where(Order.seller_organization_id == organization.id)
        .options(*_order_options()).order_by(Order.id.desc()).limit(limit)
    ))


def all_orders(session: Session, user: User, limit: int, offset: int,
               status: OrderStatus | None = None) -> tuple[list[Order], int]:
    """Every order (of ``status``, if given), newest first: one page and the total, for platform admins."""
    require(user, Permission.ADMIN)
    where = [Order.status == status] if status else []
    total = session.scalar(select(func.count(Order.id)).where(*where)) or 0
    page = session.scalars(select(Order).where(*where).options(*_order_options()).order_by(Order.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(page), total


def _revenue(organization_id: int):
    """The seller's orders whose money was received and kept (paid or fulfilled, not refunded): the one rule
    every revenue figure reads."""
    return (Order.seller_organization_id == organization_id, Order.status.in_(REVENUE_STATES))


# When an order's money came: its payment, or its creation for an order that needed none.
_RECEIVED_AT = func.coalesce(Order.paid_at, Order.created_at)


def revenue_by_currency(session: Session, organization_id: int) -> dict[str, int]:
    """Money received and kept, in minor units, per currency."""
    rows = session.execute(
        select(Order.currency, func.sum(Order.amount)).where(*_revenue(organization_id))
        .group_by(Order.currency).order_by(Order.currency)
    ).all()
    return {str(currency): int(total or 0) for currency, total in rows}


def monthly_revenue(session: Session, organization_id: int, zone: ZoneInfo,
                    months: int = 12) -> dict[str, list[tuple[date, int]]]:
    """Money received and kept per calendar month (in time zone ``zone``), per currency, for the last ``months``
    months including this one, oldest first; months without sales are 0."""
    now = datetime.now(zone)
    first = date(now.year, now.month, 1)
    for _month in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    since = datetime(first.year, first.month, 1, tzinfo=zone)
    rows = session.execute(
        select(Order.currency, Order.amount, _RECEIVED_AT).where(*_revenue(organization_id), _RECEIVED_AT >= since)
    ).all()
    starts = [first]
    while len(starts) < months:
        starts.append((starts[-1] + timedelta(days=32)).replace(day=1))
    totals: dict[str, dict[date, int]] = {}
    for currency, amount, moment in rows:
        local = moment.astimezone(zone)
        month = date(local.year, local.month, 1)
        per_month = totals.setdefault(str(currency), dict.fromkeys(starts, 0))
        if month in per_month:
            per_month[month] += int(amount or 0)
    return {currency: list(per_month.items()) for currency, per_month in sorted(totals.items())}


def waiting_request_count(session: Session, organization_id: int) -> int:
    """How many requests wait for the organization's decision (the queue ``seller_requests`` lists)."""
    return session.scalar(select(func.count(Order.id)).where(
        Order.seller_organization_id == organization_id, Order.status == OrderStatus.AWAITING_APPROVAL)) or 0
