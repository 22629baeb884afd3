"""Workers profiling one file at the same moment (a retried job while the first still runs, the command beside
the worker), on a database of the module's own (SQLite, or PostgreSQL with TEST_DB=postgresql): each reads the
file, they reach the insert together, one stores the profile and the others answer "kept", none fails on the
unique key."""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.catalog import profile_store
from marketplace.catalog.profile_store import AssetProfile, profile_asset
from marketplace.extensions import db
from marketplace.listings.assets import upload_asset
from marketplace.uow import job_unit_of_work
from tests import factories
from tests.support.databases import own_database
from tests.support.races import in_app

pytestmark = pytest.mark.no_transaction

RACERS = 6
CSV = b"station,latitude,longitude,temp\nA,22.3,114.17,28.5\nB,22.28,114.15,29.1\n"


@pytest.fixture(scope="module")
def race_app(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile-races")
    with own_database(database_url, folder, "profile_races") as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(folder / "storage"),
                         LICENCE_SIGNING_KEY_FILE=str(folder / "licence-signing-key.pem"))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def _asset_without_profile(app) -> int:
    def build(session):
        seller = factories.user(session, organization="Race Stations")
        version = factories.product(session, seller, title="Stations").latest_version
        return upload_asset(session, app.extensions["storage"], seller, version, kind="sample",
                            filename="stations.csv", stream=io.BytesIO(CSV), content_type=None,
                            max_bytes=1_000_000).id

    asset_id = in_app(app, build)  # its profile job runs after the commit (at once in tests)
    in_app(app, lambda s: s.query(AssetProfile).filter_by(asset_id=asset_id).delete())
    return asset_id


def _profiles(app, asset_id: int) -> int:
    return in_app(app, lambda s: s.scalar(select(func.count()).select_from(AssetProfile)
                                          .where(AssetProfile.asset_id == asset_id)))


def test_workers_profiling_one_file_at_once_store_it_once_and_none_fails(race_app, monkeypatch):
    asset_id = _asset_without_profile(race_app)
    together = threading.Barrier(RACERS)
    real = profile_store.compute

    def compute(storage, asset):
        values = real(storage, asset)
        together.wait(timeout=60)  # every worker has read the file and found no profile: now all insert
        return values

    monkeypatch.setattr(profile_store, "compute", compute)

    def worker(_n):
        with race_app.app_context():
            try:
                with job_unit_of_work():
                    return profile_asset(db.session, race_app.extensions["storage"], asset_id)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(worker, range(RACERS)))

    assert sorted(outcomes) == ["done"] + ["kept"] * (RACERS - 1)
    assert _profiles(race_app, asset_id) == 1
