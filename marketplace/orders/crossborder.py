"""A trade's cross-boundary position: decided from the rules table when the licence is requested, with the seller's
count of individuals already provided outside the Mainland this year read under the seller's lock; the buyer's
evidence of the mechanism, confirmed or rejected by the seller or a reviewer before its deadline; and the guard that
keeps a trade waiting for it from being paid or fulfilled.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts.access import Permission, permits, require
from marketplace.accounts.models import Organization, User
from marketplace.crossborder.models import MAX_EVIDENCE_NOTE, MAX_FILING_NUMBER, CrossBoundaryPosition
from marketplace.crossborder.rules import UNBOUNDED, Facts, Outcome, Rule, decide, explain
from marketplace.crossborder.states import EVIDENCE_LIFECYCLE, EvidenceAction, EvidenceActor, EvidenceStatus
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.i18n import day, sentences
from marketplace.listings.models import ProductVersion
from marketplace.listings.vocab import Classification, PersonalInfo, Territory
from marketplace.notifications.services import notify_organization
from marketplace.orders.common import notify_buyer, payment_deadline
from marketplace.orders.evidence_files import checked_document, store_document
from marketplace.orders.fulfilment import fulfil
from marketplace.orders.models import Order
from marketplace.orders.queries import order_for
from marketplace.orders.states import OPEN_ORDER_STATES, ORDER_LIFECYCLE, OrderAction, OrderStatus
from marketplace.places import Place
from marketplace.review.registration import refuse_if_expired

BEIJING = timezone(timedelta(hours=8))
# Trades that no longer provide anything: they leave the seller's count.
_NOT_PROVIDED = (OrderStatus.CANCELLED, OrderStatus.DECLINED, OrderStatus.EXPIRED, OrderStatus.REFUNDED)
# Trades that provided or are on their way to providing.
_ON_THEIR_WAY = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.FULFILLED)
# Evidence still awaited: the trade reserves its individuals until its evidence deadline.
_AWAITED = (EvidenceStatus.NEEDED, EvidenceStatus.SUBMITTED, EvidenceStatus.REJECTED)


def year_start(now: datetime) -> datetime:
    """1 January 00:00 in Beijing of the year ``now`` falls in there (the provisions count from it), in UTC."""
    local = now.astimezone(BEIJING)
    return datetime(local.year, 1, 1, tzinfo=BEIJING).astimezone(UTC)


@dataclass(frozen=True)
class Provided:
    """The seller's counted trades this year: the largest number of individuals of each product, by (product id,
    sensitive)."""

    largest: Mapping[tuple[int, bool], int]

    def totals(self, product_id: int | None = None, individuals: int = 0, sensitive: bool = False
               ) -> tuple[int, int]:
        """(non-sensitive, sensitive) individuals, with a trade of ``product_id`` providing ``individuals`` added:
        it raises its product's count only where it provides more people than the product's trades so far."""
        largest = dict(self.largest)
        if individuals:
            largest[(product_id, sensitive)] = max(largest.get((product_id, sensitive), 0), individuals)
        return (min(UNBOUNDED, sum(n for (_p, s), n in largest.items() if not s)),
                min(UNBOUNDED, sum(n for (_p, s), n in largest.items() if s)))


def provided_this_year(session: Session, seller_id: int, now: datetime) -> Provided:
    """The individuals whose personal information the seller has provided outside the Mainland this calendar year
    (from 1 January, Beijing time), per product.

    The Provisions on Promoting and Regulating Cross-border Data Flows (CAC, 2024) set their thresholds in
    individuals (人), cumulative since 1 January: Art. 7(2), a security assessment for the non-sensitive personal
    information of 1,000,000 individuals or more, or the sensitive personal information of 10,000 or more; Art. 8, a
    standard contract or a certification for 100,000 or more but fewer than 1,000,000 non-sensitive, or fewer than
    10,000 sensitive (fewer than 100,000 non-sensitive is exempt, Art. 5(4)). They count people, not transfers, so
    this reads them as:

    - the same product's individuals sold again in the same year are the same people: each product counts once a
      year, at the largest number of individuals among its counted trades (not their sum); different products
      count as different people (the exporter cannot know otherwise, so the cautious reading adds them up);
    - a trade counts when it provided or is on its way to providing: awaiting payment, paid, fulfilled, or with its
      evidence of the mechanism confirmed; a trade awaiting evidence reserves its individuals until its evidence
      deadline (so that two trades placed at once cannot both be decided under a threshold); a request still
      waiting for the seller, a cancelled, declined, expired or refunded trade provides nothing.
    """
    open_order = Order.status.not_in(_NOT_PROVIDED)
    counted = or_(
        and_(CrossBoundaryPosition.evidence_status == EvidenceStatus.NOT_NEEDED, Order.status.in_(_ON_THEIR_WAY)),
        and_(CrossBoundaryPosition.evidence_status == EvidenceStatus.CONFIRMED, open_order),
        and_(CrossBoundaryPosition.evidence_status.in_(_AWAITED), CrossBoundaryPosition.evidence_due > now,
             open_order))
    rows = session.execute(
        select(Order.product_id, CrossBoundaryPosition.sensitive, func.max(CrossBoundaryPosition.individuals))
        .join(Order, Order.id == CrossBoundaryPosition.order_id)
        .where(Order.seller_organization_id == seller_id, counted, CrossBoundaryPosition.individuals > 0,
               CrossBoundaryPosition.decided_at >= year_start(now))
        .group_by(Order.product_id, CrossBoundaryPosition.sensitive))
    return Provided({(product_id, bool(sensitive)): int(largest or 0) for product_id, sensitive, largest in rows})


def lock_seller(session: Session, seller_id: int) -> None:
    """Serialise the decisions that count a seller's transfers: a row lock on PostgreSQL, the write lock on
    SQLite. Taken after the plan's lock (``place_order``). ``FOR NO KEY UPDATE``: it excludes other deciders but
    not the rows that merely refer to the seller (an order, a notification), which keep being written meanwhile."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Organization.id).where(Organization.id == seller_id)
                        .with_for_update(key_share=True))
    else:
        session.execute(update(Organization).where(Organization.id == seller_id).values(id=Organization.id))


