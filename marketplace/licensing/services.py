"""Orders and licences: a buyer requests a plan with a scenario, the seller decides if the plan asks for it, the
buyer pays (unless the plan is free), and the paid order is fulfilled with a licence and its signed certificate.

Every move goes through ``ORDER_LIFECYCLE`` or ``LICENCE_LIFECYCLE`` with the actor's role and writes an audit
event. A capped plan's licences are counted under a lock on the plan row (``SELECT ... FOR UPDATE`` on PostgreSQL,
SQLite's write lock taken first), so concurrent buyers never get more than the cap between them.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, member_organizations_query, organization_ids, permits, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.licensing.models import Licence, Order, PaymentEvent
from marketplace.licensing.scenario import Scenario, parse_scenario, scenario_conflicts
from marketplace.licensing.states import (
    HOLDS_LICENCE,
    LICENCE_LIFECYCLE,
    OPEN_ORDER_STATES,
    ORDER_LIFECYCLE,
    REVENUE_STATES,
    LicenceAction,
    LicenceStatus,
    OrderAction,
    OrderActor,
    OrderStatus,
)
from marketplace.listings.models import Asset, DataProduct, PricingPlan, ProductVersion
from marketplace.listings.states import ProductStatus
from marketplace.listings.vocab import AssetKind, BillingPeriod, PlanKind
from marketplace.notifications.services import notify_organization
from marketplace.payments import PaymentError, PaymentOutcome, PaymentProvider

log = logging.getLogger(__name__)

MAX_MESSAGE = 5000
MAX_IDEMPOTENCY_KEY = 100

# ---------------------------------------------------------------- who is acting


def member_organization_ids(session: Session, user: User) -> list[int]:
    return sorted(organization_ids(user, session))


def buyer_organizations(session: Session, user: User) -> list[Organization]:
    """The organizations ``user`` may license for (every organization they belong to)."""
    return list(session.scalars(
        select(Organization).where(Organization.id.in_(member_organizations_query(user))).order_by(Organization.name)
    ))


def _actor(session: Session, user: User, order: Order, action: OrderAction) -> OrderActor:
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
    raise Forbidden("This order belongs to another organization.")


def is_buyer(session: Session, user: User, held: Order | Licence) -> bool:
    """Whether ``user`` acts for the buyer organization of an order or licence (the seller may look at it, never
    pay, cancel or renew)."""
    return permits(user, Permission.ACT_FOR_BUYER, held)


def _require_buyer(session: Session, user: User, order: Order) -> None:
    """Forbidden unless ``user`` acts for the buyer: the seller may not pay, nor may anyone else."""
    if not permits(user, Permission.ACT_FOR_BUYER, order):
        raise Forbidden("Only the buyer pays for an order.")


def _move(session: Session, user: User | None, order: Order, action: OrderAction, actor: OrderActor,
          **payload) -> None:
    previous = order.status
    order.status = ORDER_LIFECYCLE.next(previous, action, actor)
    record(session, actor_id=user.id if user else None, action=f"order.{action.value}", subject_type="order",
           subject_id=order.id, payload={"product_id": order.product_id, "plan_id": order.plan_id,
                                         "from": previous.value, "to": order.status.value, **payload})


def _move_licence(session: Session, licence: Licence, action: LicenceAction, reason: str) -> None:
    previous = licence.status
    licence.status = LICENCE_LIFECYCLE.next(previous, action, OrderActor.SYSTEM)
    licence.status_changed_at = utcnow()
    licence.status_reason = reason
    record(session, actor_id=None, action=f"licence.{action.value}", subject_type="licence", subject_id=licence.id,
           payload={"serial": licence.serial, "from": previous.value, "to": licence.status.value, "reason": reason})


def _message(value: str | None, field: str, what: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"{what} is required.", {field: [f"{what} is required."]})
    if len(value) > MAX_MESSAGE:
        raise ValidationFailed(f"{what} is too long.", {field: [f"At most {MAX_MESSAGE} characters."]})
    return value


# ---------------------------------------------------------------- capped plans


def lock_plan(session: Session, plan_id: int) -> None:
    """Serialise the moves that count a plan's licences: a row lock on PostgreSQL, the write lock on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(PricingPlan.id).where(PricingPlan.id == plan_id).with_for_update())
    else:
        # A no-op write takes SQLite's database write lock for the rest of the transaction.
        session.execute(update(PricingPlan).where(PricingPlan.id == plan_id).values(id=PricingPlan.id))


