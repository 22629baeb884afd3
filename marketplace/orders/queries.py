"""Reading orders: one order for who may see it, a buyer's orders, a seller's requests and sales, every order for
platform admins, and the seller dashboard's counts (its revenue read from the ledger)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.errors import NotFound
from marketplace.ledger import statements as ledger_statements
from marketplace.licensing.services import member_organization_ids
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus

# Product sales only: an assessment fee (``assessment_fees``) is paid and shown on the assessment pages.
PRODUCT_SALE = Order.assessment_id.is_(None)


def _order_options():
    return (selectinload(Order.product), selectinload(Order.version), selectinload(Order.plan),
            selectinload(Order.licence),
            selectinload(Order.buyer_organization), selectinload(Order.seller_organization))


def order_for(session: Session, user: User, order_id: int, *, fees: bool = False) -> Order:
    """An order its buyer or seller organization (or a platform admin) may see; NotFound for anyone else, and for
    an assessment fee unless ``fees`` (product-sale pages and the API know no fee orders)."""
    order = session.scalar(select(Order).where(Order.id == order_id).options(*_order_options()))
    if order is None or (order.is_assessment_fee and not fees):
        raise NotFound(_("No such order."))
    require(user, Permission.VIEW_ORDER, order)
    return order


def buyer_orders(session: Session, user: User, organization_id: int | None = None) -> list[Order]:
    """The product orders placed by the organizations ``user`` belongs to (or by one of them), newest first."""
    orgs = member_organization_ids(session, user)
    if organization_id is not None:
        orgs = [org for org in orgs if org == organization_id]
    return list(session.scalars(
        select(Order).where(Order.buyer_organization_id.in_(orgs), PRODUCT_SALE).options(*_order_options())
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
        select(Order).where(Order.seller_organization_id == organization.id, PRODUCT_SALE)
        .options(*_order_options()).order_by(Order.id.desc()).limit(limit)
    ))


def all_orders(session: Session, user: User, limit: int, offset: int,
               status: OrderStatus | None = None) -> tuple[list[Order], int]:
    """Every order (of ``status``, if given), newest first, assessment fees with product sales: one page and the
    total, for platform admins."""
    require(user, Permission.ADMIN)
    where = [Order.status == status] if status else []
    total = session.scalar(select(func.count(Order.id)).where(*where)) or 0
    page = session.scalars(select(Order).where(*where).options(*_order_options(), selectinload(Order.assessment))
                           .order_by(Order.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(page), total


def revenue_by_currency(session: Session, organization_id: int) -> dict[str, int]:
    """Money received and kept (sales less refunds and lost disputes, before the platform fee), in minor units,
    per currency: read from the settlement ledger."""
    return ledger_statements.seller_sales(session, organization_id)


def monthly_revenue(session: Session, organization_id: int, zone: ZoneInfo,
                    months: int = 12) -> dict[str, list[tuple[date, int]]]:
    """Money received and kept per calendar month (in time zone ``zone``: a sale in the month it was paid, a refund
    in the month it was made), per currency, for the last ``months`` months including this one, oldest first;
    months without sales are 0. Read from the settlement ledger."""
    return ledger_statements.seller_sales_by_month(session, organization_id, zone, months)


def waiting_request_count(session: Session, organization_id: int) -> int:
    """How many requests wait for the organization's decision (the queue ``seller_requests`` lists)."""
    return session.scalar(select(func.count(Order.id)).where(
        Order.seller_organization_id == organization_id, Order.status == OrderStatus.AWAITING_APPROVAL)) or 0