@dataclass(frozen=True)
class Position:
    """A decided position before it is stored: the rule, the facts it read, and this trade's own count.
    ``assumed_mainland``: the version declares personal information but not where it was collected (stored before
    that was required), so it was read as collected in the Mainland."""

    rule: Rule
    facts: Facts
    individuals: int
    sensitive: bool
    assumed_mainland: bool = False

    @property
    def outcome(self) -> Outcome:
        return self.rule.outcome

    @property
    def explanation(self) -> str:
        return explain(self.rule, self.assumed_mainland)


def _place(value: str | None) -> Place | None:
    return Place(value) if value else None


def trade_position(version: ProductVersion, seller: Organization, buyer: Organization, territory: Territory,
                   provided: Provided) -> Position:
    """The position of licensing ``version`` to ``buyer`` for use in ``territory``, given what the seller has
    provided this year. An unknown place is read the protective way: personal information whose collection place
    is not declared (a version stored before it was required) was collected in the Mainland; a declared count
    missing is unbounded; a buyer with no location is where it uses the data."""
    seller_place = _place(seller.location)
    personal = PersonalInfo(version.personal_info or PersonalInfo.NONE)
    carries_pi = personal in (PersonalInfo.PERSONAL, PersonalInfo.SENSITIVE)
    declared_place = _place(version.collected_in)
    assumed_mainland = carries_pi and declared_place is None
    collected = declared_place or (Place.SHANGHAI if carries_pi else seller_place or Place.SHANGHAI)
    buyer_place = _place(buyer.location)
    territory = Territory(territory)
    buyer_outside = buyer_place is not None and not buyer_place.in_mainland
    outbound = buyer_outside or territory != Territory.MAINLAND_CHINA
    within_gba = (seller_place is not None and seller_place.in_mainland_gba and buyer_place == Place.HONG_KONG
                  and territory == Territory.HONG_KONG)
    declared = version.individuals if version.individuals else UNBOUNDED
    sensitive = personal == PersonalInfo.SENSITIVE
    individuals = min(declared, UNBOUNDED) if carries_pi and outbound and collected.in_mainland else 0
    non_sensitive, sensitive_total = provided.totals(version.product_id, individuals, sensitive)
    facts = Facts(
        classification=Classification(version.classification or Classification.GENERAL), personal_info=personal,
        collected_in_mainland=collected.in_mainland, outbound=outbound, within_gba=within_gba,
        non_sensitive=non_sensitive, sensitive=sensitive_total)
    return Position(decide(facts), facts, individuals, sensitive, assumed_mainland)


def preview_position(session: Session, version: ProductVersion, buyer: Organization, territory: Territory
                     ) -> Position:
    """The position a request would get now (no lock: the request decides again under the seller's lock)."""
    seller = version.product.organization
    return trade_position(version, seller, buyer, territory, provided_this_year(session, seller.id, utcnow()))


def refusal_message(position: Position) -> str:
    return sentences(_("This trade cannot be placed: %(outcome)s.", outcome=position.outcome.label.lower()),
                     position.explanation)