def licences_held(session: Session, plan_id: int) -> int:
    """Orders holding one of the plan's licences: sold, or being paid for."""
    return session.scalar(
        select(func.count(Order.id)).where(Order.plan_id == plan_id, Order.status.in_(HOLDS_LICENCE))
    ) or 0


def _take_licence(session: Session, plan: PricingPlan) -> None:
    """Refuse (Conflict) when a capped plan has no licence left; call with the plan locked."""
    if plan.licence_cap is not None and licences_held(session, plan.id) >= plan.licence_cap:
        raise Conflict(f"All {plan.licence_cap} licences of the plan “{plan.name}” are taken.",
                       {"plan_id": ["This plan is sold out."]})


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
        raise NotFound("No such plan.")
    product = plan.version.product
    if product.status != ProductStatus.LISTED or product.listed_version_id != plan.version_id:
        raise NotFound("This plan is not offered any more.")
    return plan


def _check_request(session: Session, user: User, req: LicenceRequest, plan: PricingPlan) -> Scenario:
    product = plan.version.product
    buyer = session.get(Organization, req.organization_id)
    if buyer is None:
        raise Forbidden("You may only license for an organization you belong to.",
                        {"organization_id": ["Choose one of your organizations."]})
    require(user, Permission.LICENSE, buyer)  # a member, with a verified e-mail address
    if req.organization_id == product.organization_id:
        raise Forbidden("An organization cannot license its own product.",
                        {"organization_id": ["This organization sells the product."]})
    scenario, errors = parse_scenario(req.scenario)
    if not req.accept_terms:
        errors["accept_terms"] = ["Accept the plan's licence terms to continue."]
    if scenario is not None:
        errors.update(scenario_conflicts(scenario, plan.terms))
    if errors:
        if scenario is None:
            message = "Complete the use scenario."
        elif set(errors) == {"accept_terms"}:
            message = "Accept the plan's licence terms to continue."
        else:
            message = "The use scenario does not fit this plan."
        raise ValidationFailed(message, errors)
    open_order = session.scalar(
        select(Order).where(Order.buyer_organization_id == req.organization_id, Order.plan_id == plan.id,
                            Order.status.in_(OPEN_ORDER_STATES)).limit(1)
    )
    if open_order is not None:
        raise Conflict(f"Your organization already has an open order for this plan ({open_order.number}).",
                       {"plan_id": ["An order for this plan is already in progress."]})
    return scenario


def idempotency_key_fits(key: str) -> bool:
    """Whether an order could carry ``key``: at most MAX_IDEMPOTENCY_KEY printable characters."""
    return len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()


def _checked_idempotency_key(value: str | None) -> str:
    """The stripped key, "" when none; refuses (ValidationFailed) one that no order could carry (too long, or
    with a non-printable character such as NUL, which PostgreSQL cannot even compare)."""
    key = (value or "").strip()
    if key and not idempotency_key_fits(key):
        raise ValidationFailed("Invalid idempotency key.",
                               {"idempotency_key": [f"At most {MAX_IDEMPOTENCY_KEY} printable characters."]})
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


