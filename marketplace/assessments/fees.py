"""An assessment's fee: what assessments ask of it, charged through the order machinery.

A provider that states a fee on accepting a request is paid as a seller is paid for a product: the fee is an
order (``orders.assessment_fees``) whose buyer is the commissioning seller organization and whose seller is the
provider organization, with the assessment request in place of a plan. The seller pays it through the same checkout
(simulated cards or Stripe), the same ledger sale writes the platform fee and the provider's payable, and the same
voucher, statements, refunds and payouts follow. Its fulfilment is that the provider may start: until the fee is
paid, the provider's members may neither read the version's files nor sign the report.

Assessments may not import orders (the import contract keeps them below trades), so the orders package implements
``FeeOrders`` and the app registers it as ``app.extensions["assessment_fees"]``; the assessment services call the
hooks below at accepting, declining, reading a file and signing. A seller that will not pay withdraws its request
here (``withdraw_request``), which cancels the unpaid fee order.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import ASSESSMENT_LIFECYCLE, Actor, AssessmentAction, AssessmentStatus
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.listings.vocab import Currency
from marketplace.notifications.services import notify_organization

# The largest fee a provider may state, in minor units (100 million in major units, far above any real fee).
MAX_FEE = 100_000_000 * 100


class FeeState(enum.StrEnum):
    NONE = "none"        # no fee stated (or none to pay): the provider may start at once
    UNPAID = "unpaid"    # the fee order awaits the seller's payment
    PAID = "paid"        # paid: the provider may start
    CLOSED = "closed"    # the request closed before payment (its order cancelled) or the fee was refunded

    @property
    def label(self) -> str:
        return {"none": _l("No fee"), "unpaid": _l("Fee unpaid"), "paid": _l("Fee paid"),
                "closed": _l("Fee closed")}[self.value]


@dataclass(frozen=True)
class Fee:
    """The fee of one request as its order stands: state, the order's id and number, amount and currency."""

    state: FeeState
    order_id: int | None = None
    number: str | None = None
    amount: int | None = None
    currency: str | None = None
    refunded: bool = False
    voucher: str | None = None  # the transaction voucher's number, once paid

    @property
    def opens_version(self) -> bool:
        return self.state in (FeeState.NONE, FeeState.PAID)


NO_FEE = Fee(FeeState.NONE)


def fee_json(fee: Fee) -> dict:
    """The fee as the API shows it to the seller and the provider: none, unpaid, paid, refunded or cancelled."""
    state = fee.state.value if fee.state != FeeState.CLOSED else "refunded" if fee.refunded else "cancelled"
    return {"state": state, "amount": fee.amount, "currency": fee.currency}


class FeeOrders(Protocol):
    """What the orders package does with an assessment's fee."""

    def charge(self, session: Session, assessment: Assessment) -> None:
        """Open the fee order of a request just accepted with a fee, awaiting the seller's payment."""

    def lock(self, session: Session, assessment: Assessment) -> None:
        """Lock the request's fee order, if it has one, until the transaction ends."""

    def close(self, session: Session, user: User, assessment: Assessment, reason: str) -> None:
        """The request closed: cancel its unpaid fee order, refund a paid one (through the refund path)."""

    def fees(self, session: Session, assessment_ids: Iterable[int]) -> dict[int, Fee]:
        """The fee of each request that has a fee order."""


def fee_orders() -> FeeOrders:
    return current_app.extensions["assessment_fees"]


def checked_fee(fee: int | None, currency: str | None) -> tuple[int | None, str | None]:
    """The fee a provider states, in minor units of its currency, or (None, None) for none. Refuses a negative or
    absurd amount and a currency we do not trade in, naming the amount as the form takes it (major units)."""
    if fee is None:
        return None, None
    if currency not in Currency._value2member_map_:
        message = _("State the fee in CNY, HKD or USD.")
        raise ValidationFailed(message, {"fee": [message], "currency": [message]})
    if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= MAX_FEE:
        message = _("State the fee as an amount of %(currency)s from 0.00 to 100000000.00, e.g. 1200.00.",
                    currency=currency)
        raise ValidationFailed(message, {"fee": [message]})
    return fee, currency


def on_accept(session: Session, assessment: Assessment) -> None:
    """Hook of accepting: a stated fee above zero becomes the order the seller pays."""
    if assessment.fee_amount:
        fee_orders().charge(session, assessment)


def declining(session: Session, user: User, assessment: Assessment, reason: str,
              after_accepting: bool) -> Callable[[AssessmentStatus], None]:
    """The check of declining a request, run under its lock once the lifecycle allows the move: a decision declines
    a request, and declining one accepted meanwhile is refused unless asked for by name (``after_accepting``), so two
    members deciding at once still make one decision. Then the fee order closes: cancelled if unpaid, refunded if
    paid (before the request moves, so a refund the provider refuses leaves it as it was).

    The fee order is locked here, before the request is: a payment holds the order and then reaches the request
    (PostgreSQL's foreign-key check on the order's row), so every path takes the order first."""
    fee_orders().lock(session, assessment)

    def check(state: AssessmentStatus) -> None:
        if state == AssessmentStatus.ACCEPTED and not after_accepting:
            raise InvalidTransition(_("This request was accepted meanwhile: reload the page to decline it."))
        on_close(session, user, assessment, reason)
    return check


