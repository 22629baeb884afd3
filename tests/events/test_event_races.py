"""The job telling licence holders of a move, run by several workers at the same moment (a retried job while the
first still runs), on a database of the module's own (SQLite, or PostgreSQL with TEST_DB=postgresql): the event is
recorded once, each member is told once, none of the runs fails on the unique key."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, func, select

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.db import write_intent
from marketplace.events.models import OrganizationEvent
from marketplace.events.services import tell_product_move
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.review import services as review
from marketplace.uow import job_unit_of_work
from tests import factories
from tests.licensing.conftest import PLANS
from tests.licensing.test_downloads import buy
from tests.support.databases import own_database
from tests.support.races import in_app

pytestmark = pytest.mark.no_transaction

RACERS = 6


@pytest.fixture(scope="module")
def race_app(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("event-races")
    with own_database(database_url, folder, "event_races") as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(folder / "storage"),
                         LICENCE_SIGNING_KEY_FILE=str(folder / "licence-signing-key.pem"))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def _delisted_product_with_a_holder(app) -> tuple[int, int]:
    """A product delisted after a buyer licensed it, its holders' events and notices removed again (the job's
    first run lost): the product's and the buyer organization's ids."""
    def build(session):
        seller = factories.user(session, email="race-seller@example.org", organization="Race Sellers")
        reviewer = factories.user(session, email="race-reviewer@example.org", role=PlatformRole.REVIEWER)
        buyer = factories.user(session, email="race-buyer@example.org", organization="Race Buyers")
        product = factories.listed_product(session, app.extensions["storage"], seller, reviewer,
                                           title="Race speeds", plans=PLANS)
        session.commit()
        plan = next(p for p in product.listed_version.plans if p.name == "Open research")
        org = buyer.memberships[0].organization
        buy(session, buyer, org, plan)
        review.delist_product(session, reviewer, product, "Withdrawn.")
        return product.id, org.id

    product_id, org_id = in_app(app, build)
    in_app(app, lambda s: (s.execute(delete(OrganizationEvent)), s.execute(delete(Notification).where(
        Notification.organization_id == org_id))))
    return product_id, org_id


def test_workers_telling_one_move_at_once_tell_it_once_and_none_fails(race_app):
    product_id, org_id = _delisted_product_with_a_holder(race_app)

    def worker(_n):
        with race_app.app_context():
            try:
                with job_unit_of_work(), write_intent():
                    return tell_product_move(db.session, product_id, "delist", "Withdrawn.")
            finally:
                db.session.remove()

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(worker, range(RACERS)))

    assert sorted(outcomes) == [0] * (RACERS - 1) + [1]
    counts = in_app(race_app, lambda s: tuple(
        s.scalar(select(func.count()).select_from(table).where(table.organization_id == org_id))
        for table in (OrganizationEvent, Notification)))
    assert counts == (1, 1)