def request_licence(session: Session, user: User, req: LicenceRequest, *, renews: Order | None = None) -> Order:
    """Open an order for a plan with a checked scenario and route it: to the seller, to payment, or (free plan)
    straight to a licence. Repeating a request with the same idempotency key returns the first order."""
    key = _idempotency_key(req.idempotency_key)
    earlier = order_by_key(session, user, key)
    if earlier is not None:
        if earlier.plan_id != req.plan_id:
            raise Conflict("This idempotency key was already used for another order.",
                           {"idempotency_key": ["Already used for another order."]})
        return earlier
    plan = purchasable_plan(session, req.plan_id)
    scenario = _check_request(session, user, req, plan)
    needs_seller = plan.requires_approval or scenario.needs_seller
    lock_plan(session, plan.id)
    if not needs_seller:
        _take_licence(session, plan)
    product = plan.version.product
    now = utcnow()
    order = Order(
        buyer_organization_id=req.organization_id, buyer_id=user.id, seller_organization_id=product.organization_id,
        product_id=product.id, version_id=plan.version_id, plan_id=plan.id, status=OrderStatus.REQUESTED,
        purpose=scenario.purpose, sector=scenario.sector, territory=scenario.territory,
        expected_users=scenario.expected_users, scenario_description=scenario.description, terms_accepted_at=now,
        amount=plan.amount, currency=plan.currency, idempotency_key=key, decision_message="",
        renews_order_id=renews.id if renews else None,
    )
    try:
        with session.begin_nested():  # a racing request with the same key inserts first: answer with its order
            session.add(order)
            session.flush()
    except IntegrityError:
        earlier = order_by_key(session, user, key)
        if earlier is None or earlier.plan_id != req.plan_id:
            raise
        return earlier
    record(session, actor_id=user.id, action="order.request", subject_type="order", subject_id=order.id,
           payload={"product_id": product.id, "plan_id": plan.id, "amount": order.amount,
                    "currency": str(order.currency), "scenario": scenario.to_dict(),
                    "renews_order_id": order.renews_order_id})
    if needs_seller:
        _move(session, None, order, OrderAction.AWAIT_APPROVAL, OrderActor.SYSTEM)
        order.deadline = now + timedelta(days=current_app.config["ORDER_APPROVAL_DAYS"])
        notify_organization(
            session, order.seller_organization, f"Licence request {order.number} for {product.slug}",
            f"{order.buyer_organization.name} asks to license “{plan.name}” for "
            f"{scenario.purpose.label.lower()}: {scenario.description}",
            link=f"/seller/{order.seller_organization.slug}/requests",
        )
    else:
        _proceed(session, order)
    return order


def _proceed(session: Session, order: Order) -> None:
    """After the request (or the seller's approval): a free order is fulfilled, a paid one waits for payment."""
    if order.is_free:
        _fulfil(session, order)
    else:
        _move(session, None, order, OrderAction.AWAIT_PAYMENT, OrderActor.SYSTEM)
        order.deadline = utcnow() + timedelta(hours=current_app.config["ORDER_PAYMENT_HOURS"])


# ---------------------------------------------------------------- the seller decides


def approve_order(session: Session, user: User, order: Order, message: str = "") -> Order:
    actor = _actor(session, user, order, OrderAction.APPROVE)
    message = _message(message, "message", "A message", required=False)
    ORDER_LIFECYCLE.next(order.status, OrderAction.APPROVE, actor)  # refuse before taking the lock
    lock_plan(session, order.plan_id)
    _take_licence(session, order.plan)
    _move(session, user, order, OrderAction.APPROVE, actor, message=message)
    order.decision_message, order.decided_at, order.deadline = message, utcnow(), None
    _proceed(session, order)
    what = "Your licence is ready." if order.status == OrderStatus.FULFILLED else "You can now pay for it."
    _notify_buyer(session, order, f"Licence request {order.number} approved",
                  f"The seller approved your request. {what} {message}".strip())
    return order


def decline_order(session: Session, user: User, order: Order, message: str) -> Order:
    actor = _actor(session, user, order, OrderAction.DECLINE)
    message = _message(message, "message", "A message to the buyer", required=True)
    _move(session, user, order, OrderAction.DECLINE, actor, message=message)
    order.decision_message, order.decided_at, order.deadline, order.closed_at = message, utcnow(), None, utcnow()
    _notify_buyer(session, order, f"Licence request {order.number} declined", message)
    return order


