"""Payout runs started at the same moment (the daily job and an admin's ``flask payouts run``, or two workers) pay
each seller's available balance once, on SQLite and (TEST_DB=postgresql) PostgreSQL: each run commits for real on
a database of its own test."""
from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.extensions import db
from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import seller_balances, unbalanced_transactions
from marketplace.orders.money import release_due
from marketplace.payouts.models import Payout
from marketplace.payouts.services import run_payouts
from marketplace.uow import unit_of_work
from tests import factories
from tests.ledger.test_ledger_rules import _paid

pytestmark = pytest.mark.no_transaction

RUNS = 6


@pytest.fixture
def market(own_database_url, tmp_path):
    """An app on its own database with two sellers whose sales are available to be paid out."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "s"))
    with app.app_context():
        upgrade()
        session, storage = db.session, app.extensions["storage"]
        reviewer = factories.user(session, email="payout-reviewer@example.org", role=PlatformRole.REVIEWER)
        buyer = factories.user(session, email="payout-buyer@example.org", organization="Payout Buyer")
        sellers = []
        for n in range(2):
            seller = factories.user(session, email=f"payout-seller{n}@example.org", organization=f"Seller {n}")
            product = factories.listed_product(session, storage, seller, reviewer, title=f"Tide feed {n}", plans=[
                {"name": "Standard", "kind": "one_time", "amount": 120000 + n, "currency": "HKD"}])
            plan = next(p for p in product.listed_version.plans if p.name == "Standard")
            sellers.append(_paid(session, buyer, buyer.memberships[0].organization, plan).seller_organization_id)
        release_due(session, 0)
        session.commit()
        db.session.remove()
    yield app, sellers
    with app.app_context():
        db.engine.dispose()


def test_payout_runs_at_the_same_moment_pay_each_balance_once(market):
    app, sellers = market
    barrier = threading.Barrier(RUNS)
    outcomes, errors, lock = [], [], threading.Lock()

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                with unit_of_work() as session:
                    lines = run_payouts(session, app.extensions["payments"], minimum=1, transit_days=2)
                with lock:
                    outcomes.extend(line.outcome.split(" ")[0] for line in lines)
            except Exception as exc:  # noqa: BLE001 - counted: a run may only lose by finding nothing to pay
                with lock:
                    errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and outcomes.count("started") == len(sellers), outcomes
    with app.app_context():
        session = db.session
        counts = dict(session.execute(select(Payout.organization_id, func.count(Payout.id))
                                      .group_by(Payout.organization_id)).all())
        assert counts == dict.fromkeys(sellers, 1)
        for org_id in sellers:
            balances = seller_balances(session, org_id)["HKD"]
            assert balances[AccountKind.SELLER_AVAILABLE] == 0
            assert balances[AccountKind.SELLER_IN_PAYOUT] == session.scalar(
                select(Payout.amount).where(Payout.organization_id == org_id))
        assert unbalanced_transactions(session) == []
        db.session.remove()
