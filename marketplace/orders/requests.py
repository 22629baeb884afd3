"""A buyer requests a plan with a scenario; the seller decides if the plan asks for it; the buyer may cancel and
the system expires what waited too long; a subscription is renewed by a new request."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.services import record
from marketplace.bilingual import lazy_title_of
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.i18n import day, sentences
from marketplace.ledger.fees import fee_rate
from marketplace.licensing.models import Licence
from marketplace.licensing.scenario import Scenario, parse_scenario, scenario_conflicts
from marketplace.licensing.services import downloads_paused, held_plan_licence, renewable
from marketplace.listings.models import DataProduct, PricingPlan, ProductVersion
from marketplace.listings.states import ProductStatus
from marketplace.listings.vocab import Territory
from marketplace.notifications.services import notify_organization
from marketplace.orders.checkout import close_checkout
from marketplace.orders.common import (
    actor_for,
    checked_message,
    lock_plan,
    move_order,
    notify_buyer,
    payment_deadline,
    take_licence,
)
from marketplace.orders.crossborder import (
    Position,
    approval_deadline,
    awaiting_evidence,
    decide_position,
    evidence_awaited,
    preview_position,
    store_position,
)
from marketplace.orders.fulfilment import fulfil
from marketplace.orders.models import Order
from marketplace.orders.states import OPEN_ORDER_STATES, OrderAction, OrderActor, OrderStatus
from marketplace.payments import PaymentError
from marketplace.review.registration import expired_words, latest_for_product, refuse_if_expired
from marketplace.text import MAX_IDEMPOTENCY_KEY, idempotency_key_fits

log = logging.getLogger(__name__)
# How far ahead a buyer is warned that the product's registration expires.
REGISTRATION_WARNING_DAYS = 30

# ---------------------------------------------------------------- requesting


@dataclass(frozen=True)
class LicenceRequest:
    """What a buyer submits: the plan, the organization licensing, the scenario and the terms' acceptance."""

    plan_id: int
    organization_id: int
    scenario: Mapping
    accept_terms: bool
    idempotency_key: str


def purchasable_plan(session: Session, plan_id: int) -> PricingPlan:
    """A plan of a listed product's listed version; NotFound otherwise (buyers never see anything else)."""
    plan = session.scalar(
        select(PricingPlan).where(PricingPlan.id == plan_id)
        .options(selectinload(PricingPlan.version).selectinload(ProductVersion.product))
    )
    if plan is None:
        raise NotFound(_("No such plan."))
    product = plan.version.product
    if product.status == ProductStatus.SUSPENDED and product.listed_version_id == plan.version_id:
        # Suspended, not withdrawn: say so (and why) rather than "not offered any more".
        raise NotFound(sentences(_("This product is suspended: new licences wait until it is reinstated."),
                                 downloads_paused(product)))
    if product.status != ProductStatus.LISTED or product.listed_version_id != plan.version_id:
        raise NotFound(_("This plan is not offered any more."))
    return plan


def preview_for_request(session: Session, user: User, plan_id: int, buyer: Organization, territory: str
                        ) -> Position:
    """The cross-boundary position a request of ``buyer`` for the plan, used in ``territory``, would get now (what
    the scenario form shows before it is submitted). NotFound for a plan not offered; ValidationFailed for a
    territory not on the list; Forbidden unless ``user`` may license for ``buyer``."""
    plan = purchasable_plan(session, plan_id)
    require(user, Permission.LICENSE, buyer)
    try:
        used = Territory(str(territory or "").strip())
    except ValueError:
        raise ValidationFailed(_("Choose a territory of use from the list."),
                               {"territory": [_("Choose a territory of use from the list.")]}) from None
    return preview_position(session, plan.version, buyer, used)


def _check_request(session: Session, user: User, req: LicenceRequest, plan: PricingPlan) -> Scenario:
    product = plan.version.product
    buyer = session.get(Organization, req.organization_id)
    if buyer is None:
        raise Forbidden(_("You may only license for an organization you belong to."),
                        {"organization_id": [_("Choose one of your organizations.")]})
    require(user, Permission.LICENSE, buyer)  # a member, with a verified e-mail address
    if req.organization_id == product.organization_id:
        raise Forbidden(_("An organization cannot license its own product."),
                        {"organization_id": [_("This organization sells the product.")]})
    refuse_if_expired(session, product.id)  # no new trade on an expired registration
    scenario, errors = parse_scenario(req.scenario)
    if not req.accept_terms:
        errors["accept_terms"] = [_("Accept the plan's licence terms to continue.")]
    if scenario is not None:
        errors.update(scenario_conflicts(scenario, plan.terms))
    if errors:
        if scenario is None:
            message = _("Complete the use scenario.")
        elif set(errors) == {"accept_terms"}:
            message = _("Accept the plan's licence terms to continue.")
        else:
            message = _("The use scenario does not fit this plan.")
        raise ValidationFailed(message, errors)
    return scenario


