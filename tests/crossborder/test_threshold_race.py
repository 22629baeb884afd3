"""Trades of one seller placed at once, raced through the real HTTP stack (``gunicorn wsgi:app`` with several
workers on a database of the module's own: a SQLite file, or with TEST_DB=postgresql a PostgreSQL database).
RACERS Hong Kong buyers license as many Shanghai products, each with the personal information of 30,000 other people,
at the same moment: the seller's count is read under its lock, so exactly three trades fit under the 100,000
exemption and every later one needs a standard contract, each decided on a different running total. And RACERS
buyers licensing one product of 99,999 people at once all stay under it: the same people counted once."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from marketplace.accounts.models import PlatformRole
from marketplace.crossborder.models import CrossBoundaryPosition
from tests import factories
from tests.crossborder.conftest import SCENARIO
from tests.support.databases import own_database
from tests.support.races import in_app, racing_market, racing_server
from tests.test_decision_races import RACERS, _api_race

pytestmark = pytest.mark.no_transaction

EACH = 30_000
PLANS = 4
NEAR = 99_999


@pytest.fixture(scope="module")
def threshold_database(database_url, tmp_path_factory):
    with own_database(database_url, tmp_path_factory.mktemp("threshold-races"), "threshold") as url:
        yield url


def _seller(session, email: str, name: str):
    seller = factories.user(session, email=email, organization=name)
    seller.memberships[0].organization.location = "shanghai"
    return seller


def _product(session, app, seller, reviewer, title: str, individuals: int, *, plans: int):
    product = factories.listed_product(session, app.extensions["storage"], seller, reviewer, title=title, plans=[
        {"name": f"Free {n}", "kind": "free", "amount": 0, "duration_days": None, "territory": "worldwide"}
        for n in range(plans)])
    version = product.listed_version
    version.personal_info, version.individuals, version.collected_in = "personal", individuals, "shanghai"
    return product


def _free_plans(product) -> list[int]:
    return [p.id for p in product.listed_version.plans if p.name.startswith("Free ")]


@pytest.fixture(scope="module")
def market(threshold_database, tmp_path_factory):
    def build(app, session) -> dict:
        seller = _seller(session, "sh-seller@example.org", "Pudong Mobility")
        reviewer = factories.user(session, email="sh-reviewer@example.org", role=PlatformRole.REVIEWER)
        # One product per buyer: different people each, so the seller's count adds them up.
        products = [_product(session, app, seller, reviewer, f"Commuter panel {n}", EACH, plans=1)
                    for n in range(RACERS)]
        # Another seller's one product near the threshold, with several plans, so that the plans' own locks do not
        # already line the requests up: only the seller's does.
        near = _product(session, app, _seller(session, "gz-seller@example.org", "Tianhe Transit"), reviewer,
                        "Metro riders", NEAR, plans=PLANS)
        buyers = []
        for n in range(RACERS):
            user = factories.user(session, email=f"hk{n}-{uuid.uuid4().hex[:6]}@example.org",
                                  organization=f"Victoria Insights {n} {uuid.uuid4().hex[:6]}")
            organization = user.memberships[0].organization
            organization.location = "hong_kong"
            buyers.append((factories.api_token(session, user), organization.slug))
        return {"plans": [_free_plans(p)[0] for p in products], "near_plans": _free_plans(near), "buyers": buyers}

    with racing_market(threshold_database, tmp_path_factory.mktemp("threshold-market"), build) as values:
        yield values


@pytest.fixture(scope="module")
def server(market, threshold_database):
    with racing_server(market["folder"], threshold_database) as base:
        yield base


def test_simultaneous_trades_cannot_all_slip_under_the_exemption(market, server):
    answers = _api_race(server, [
        (token, "/orders", {"plan_id": market["plans"][n], "organization": slug, "scenario": SCENARIO,
                            "accept_terms": True})
        for n, (token, slug) in enumerate(market["buyers"])])
    assert [status for status, _ in answers] == [201] * RACERS, answers
    outcomes = sorted(body["cross_boundary"]["outcome"] for _, body in answers)
    assert outcomes == ["contract_or_certification"] * (RACERS - 3) + ["none"] * 3
    assert sorted(body["status"] for _, body in answers) == ["fulfilled"] * 3 + ["requested"] * (RACERS - 3)
    totals = in_app(market["app"], lambda s: sorted(s.scalars(
        select(CrossBoundaryPosition.non_sensitive_total).where(CrossBoundaryPosition.order_id.in_(
            [body["id"] for _, body in answers])))))
    assert totals == [EACH * n for n in range(1, RACERS + 1)]


def test_simultaneous_trades_of_one_product_count_its_people_once(market, server):
    answers = _api_race(server, [
        (token, "/orders", {"plan_id": market["near_plans"][n % PLANS], "organization": slug, "scenario": SCENARIO,
                            "accept_terms": True})
        for n, (token, slug) in enumerate(market["buyers"])])
    assert [status for status, _ in answers] == [201] * RACERS, answers
    assert [body["cross_boundary"]["outcome"] for _, body in answers] == ["none"] * RACERS
    assert [body["status"] for _, body in answers] == ["fulfilled"] * RACERS
    totals = in_app(market["app"], lambda s: set(s.scalars(
        select(CrossBoundaryPosition.non_sensitive_total).where(CrossBoundaryPosition.order_id.in_(
            [body["id"] for _, body in answers])))))
    assert totals == {NEAR}
