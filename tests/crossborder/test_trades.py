"""Trades meet their cross-boundary position when the licence is requested: stored on the order with its rule and
clause, counted across the seller's trades this year (not last year's, not cancelled ones), refused when the rules
refuse, and held until the buyer's evidence of a needed mechanism is confirmed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.crossborder.models import CrossBoundaryPosition
from marketplace.crossborder.rules import Outcome
from marketplace.crossborder.states import EvidenceStatus
from marketplace.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments.simulated import SimulatedPayments
from tests import factories
from tests.crossborder.conftest import SCENARIO, make_buyer, with_profile


def _request(session, buyer, plan, **scenario):
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=buyer.memberships[0].organization_id,
        scenario={**SCENARIO, **scenario}, accept_terms=True, idempotency_key=""))
    session.commit()
    return order


def test_a_small_transfer_needs_no_mechanism_and_is_licensed_at_once(session, plans):
    order = _request(session, make_buyer(session), plans["Open research"])
    position = orders.position_of(session, order)
    assert (position.outcome, position.rule_key, position.clause) == (Outcome.NONE, "exempt_under_100k", "Art. 5(4)")
    assert (position.individuals, position.non_sensitive_total) == (60_000, 60_000)
    assert order.status == OrderStatus.FULFILLED and order.licence is not None


def test_the_same_products_individuals_sold_again_are_counted_once(session, plans):
    first = _request(session, make_buyer(session), plans["Open research"])
    second = _request(session, make_buyer(session), plans["Open research"])
    position = orders.position_of(session, second)
    assert (position.outcome, position.non_sensitive_total) == (Outcome.NONE, 60_000)
    assert first.status == second.status == OrderStatus.FULFILLED


def test_a_second_product_this_year_crosses_100000_and_waits_for_evidence(session, plans, other_plans):
    first = _request(session, make_buyer(session), plans["Open research"])
    second = _request(session, make_buyer(session), other_plans["Open research"])
    position = orders.position_of(session, second)
    assert (position.outcome, position.rule_key, position.non_sensitive_total) == (
        Outcome.CONTRACT_OR_CERTIFICATION, "contract_100k", 120_000)
    assert position.evidence_status == EvidenceStatus.NEEDED
    assert second.status == OrderStatus.REQUESTED and second.licence is None  # free, yet held for the evidence
    assert first.status == OrderStatus.FULFILLED


def test_a_product_counts_at_its_largest_trade_not_their_sum(session, plans, other_plans, shanghai_product):
    _request(session, make_buyer(session), plans["Open research"])
    with_profile(shanghai_product, individuals=90_000)
    session.commit()
    assert orders.position_of(session, _request(session, make_buyer(session), plans["Open research"])
                              ).non_sensitive_total == 90_000
    with_profile(shanghai_product, individuals=30_000)
    session.commit()
    assert orders.position_of(session, _request(session, make_buyer(session), plans["Open research"])
                              ).non_sensitive_total == 90_000
    later = orders.position_of(session, _request(session, make_buyer(session), other_plans["Open research"]))
    assert (later.outcome, later.non_sensitive_total) == (Outcome.CONTRACT_OR_CERTIFICATION, 150_000)


def test_last_years_trades_do_not_count(session, plans):
    first = _request(session, make_buyer(session), plans["Open research"])
    earlier = orders.position_of(session, first)
    earlier.decided_at = earlier.decided_at.replace(year=earlier.decided_at.year - 1)
    session.commit()
    second = _request(session, make_buyer(session), plans["Open research"])
    assert orders.position_of(session, second).outcome == Outcome.NONE


def test_a_cancelled_trade_leaves_the_count(session, plans, other_plans):
    waiting = _request(session, make_buyer(session), plans["Paid research"])
    assert waiting.status == OrderStatus.AWAITING_PAYMENT  # on its way: it counts
    assert orders.position_of(session, _request(session, make_buyer(session), other_plans["Paid research"])
                              ).non_sensitive_total == 120_000
    orders.cancel_order(session, waiting.buyer, waiting)
    session.commit()
    order = _request(session, make_buyer(session), other_plans["Open research"])
    assert orders.position_of(session, order).non_sensitive_total == 60_000


def test_a_mainland_buyer_using_the_data_in_the_mainland_provides_nothing_abroad(session, plans, shanghai_product):
    with_profile(shanghai_product, individuals=5_000_000)
    session.commit()
    order = _request(session, make_buyer(session, "beijing"), plans["Open research"], territory="mainland_china")
    position = orders.position_of(session, order)
    assert (position.rule_key, position.individuals) == ("domestic", 0)
    assert order.status == OrderStatus.FULFILLED


def test_core_data_is_never_placed(session, plans, shanghai_product):
    with_profile(shanghai_product, pi="none", classification="core")
    session.commit()
    buyer = make_buyer(session)
    with pytest.raises(Forbidden) as refused:
        _request(session, buyer, plans["Open research"])
    session.rollback()
    assert "Core data" in refused.value.message
    assert session.scalar(select(func.count(Order.id))) == 0


def test_payment_is_refused_with_the_reason_until_the_evidence_is_confirmed(session, plans, shanghai_product,
                                                                            seller):
    with_profile(shanghai_product, pi="sensitive", individuals=500)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Paid research"])
    # no payment clock runs yet: the order waits for its evidence until the evidence deadline
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.deadline == orders.position_of(session, order).evidence_due
    payments = SimulatedPayments()
    with pytest.raises(Conflict) as refused:
        orders.start_checkout(session, buyer, order, payments, success_url="/", cancel_url="/")
    assert "standard contract or certification" in refused.value.message
    session.rollback()

    orders.submit_evidence(session, buyer, order, " SC-2026-0042 ", "Filed with the Shanghai cyberspace office.")
    session.commit()
    with pytest.raises(Conflict):  # submitted is not confirmed
        orders.start_checkout(session, buyer, order, payments, success_url="/", cancel_url="/")
    session.rollback()
    orders.decide_evidence(session, seller, order, "confirm")
    session.commit()
    position = orders.position_of(session, order)
    assert (position.evidence_status, position.filing_number) == (EvidenceStatus.CONFIRMED, "SC-2026-0042")
    assert order.deadline is not None
    orders.start_checkout(session, buyer, order, payments, success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    session.commit()
    assert order.status == OrderStatus.FULFILLED
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "cross_boundary",
                                                              AuditEvent.subject_id == position.id)).all()
    assert actions == ["cross_boundary.submit", "cross_boundary.confirm"]


def test_a_free_trade_waiting_for_evidence_is_licensed_when_it_is_confirmed(session, plans, shanghai_product,
                                                                           seller):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Open research"])
    orders.submit_evidence(session, buyer, order, "SC-1")
    orders.decide_evidence(session, seller, order, "reject", "The number is not a filing number.")
    session.commit()
    assert orders.position_of(session, order).evidence_status == EvidenceStatus.REJECTED
    assert order.status == OrderStatus.REQUESTED
    orders.submit_evidence(session, buyer, order, "SH-CBDT-2026-118")
    session.commit()
    orders.decide_evidence(session, seller, order, "confirm")
    session.commit()
    assert order.status == OrderStatus.FULFILLED and order.licence is not None


def test_a_reviewer_may_confirm_evidence(session, plans, shanghai_product, reviewer):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Open research"])
    orders.submit_evidence(session, buyer, order, "SC-9")
    orders.decide_evidence(session, reviewer, order, "confirm")
    session.commit()
    assert order.status == OrderStatus.FULFILLED


def test_who_may_give_and_decide_evidence(session, plans, shanghai_product, seller):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    stranger = factories.user(session, organization="Someone Else")
    order = _request(session, buyer, plans["Open research"])
    with pytest.raises(Forbidden):
        orders.submit_evidence(session, seller, order, "SC-1")
    orders.submit_evidence(session, buyer, order, "SC-1")
    with pytest.raises(Forbidden):
        orders.decide_evidence(session, buyer, order, "confirm")
    with pytest.raises(Forbidden):
        orders.decide_evidence(session, stranger, order, "confirm")
    with pytest.raises(InvalidTransition):  # it awaits the seller
        orders.submit_evidence(session, buyer, order, "SC-2")


@pytest.mark.parametrize(("filing", "note", "field"), [("", "", "filing_number"), ("   ", "", "filing_number"),
                                                      ("x" * 101, "", "filing_number"), ("SC-1", "n" * 2001, "note")])
def test_bad_evidence_is_refused_by_field(session, plans, shanghai_product, filing, note, field):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Open research"])
    with pytest.raises(ValidationFailed) as refused:
        orders.submit_evidence(session, buyer, order, filing, note)
    assert field in refused.value.errors


def test_rejecting_needs_a_reason_and_a_trade_without_mechanism_has_no_evidence(session, plans, shanghai_product,
                                                                               seller):
    buyer = make_buyer(session)
    free = _request(session, buyer, plans["Open research"])
    with pytest.raises(ValidationFailed):
        orders.submit_evidence(session, buyer, free, "SC-1")
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    order = _request(session, make_buyer(session), plans["Open research"])
    orders.submit_evidence(session, order.buyer, order, "SC-1")
    with pytest.raises(ValidationFailed) as refused:
        orders.decide_evidence(session, seller, order, "reject", "  ")
    assert "reason" in refused.value.errors


def test_the_preview_tells_the_outcome_before_the_request(session, plans, shanghai_product):
    with_profile(shanghai_product, individuals=1_000_000)
    session.commit()
    buyer = make_buyer(session)
    organization = buyer.memberships[0].organization
    position = orders.preview_for_request(session, buyer, plans["Open research"].id, organization, "hong_kong")
    assert (position.outcome, position.rule.clause) == (Outcome.SECURITY_ASSESSMENT, "Art. 7(2)")
    assert orders.preview_for_request(session, buyer, plans["Open research"].id, organization,
                                      "mainland_china").outcome == Outcome.SECURITY_ASSESSMENT  # provided to HK
    organization.location = "beijing"
    assert orders.preview_for_request(session, buyer, plans["Open research"].id, organization,
                                      "mainland_china").outcome == Outcome.NONE
    with pytest.raises(ValidationFailed):
        orders.preview_for_request(session, buyer, plans["Open research"].id, organization, "mars")
    assert session.scalar(select(func.count(CrossBoundaryPosition.id))) == 0


def test_a_payment_deadline_starts_only_when_the_evidence_is_confirmed(app, session, plans, shanghai_product,
                                                                      seller):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Paid research"])
    orders.submit_evidence(session, buyer, order, "SC-3")
    orders.decide_evidence(session, seller, order, "confirm")
    session.commit()
    hours = app.config["ORDER_PAYMENT_HOURS"]
    assert timedelta(hours=hours - 1) < order.deadline - orders.position_of(session, order).evidence_decided_at \
        <= timedelta(hours=hours, seconds=5)


def test_a_cancelled_trade_takes_no_more_evidence(session, plans, shanghai_product):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Open research"])
    orders.cancel_order(session, buyer, order)
    session.commit()
    with pytest.raises(InvalidTransition):
        orders.submit_evidence(session, buyer, order, "SC-1")