def on_close(session: Session, user: User, assessment: Assessment, reason: str) -> None:
    """Hook of closing a request (declining or withdrawing it): its fee order is cancelled if unpaid, refunded if
    paid."""
    fee_orders().close(session, user, assessment, reason)


def seller_request(session: Session, user: User, organization: Organization, number: str) -> Assessment:
    """The organization's request ``number``, for its members; NotFound for anything else."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    assessment = session.scalar(select(Assessment).where(Assessment.number == number[:40],
                                                         Assessment.seller_organization_id == organization.id))
    if assessment is None:
        raise NotFound(_("No such assessment."))
    return assessment


def withdraw_request(session: Session, user: User, assessment: Assessment) -> Assessment:
    """The seller takes its request back before the provider may start on it: while it is requested, or accepted
    with its fee unpaid (the fee order is then cancelled); the provider is told. Refuses anyone who may not edit the
    product, a request the provider may be working on (accepted with no fee, or with the fee paid: the provider
    declines it then, which refunds a paid fee) and a request already closed."""
    require(user, Permission.EDIT_PRODUCT, assessment.version.product)
    fee_orders().lock(session, assessment)  # the order before the request, as everywhere

    def check(state: AssessmentStatus) -> None:
        if state == AssessmentStatus.ACCEPTED and fee_of(session, assessment).opens_version:
            raise Conflict(_("%(provider)s may already be working on %(number)s: ask it to decline the request "
                             "instead (a paid fee is then refunded).",
                             provider=assessment.provider.organization.name, number=assessment.number))
        on_close(session, user, assessment, "")

    ASSESSMENT_LIFECYCLE.apply(session, assessment, AssessmentAction.CANCEL, Actor.SELLER, user=user, check=check)
    seller, number = assessment.seller_organization.name, assessment.number
    notify_organization(session, assessment.provider.organization,
                        lambda: _("%(seller)s withdrew assessment request %(number)s", seller=seller, number=number),
                        lambda: _("The request is closed: its version is no longer open to you."),
                        f"/provider/{assessment.provider.organization.slug}/assessments/{number}")
    session.flush()
    return assessment


def decline_by_platform(session: Session, user: User, assessment: Assessment, reason: str) -> Assessment:
    """A platform admin refunds a request's paid fee (for a provider that will not, or a seller's complaint): the
    fee is refunded and the request closes as declined by the platform, audited, and both sides told with the
    reason. Refuses anyone but a platform admin, a request whose fee is not paid, and a signed report (it stands)."""
    require(user, Permission.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        message = _("Give the reason: the seller and the provider read it.")
        raise ValidationFailed(message, {"reason": [message]})
    fee_orders().lock(session, assessment)  # the order before the request, as everywhere

    def check(_state: AssessmentStatus) -> dict:
        if fee_of(session, assessment).state != FeeState.PAID:
            raise Conflict(_("%(number)s has no paid fee to refund.", number=assessment.number))
        on_close(session, user, assessment, reason)
        return {"by": "platform"}

    ASSESSMENT_LIFECYCLE.apply(session, assessment, AssessmentAction.DECLINE, Actor.ADMIN, user=user,
                               payload={"reason": reason}, check=check)
    assessment.decline_reason = reason
    number, link_seller = assessment.number, f"/seller/{assessment.seller_organization.slug}/assessments"
    subject = lambda: _("The platform declined assessment request %(number)s", number=number)  # noqa: E731
    body = lambda: _("The platform refunded its fee and closed the request. Reason: %(reason)s",  # noqa: E731
                     reason=reason)
    notify_organization(session, assessment.seller_organization, subject, body, link_seller)
    notify_organization(session, assessment.provider.organization, subject, body,
                        f"/provider/{assessment.provider.organization.slug}/assessments/{number}")
    session.flush()
    return assessment


def fees_of(session: Session, assessments: Iterable[Assessment]) -> dict[int, Fee]:
    """The fee of each request, by its id (NO_FEE for those without a fee order)."""
    assessments = list(assessments)
    found = fee_orders().fees(session, [a.id for a in assessments]) if assessments else {}
    return {a.id: found.get(a.id, NO_FEE) for a in assessments}


def fee_of(session: Session, assessment: Assessment) -> Fee:
    return fees_of(session, [assessment])[assessment.id]


def require_paid(assessment: Assessment) -> None:
    """Refuse (403) the provider's work on a request whose fee is not paid: reading its files or signing."""
    if not fee_of(object_session(assessment), assessment).opens_version:
        raise Forbidden(_("The seller has not paid your fee for %(number)s yet: the version's files and the report "
                          "open to you once it is paid.", number=assessment.number))