def registration_warning(session: Session, product_id: int, now: datetime | None = None) -> str | None:
    """What a buyer is told before requesting a licence of the product: that its registration has expired (the
    refusal ``refuse_if_expired`` gives), or the day it expires when that is within REGISTRATION_WARNING_DAYS.
    None otherwise, or for a product without a registration certificate. One read of the newest certificate."""
    now = now or utcnow()
    latest = latest_for_product(session, product_id)
    if latest is None:
        return None
    expired = expired_words(latest, now)
    if expired:
        return expired
    if latest.valid_until - now <= timedelta(days=REGISTRATION_WARNING_DAYS):
        return _("The registration %(number)s of this product expires on %(day)s: after that, no new licence can be "
                 "requested or paid for until the seller renews it.", number=latest.registration_number,
                 day=day(latest.valid_until))
    return None


def _checked_idempotency_key(value: str | None) -> str:
    """The stripped key, "" when none; refuses (ValidationFailed) one that no order could carry (too long, or
    with a non-printable character such as NUL, which PostgreSQL cannot even compare)."""
    key = (value or "").strip()
    if key and not idempotency_key_fits(key):
        raise ValidationFailed(_("Invalid idempotency key."),
                               {"idempotency_key": [_("At most %(count)s printable characters.",
                                                      count=MAX_IDEMPOTENCY_KEY)]})
    return key


def _idempotency_key(value: str | None) -> str:
    return _checked_idempotency_key(value) or secrets.token_urlsafe(16)


def order_by_key(session: Session, user: User, idempotency_key: str) -> Order | None:
    """The order ``user`` already placed with this idempotency key, if any. Refuses a key no order could carry
    (ValidationFailed) before looking it up."""
    key = _checked_idempotency_key(idempotency_key)
    if not key:
        return None
    return session.scalar(select(Order).where(Order.buyer_id == user.id, Order.idempotency_key == key))


def _placed_before(session: Session, user: User, key: str, req: LicenceRequest) -> Order | None:
    """The order ``user`` already placed with this idempotency key; Conflict if it was for another plan."""
    earlier = order_by_key(session, user, key)
    if earlier is not None and earlier.plan_id != req.plan_id:
        raise Conflict(_("This idempotency key was already used for another order."),
                       {"idempotency_key": [_("Already used for another order.")]})
    return earlier


def open_order(session: Session, organization_ids: list[int] | set[int], plan_ids: list[int] | set[int]
               ) -> Order | None:
    """The newest order of the organizations for one of the plans that is still in progress, if any."""
    if not organization_ids or not plan_ids:
        return None
    return session.scalar(
        select(Order).where(Order.buyer_organization_id.in_(organization_ids), Order.plan_id.in_(plan_ids),
                            Order.status.in_(OPEN_ORDER_STATES)).order_by(Order.id.desc()).limit(1))


def open_orders(session: Session, organization_ids: list[int] | set[int], plan_ids: list[int] | set[int]
                ) -> dict[int, Order]:
    """The newest order still in progress of the organizations for each of the plans that has one, by plan."""
    if not organization_ids or not plan_ids:
        return {}
    found = session.scalars(
        select(Order).where(Order.buyer_organization_id.in_(organization_ids), Order.plan_id.in_(plan_ids),
                            Order.status.in_(OPEN_ORDER_STATES)).order_by(Order.id))
    return {order.plan_id: order for order in found}  # the newest last, so it wins


def _refuse_open_order(session: Session, organization_id: int, plan: PricingPlan) -> None:
    """Conflict if the organization already has an order in progress for the plan (call with the plan locked)."""
    pending = open_order(session, [organization_id], [plan.id])
    if pending is not None:
        raise Conflict(_("Your organization already has an open order for this plan (%(number)s).",
                         number=pending.number),
                       {"plan_id": [_("An order for this plan is already in progress.")]})