def decide_position(session: Session, version: ProductVersion, buyer: Organization, territory: Territory,
                    now: datetime) -> Position:
    """The position of a trade being placed, with the seller locked so that the count it reads cannot change until
    the order (and its position) is stored; Forbidden, with the rule's words, when the rules refuse the trade."""
    seller = version.product.organization
    lock_seller(session, seller.id)
    position = trade_position(version, seller, buyer, territory, provided_this_year(session, seller.id, now))
    if position.outcome == Outcome.REFUSED:
        raise Forbidden(refusal_message(position), {"territory": [position.explanation]})
    return position


def evidence_period() -> timedelta:
    """How long a trade waits for its evidence (CROSS_BOUNDARY_EVIDENCE_DAYS) before it expires."""
    return timedelta(days=int(current_app.config["CROSS_BOUNDARY_EVIDENCE_DAYS"]))


def store_position(session: Session, order: Order, position: Position, now: datetime) -> CrossBoundaryPosition:
    """Keep a decided position on its order."""
    rule = position.rule
    stored = CrossBoundaryPosition(
        order_id=order.id, outcome=rule.outcome, rule_key=rule.key, source=rule.source, clause=rule.clause,
        individuals=position.individuals, sensitive=position.sensitive,
        non_sensitive_total=position.facts.non_sensitive, sensitive_total=position.facts.sensitive, decided_at=now,
        evidence_status=EvidenceStatus.NEEDED if rule.outcome.needs_evidence else EvidenceStatus.NOT_NEEDED,
        filing_number="", evidence_note="", evidence_reason="", assumed_mainland=position.assumed_mainland,
        evidence_due=now + evidence_period() if rule.outcome.needs_evidence else None)
    session.add(stored)
    session.flush()
    set_committed_value(order, "cross_boundary", stored)  # the order reads it from now on without loading it
    return stored


def position_of(session: Session, order: Order) -> CrossBoundaryPosition | None:
    """The order's stored position (its ``cross_boundary``, loaded once per order and session)."""
    return order.cross_boundary


def awaiting_evidence(session: Session, order: Order) -> str | None:
    """Why the order cannot be paid or fulfilled yet: its mechanism's evidence is not confirmed (with the deadline
    it is awaited until). None otherwise."""
    position = position_of(session, order)
    if position is None or position.evidence_status in (EvidenceStatus.NOT_NEEDED, EvidenceStatus.CONFIRMED):
        return None
    awaited = {
        EvidenceStatus.NEEDED: _("The buyer's evidence of it is awaited."),
        EvidenceStatus.SUBMITTED: _("The seller has not confirmed the buyer's evidence of it yet."),
        EvidenceStatus.REJECTED: _("The buyer's evidence was rejected; new evidence is awaited."),
    }[position.evidence_status]
    due = _("The order expires if the evidence is not confirmed by %(day)s.", day=day(position.evidence_due)) \
        if position.evidence_due else ""
    return sentences(_("This trade needs a %(mechanism)s before it can be paid or fulfilled.",
                       mechanism=position.outcome.label.lower()), awaited, due)


def evidence_overdue(position: CrossBoundaryPosition | None, now: datetime) -> bool:
    """Whether the position's evidence, still awaited, is past its deadline (from then on the seller's count no
    longer reserves the trade's individuals, and the expiry job will expire the order)."""
    return (position is not None and position.evidence_status in _AWAITED and position.evidence_due is not None
            and position.evidence_due <= now)


def refuse_if_evidence_overdue(order: Order, now: datetime | None = None) -> None:
    """Conflict once the order's evidence deadline passed with its evidence not confirmed: nothing may carry the
    trade on (submitting or confirming the evidence, paying), even before the expiry job expires it."""
    position = order.cross_boundary
    if evidence_overdue(position, now or utcnow()):
        raise Conflict(_("The evidence deadline of order %(number)s passed on %(day)s: the trade can no longer go "
                         "on and the order expires.", number=order.number, day=day(position.evidence_due)))


def evidence_awaited(order: Order) -> bool:
    """Whether the order, still in progress, waits for the evidence of its mechanism."""
    position = order.cross_boundary
    return (order.status in OPEN_ORDER_STATES and position is not None
            and position.evidence_status not in (EvidenceStatus.NOT_NEEDED, EvidenceStatus.CONFIRMED))


