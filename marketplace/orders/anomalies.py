"""Money the payment provider took that paid no order: a payment for an order already closed (cancelled, expired,
refunded), a payment of another amount or currency than the order's, a second payment for an order already paid.

Each becomes a ``PaymentAnomaly`` (one per payment, however often the provider repeats its event) with an audit
event, listed for platform admins at ``/admin/payments/anomalies``, where an admin gives the money back through
the provider. The refund is idempotent: its key is the anomaly's own random token, so a retried or doubled click
is the same refund at the provider, and an anomaly already refunded is refused (409).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.i18n import N_
from marketplace.orders.models import AnomalyKind, AnomalyStatus, Order, PaymentAnomaly
from marketplace.orders.states import OrderStatus
from marketplace.payments import PaymentProvider
from marketplace.payments.stripe_provider import MISMATCHES
from marketplace.recorded_text import RecordedText

# What an anomaly's detail says: recorded in English, shown in the reader's language.
MISMATCH = N_("Payment does not match %(number)s: %(detail)s.")
CLOSED_ORDER = N_("Payment for %(number)s, which is %(status)s.")
SECOND_PAYMENT = N_("Second payment for %(number)s, already paid with %(payment)s.")
ANOMALY_DETAILS = RecordedText(MISMATCH, CLOSED_ORDER, SECOND_PAYMENT, *MISMATCHES,
                               status=lambda value: OrderStatus(value).label.lower())


def anomaly_for_payment(session: Session, provider: str, payment_reference: str) -> PaymentAnomaly | None:
    return session.scalar(select(PaymentAnomaly).where(PaymentAnomaly.provider == provider,
                                                       PaymentAnomaly.payment_reference == payment_reference))


def record_anomaly(session: Session, *, provider: str, payment_reference: str, kind: AnomalyKind,
                   order: Order | None, detail: str, amount: int | None, currency: str | None,
                   event_id: str | None = None) -> PaymentAnomaly:
    """Record money that paid no order, once per payment (a repeated event finds the first record), with an audit
    event ``payment.anomaly``."""
    found = anomaly_for_payment(session, provider, payment_reference)
    if found is not None:
        return found
    anomaly = PaymentAnomaly(provider=provider, payment_reference=payment_reference, kind=kind,
                             order_id=order.id if order is not None else None, detail=detail[:500], amount=amount,
                             currency=currency, event_id=event_id, status=AnomalyStatus.OPEN)
    try:
        with session.begin_nested():  # the same payment reported twice at once: the second finds the first
            session.add(anomaly)
            session.flush()
    except IntegrityError:
        found = anomaly_for_payment(session, provider, payment_reference)
        if found is None:
            raise
        return found
    record(session, actor_id=None, action="payment.anomaly", subject_type="payment_anomaly", subject_id=anomaly.id,
           payload={"kind": kind.value, "provider": provider, "payment": payment_reference,
                    "order_id": anomaly.order_id, "amount": amount, "currency": currency, "detail": anomaly.detail,
                    "event_id": event_id})
    return anomaly


def anomalies(session: Session, user: User) -> list[PaymentAnomaly]:
    """Every anomaly, the open ones first, newest first (platform admins only; Forbidden otherwise)."""
    require(user, Permission.ADMIN)
    return list(session.scalars(
        select(PaymentAnomaly).options(selectinload(PaymentAnomaly.order))
        .order_by((PaymentAnomaly.status == AnomalyStatus.OPEN).desc(), PaymentAnomaly.id.desc())
    ))


def refund_key(anomaly: PaymentAnomaly) -> str:
    return f"anomaly-{anomaly.id}-{anomaly.refund_token}-refund"


def refund_anomaly(session: Session, user: User, anomaly_id: int, payments: PaymentProvider) -> PaymentAnomaly:
    """Give the anomalous payment back in full through the provider that took it, and audit it. Platform admins
    only (Forbidden); NotFound for no such anomaly; Conflict if it was refunded already or was taken by another
    provider than the configured one; PaymentError (the anomaly stays open) if the provider refuses or is down."""
    require(user, Permission.ADMIN)
    anomaly = session.scalar(
        select(PaymentAnomaly).where(PaymentAnomaly.id == anomaly_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if anomaly is None:
        raise NotFound(_("No such payment anomaly."))
    if anomaly.status == AnomalyStatus.REFUNDED:
        raise Conflict(_("Payment %(payment)s was already refunded (%(refund)s).",
                         payment=anomaly.payment_reference, refund=anomaly.refund_reference))
    if anomaly.provider != payments.name:
        raise Conflict(_("Payment %(payment)s was taken by %(provider)s, which is not the payment provider "
                         "configured now.", payment=anomaly.payment_reference, provider=anomaly.provider))
    metadata = {"anomaly_id": str(anomaly.id)}
    if anomaly.order_id is not None:
        metadata["order_id"] = str(anomaly.order_id)
    reference = payments.refund_payment(anomaly.payment_reference, idempotency_key=refund_key(anomaly),
                                        metadata=metadata)
    mark_refunded(session, anomaly, reference, user)
    return anomaly


def mark_refunded(session: Session, anomaly: PaymentAnomaly, refund_reference: str | None,
                  user: User | None) -> None:
    """The anomalous payment is back with the payer (refunded here, or reported refunded by the provider)."""
    anomaly.status, anomaly.refund_reference = AnomalyStatus.REFUNDED, refund_reference
    anomaly.refunded_at, anomaly.refunded_by_id = utcnow(), user.id if user is not None else None
    record(session, actor_id=user.id if user is not None else None, action="payment.anomaly_refunded",
           subject_type="payment_anomaly", subject_id=anomaly.id,
           payload={"payment": anomaly.payment_reference, "refund": refund_reference,
                    "order_id": anomaly.order_id, "amount": anomaly.amount, "currency": anomaly.currency})