def decide_order(session: Session, user: User, order: Order, decision: str, message: str = "") -> Order:
    """The seller's decision by name ("approve" or "decline"), for forms and the API."""
    if decision == "approve":
        return approve_order(session, user, order, message)
    if decision == "decline":
        return decline_order(session, user, order, message)
    raise ValidationFailed("Unknown decision.", {"decision": ["Choose approve or decline."]})


def _notify_buyer(session: Session, order: Order, subject: str, body: str) -> None:
    notify_organization(session, order.buyer_organization, subject, body, link=f"/orders/{order.id}")


# ---------------------------------------------------------------- the buyer cancels, the system expires


def _close_checkout(order: Order) -> None:
    """Close the provider's open checkout of an order about to stop waiting for payment (PaymentError if the
    provider cannot be reached: the order then keeps waiting, so nobody pays for a closed order)."""
    if order.status != OrderStatus.AWAITING_PAYMENT or not order.payment_reference:
        return
    payments: PaymentProvider = current_app.extensions["payments"]
    if payments.name == order.payment_provider:
        payments.cancel_checkout(order)


def cancel_order(session: Session, user: User, order: Order) -> Order:
    actor = _actor(session, user, order, OrderAction.CANCEL)
    ORDER_LIFECYCLE.next(order.status, OrderAction.CANCEL, actor)  # refuse before calling the provider
    _close_checkout(order)
    _move(session, user, order, OrderAction.CANCEL, actor)
    order.deadline, order.closed_at = None, utcnow()
    return order


def expire_orders(session: Session, now: datetime | None = None) -> list[Order]:
    """Expire requests the seller never answered and orders whose payment never came, past their deadline."""
    now = now or utcnow()
    due = session.scalars(
        select(Order).where(Order.status.in_([OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_PAYMENT]),
                            Order.deadline <= now).order_by(Order.id)
    ).all()
    expired = []
    for order in due:
        try:
            _close_checkout(order)
        except PaymentError as exc:  # the provider is unreachable: try again on the next run
            log.warning("Order %s not expired: %s", order.number, exc.message)
            continue
        waited_for = "the seller" if order.status == OrderStatus.AWAITING_APPROVAL else "payment"
        expired.append(order)
        _move(session, None, order, OrderAction.EXPIRE, OrderActor.SYSTEM, waited_for=waited_for)
        order.deadline, order.closed_at = None, now
        _notify_buyer(session, order, f"Order {order.number} expired",
                      f"Your order expired after waiting for {waited_for}.")
    return expired


# ---------------------------------------------------------------- payment


def start_checkout(session: Session, user: User, order: Order, payments: PaymentProvider, *,
                   success_url: str, cancel_url: str) -> str:
    """Open (or reopen) the provider's checkout for an order awaiting payment; where to send the buyer."""
    _require_buyer(session, user, order)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict(f"Order {order.number} is {order.status.label.lower()}, not awaiting payment.")
    order.payment_attempts += 1
    # The order's own random key makes the provider's key unique even if order ids are reused (a reset database).
    checkout = payments.start_checkout(
        order, success_url=success_url, cancel_url=cancel_url,
        idempotency_key=f"order-{order.id}-{order.idempotency_key[:40]}-checkout-{order.payment_attempts}")
    order.payment_provider, order.payment_reference, order.payment_error = payments.name, checkout.reference, None
    record(session, actor_id=user.id, action="order.checkout", subject_type="order", subject_id=order.id,
           payload={"provider": payments.name, "reference": checkout.reference})
    return checkout.redirect_url


