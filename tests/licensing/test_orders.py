"""Order services: the scenario check, routing, the seller's decision, payment, expiry, caps, refunds, renewals."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.licensing import services as licences
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments import PaymentError, SimulatedPayments
from tests import factories
from tests.licensing.conftest import SCENARIO

GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000000000000002"


def request(session, user, org, plan, scenario=None, accept=True, key=""):
    return orders.request_licence(session, user, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario={**SCENARIO, **(scenario or {})}, accept_terms=accept,
        idempotency_key=key))


def pay(session, user, order, card=GOOD_CARD):
    orders.start_checkout(session, user, order, SimulatedPayments(), success_url="/ok", cancel_url="/cancel")
    return orders.pay_with_test_card(session, user, order, card)


def events(session, order):
    return [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "order", AuditEvent.subject_id == order.id)
        .order_by(AuditEvent.id))]


# ---------------------------------------------------------------- the scenario


@pytest.mark.parametrize(("scenario", "field", "words"), [
    ({"purpose": "commercial_product"}, "purpose", "non-commercial"),
    ({"purpose": "ai_training"}, "purpose", "AI / model training"),
    ({"territory": "worldwide"}, "territory", "Hong Kong only"),
    ({"territory": "mainland_china"}, "territory", "not Mainland China"),
])
def test_a_scenario_the_terms_do_not_allow_is_refused_with_the_reason(session, buyer, buyer_org, plans, scenario,
                                                                      field, words):
    with pytest.raises(ValidationFailed) as err:
        request(session, buyer, buyer_org, plans["Exclusive"], scenario)
    assert words in err.value.errors[field][0]
    assert session.scalar(select(Order.id)) is None


@pytest.mark.parametrize(("scenario", "field"), [
    ({"purpose": "spying"}, "purpose"), ({"sector": ""}, "sector"), ({"territory": "mars"}, "territory"),
    ({"expected_users": "many"}, "expected_users"), ({"expected_users": 0}, "expected_users"),
    ({"expected_users": True}, "expected_users"), ({"description": "short"}, "description"),
    ({"description": "x" * 2001}, "description"),
])
def test_an_incomplete_scenario_names_the_field(session, buyer, buyer_org, plans, scenario, field):
    with pytest.raises(ValidationFailed) as err:
        request(session, buyer, buyer_org, plans["Exclusive"], scenario)
    assert field in err.value.errors


def test_the_terms_must_be_accepted_even_for_a_free_plan(session, buyer, buyer_org, plans):
    with pytest.raises(ValidationFailed) as err:
        request(session, buyer, buyer_org, plans["Open research"], accept=False)
    assert "accept_terms" in err.value.errors


def test_a_worldwide_plan_allows_use_anywhere(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Monthly"], {"territory": "mainland_china",
                                                                   "purpose": "commercial_product"})
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_no_one_licenses_their_own_product_or_for_an_organization_they_are_not_in(
        session, buyer, buyer_org, seller, seller_org, plans):
    with pytest.raises(Forbidden):
        request(session, seller, seller_org, plans["Exclusive"])
    with pytest.raises(Forbidden):
        request(session, seller, buyer_org, plans["Exclusive"])


def test_only_plans_of_the_listed_version_of_a_listed_product_are_offered(session, buyer, buyer_org, offer, reviewer):
    from marketplace.review.services import suspend_product

    product, plans = offer
    suspend_product(session, reviewer, product, "Personal data found.")
    with pytest.raises(NotFound):
        request(session, buyer, buyer_org, plans["Exclusive"])


# ---------------------------------------------------------------- routing and payment


def test_a_free_plan_skips_payment_and_issues_a_signed_licence(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Open research"])
    assert order.status == OrderStatus.FULFILLED
    licence = order.licence
    assert licence.status == LicenceStatus.ACTIVE and licence.valid_until is None  # perpetual
    assert licence.scenario == {**SCENARIO}
    assert licence.terms["permitted_uses"] == ["research", "internal_analysis"]
    assert licence.signature and licence.statement["serial"] == licence.serial
    assert events(session, order) == ["order.request", "order.fulfil"]


def test_a_paid_plan_waits_for_payment_and_a_good_card_fulfils_it(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.amount == 500000
    assert order.deadline is not None
    pay(session, buyer, order)
    assert order.status == OrderStatus.FULFILLED and order.paid_at is not None
    assert order.licence.valid_until - order.licence.valid_from == timedelta(days=365)
    assert events(session, order) == ["order.request", "order.await_payment", "order.checkout", "order.pay",
                                      "order.fulfil"]


def test_a_declined_card_keeps_the_order_waiting_with_the_reason(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(PaymentError) as err:
        pay(session, buyer, order, DECLINED_CARD)
    assert err.value.message == "Your card was declined."
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_error == "Your card was declined."
    orders.pay_with_test_card(session, buyer, order, GOOD_CARD)
    assert order.status == OrderStatus.FULFILLED


def test_only_the_buyer_pays(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(Forbidden):
        orders.start_checkout(session, seller, order, SimulatedPayments(), success_url="/", cancel_url="/")


def test_repeating_a_request_with_its_key_returns_the_first_order(session, buyer, buyer_org, plans):
    first = request(session, buyer, buyer_org, plans["Exclusive"], key="abc-1")
    assert request(session, buyer, buyer_org, plans["Exclusive"], key="abc-1") is first
    with pytest.raises(Conflict):
        request(session, buyer, buyer_org, plans["By approval"], key="abc-1")


def test_one_open_order_per_plan(session, buyer, buyer_org, plans):
    request(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(Conflict) as err:
        request(session, buyer, buyer_org, plans["Exclusive"])
    assert "already has an open order" in err.value.message


# ---------------------------------------------------------------- the seller decides


def test_a_plan_needing_approval_goes_to_the_seller_who_approves(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["By approval"])
    assert order.status == OrderStatus.AWAITING_APPROVAL
    assert [o.id for o in orders.seller_requests(session, seller, order.seller_organization)] == [order.id]
    orders.approve_order(session, seller, order, "Welcome.")
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.decision_message == "Welcome."
    assert events(session, order)[:4] == ["order.request", "order.await_approval", "order.approve",
                                          "order.await_payment"]


def test_an_approved_free_request_is_fulfilled_at_once(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["Free by approval"])
    orders.approve_order(session, seller, order)
    assert order.status == OrderStatus.FULFILLED and order.licence is not None


def test_declining_needs_a_message_and_closes_the_request(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["By approval"])
    with pytest.raises(ValidationFailed):
        orders.decline_order(session, seller, order, "  ")
    orders.decline_order(session, seller, order, "We do not license to competitors.")
    assert order.status == OrderStatus.DECLINED
    with pytest.raises(InvalidTransition):
        orders.approve_order(session, seller, order)


def test_the_buyer_cannot_decide_and_a_stranger_cannot_see(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["By approval"])
    with pytest.raises(Forbidden):
        orders.approve_order(session, buyer, order)
    stranger = factories.user(session, organization="Elsewhere Ltd")
    with pytest.raises(Forbidden):
        orders.decline_order(session, stranger, order, "no")
    with pytest.raises(NotFound):
        orders.order_for(session, stranger, order.id)


@pytest.mark.parametrize("purpose", ["other", "public_service"])
@pytest.mark.parametrize("plan", ["Exclusive", "Open research", "By approval"])
def test_a_purpose_the_terms_do_not_list_is_refused_whatever_the_plan(session, buyer, buyer_org, plans, purpose,
                                                                       plan):
    with pytest.raises(ValidationFailed) as err:
        request(session, buyer, buyer_org, plans[plan], {"purpose": purpose})
    assert "is not a use a plan's terms can permit" in err.value.errors["purpose"][0]
    assert "It permits: " in err.value.errors["purpose"][0]
    assert session.scalar(select(Order.id)) is None


# ---------------------------------------------------------------- cancel and expire


def test_the_buyer_cancels_before_paying_but_not_after(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    with pytest.raises(Forbidden):
        orders.cancel_order(session, seller, order)
    orders.cancel_order(session, buyer, order)
    assert order.status == OrderStatus.CANCELLED
    paid = request(session, buyer, buyer_org, plans["Exclusive"])
    pay(session, buyer, paid)
    with pytest.raises(InvalidTransition):
        orders.cancel_order(session, buyer, paid)


def test_unanswered_requests_and_unpaid_orders_expire(session, app, buyer, buyer_org, plans):
    waiting = request(session, buyer, buyer_org, plans["By approval"])
    unpaid = request(session, buyer, buyer_org, plans["Exclusive"])
    now = utcnow()
    assert orders.expire_orders(session, now + timedelta(hours=23)) == []
    assert orders.expire_orders(session, now + timedelta(hours=25)) == [unpaid]
    assert waiting.status == OrderStatus.AWAITING_APPROVAL
    days = app.config["ORDER_APPROVAL_DAYS"]
    assert days == 45
    assert orders.expire_orders(session, now + timedelta(days=days, minutes=1)) == [waiting]
    assert (waiting.status, unpaid.status) == (OrderStatus.EXPIRED, OrderStatus.EXPIRED)


# ---------------------------------------------------------------- the cap


def test_a_capped_plan_sells_no_more_than_its_cap(session, buyer, buyer_org, plans):
    cap = plans["Exclusive"].licence_cap
    buyers = [factories.user(session, organization=f"Buyer {n}") for n in range(cap + 1)]
    placed = [request(session, b, b.memberships[0].organization, plans["Exclusive"]) for b in buyers[:cap]]
    with pytest.raises(Conflict) as err:
        request(session, buyers[cap], buyers[cap].memberships[0].organization, plans["Exclusive"])
    assert "sold out" in err.value.errors["plan_id"][0]
    orders.cancel_order(session, buyers[0], placed[0])  # a cancelled order frees its licence
    request(session, buyers[cap], buyers[cap].memberships[0].organization, plans["Exclusive"])
    assert orders.licences_held(session, plans["Exclusive"].id) == cap


def test_approval_of_a_capped_plan_respects_the_cap(session, seller, plans, offer):
    from marketplace.listings import services as listings

    product, _ = offer
    version = product.listed_version
    capped = [p for p in version.plans if p.name == "By approval"][0]
    capped.licence_cap = 1
    session.flush()
    buyers = [factories.user(session, organization=f"Approval buyer {n}") for n in range(2)]
    first, second = (request(session, b, b.memberships[0].organization, capped) for b in buyers)
    orders.approve_order(session, seller, first)
    with pytest.raises(Conflict):
        orders.approve_order(session, seller, second)
    assert second.status == OrderStatus.AWAITING_APPROVAL
    assert listings  # the plan was edited directly: approval reads the cap from the row


# ---------------------------------------------------------------- refunds, expiry, renewal


def test_a_refund_revokes_the_licence(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    pay(session, buyer, order)
    with pytest.raises(Forbidden):
        orders.refund_order(session, buyer, order, "I want my money", SimulatedPayments())
    with pytest.raises(ValidationFailed):
        orders.refund_order(session, seller, order, "", SimulatedPayments())
    orders.refund_order(session, seller, order, "Delivered the wrong region.", SimulatedPayments())
    assert order.status == OrderStatus.REFUNDED and order.refund_reference.startswith("sim_re_")
    assert order.licence.status == LicenceStatus.REVOKED
    assert orders.revenue_by_currency(session, order.seller_organization_id) == {}


def test_a_platform_admin_may_refund(session, buyer, buyer_org, plans):
    from marketplace.accounts.models import PlatformRole

    admin = factories.user(session, role=PlatformRole.ADMIN)
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    pay(session, buyer, order)
    orders.refund_order(session, admin, order, "Chargeback.", SimulatedPayments())
    assert order.status == OrderStatus.REFUNDED


def test_revenue_counts_paid_orders_by_currency(session, buyer, buyer_org, plans):
    for name in ("Exclusive", "Monthly"):
        order = request(session, buyer, buyer_org, plans[name], {"purpose": "research"})
        pay(session, buyer, order)
    currency = plans["Exclusive"].currency.value
    assert orders.revenue_by_currency(session, plans["Exclusive"].version.product.organization_id) == {
        currency: 500000 + 68000}


def test_a_subscription_lapses_after_its_period_and_renews_from_its_end(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Monthly"])
    pay(session, buyer, order)
    licence = order.licence
    assert 28 <= (licence.valid_until - licence.valid_from).days <= 31
    renewal = orders.renew_licence(session, buyer, licence, accept_terms=True)
    assert renewal.renews_order_id == order.id and renewal.status == OrderStatus.AWAITING_PAYMENT
    pay(session, buyer, renewal)
    assert renewal.licence.valid_from == licence.valid_until
    assert licences.expire_licences(session, licence.valid_until - timedelta(seconds=1)) == []
    assert licences.expire_licences(session, licence.valid_until) == [licence]
    assert licence.status == LicenceStatus.EXPIRED and renewal.licence.status == LicenceStatus.ACTIVE


def test_only_subscriptions_renew(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Open research"])
    with pytest.raises(Conflict):
        orders.renew_licence(session, buyer, order.licence, accept_terms=True)


def test_licences_are_listed_for_every_member_of_the_buyer_organization(session, buyer, buyer_org, plans):
    colleague = factories.user(session)
    from marketplace.accounts.models import Membership

    session.add(Membership(user_id=colleague.id, organization_id=buyer_org.id))
    session.flush()
    order = request(session, buyer, buyer_org, plans["Open research"])
    assert [lic.id for lic in licences.buyer_licences(session, colleague)] == [order.licence.id]
    assert licences.licence_for(session, colleague, order.licence.id) is order.licence
    assert session.scalar(select(Licence.serial)) == order.licence.serial


def test_the_expire_command_expires_what_waited_too_long(app, session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Exclusive"])
    order.deadline = utcnow() - timedelta(minutes=1)
    session.commit()
    result = app.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert f"{order.number} expired" in result.output and "1 order(s) expired." in result.output
    session.refresh(order)
    assert order.status == OrderStatus.EXPIRED


def test_the_licence_expire_command_expires_lapsed_licences(app, session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Monthly"])
    pay(session, buyer, order)
    order.licence.valid_until = utcnow() - timedelta(seconds=1)
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["licences", "expire"])
    assert result.exit_code == 0, result.output
    assert f"{order.licence.serial} expired" in result.output
    session.refresh(order.licence)
    assert order.licence.status == LicenceStatus.EXPIRED
    assert "verify" in runner.invoke(args=["licences", "--help"]).output  # the certificate commands share the group


def test_a_free_licence_has_nothing_to_refund(session, buyer, buyer_org, seller, plans):
    order = request(session, buyer, buyer_org, plans["Open research"])
    assert not orders.refundable(order)
    with pytest.raises(Conflict, match="no money to refund"):
        orders.refund_order(session, seller, order, "Changed our mind.", SimulatedPayments())
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE


def test_an_account_whose_email_is_not_verified_cannot_request_a_licence(session, plans):
    unverified = factories.user(session, organization="Unproven Ltd", verified=False)
    with pytest.raises(Forbidden, match="Verify your e-mail address first") as refused:
        request(session, unverified, unverified.memberships[0].organization, plans["Open research"])
    assert refused.value.errors == {"email": ["Not verified yet."]}
    assert session.scalar(select(Order).where(Order.buyer_id == unverified.id)) is None


def test_a_stranger_cannot_see_or_renew_another_organizations_licence(session, buyer, buyer_org, plans):
    order = request(session, buyer, buyer_org, plans["Open research"])
    stranger = factories.user(session, organization="Elsewhere Ltd")
    with pytest.raises(NotFound):
        licences.licence_for(session, stranger, order.licence.id)
    with pytest.raises(NotFound):
        orders.renew_licence(session, stranger, order.licence, accept_terms=True)