def approval_deadline(order: Order) -> datetime:
    """Until when a request waits for the seller (ORDER_APPROVAL_DAYS from its placing), or, when sooner, for the
    evidence of its cross-boundary mechanism."""
    deadline = order.created_at + timedelta(days=current_app.config["ORDER_APPROVAL_DAYS"])
    position = order.cross_boundary
    if evidence_awaited(order) and position.evidence_due is not None:
        return min(deadline, position.evidence_due)
    return deadline


def evidence_moves(order: Order, *actors: EvidenceActor) -> list[EvidenceAction]:
    """What ``actors`` may do with the order's evidence now (the page's forms): the evidence lifecycle's actions
    from its state, none once the order no longer waits for it or its deadline passed."""
    if not evidence_awaited(order) or evidence_overdue(order.cross_boundary, utcnow()):
        return []
    return EVIDENCE_LIFECYCLE.actions_from(order.cross_boundary.evidence_status, actors)


def order_actions(order: Order, actors) -> list[OrderAction]:
    """What ``actors`` may do next with the order (the page's buttons, the API's ``actions``): the lifecycle's
    actions from its state, less a decline once it waits neither for the seller's decision nor for evidence."""
    actions = ORDER_LIFECYCLE.actions_from(order.status, actors)
    if order.status != OrderStatus.AWAITING_APPROVAL and not evidence_awaited(order):
        actions = [action for action in actions if action is not OrderAction.DECLINE]
    return actions


# ---------------------------------------------------------------- the buyer's evidence


def evidence_queue(session: Session, user: User) -> list[Order]:
    """Orders in progress whose buyer's evidence waits for a decision, that ``user`` may decide as a compliance
    reviewer (none of its own organizations' sales), oldest evidence first; Forbidden for anyone but a reviewer."""
    require(user, Permission.REVIEW)
    found = session.scalars(
        select(Order).join(CrossBoundaryPosition, CrossBoundaryPosition.order_id == Order.id)
        .where(CrossBoundaryPosition.evidence_status == EvidenceStatus.SUBMITTED,
               Order.status.in_(OPEN_ORDER_STATES))
        .order_by(CrossBoundaryPosition.evidence_submitted_at, Order.id))
    return [order for order in found if permits(user, Permission.REVIEW, order.product)]


def order_for_review(session: Session, user: User, order_id: int) -> Order:
    """An order as a compliance reviewer reads it; Forbidden for anyone but a reviewer, NotFound for an order of
    the reviewer's own organization (another reviewer decides its evidence), an assessment fee (no trade of data)
    or none."""
    require(user, Permission.REVIEW)
    order = session.get(Order, order_id)
    if order is None or order.product is None or not permits(user, Permission.REVIEW, order.product):
        raise NotFound(_("No such order."))
    return order


def order_for_api(session: Session, user: User, order_id: int) -> Order:
    """An order as the API reads it: one of the caller's organizations' (``order_for``), or, for a compliance
    reviewer outside its seller, a product sale with a cross-boundary position (whose evidence the reviewer may
    decide); NotFound otherwise."""
    try:
        return order_for(session, user, order_id)
    except NotFound:
        if not permits(user, Permission.REVIEW):
            raise
    order = order_for_review(session, user, order_id)
    if order.cross_boundary is None:
        raise NotFound(_("No such order."))
    return order


def may_decide_evidence(user: User, order: Order) -> bool:
    """Whether ``user`` may confirm or reject the order's evidence (what the order page offers)."""
    return permits(user, Permission.ACT_FOR_SELLER, order) or permits(user, Permission.REVIEW, order.product)


def _actor(user: User, order: Order, action: EvidenceAction) -> EvidenceActor:
    if action is EvidenceAction.SUBMIT:
        if permits(user, Permission.ACT_FOR_BUYER, order):
            return EvidenceActor.BUYER
        raise Forbidden(_("Only the buyer gives the evidence of the mechanism."))
    if permits(user, Permission.ACT_FOR_SELLER, order):
        return EvidenceActor.SELLER
    if permits(user, Permission.REVIEW, order.product):
        return EvidenceActor.REVIEWER
    raise Forbidden(_("Only the seller or a compliance reviewer confirms the evidence."))


def _position_needing_evidence(session: Session, order: Order) -> CrossBoundaryPosition:
    """The order's position, when it asks for evidence and the order is still in progress."""
    position = position_of(session, order)
    if position is None or position.evidence_status == EvidenceStatus.NOT_NEEDED:
        raise ValidationFailed(_("This trade needs no cross-boundary mechanism, so there is no evidence to give."))
    if order.status not in OPEN_ORDER_STATES:
        raise InvalidTransition(_("Order %(number)s is %(status)s: its evidence is no longer needed.",
                                  number=order.number, status=order.status.label.lower()))
    return position