def confirm_payment(session: Session, order: Order, *, provider: str, payment_reference: str | None) -> Order:
    """The provider confirmed the money: the order is paid, then fulfilled with its licence."""
    if order.payment_provider and order.payment_provider != provider:
        raise Conflict(f"Order {order.number} is paid through {order.payment_provider}, not {provider}.")
    _move(session, None, order, OrderAction.PAY, OrderActor.SYSTEM, provider=provider,
          payment_reference=payment_reference)
    order.payment_provider, order.payment_intent = provider, payment_reference
    order.paid_at, order.deadline, order.payment_error = utcnow(), None, None
    _fulfil(session, order)
    return order


def record_payment_failure(session: Session, order: Order, message: str) -> Order:
    """A declined or failed payment: the order keeps waiting (the buyer may try again or cancel). InvalidTransition
    for an order no longer awaiting payment (paid meanwhile, cancelled, expired)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(f"Order {order.number} is {order.status.label.lower()}, not awaiting payment.")
    order.payment_error = message[:500]
    record(session, actor_id=None, action="order.payment_failed", subject_type="order", subject_id=order.id,
           payload={"message": order.payment_error})
    return order


def awaits_simulated_payment(order: Order) -> bool:
    """Whether the order's checkout is the simulated one, still open (what the checkout page may show)."""
    return order.status == OrderStatus.AWAITING_PAYMENT and order.payment_provider == "simulated"


def pay_with_test_card(session: Session, user: User, order: Order, card_number: str) -> Order:
    """The simulated checkout: a test card pays (the order is fulfilled) or fails like Stripe's test cards."""
    from marketplace.payments.simulated import charge_test_card

    _require_buyer(session, user, order)
    if not awaits_simulated_payment(order):
        raise Conflict(f"Order {order.number} is not waiting for a simulated payment.")
    try:
        reference = charge_test_card(card_number)
    except PaymentError as exc:
        record_payment_failure(session, order, exc.message)
        raise
    return confirm_payment(session, order, provider="simulated", payment_reference=reference)


def already_processed(session: Session, provider: str, event_id: str) -> bool:
    return session.scalar(select(PaymentEvent.id).where(PaymentEvent.provider == provider,
                                                        PaymentEvent.event_id == event_id)) is not None


def reconcile_orders(session: Session, payments: PaymentProvider) -> list[tuple[Order, str]]:
    """Ask the provider about every order stuck awaiting payment through it; pay or expire what it reports."""
    stuck = session.scalars(
        select(Order).where(Order.status == OrderStatus.AWAITING_PAYMENT, Order.payment_provider == payments.name,
                            Order.payment_reference.is_not(None)).order_by(Order.id)
    ).all()
    results = []
    for order in stuck:
        state = payments.checkout_state(order)
        if state.outcome is PaymentOutcome.PAID:
            confirm_payment(session, order, provider=payments.name, payment_reference=state.payment_reference)
        elif state.outcome is PaymentOutcome.EXPIRED:
            expire_unpaid(session, order)
        results.append((order, state.outcome.value))
    return results