def _refuse_held_plan(session: Session, organization_id: int, plan: PricingPlan, renews: Order | None) -> None:
    """Conflict if the organization already holds the plan (call with the plan locked): with no expiry there is
    nothing more to buy; with an expiry only a renewal, which continues from the current end, is taken."""
    held = held_plan_licence(session, organization_id, plan.id)
    if held is None:
        return
    if held.valid_until is None:
        raise Conflict(_("Your organization already holds “%(plan)s” with no expiry (licence %(serial)s): there is "
                         "nothing more to order.", plan=plan.name, serial=held.serial),
                       {"plan_id": [_("Your organization already holds this plan.")]})
    if renews is None:
        raise Conflict(_("Your organization already holds “%(plan)s” until %(end)s (licence %(serial)s). Renew "
                         "that licence to extend it from its current end.", plan=plan.name, end=day(held.valid_until),
                         serial=held.serial),
                       {"plan_id": [_("Your organization already holds this plan; renew it instead.")]})


def request_licence(session: Session, user: User, req: LicenceRequest, *, renews: Order | None = None) -> Order:
    """Open an order for a plan with a checked scenario and route it: to the seller, to payment, or (free plan)
    straight to a licence. Repeating a request with the same idempotency key returns the first order."""
    return place_order(session, user, req, renews=renews)[0]


def place_order(session: Session, user: User, req: LicenceRequest, *,
                renews: Order | None = None) -> tuple[Order, bool]:
    """``request_licence``, and whether this call created the order (False: the idempotency key's first order).

    The open-order rule, the held-plan rule and the cap are checked with the plan locked, so simultaneous requests
    of one organization for one plan open one order (the others get 409), a plan the organization holds is not sold
    to it again (only renewed, when it has an end), and a racing repeat of one key gets the first order."""
    key = _idempotency_key(req.idempotency_key)
    earlier = _placed_before(session, user, key, req)
    if earlier is not None:
        return earlier, False
    plan = purchasable_plan(session, req.plan_id)
    scenario = _check_request(session, user, req, plan)
    needs_seller = plan.requires_approval
    lock_plan(session, plan.id)
    earlier = _placed_before(session, user, key, req)  # placed by a racing repeat while this one waited
    if earlier is not None:
        return earlier, False
    _refuse_open_order(session, req.organization_id, plan)
    _refuse_held_plan(session, req.organization_id, plan, renews)
    if not needs_seller and renews is None:  # a renewal continues a licence the cap counted already
        take_licence(session, plan)
    product = plan.version.product
    now = utcnow()
    position = decide_position(session, plan.version, session.get(Organization, req.organization_id),
                               scenario.territory, now)
    order = Order(
        buyer_organization_id=req.organization_id, buyer_id=user.id, seller_organization_id=product.organization_id,
        product_id=product.id, version_id=plan.version_id, plan_id=plan.id, status=OrderStatus.REQUESTED,
        purpose=scenario.purpose, sector=scenario.sector, territory=scenario.territory,
        expected_users=scenario.expected_users, scenario_description=scenario.description, terms_accepted_at=now,
        amount=plan.amount, currency=plan.currency, fee_bps=fee_rate(product.organization),
        idempotency_key=key, decision_message="", renews_order_id=renews.id if renews else None,
    )
    try:
        with session.begin_nested():  # a racing request with the same key inserts first: answer with its order
            session.add(order)
            session.flush()
    except IntegrityError:
        earlier = order_by_key(session, user, key)
        if earlier is None or earlier.plan_id != req.plan_id:
            raise
        return earlier, False
    store_position(session, order, position, now)
    record(session, actor_id=user.id, action="order.request", subject_type="order", subject_id=order.id,
           payload={"product_id": product.id, "plan_id": plan.id, "amount": order.amount,
                    "currency": str(order.currency), "fee_bps": order.fee_bps, "scenario": scenario.to_dict(),
                    "renews_order_id": order.renews_order_id, "cross_boundary": position.rule.to_dict()})
    if needs_seller:
        move_order(session, None, order, OrderAction.AWAIT_APPROVAL, OrderActor.SYSTEM)
        order.deadline = approval_deadline(order)
        notify_organization(
            session, order.seller_organization,
            _l("Licence request %(number)s for %(product)s", number=order.number, product=lazy_title_of(plan.version)),
            _l("%(buyer)s asks to license “%(plan)s” for %(purpose)s: %(description)s",
               buyer=order.buyer_organization.name, plan=plan.name,
               purpose=LazyString(lambda: scenario.purpose.label.lower()), description=scenario.description),
            link=f"/seller/{order.seller_organization.slug}/requests",
        )
    else:
        _proceed(session, order)
    return order, True


