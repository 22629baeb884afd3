"""A trade waiting for its cross-boundary evidence reserves its individuals until its evidence deadline and then
expires; the seller may decline it meanwhile. An order placed before its product's registration expired is neither
paid nor fulfilled while it stays expired, and may be once the registration is renewed."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.crossborder.rules import Outcome
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition
from marketplace.orders import services as orders
from marketplace.orders.states import OrderStatus
from marketplace.payments.simulated import SimulatedPayments
from marketplace.review.notice_models import RegistrationCertificate
from tests.crossborder.conftest import with_profile
from tests.crossborder.test_trades import _request, make_buyer


def _waiting(session, plans, shanghai_product, plan="Open research"):
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    return _request(session, make_buyer(session), plans[plan])


def test_evidence_is_awaited_until_a_deadline_then_the_order_expires(app, session, plans, shanghai_product):
    order = _waiting(session, plans, shanghai_product)
    position = orders.position_of(session, order)
    days = app.config["CROSS_BOUNDARY_EVIDENCE_DAYS"]
    assert position.evidence_due - position.decided_at == timedelta(days=days)
    assert order.deadline == position.evidence_due
    assert "expires if the evidence is not confirmed" in orders.awaiting_evidence(session, order)
    assert orders.expire_orders(session, position.evidence_due - timedelta(minutes=1)) == []
    assert orders.expire_orders(session, position.evidence_due) == [order]
    session.commit()
    assert order.status == OrderStatus.EXPIRED
    with pytest.raises(InvalidTransition):
        orders.submit_evidence(session, order.buyer, order, "SC-1")


def test_a_paid_trade_waiting_for_evidence_expires_too(session, plans, shanghai_product):
    order = _waiting(session, plans, shanghai_product, "Paid research")
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert orders.expire_orders(session, order.created_at + timedelta(days=13)) == []
    assert orders.expire_orders(session, order.created_at + timedelta(days=15)) == [order]


def test_a_trade_awaiting_evidence_reserves_its_individuals_only_until_its_deadline(session, plans, other_plans,
                                                                                     shanghai_product):
    waiting = _waiting(session, plans, shanghai_product)
    assert orders.position_of(session, waiting).outcome == Outcome.CONTRACT_OR_CERTIFICATION
    later = _request(session, make_buyer(session), other_plans["Open research"])
    assert orders.position_of(session, later).non_sensitive_total == 210_000
    orders.position_of(session, waiting).evidence_due = utcnow() - timedelta(seconds=1)
    session.commit()
    last = _request(session, make_buyer(session), other_plans["Paid research"])
    assert orders.position_of(session, last).non_sensitive_total == 60_000


@pytest.mark.parametrize("plan", ["Open research", "Paid research"])
def test_the_seller_may_decline_a_trade_awaiting_evidence(session, plans, shanghai_product, seller, plan):
    order = _waiting(session, plans, shanghai_product, plan)
    assert "decline" in [a.value for a in orders.order_actions(order, ["seller"])]
    orders.decline_order(session, seller, order, "We cannot sign a standard contract for this use.")
    session.commit()
    assert order.status == OrderStatus.DECLINED and order.deadline is None
    assert order.decision_message.startswith("We cannot")


def test_an_order_waiting_for_nothing_of_the_seller_cannot_be_declined(session, plans, seller):
    order = _request(session, make_buyer(session), plans["Paid research"])
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert "decline" not in [a.value for a in orders.order_actions(order, ["seller"])]
    with pytest.raises(InvalidTransition):
        orders.decline_order(session, seller, order, "Changed my mind.")


def _registered(session, product, valid_until):
    version = product.listed_version
    certificate = RegistrationCertificate(
        serial="SDE-TEST-1-1", registration_number="SDE-TEST-1", sequence=1, version=version,
        product_id=product.id, organization_id=product.organization_id, valid_from=utcnow() - timedelta(days=400),
        valid_until=valid_until, statement={}, signature="", key_id="", reminders_sent=[])
    session.add(certificate)
    session.commit()
    return certificate


def test_an_order_placed_before_the_registration_expired_is_not_paid_after_it(session, plans, shanghai_product):
    certificate = _registered(session, shanghai_product, utcnow() + timedelta(days=1))
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Paid research"])
    assert order.status == OrderStatus.AWAITING_PAYMENT
    certificate.valid_until = utcnow() - timedelta(seconds=1)
    session.commit()
    payments = SimulatedPayments()
    with pytest.raises(Conflict) as refused:
        orders.start_checkout(session, buyer, order, payments, success_url="/", cancel_url="/")
    assert "SDE-TEST-1" in refused.value.message and "cancel" in refused.value.message
    session.rollback()
    assert order.status == OrderStatus.AWAITING_PAYMENT  # it waits
    certificate.valid_until = utcnow() + timedelta(days=365)  # renewed
    session.commit()
    orders.start_checkout(session, buyer, order, payments, success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    session.commit()
    assert order.status == OrderStatus.FULFILLED


def test_an_open_simulated_checkout_is_not_paid_after_expiry(session, plans, shanghai_product):
    certificate = _registered(session, shanghai_product, utcnow() + timedelta(days=1))
    buyer = make_buyer(session)
    order = _request(session, buyer, plans["Paid research"])
    orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/", cancel_url="/")
    certificate.valid_until = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Conflict):
        orders.pay_with_test_card(session, buyer, order, "4242424242424242")
    session.rollback()
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.licence is None


def test_a_free_trade_is_not_fulfilled_while_the_registration_is_expired(session, plans, shanghai_product, seller):
    certificate = _registered(session, shanghai_product, utcnow() + timedelta(days=1))
    order = _waiting(session, plans, shanghai_product)
    orders.submit_evidence(session, order.buyer, order, "SC-2026-7")
    session.commit()
    certificate.valid_until = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Conflict):
        orders.decide_evidence(session, seller, order, "confirm")
    session.rollback()
    assert order.status == OrderStatus.REQUESTED and order.licence is None
    certificate.valid_until = utcnow() + timedelta(days=365)
    session.commit()
    orders.decide_evidence(session, seller, order, "confirm")
    session.commit()
    assert order.status == OrderStatus.FULFILLED