def expire_unpaid(session: Session, order: Order) -> Order:
    """The provider's checkout ended without payment: the order awaiting it expires and the buyer is told.
    InvalidTransition for an order in any other state (paid meanwhile, cancelled, already expired)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(f"Cannot expire order {order.number}: it is {order.status.label.lower()}, "
                                "not awaiting payment.")
    _move(session, None, order, OrderAction.EXPIRE, OrderActor.SYSTEM, waited_for="payment")
    order.deadline, order.closed_at = None, utcnow()
    _notify_buyer(session, order, f"Order {order.number} expired",
                  "Your order expired: the checkout ended without payment.")
    return order


# ---------------------------------------------------------------- licences


def _period_end(plan_kind: PlanKind, terms: dict, billing_period: BillingPeriod | None, start: datetime):
    if plan_kind == PlanKind.SUBSCRIPTION:
        return start + (relativedelta(years=1) if billing_period == BillingPeriod.YEAR else relativedelta(months=1))
    days = terms.get("duration_days")
    return start + timedelta(days=days) if days else None


def _serial(now: datetime) -> str:
    return f"LIC-{now.year}-{secrets.token_hex(5).upper()}"


def _fulfil(session: Session, order: Order) -> Licence:
    """Freeze the plan's terms and the scenario into a licence with its validity, and sign its certificate."""
    from marketplace.licensing.certificates import sign_licence

    _move(session, None, order, OrderAction.FULFIL, OrderActor.SYSTEM)
    now = utcnow()
    order.closed_at, order.deadline = now, None
    plan = order.plan
    start = now
    if order.renews_order_id:
        previous = session.scalar(select(Licence).where(Licence.order_id == order.renews_order_id))
        if previous is not None and previous.status == LicenceStatus.ACTIVE and previous.valid_until:
            start = max(now, previous.valid_until)  # a renewal continues where the lapsing period ends
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
    _notify_buyer(session, order, f"Licence {licence.serial} issued",
                  f"Your licence for {order.product.slug} is active. Download the data from My licences.")
    notify_organization(session, order.seller_organization, f"Licence {licence.serial} sold",
                        f"{order.buyer_organization.name} licensed “{plan.name}” ({order.number}).",
                        link=f"/seller/{order.seller_organization.slug}/sales")
    return licence


def refundable(order: Order) -> bool:
    """Whether the order has money to give back: a fulfilled order that was paid for (a free licence has none)."""
    return order.status == OrderStatus.FULFILLED and order.amount > 0


def refund_order(session: Session, user: User, order: Order, reason: str, payments: PaymentProvider) -> Order:
    """Give the money back (through the provider that took it) and revoke the order's licence."""
    actor = _actor(session, user, order, OrderAction.REFUND)
    reason = _message(reason, "reason", "A reason", required=True)
    ORDER_LIFECYCLE.next(order.status, OrderAction.REFUND, actor)  # refuse before calling the provider
    if not refundable(order):
        raise Conflict(f"Order {order.number} was free: there is no money to refund.")
    if order.payment_provider:
        if order.payment_provider != payments.name:
            raise Conflict(f"Order {order.number} was paid through {order.payment_provider}, which is not the "
                           "payment provider configured now.")
        order.refund_reference = payments.refund(order, idempotency_key=f"order-{order.id}-refund")
    _move(session, user, order, OrderAction.REFUND, actor, reason=reason, refund_reference=order.refund_reference)
    order.closed_at = utcnow()
    if order.licence is not None and order.licence.status == LicenceStatus.ACTIVE:
        _move_licence(session, order.licence, LicenceAction.REVOKE, f"Order refunded: {reason}")
    _notify_buyer(session, order, f"Order {order.number} refunded",
                  f"The order was refunded and its licence revoked. Reason: {reason}")
    return order


def expire_licences(session: Session, now: datetime | None = None) -> list[Licence]:
    """Expire active licences whose period has ended."""
    now = now or utcnow()
    lapsed = session.scalars(
        select(Licence).where(Licence.status == LicenceStatus.ACTIVE, Licence.valid_until.is_not(None),
                              Licence.valid_until <= now).order_by(Licence.id)
    ).all()
    for licence in lapsed:
        _move_licence(session, licence, LicenceAction.EXPIRE, "The licence period ended.")
    return list(lapsed)


def renewal_plan(session: Session, licence: Licence) -> PricingPlan:
    """The plan a subscription renews on: the same plan if still offered, else the listed version's plan of the
    same name and kind."""
    if licence.plan_kind != PlanKind.SUBSCRIPTION:
        raise Conflict("Only subscriptions are renewed; buy a new licence instead.")
    try:
        return purchasable_plan(session, licence.plan_id)
    except NotFound:
        product = session.get(DataProduct, licence.product_id)
        if product is None or product.status != ProductStatus.LISTED or product.listed_version_id is None:
            raise NotFound("This product is not offered any more.") from None
        plan = session.scalar(select(PricingPlan).where(
            PricingPlan.version_id == product.listed_version_id, PricingPlan.name == licence.plan.name,
            PricingPlan.kind == PlanKind.SUBSCRIPTION))
        if plan is None:
            raise NotFound("This subscription is not offered any more; choose one of the current plans.") from None
        return plan