def _proceed(session: Session, order: Order) -> None:
    """After the request (or the seller's approval): a free order is fulfilled, a paid one waits for payment. A
    trade whose cross-boundary mechanism is not confirmed yet waits for it until its evidence deadline: a free one
    is fulfilled, and a paid one's payment deadline starts, when the evidence is confirmed. A free trade is not
    fulfilled while the product's registration has expired (Conflict: the order keeps waiting)."""
    waiting = awaiting_evidence(session, order)
    if order.is_free:
        if waiting:
            order.deadline = order.cross_boundary.evidence_due
        else:
            refuse_if_expired(session, order.product_id)
            fulfil(session, order)
    else:
        move_order(session, None, order, OrderAction.AWAIT_PAYMENT, OrderActor.SYSTEM)
        order.deadline = order.cross_boundary.evidence_due if waiting else payment_deadline()


# ---------------------------------------------------------------- the seller decides


def approve_order(session: Session, user: User, order: Order, message: str = "") -> Order:
    """The seller approves a request waiting for them: a capped plan's licence is taken, and the order goes on to
    payment (or, free, to its licence). Refused (InvalidTransition) when it no longer waits, for instance because a
    concurrent approval or decline won; Conflict when the plan is sold out."""
    actor = actor_for(session, user, order, OrderAction.APPROVE)
    message = checked_message(message, "message", "A message", required=False)

    def licence_left(_state: OrderStatus) -> None:
        lock_plan(session, order.plan_id)  # the order is locked already: orders before plans, everywhere
        if order.renews_order_id is None:  # a renewal continues a licence the cap counted already
            take_licence(session, order.plan)

    move_order(session, user, order, OrderAction.APPROVE, actor, check=licence_left, message=message)
    order.decision_message, order.deadline = message, None
    _proceed(session, order)
    what = _l("Your licence is ready.") if order.status == OrderStatus.FULFILLED else _l("You can now pay for it.")
    body = (_l("The seller approved your request. %(next)s %(message)s", next=what, message=message) if message
            else _l("The seller approved your request. %(next)s", next=what))
    notify_buyer(session, order, _l("Licence request %(number)s approved", number=order.number), body)
    return order


def decline_order(session: Session, user: User, order: Order, message: str) -> Order:
    """The seller declines a request waiting for them, or a trade waiting for the evidence of its cross-boundary
    mechanism, with a message to the buyer; refused (InvalidTransition) when it waits for neither any more."""
    actor = actor_for(session, user, order, OrderAction.DECLINE)
    message = checked_message(message, "message", "A message to the buyer", required=True)

    def still_waiting(state: OrderStatus) -> None:
        if state != OrderStatus.AWAITING_APPROVAL:
            if order.cross_boundary is not None:
                session.refresh(order.cross_boundary)  # evidence confirmed meanwhile: nothing left to decline
            if not evidence_awaited(order):
                raise InvalidTransition(_("Order %(number)s waits neither for your decision nor for evidence: it "
                                          "cannot be declined.", number=order.number))
            close_checkout(order)

    move_order(session, user, order, OrderAction.DECLINE, actor, check=still_waiting, message=message)
    order.decision_message, order.deadline = message, None
    notify_buyer(session, order, _l("Licence request %(number)s declined", number=order.number), message)
    return order


def decide_order(session: Session, user: User, order: Order, decision: str, message: str = "") -> Order:
    """The seller's decision by name ("approve" or "decline"), for forms and the API."""
    if decision == "approve":
        return approve_order(session, user, order, message)
    if decision == "decline":
        return decline_order(session, user, order, message)
    raise ValidationFailed(_("Unknown decision."), {"decision": [_("Choose approve or decline.")]})


# ---------------------------------------------------------------- the buyer cancels, the system expires


def cancel_order(session: Session, user: User, order: Order) -> Order:
    """The buyer cancels an order before paying; its open checkout at the provider is closed first (under the
    order's lock, so only the cancel that wins calls the provider)."""
    actor = actor_for(session, user, order, OrderAction.CANCEL)
    move_order(session, user, order, OrderAction.CANCEL, actor, check=lambda _state: close_checkout(order))
    order.deadline = None
    return order


def _expiry(order: Order, state: OrderStatus, now: datetime) -> dict:
    """Under the order's lock: refuse an order no longer due (approved meanwhile, it waits for payment with a new
    deadline), close its checkout (PaymentError if the provider cannot be reached) and say what it waited for."""
    if order.deadline is None or order.deadline > now:
        raise InvalidTransition(_("Order %(number)s is not due to expire.", number=order.number))
    close_checkout(order)
    if evidence_awaited(order):
        return {"waited_for": "evidence"}
    return {"waited_for": "the seller" if state == OrderStatus.AWAITING_APPROVAL else "payment"}


