"""Payment: open the provider's checkout, confirm or fail a payment, the simulated test cards, reconciliation with
the provider, and closing a checkout when its order stops waiting."""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.assessments.states import ProviderStatus
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, DomainError, InvalidTransition
from marketplace.i18n import N_, sentences
from marketplace.licensing.services import downloads_paused
from marketplace.licensing.vouchers import issue_voucher
from marketplace.orders.anomalies import ANOMALY_DETAILS, MISMATCH, record_anomaly
from marketplace.orders.common import lock_order, move_order, notify_buyer, require_buyer
from marketplace.orders.crossborder import awaiting_evidence, refuse_if_evidence_overdue
from marketplace.orders.fulfilment import fulfil, fulfil_fee, issue_fee_voucher
from marketplace.orders.models import AnomalyKind, Order, PaymentEvent
from marketplace.orders.money import record_sale
from marketplace.orders.states import OrderAction, OrderActor, OrderStatus
from marketplace.payments import (
    PaymentError,
    PaymentOutcome,
    PaymentProvider,
    PaymentUnavailable,
)
from marketplace.payments.simulated import DECLINED_CARDS, charge_test_card
from marketplace.payouts.services import destination
from marketplace.recorded_text import RecordedText
from marketplace.review.registration import refuse_if_expired

log = logging.getLogger(__name__)

# Why a payment failed, as the order records it (English) and its buyer reads it.
DELAYED_FAILURE = N_("The delayed payment failed at Stripe.")
PAYMENT_FAILURES = RecordedText(*dict.fromkeys(reason for _code, reason in DECLINED_CARDS.values()), DELAYED_FAILURE)


def close_checkout(order: Order) -> None:
    """Close the provider's open checkout of an order about to stop waiting for payment (PaymentError if the
    provider cannot be reached: the order then keeps waiting, so nobody pays for a closed order)."""
    if order.status != OrderStatus.AWAITING_PAYMENT or not order.payment_reference:
        return
    payments: PaymentProvider = current_app.extensions["payments"]
    if payments.name == order.payment_provider:
        payments.cancel_checkout(order)


# ---------------------------------------------------------------- payment


def payment_paused(session: Session, order: Order) -> str | None:
    """Why the order cannot be paid now: its product is suspended (no money is taken for a product buyers may not
    download), or its registration has expired (``refuse_if_expired``: no trade on an expired registration). The
    order waits, and may be paid once the product is reinstated or the registration renewed, or be cancelled. None
    otherwise. An assessment fee has no product to pause: it waits while the platform has suspended its provider
    (the provider may not work on the request, so it is not paid for it)."""
    if order.is_assessment_fee:
        provider = order.assessment.provider
        if provider.status != ProviderStatus.SUSPENDED:
            return None
        return _("The platform suspended %(provider)s as a data service provider: its fee for %(number)s cannot be "
                 "paid until it is reinstated.", provider=provider.organization.name, number=order.assessment.number)
    paused = downloads_paused(order.product)
    if paused:
        return sentences(_("Payments for this product are paused while it is suspended."), paused)
    try:
        refuse_if_expired(session, order.product_id)
    except Conflict as expired:
        return sentences(expired.message, _("Your order waits: you may pay once the registration is renewed, or "
                                            "cancel it."))
    return None


def _refuse_paused(session: Session, order: Order) -> None:
    if reason := payment_paused(session, order):
        raise Conflict(reason)


def start_checkout(session: Session, user: User, order: Order, payments: PaymentProvider, *,
                   success_url: str, cancel_url: str) -> str:
    """Open (or reopen) the provider's checkout for an order awaiting payment; where to send the buyer."""
    require_buyer(session, user, order)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        if order.is_assessment_fee:  # the seller knows the request, not the order behind its fee
            raise Conflict(_("The fee of %(number)s is %(status)s, not awaiting payment.",
                             number=order.assessment.number, status=order.status.label.lower()))
        raise Conflict(_("Order %(number)s is %(status)s, not awaiting payment.", number=order.number,
                         status=order.status.label.lower()))
    _refuse_paused(session, order)
    refuse_if_evidence_overdue(order)
    if reason := awaiting_evidence(session, order):
        raise Conflict(reason)
    order.payment_attempts += 1
    # The order's random token makes the provider's key unique even if order ids and the client's idempotency keys
    # are used again (a reset database).
    token = order.payment_token or order.idempotency_key[:40]
    checkout = payments.start_checkout(
        order, success_url=success_url, cancel_url=cancel_url,
        idempotency_key=f"order-{order.id}-{token}-checkout-{order.payment_attempts}",
        destination=destination(session, payments, order.seller_organization_id, order.platform_fee))
    if not checkout.kept:  # a new checkout: it pays the seller's connected account, or the platform's
        order.transfer_destination = checkout.destination
    order.payment_provider, order.payment_reference, order.payment_error = payments.name, checkout.reference, None
    record(session, actor_id=user.id, action="order.checkout", subject_type="order", subject_id=order.id,
           payload={"provider": payments.name, "reference": checkout.reference})
    return checkout.redirect_url