def renew_licence(session: Session, user: User, licence: Licence, *, accept_terms: bool,
                  idempotency_key: str = "") -> Order:
    """Renewal is a new order for the subscription, with the same scenario, continuing the current period; only
    the buyer organization's members renew (NotFound for strangers; the seller may not license for the buyer)."""
    require(user, Permission.VIEW_ORDER, licence)
    plan = renewal_plan(session, licence)
    return request_licence(session, user, LicenceRequest(
        plan_id=plan.id, organization_id=licence.buyer_organization_id, scenario=licence.scenario,
        accept_terms=accept_terms, idempotency_key=idempotency_key), renews=licence.order)


def covers(licence: Licence, version: ProductVersion) -> bool:
    """Whether a licence covers a version: the versions it names, and for a subscription also the versions listed
    while it is in its period. A newer version never takes away what was bought."""
    if licence.product_id != version.product_id:
        return False
    if version.id in licence.version_ids:
        return True
    return (licence.plan_kind == PlanKind.SUBSCRIPTION and version.approved_at is not None
            and licence.in_period(version.approved_at))


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DownloadGrant:
    asset: Asset
    licence: Licence | None  # None for a public sample


def _download_refusal(licences: list[Licence], version: ProductVersion, now: datetime) -> Forbidden:
    covering = [lic for lic in licences if covers(lic, version)]
    if not licences:
        return Forbidden("Your organization has no licence for this product.")
    if not covering:
        return Forbidden("Your licence does not cover this version of the product.")
    if any(lic.status == LicenceStatus.REVOKED for lic in covering) and not any(
            lic.status == LicenceStatus.ACTIVE for lic in covering):
        return Forbidden("Your licence was revoked.")
    if any(lic.status == LicenceStatus.ACTIVE and now < lic.valid_from for lic in covering):
        return Forbidden("Your licence period has not started yet.")
    return Forbidden("Your licence has expired.")


def traded_product(session: Session, slug: str) -> DataProduct:
    """A product that has been listed, whatever its status now (licences outlive suspension and delisting);
    NotFound for drafts and unknown slugs."""
    product = session.scalar(select(DataProduct).where(DataProduct.slug == slug)) if len(slug) <= 120 else None
    if product is None or product.status == ProductStatus.DRAFT:
        raise NotFound("No such product in the catalog.")
    return product


def authorize_download(session: Session, user: User | None, product: DataProduct, asset_id: int) -> DownloadGrant:
    """Who may fetch an asset of a product page: anyone for a listed version's sample; for a deliverable, a member
    of an organization with an active licence covering its version, while the product is not suspended."""
    asset = session.scalar(select(Asset).where(Asset.id == asset_id).options(selectinload(Asset.version)))
    if asset is None or asset.version.product_id != product.id:
        raise NotFound("No such file.")
    if asset.kind == AssetKind.SAMPLE:
        if product.status != ProductStatus.LISTED or asset.version_id != product.listed_version_id:
            raise NotFound("No such file.")
        return DownloadGrant(asset, None)
    if user is None or not user.is_authenticated:
        raise Forbidden("Sign in with an organization that holds a licence to download this file.")
    if product.status == ProductStatus.SUSPENDED:
        raise Forbidden("Downloads are paused while the product is suspended by compliance review.")
    orgs = member_organization_ids(session, user)
    licences = list(session.scalars(
        select(Licence).where(Licence.product_id == product.id, Licence.buyer_organization_id.in_(orgs))
    )) if orgs else []
    now = utcnow()
    for licence in licences:
        if licence.status == LicenceStatus.ACTIVE and licence.in_period(now) and covers(licence, asset.version):
            record(session, actor_id=user.id, action="asset.download", subject_type="asset", subject_id=asset.id,
                   payload={"product_id": product.id, "version_id": asset.version_id, "licence": licence.serial,
                            "sha256": asset.sha256})
            return DownloadGrant(asset, licence)
    raise _download_refusal(licences, asset.version, now)


