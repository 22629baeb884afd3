"""Fulfilment: a paid (or free) order becomes a licence with the plan's terms and the scenario frozen in it, its
validity, and its signed certificate; a paid assessment fee lets the provider start."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.services import record
from marketplace.bilingual import lazy_title_of
from marketplace.db import utcnow
from marketplace.i18n import day
from marketplace.licensing.models import Licence
from marketplace.licensing.services import held_plan_licence
from marketplace.licensing.states import LicenceStatus
from marketplace.licensing.vouchers import FeeTrade
from marketplace.licensing.vouchers import issue_fee_voucher as issue_voucher_for_fee
from marketplace.listings.vocab import BillingPeriod, PlanKind
from marketplace.notifications.services import notify_organization
from marketplace.orders.common import move_order, notify_buyer
from marketplace.orders.models import Order
from marketplace.orders.states import OrderAction, OrderActor


def _period_end(plan_kind: PlanKind, terms: dict, billing_period: BillingPeriod | None, start: datetime):
    if plan_kind == PlanKind.SUBSCRIPTION:
        return start + (relativedelta(years=1) if billing_period == BillingPeriod.YEAR else relativedelta(months=1))
    days = terms.get("duration_days")
    return start + timedelta(days=days) if days else None


def renewal_period(previous: Licence | None, held: Licence | None, plan,
                   now: datetime | None = None) -> tuple[datetime, datetime | None]:
    """The period a renewal of ``previous`` on ``plan`` buys: from where the organization's current period of the
    plan ends (the licence renewed, or ``held``, the organization's licence of ``plan`` that ends last, when a
    renewal was bought already), or from now if both have ended."""
    now = now or utcnow()
    ends = [lic.valid_until for lic in (previous, held)
            if lic is not None and lic.status == LicenceStatus.ACTIVE and lic.valid_until]
    start = max(now, *ends) if ends else now  # a renewal continues where the current period ends
    return start, _period_end(plan.kind, plan.terms.to_dict(), plan.billing_period, start)


def _serial(now: datetime) -> str:
    return f"LIC-{now.year}-{secrets.token_hex(5).upper()}"


def fulfil(session: Session, order: Order) -> Licence:
    """Freeze the plan's terms and the scenario into a licence with its validity, and sign its certificate."""
    from marketplace.licensing.certificates import sign_licence

    move_order(session, None, order, OrderAction.FULFIL, OrderActor.SYSTEM)
    now = utcnow()
    order.deadline = None
    plan = order.plan
    start = now
    if order.renews_order_id:
        previous = session.scalar(select(Licence).where(Licence.order_id == order.renews_order_id))
        held = held_plan_licence(session, order.buyer_organization_id, plan.id)
        start = renewal_period(previous, held, plan, now)[0]
    terms = plan.terms.to_dict()
    licence = Licence(
        serial=_serial(now), order_id=order.id, buyer_organization_id=order.buyer_organization_id,
        seller_organization_id=order.seller_organization_id, product_id=order.product_id, plan_id=plan.id,
        plan_kind=plan.kind, status=LicenceStatus.ACTIVE, terms=terms, scenario=order.scenario.to_dict(),
        version_ids=[order.version_id], valid_from=start,
        valid_until=_period_end(plan.kind, terms, plan.billing_period, start), status_reason="",
    )
    session.add(licence)
    session.flush()
    sign_licence(session, licence)
    record(session, actor_id=None, action="licence.issue", subject_type="licence", subject_id=licence.id,
           payload={"serial": licence.serial, "order_id": order.id, "valid_from": licence.valid_from.isoformat(),
                    "valid_until": licence.valid_until.isoformat() if licence.valid_until else None})
    if licence.starts_later:  # a renewal bought before the current period ends: scheduled, not active yet
        notify_buyer(session, order, _l("Licence %(serial)s scheduled", serial=licence.serial),
                     _l("Your renewal of %(product)s is scheduled: it starts on %(start)s, when the current period "
                        "ends, and runs until %(end)s.", product=lazy_title_of(order.version),
                        start=LazyString(lambda: day(licence.valid_from)),
                        end=LazyString(lambda: day(licence.valid_until))))
    else:
        notify_buyer(session, order, _l("Licence %(serial)s issued", serial=licence.serial),
                     _l("Your licence for %(product)s is active. Download the data from My licences.",
                        product=lazy_title_of(order.version)))
    notify_organization(session, order.seller_organization, _l("Licence %(serial)s sold", serial=licence.serial),
                        _l("%(buyer)s licensed “%(plan)s” of %(product)s (%(number)s).",
                           buyer=order.buyer_organization.name, plan=plan.name, product=lazy_title_of(order.version),
                           number=order.number),
                        link=f"/seller/{order.seller_organization.slug}/sales")
    return licence


def fulfil_fee(session: Session, order: Order) -> None:
    """A paid assessment fee: the order is fulfilled, which opens the version to the provider (no licence); the
    provider and the seller are told."""
    move_order(session, None, order, OrderAction.FULFIL, OrderActor.SYSTEM)
    order.deadline = None
    number = order.assessment.number
    notify_organization(session, order.seller_organization, _l("Fee of %(number)s paid", number=number),
                        _l("%(seller)s paid your fee (%(order)s): you may start the assessment.",
                           seller=order.buyer_organization.name, order=order.number),
                        link=f"/provider/{order.seller_organization.slug}/assessments/{number}")
    notify_buyer(session, order, _l("Fee of %(number)s paid", number=number),
                 _l("Your payment of the assessment fee was received: the provider may start."))


def issue_fee_voucher(session: Session, order: Order) -> None:
    """The transaction voucher of a paid assessment fee (the ledger's sale, the request in place of a licence)."""
    issue_voucher_for_fee(session, FeeTrade(
        order_id=order.id, order_number=order.number, buyer=order.buyer_organization,
        seller=order.seller_organization, assessment_number=order.assessment.number,
        assessment_kind=str(order.assessment.kind)))
