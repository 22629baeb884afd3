"""What the buyer is told before renewing a licence and before ordering a plan: the period a renewal buys, a
renewal bought already, an order still open for the plan, and why renewal is paused."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import DomainError
from marketplace.licensing.models import Licence
from marketplace.licensing.services import held_plan_licence, renewable
from marketplace.listings.models import PricingPlan
from marketplace.orders.fulfilment import renewal_period
from marketplace.orders.models import Order
from marketplace.orders.requests import open_order, renewal_plan


@dataclass(frozen=True)
class RenewalOffer:
    """A licence's renewal as offered now: ``refusal`` says why it is not offered (paused, withdrawn, a scenario
    the terms no longer fit); else ``starts``/``ends`` is the period it buys. ``renewed_to`` is a later licence of
    the plan bought already, ``open_order`` an order for the plan still in progress."""

    renewed_to: Licence | None
    open_order: Order | None
    starts: datetime | None = None
    ends: datetime | None = None
    refusal: str | None = None

    @property
    def offered(self) -> bool:
        return self.refusal is None and self.open_order is None


def renewal_offer(session: Session, licence: Licence) -> RenewalOffer | None:
    """The renewal of a licence as the buyer may order it now; None for a licence never renewed (no expiry,
    revoked)."""
    if not renewable(licence):
        return None
    org = licence.buyer_organization_id
    held = held_plan_licence(session, org, licence.plan_id)
    renewed_to = held if (held is not None and held.id != licence.id and held.valid_until and licence.valid_until
                          and held.valid_until > licence.valid_until) else None
    try:
        plan = renewal_plan(session, licence)
    except DomainError as exc:
        return RenewalOffer(renewed_to, open_order(session, [org], [licence.plan_id]), refusal=exc.message)
    pending = open_order(session, [org], {licence.plan_id, plan.id})
    if plan.id != licence.plan_id:  # renewed on the listed version's plan: the period held of that plan
        held = held_plan_licence(session, org, plan.id)
    starts, ends = renewal_period(licence, held, plan)
    return RenewalOffer(renewed_to, pending, starts, ends)


def expected_period(session: Session, order: Order) -> tuple[datetime, datetime | None] | None:
    """The period an order's licence covers: the issued licence's, or for a renewal not yet issued the period it
    would buy now; None for a first order not yet issued."""
    if order.licence is not None:
        return order.licence.valid_from, order.licence.valid_until
    if order.renews_order_id is None:
        return None
    previous = session.scalar(select(Licence).where(Licence.order_id == order.renews_order_id))
    plan = session.get(PricingPlan, order.plan_id)
    return renewal_period(previous, held_plan_licence(session, order.buyer_organization_id, plan.id), plan)