def submit_evidence(session: Session, user: User, order: Order, filing_number: str, note: str = "",
                    document: tuple[str, BinaryIO] | None = None) -> CrossBoundaryPosition:
    """The buyer gives the filing number of the mechanism (the standard contract's filing, the certificate's or the
    assessment's number), a note and optionally the document itself (a file name and stream: ``evidence_files``);
    refused when none is needed, while it is confirmed or awaiting the seller."""
    actor = _actor(user, order, EvidenceAction.SUBMIT)
    position = _position_needing_evidence(session, order)
    filing_number, note = (filing_number or "").strip(), (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not filing_number:
        errors["filing_number"] = [_("Give the filing or certificate number of the mechanism.")]
    elif len(filing_number) > MAX_FILING_NUMBER:
        errors["filing_number"] = [_("At most %(count)s characters.", count=MAX_FILING_NUMBER)]
    if len(note) > MAX_EVIDENCE_NOTE:
        errors["note"] = [_("At most %(count)s characters.", count=MAX_EVIDENCE_NOTE)]
    if errors:
        raise ValidationFailed(_("The evidence is incomplete."), errors)
    checked = checked_document(*document) if document is not None else None
    EVIDENCE_LIFECYCLE.apply(session, position, EvidenceAction.SUBMIT, actor, user=user,
                             payload={"filing_number": filing_number},
                             check=lambda _state: refuse_if_evidence_overdue(order))
    if checked is not None:
        store_document(position, document[0], *checked)
    position.filing_number, position.evidence_note = filing_number, note
    position.evidence_submitted_at, position.evidence_reason = utcnow(), ""
    notify_organization(
        session, order.seller_organization,
        _l("Evidence for order %(number)s", number=order.number),
        _l("%(buyer)s gave filing number %(filing)s for the %(mechanism)s this trade needs. Confirm or reject it.",
           buyer=order.buyer_organization.name, filing=filing_number,
           mechanism=LazyString(lambda: position.outcome.label.lower())),
        link=f"/orders/{order.id}")
    return position


def decide_evidence(session: Session, user: User, order: Order, decision: str, reason: str = ""
                    ) -> CrossBoundaryPosition:
    """The seller or a reviewer confirms the evidence (a free trade is then fulfilled; a paid one may be paid) or
    rejects it with a reason the buyer reads; refused unless evidence awaits a decision."""
    action = {"confirm": EvidenceAction.CONFIRM, "reject": EvidenceAction.REJECT}.get(decision)
    actor = _actor(user, order, action or EvidenceAction.CONFIRM)  # who may not decide is told so first
    if action is None:
        raise ValidationFailed(_("Unknown decision."), {"decision": [_("Choose confirm or reject.")]})
    position = _position_needing_evidence(session, order)
    reason = (reason or "").strip()
    if action is EvidenceAction.REJECT and not reason:
        raise ValidationFailed(_("A reason is required."), {"reason": [_("A reason is required.")]})
    if len(reason) > MAX_EVIDENCE_NOTE:
        too_long = _("At most %(count)s characters.", count=MAX_EVIDENCE_NOTE)
        raise ValidationFailed(too_long, {"reason": [too_long]})
    EVIDENCE_LIFECYCLE.apply(session, position, action, actor, user=user, payload={"reason": reason},
                             check=lambda _state: refuse_if_evidence_overdue(order))
    position.evidence_decided_at, position.evidence_decided_by_id = utcnow(), user.id
    position.evidence_reason = reason
    if action is EvidenceAction.REJECT:
        notify_buyer(session, order, _l("Evidence for order %(number)s rejected", number=order.number),
                     _l("The evidence of the cross-boundary mechanism was rejected: %(reason)s", reason=reason))
        return position
    _continue(session, order)
    notify_buyer(session, order, _l("Evidence for order %(number)s confirmed", number=order.number),
                 _l("The evidence of the cross-boundary mechanism was confirmed. Your order can go on."))
    return position


def _continue(session: Session, order: Order) -> None:
    """After confirmation: a free trade that waited only for the evidence is fulfilled (refused, Conflict, while the
    product's registration has expired); one waiting for payment gets its payment deadline from now, one waiting
    for the seller its approval deadline."""
    if order.status == OrderStatus.AWAITING_PAYMENT:
        order.deadline = payment_deadline()
    elif order.status == OrderStatus.AWAITING_APPROVAL:
        order.deadline = approval_deadline(order)
    elif order.is_free and order.status in (OrderStatus.REQUESTED, OrderStatus.APPROVED):
        refuse_if_expired(session, order.product_id)
        fulfil(session, order)
