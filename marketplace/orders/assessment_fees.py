"""Assessment fees as orders: the order machinery charging a data service provider's fee (``assessments.fees``).

A fee order is an ``Order`` row with ``assessment_id`` in place of a plan (a check constraint keeps exactly one of
them) and no product, version nor scenario: the buyer is the commissioning seller organization, the seller the
provider organization, the amount and currency those the provider stated, the platform fee the provider's rate.
Accepting opens it straight at ``awaiting_payment`` with no deadline (the request itself is what may end it).
From there everything is the product sale's own code: ``checkout.start_checkout`` and the simulated card or a
Stripe Checkout Session, the webhook and reconciliation, ``confirm_payment`` writing the ledger sale (platform fee
and the provider's payable, so statements and payouts follow) and the transaction voucher, and ``refund_order``.
Only fulfilment differs: no licence, the provider may start (``fulfilment.fulfil_fee``). Product-sale places leave
fee orders out: the buyer's and seller's order lists and the admin's orders (``queries.PRODUCT_SALE``), a fee order
has no product to count sales of, and no cross-boundary position, licence or download.

This is chosen over a second payment path: the money rules (locking, provider idempotency, anomalies, disputes,
ledger keys) stay in one place and are already tested racing.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Organization, User
from marketplace.assessments.fees import Fee, FeeState, decline_by_platform, seller_request
from marketplace.assessments.models import Assessment
from marketplace.assessments.services import provider_of
from marketplace.assessments.states import ProviderStatus
from marketplace.audit.services import record
from marketplace.errors import Conflict
from marketplace.ledger.fees import fee_rate
from marketplace.notifications.services import notify_organization
from marketplace.orders.checkout import close_checkout
from marketplace.orders.common import lock_order, move_order
from marketplace.orders.models import Order
from marketplace.orders.refunds import refund_order, refundable
from marketplace.orders.states import OrderAction, OrderActor, OrderStatus
from marketplace.payments import PaymentProvider


def fee_order(session: Session, assessment_id: int) -> Order | None:
    return session.scalar(select(Order).where(Order.assessment_id == assessment_id))


def open_fee_order(session: Session, assessment: Assessment) -> Order:
    """The order of the fee stated on accepting ``assessment`` (called under its lock, once: the order is unique per
    request), awaiting the commissioning seller's payment; its members are told to pay."""
    provider = assessment.provider.organization
    order = Order(
        buyer_organization_id=assessment.seller_organization_id, buyer_id=assessment.requested_by_id,
        seller_organization_id=provider.id, assessment_id=assessment.id, status=OrderStatus.REQUESTED,
        amount=assessment.fee_amount, currency=assessment.fee_currency, fee_bps=fee_rate(provider),
        idempotency_key=f"assessment-{assessment.number}-fee", decision_message="",
    )
    session.add(order)
    session.flush()
    record(session, actor_id=None, action="order.request", subject_type="order", subject_id=order.id,
           payload={"assessment_id": assessment.id, "amount": order.amount, "currency": str(order.currency),
                    "fee_bps": order.fee_bps})
    move_order(session, None, order, OrderAction.AWAIT_PAYMENT, OrderActor.SYSTEM)
    notify_organization(session, assessment.seller_organization,
                        _l("Pay the fee of %(number)s", number=assessment.number),
                        _l("%(provider)s asks a fee for assessment %(number)s; it starts once you pay it.",
                           provider=provider.name, number=assessment.number),
                        link=f"/seller/{assessment.seller_organization.slug}/assessments")
    return order


def close_fee_order(session: Session, user: User, assessment: Assessment, reason: str,
                    payments: PaymentProvider) -> Order | None:
    """The request closed: its unpaid fee order is cancelled (its open checkout closed first), a paid one refunded
    through ``refund_order``. Nothing for a request without a fee order or one already closed."""
    order = fee_order(session, assessment.id)
    if order is None:
        return None
    state = lock_order(session, order)
    if state == OrderStatus.AWAITING_PAYMENT:
        move_order(session, None, order, OrderAction.CANCEL, OrderActor.SYSTEM,
                   check=lambda _state: close_checkout(order), reason="assessment request closed")
        order.deadline = None
    elif refundable(order):
        refund_order(session, user, order, reason or _("The assessment request was declined."), payments)
    return order


def fee_states(session: Session, assessment_ids: Iterable[int]) -> dict[int, Fee]:
    ids = list(assessment_ids)
    if not ids:
        return {}
    found = {}
    for order in session.scalars(select(Order).where(Order.assessment_id.in_(ids))
                                 .options(selectinload(Order.voucher))):
        state = {OrderStatus.AWAITING_PAYMENT: FeeState.UNPAID, OrderStatus.PAID: FeeState.PAID,
                 OrderStatus.FULFILLED: FeeState.PAID}.get(order.status, FeeState.CLOSED)
        found[order.assessment_id] = Fee(state, order.id, order.number, order.amount, str(order.currency),
                                         refunded=order.status == OrderStatus.REFUNDED,
                                         voucher=order.voucher.number if order.voucher else None)
    return found


class AssessmentFeeOrders:
    """``assessments.fees.FeeOrders`` over the order machinery (registered on the app by ``init_assessment_fees``)."""

    def charge(self, session: Session, assessment: Assessment) -> None:
        open_fee_order(session, assessment)

    def lock(self, session: Session, assessment: Assessment) -> None:
        if (order := fee_order(session, assessment.id)) is not None:
            lock_order(session, order)

    def close(self, session: Session, user: User, assessment: Assessment, reason: str) -> None:
        close_fee_order(session, user, assessment, reason, current_app.extensions["payments"])

    def fees(self, session: Session, assessment_ids: Iterable[int]) -> dict[int, Fee]:
        return fee_states(session, assessment_ids)


def init_assessment_fees(app) -> None:
    """Register the fee orders for assessments, and ``assessment_fee(a)`` for the assessment pages' templates."""
    from marketplace.assessments.fees import fee_of
    from marketplace.extensions import db

    app.extensions["assessment_fees"] = AssessmentFeeOrders()
    app.jinja_env.globals["assessment_fee"] = lambda assessment: fee_of(db.session, assessment)


def is_provider(session: Session, organization: Organization) -> bool:
    """Whether the organization is (or was, while suspended) a data service provider: its sales and statements then
    hold assessment fees beside any product sales, and say so."""
    provider = provider_of(session, organization)
    return provider is not None and provider.status in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED)


def paid_fee_count(session: Session, organization_id: int) -> int:
    """How many of the organization's assessment fees are paid and not refunded (the provider's counterpart of its
    active licences)."""
    return session.scalar(select(func.count(Order.id)).where(
        Order.seller_organization_id == organization_id, Order.assessment_id.is_not(None),
        Order.status == OrderStatus.FULFILLED)) or 0


# ---------------------------------------------------------------- the seller pays


def payable_fee(session: Session, user: User, organization: Organization, number: str) -> Order:
    """The fee order of the organization's request ``number``, for its members (NotFound for anyone else);
    Conflict for a request with no fee to pay."""
    assessment = seller_request(session, user, organization, number)
    order = fee_order(session, assessment.id)
    if order is None:
        raise Conflict(_("No fee to pay for %(number)s.", number=assessment.number))
    return order


# ---------------------------------------------------------------- the platform gives the money back


def refund_by_platform(session: Session, user: User, order: Order, reason: str) -> Order:
    """A platform admin refunds a paid fee order from the admin's orders: its request closes as declined by the
    platform (``assessments.fees.decline_by_platform``), which refunds the order through ``refund_order``."""
    decline_by_platform(session, user, order.assessment, reason)
    return order
