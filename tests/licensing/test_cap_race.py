"""A capped (exclusive) plan never sells more licences than its cap, also when buyers race for the last ones:
threads and separate processes request at the same moment, on SQLite and (TEST_DB=postgresql) PostgreSQL.

Each run gets a database of its own (a fresh SQLite file, or a fresh PostgreSQL database in the test cluster),
since the racers must commit for real.
"""
from __future__ import annotations

import multiprocessing
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import PlatformRole, User
from marketplace.db import write_intent
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.listings.models import PricingPlan
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import HOLDS_LICENCE
from tests import factories
from tests.licensing.conftest import SCENARIO

pytestmark = pytest.mark.no_transaction

CAP = 3
RACERS = 8


@pytest.fixture
def market(own_database_url, tmp_path):
    """A listed product with a plan capped at CAP licences, and RACERS buyers of separate organizations."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"))
    with app.app_context():
        upgrade()
        session, storage = db.session, app.extensions["storage"]
        seller = factories.user(session, email="race-seller@example.org", organization="Race Seller")
        reviewer = factories.user(session, email="race-reviewer@example.org", role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, reviewer, title="Exclusive feed", plans=[
            {"name": "Exclusive", "kind": "one_time", "amount": 990000, "licence_cap": CAP},
            {"name": "Open-ended", "kind": "one_time", "amount": 10000}])
        plan_id = next(p.id for p in product.listed_version.plans if p.name == "Exclusive")
        buyers = [factories.user(session, email=f"racer{n}@example.org", organization=f"Racer {n}")
                  for n in range(RACERS)]
        racers = [(b.id, b.memberships[0].organization_id) for b in buyers]
        session.commit()
        db.session.remove()
        db.engine.dispose()  # no pooled connection crosses a fork
    yield app, plan_id, racers
    with app.app_context():
        db.engine.dispose()


def _buy(app, plan_id: int, user_id: int, org_id: int, key: str = "") -> str:
    """One buyer's request, as a request handler makes it; "ok", "sold out" or the unexpected error."""
    with app.app_context(), write_intent():
        session = db.session
        try:
            user = session.get(User, user_id)
            orders.request_licence(session, user, orders.LicenceRequest(
                plan_id=plan_id, organization_id=org_id, scenario=SCENARIO, accept_terms=True, idempotency_key=key))
            session.commit()
            return "ok"
        except Conflict as exc:
            session.rollback()
            return "sold out" if "sold out" in str(exc.errors) else f"conflict: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - the test reports any other failure by name
            session.rollback()
            return f"{type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def _held(app, plan_id: int) -> int:
    with app.app_context():
        held = db.session.scalar(select(func.count(Order.id)).where(Order.plan_id == plan_id,
                                                                     Order.status.in_(HOLDS_LICENCE)))
        db.session.remove()
        return held


def _assert_cap_held(app, plan_id, results):
    assert sorted(results) == ["ok"] * CAP + ["sold out"] * (RACERS - CAP), results
    assert _held(app, plan_id) == CAP


def test_threads_racing_for_a_capped_plan_get_no_more_than_the_cap(market):
    app, plan_id, racers = market
    barrier = threading.Barrier(RACERS)
    results: list[str] = []
    lock = threading.Lock()

    def racer(user_id, org_id):
        barrier.wait()
        outcome = _buy(app, plan_id, user_id, org_id)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=racer, args=r) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    _assert_cap_held(app, plan_id, results)


def _process_racer(app, plan_id, user_id, org_id, barrier, queue):
    barrier.wait()
    queue.put(_buy(app, plan_id, user_id, org_id))


def test_processes_racing_for_a_capped_plan_get_no_more_than_the_cap(market):
    app, plan_id, racers = market
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(RACERS), ctx.Queue()
    procs = [ctx.Process(target=_process_racer, args=(app, plan_id, *r, barrier, queue)) for r in racers]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    _assert_cap_held(app, plan_id, results)


def test_the_same_request_submitted_at_once_makes_one_order(market):
    """A double submit racing itself (the same idempotency key): every submit answers with the one order."""
    app, _, racers = market
    with app.app_context():
        plan_id = db.session.scalar(select(PricingPlan.id).where(PricingPlan.name == "Open-ended"))
        db.session.remove()
    user_id, org_id = racers[0]
    barrier = threading.Barrier(4)
    results: list[str] = []

    def submit():
        barrier.wait()
        results.append(_buy(app, plan_id, user_id, org_id, key="one-form-submitted-four-times"))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == ["ok"] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id)).where(Order.plan_id == plan_id)) == 1
        db.session.remove()