def confirm_payment(session: Session, order: Order, *, provider: str, payment_reference: str | None) -> Order:
    """The provider confirmed the money: the order is paid (its sale written to the ledger), then fulfilled with its
    licence. InvalidTransition for an order no longer awaiting payment (read under the order's lock, so two
    confirmations issue one licence and write one sale)."""
    def same_provider(_state: OrderStatus) -> None:
        if order.payment_provider and order.payment_provider != provider:
            raise Conflict(_("Order %(number)s is paid through %(provider)s, not %(other)s.", number=order.number,
                             provider=order.payment_provider, other=provider))

    move_order(session, None, order, OrderAction.PAY, OrderActor.SYSTEM, check=same_provider, provider=provider,
               payment_reference=payment_reference)
    order.payment_provider, order.payment_intent = provider, payment_reference
    order.paid_at, order.deadline, order.payment_error = utcnow(), None, None
    record_sale(session, order)
    if order.is_assessment_fee:
        fulfil_fee(session, order)
        issue_fee_voucher(session, order)
    else:
        issue_voucher(session, fulfil(session, order))
    return order


def record_payment_failure(session: Session, order: Order, message: str) -> Order:
    """A declined or failed payment: the order keeps waiting (the buyer may try again or cancel). InvalidTransition
    for an order no longer awaiting payment (paid meanwhile, cancelled, expired)."""
    if lock_order(session, order) != OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(_("Order %(number)s is %(status)s, not awaiting payment.", number=order.number,
                                  status=order.status.label.lower()))
    order.payment_error = message[:500]
    record(session, actor_id=None, action="order.payment_failed", subject_type="order", subject_id=order.id,
           payload={"message": order.payment_error})
    return order


def awaits_simulated_payment(order: Order) -> bool:
    """Whether the order's checkout is the simulated one, still open (what the checkout page may show)."""
    return order.status == OrderStatus.AWAITING_PAYMENT and order.payment_provider == "simulated"


def pay_with_test_card(session: Session, user: User, order: Order, card_number: str) -> Order:
    """The simulated checkout: a test card pays (the order is fulfilled) or fails like Stripe's test cards."""
    require_buyer(session, user, order)
    lock_order(session, order)  # one card charge per order: concurrent payments wait here and are refused
    if not awaits_simulated_payment(order):
        raise Conflict(_("Order %(number)s is not waiting for a simulated payment.", number=order.number))
    _refuse_paused(session, order)
    try:
        reference = charge_test_card(card_number)
    except PaymentError as exc:
        record_payment_failure(session, order, exc.recorded)
        raise
    return confirm_payment(session, order, provider="simulated", payment_reference=reference)


def already_processed(session: Session, provider: str, event_id: str) -> bool:
    return session.scalar(select(PaymentEvent.id).where(PaymentEvent.provider == provider,
                                                        PaymentEvent.event_id == event_id)) is not None


def reconcile_orders(session: Session, payments: PaymentProvider) -> list[tuple[Order, str]]:
    """Ask the provider about every order stuck awaiting payment through it; pay or expire what it reports. A
    checkout the provider does not know ("missing") or a refusal about one order is reported and the run goes on
    with the others (the order keeps waiting: its deadline expires it, or the buyer pays with a new checkout);
    PaymentUnavailable (the provider is down) stops the run."""
    stuck = session.scalars(
        select(Order).where(Order.status == OrderStatus.AWAITING_PAYMENT, Order.payment_provider == payments.name,
                            Order.payment_reference.is_not(None)).order_by(Order.id)
    ).all()
    results = []
    for order in stuck:
        try:
            with session.begin_nested():
                state = payments.checkout_state(order)
                if state.outcome is PaymentOutcome.PAID:
                    confirm_payment(session, order, provider=payments.name,
                                    payment_reference=state.payment_reference)
                elif state.outcome is PaymentOutcome.EXPIRED:
                    expire_unpaid(session, order)
                elif state.outcome is PaymentOutcome.MISMATCH and state.payment_reference:
                    record_anomaly(session, provider=payments.name, payment_reference=state.payment_reference,
                                   kind=AnomalyKind.MISMATCH, order=order, amount=state.amount,
                                   currency=state.currency,
                                   detail=ANOMALY_DETAILS.english(MISMATCH, number=order.number,
                                                                  detail=state.detail))
                elif state.outcome is PaymentOutcome.MISSING:
                    log.warning("%s does not know checkout %s of %s.", payments.name, order.payment_reference,
                                order.number)
        except PaymentUnavailable:
            raise
        except DomainError as exc:
            log.warning("Order %s not reconciled: %s", order.number, exc.message)
            results.append((order, f"error: {exc.message}"))
            continue
        results.append((order, state.outcome.value))
    return results


def expire_unpaid(session: Session, order: Order) -> Order:
    """The provider's checkout ended without payment: the order awaiting it expires and the buyer is told; an
    assessment fee keeps waiting (it ends with its request, and paying again opens a new checkout). InvalidTransition
    for an order in any other state (paid meanwhile, cancelled, already expired), read under the order's lock."""
    if lock_order(session, order) != OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(_("Cannot expire order %(number)s: it is %(status)s, not awaiting payment.",
                                  number=order.number, status=order.status.label.lower()))
    if order.is_assessment_fee:
        record(session, actor_id=None, action="order.checkout_ended", subject_type="order", subject_id=order.id,
               payload={"provider": order.payment_provider, "reference": order.payment_reference})
        return order
    move_order(session, None, order, OrderAction.EXPIRE, OrderActor.SYSTEM, waited_for="payment")
    order.deadline = None
    notify_buyer(session, order, _l("Order %(number)s expired", number=order.number),
                 _l("Your order expired: the checkout ended without payment."))
    return order