# ---------------------------------------------------------------- reading


def _order_options():
    return (selectinload(Order.product), selectinload(Order.version), selectinload(Order.plan),
            selectinload(Order.licence),
            selectinload(Order.buyer_organization), selectinload(Order.seller_organization))


def order_for(session: Session, user: User, order_id: int) -> Order:
    """An order its buyer or seller organization (or a platform admin) may see; NotFound for anyone else."""
    order = session.scalar(select(Order).where(Order.id == order_id).options(*_order_options()))
    if order is None:
        raise NotFound("No such order.")
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


def buyer_licences(session: Session, user: User) -> list[Licence]:
    """The licences of every organization ``user`` belongs to, newest first, with what a list shows."""
    orgs = member_organization_ids(session, user)
    return list(session.scalars(
        select(Licence).where(Licence.buyer_organization_id.in_(orgs))
        .options(selectinload(Licence.product).selectinload(DataProduct.listed_version),
                 selectinload(Licence.plan), selectinload(Licence.buyer_organization), selectinload(Licence.order))
        .order_by(Licence.id.desc())
    )) if orgs else []


def licence_for(session: Session, user: User, licence_id: int) -> Licence:
    licence = session.get(Licence, licence_id)
    if licence is None:
        raise NotFound("No such licence.")
    require(user, Permission.VIEW_ORDER, licence)
    return licence


def licensed_assets(session: Session, licences: list[Licence]) -> dict[int, list[Asset]]:
    """The deliverables each licence covers (by licence id), across its product's approved versions, newest
    version first; one query for every licence of a list."""
    product_ids = {licence.product_id for licence in licences}
    versions = session.scalars(
        select(ProductVersion).where(ProductVersion.product_id.in_(product_ids),
                                     ProductVersion.approved_at.is_not(None))
        .options(selectinload(ProductVersion.assets)).order_by(ProductVersion.number.desc())
    ).all() if product_ids else []
    return {licence.id: [asset for version in versions if covers(licence, version)
                         for asset in version.assets if asset.kind == AssetKind.DELIVERABLE]
            for licence in licences}


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


def all_orders(session: Session, user: User, limit: int, offset: int) -> tuple[list[Order], int]:
    """Every order, newest first: one page and the total, for platform admins."""
    require(user, Permission.ADMIN)
    total = session.scalar(select(func.count(Order.id))) or 0
    page = session.scalars(select(Order).options(*_order_options()).order_by(Order.id.desc()).limit(limit)
                           .offset(offset)).all()
    return list(page), total


def revenue_by_currency(session: Session, organization_id: int) -> dict[str, int]:
    """Money received and kept (paid or fulfilled, not refunded), in minor units, per currency."""
    rows = session.execute(
        select(Order.currency, func.sum(Order.amount)).where(
            Order.seller_organization_id == organization_id, Order.status.in_(REVENUE_STATES))
        .group_by(Order.currency).order_by(Order.currency)
    ).all()
    return {str(currency): int(total or 0) for currency, total in rows}


def active_licence_count(session: Session, organization_id: int) -> int:
    return session.scalar(select(func.count(Licence.id)).where(
        Licence.seller_organization_id == organization_id, Licence.status == LicenceStatus.ACTIVE)) or 0


def waiting_request_count(session: Session, organization_id: int) -> int:
    """How many requests wait for the organization's decision (the queue ``seller_requests`` lists)."""
    return session.scalar(select(func.count(Order.id)).where(
        Order.seller_organization_id == organization_id, Order.status == OrderStatus.AWAITING_APPROVAL)) or 0

