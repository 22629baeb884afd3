"""Orders for a plan the organization holds, raced through the real HTTP stack (``gunicorn wsgi:app`` with several
workers on a database of the module's own: a SQLite file, or with TEST_DB=postgresql a PostgreSQL database).
RACERS requests of one organization for a free plan with no expiry issue one licence; for a plan already held none
is placed; RACERS renewals of one licence open one order. Every refusal is a 409 in the one error shape.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import PlatformRole, User
from marketplace.licensing.models import Licence
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.databases import own_database
from tests.support.races import in_app, racing_market, racing_server
from tests.test_decision_races import ERROR_SHAPE, GOOD_CARD, RACERS, _api_race

pytestmark = pytest.mark.no_transaction


@pytest.fixture(scope="module")
def held_database(database_url, tmp_path_factory):
    with own_database(database_url, tmp_path_factory.mktemp("held-races"), "held") as url:
        yield url


@pytest.fixture(scope="module")
def market(held_database, tmp_path_factory):
    """The app on the module's database and a listed product with a free plan that never ends and a paid plan
    for a year."""
    def build(app, session) -> dict:
        seller = factories.user(session, email="held-seller@example.org", organization="Held Seller")
        reviewer = factories.user(session, email="held-reviewer@example.org", role=PlatformRole.REVIEWER)
        plans = [{"name": "Free forever", "kind": "free", "amount": 0, "duration_days": None},
                 {"name": "Yearly", "kind": "one_time", "amount": 50000, "duration_days": 365}]
        product = factories.listed_product(session, app.extensions["storage"], seller, reviewer, title="Held feed",
                                           plans=plans)
        plans = {p.name: p.id for p in product.listed_version.plans}
        return {"free": plans["Free forever"], "yearly": plans["Yearly"]}

    with racing_market(held_database, tmp_path_factory.mktemp("held-market"), build) as values:
        yield values


@pytest.fixture(scope="module")
def server(market, held_database):
    with racing_server(market["folder"], held_database) as base:
        yield base


def _in_app(market, build):
    """Run ``build(session)`` in the app on the module's database and commit; what it returned."""
    return in_app(market["app"], build)


def _buyer(market) -> dict:
    def build(session):
        user = factories.user(session, email=f"held-{uuid.uuid4().hex[:8]}@example.org",
                              organization=f"Holder {uuid.uuid4().hex[:6]}")
        org = user.memberships[0].organization
        return {"user": user.id, "org": org.id, "slug": org.slug, "token": factories.api_token(session, user)}
    return _in_app(market, build)


def _orders(market, buyer: dict, plan_id: int) -> int:
    return _in_app(market, lambda s: s.scalar(select(func.count(Order.id)).where(
        Order.buyer_organization_id == buyer["org"], Order.plan_id == plan_id)))


def _licences(market, buyer: dict, plan_id: int) -> int:
    return _in_app(market, lambda s: s.scalar(select(func.count(Licence.id)).where(
        Licence.buyer_organization_id == buyer["org"], Licence.plan_id == plan_id)))


def _order_race(server, buyer: dict, plan_id: int):
    body = {"plan_id": plan_id, "organization": buyer["slug"], "scenario": SCENARIO, "accept_terms": True}
    return _api_race(server, [(buyer["token"], "/orders", body)] * RACERS)


def _refusals_are_409s(answers) -> None:
    for status, body in answers:
        if status != 201:
            assert status == 409 and isinstance(body, dict) and set(body) == ERROR_SHAPE, (status, body)


def test_concurrent_orders_for_a_free_plan_with_no_expiry_issue_one_licence(market, server):
    buyer = _buyer(market)
    answers = _order_race(server, buyer, market["free"])
    assert sorted(status for status, _ in answers) == [201] + [409] * (RACERS - 1), answers
    _refusals_are_409s(answers)
    assert _orders(market, buyer, market["free"]) == 1 and _licences(market, buyer, market["free"]) == 1


def test_concurrent_orders_for_a_plan_held_place_none(market, server):
    buyer = _buyer(market)

    def held(session):
        user = session.get(User, buyer["user"])
        order = orders.request_licence(session, user, orders.LicenceRequest(
            plan_id=market["yearly"], organization_id=buyer["org"], scenario=SCENARIO, accept_terms=True,
            idempotency_key=""))
        orders.start_checkout(session, user, order, market["app"].extensions["payments"], success_url="/ok",
                              cancel_url="/cancel")
        orders.pay_with_test_card(session, user, order, GOOD_CARD)
        return order.id
    _in_app(market, held)
    answers = _order_race(server, buyer, market["yearly"])
    assert [status for status, _ in answers] == [409] * RACERS, answers
    _refusals_are_409s(answers)
    assert all("Renew that licence" in body["message"] for _, body in answers)
    assert _orders(market, buyer, market["yearly"]) == 1