def expire_orders(session: Session, now: datetime | None = None) -> list[Order]:
    """Expire requests the seller never answered, orders whose payment never came and trades whose cross-boundary
    evidence was not confirmed, past their deadline. Each
    order is locked and re-read before it moves: one that moved meanwhile (paid, cancelled, or expired by a
    concurrent run) is left alone, and its buyer is not told twice."""
    now = now or utcnow()
    due = session.scalars(
        select(Order).where(Order.status.in_([OrderStatus.REQUESTED, OrderStatus.AWAITING_APPROVAL,
                                              OrderStatus.APPROVED, OrderStatus.AWAITING_PAYMENT]),
                            Order.deadline <= now).order_by(Order.id)  # id order: concurrent runs lock alike
    ).all()
    expired = []
    for order in due:
        try:
            moved = move_order(session, None, order, OrderAction.EXPIRE, OrderActor.SYSTEM,
                               check=lambda state, order=order: _expiry(order, state, now))
        except PaymentError as exc:  # the provider is unreachable: try again on the next run
            log.warning("Order %s not expired: %s", order.number, exc.message)
            continue
        except InvalidTransition:  # it moved since the query: nothing left to expire
            continue
        waited_for = moved.event.payload["waited_for"]
        expired.append(order)
        order.deadline = None
        waited = {"the seller": _l("the seller"), "payment": _l("payment"),
                  "evidence": _l("the evidence of its cross-boundary mechanism")}.get(waited_for, waited_for)
        notify_buyer(session, order, _l("Order %(number)s expired", number=order.number),
                     _l("Your order expired after waiting for %(waited)s.", waited=waited))
    return expired


def renewal_plan(session: Session, licence: Licence) -> PricingPlan:
    """The plan a licence with an end renews on (a subscription, or a one-time licence for a period): the same plan
    if still offered, else the listed version's plan of the same name and kind. A licence with no expiry, or a
    revoked one, is not renewed (Conflict), nor one whose product is suspended (Conflict, with the reason), nor one
    whose scenario no longer fits the plan's terms (ValidationFailed): what the licence page offers and what a
    renewal order is checked by."""
    plan = _plan_renewed_on(session, licence)
    _refuse_stale_scenario(licence, plan)
    return plan


def _plan_renewed_on(session: Session, licence: Licence) -> PricingPlan:
    """The plan of :func:`renewal_plan`, before the licence's scenario is checked against it."""
    if not renewable(licence):
        raise Conflict(_("Only a licence with an end date is renewed; this one needs no renewal."))
    paused = downloads_paused(licence.product)
    if paused:  # suspended, not withdrawn: say so rather than "not offered any more"
        raise Conflict(sentences(_("Downloads and renewals are paused while the product is suspended."), paused),
                       {"plan_id": [_("Renewals are paused while the product is suspended.")]})
    try:
        return purchasable_plan(session, licence.plan_id)
    except NotFound:
        product = session.get(DataProduct, licence.product_id)
        if product is None or product.status != ProductStatus.LISTED or product.listed_version_id is None:
            raise NotFound(_("This product is not offered any more.")) from None
        plan = session.scalar(select(PricingPlan).where(
            PricingPlan.version_id == product.listed_version_id, PricingPlan.name == licence.plan.name,
            PricingPlan.kind == licence.plan_kind))
        if plan is None:
            raise NotFound(_("This plan is not offered any more; choose one of the current plans.")) from None
        return plan


def _refuse_stale_scenario(licence: Licence, plan: PricingPlan) -> None:
    """ValidationFailed when the scenario a renewal would copy no longer fits the plan's terms (a purpose the terms
    do not list, a territory they do not cover): the renewal keeps the scenario, so the buyer must order anew."""
    scenario, errors = parse_scenario(licence.scenario)
    problems = errors or scenario_conflicts(scenario, plan.terms)
    if problems:
        why = [message for messages in problems.values() for message in messages]
        raise ValidationFailed(sentences(
            _("This licence's use scenario does not fit the plan's terms: a renewal keeps the scenario, so it cannot "
              "be renewed."), *why,
            _("When this licence ends, order the plan again with a scenario that fits.")), problems)


def renew_licence(session: Session, user: User, licence: Licence, *, accept_terms: bool,
                  idempotency_key: str = "") -> Order:
    """Renewal is a new order for the licence's plan, with the same scenario, continuing the current period; only
    the buyer organization's members renew (NotFound for strangers; the seller may not license for the buyer)."""
    require(user, Permission.VIEW_ORDER, licence)
    plan = renewal_plan(session, licence)
    return request_licence(session, user, LicenceRequest(
        plan_id=plan.id, organization_id=licence.buyer_organization_id, scenario=licence.scenario,
        accept_terms=accept_terms, idempotency_key=idempotency_key), renews=licence.order)
