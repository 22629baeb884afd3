"""Outages answered as outages: the real PostgreSQL, S3 (moto) and Redis servers are stopped and started again.

A backend that does not answer is 503 with ``Retry-After`` (the JSON error shape under /api/, CKAN's envelope,
an HTML page elsewhere), ``/readyz`` names it while ``/healthz`` still answers, and the first request after it
is back is served. A file missing from storage is said to be missing and is not counted as a download.

The PostgreSQL tests start a throwaway cluster of their own whatever database the suite runs on, since they
stop it.
"""
from __future__ import annotations

import io
import sqlite3
import threading
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy import exc as sa_exc

from marketplace import create_app
from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.health import add_readiness_check, is_database_outage
from marketplace.listings.models import Asset
from marketplace.notifications.models import Notification
from marketplace.storage import LocalStorage, S3Storage
from tests import factories
from tests.support.moto import DUMMY_ACCESS_KEY_ID, DUMMY_REGION, DUMMY_SECRET_ACCESS_KEY, start_moto_server
from tests.support.ports import free_port


def assert_outage_json(response) -> None:
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:500])
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["status"] == 503 and body["code"] == "service_unavailable" and body["errors"] == {}
    assert body["message"]


def assert_outage_page(response) -> None:
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:500])
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "Temporarily unavailable" in response.get_data(as_text=True)


# ---------------------------------------------------------------- PostgreSQL stopped and started


@pytest.fixture(scope="module")
def postgres():
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster()
    cluster.url = cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def pg_app(postgres, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pg-outage")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres.url, STORAGE_LOCAL_ROOT=str(folder / "storage"),
                     LICENCE_SIGNING_KEY_FILE=str(folder / "key.pem"))
    with app.app_context():
        upgrade()
        factories.user(db.session, email="pg-buyer@example.org", organization="Outage Org")
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def stopped(postgres):
    """Stop the cluster for the test's ``with`` block; it is started again however the block ends."""
    class Stopped:
        def __enter__(self):
            postgres.pause()

        def __exit__(self, *exc):
            postgres.resume()

    return Stopped()


@pytest.mark.no_transaction
def test_a_stopped_database_answers_503_with_retry_after_and_the_next_request_is_served(pg_app, stopped):
    client, signed_in = pg_app.test_client(), pg_app.test_client()
    assert signed_in.post("/login", data={"email": "pg-buyer@example.org",
                                          "password": factories.PASSWORD}).status_code == 302
    assert client.get("/api/v1/catalog").status_code == 200
    assert client.get("/readyz").status_code == 200

    with stopped:
        assert_outage_json(client.get("/api/v1/catalog"))
        assert_outage_page(client.get("/catalog"))
        assert_outage_page(signed_in.get("/licences"))  # the page's layout would read the user: not here
        ckan = client.get("/api/3/action/package_list")
        assert ckan.status_code == 503 and int(ckan.headers["Retry-After"]) > 0
        assert ckan.get_json()["success"] is False
        ready = client.get("/readyz")
        assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0
        assert ready.get_json()["checks"]["database"]["ok"] is False
        assert ready.get_json()["checks"]["storage"]["ok"] is True
        assert client.get("/healthz").status_code == 200  # the process itself is alive

    assert client.get("/api/v1/catalog").status_code == 200
    assert signed_in.get("/licences").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


@pytest.mark.no_transaction
def test_the_first_request_after_a_database_restart_gets_a_live_connection(pg_app, postgres):
    client = pg_app.test_client()
    for _ in range(3):  # connections in the pool, idle
        assert client.get("/api/v1/catalog").status_code == 200
    postgres.pause()
    postgres.resume()  # nothing asked in between: the pool still holds connections to the old server
    assert client.get("/api/v1/catalog").status_code == 200


def test_only_errors_of_an_unreachable_database_count_as_outages(postgres, tmp_path):
    """The classification, on errors the real drivers raise: a bug (bad SQL, a broken constraint) is not an
    outage; a refused connection, a lost one and SQLite's busy timeout are."""
    engine = create_engine(postgres.url)
    try:
        with engine.connect() as conn:
            with pytest.raises(sa_exc.ProgrammingError) as missing_table:
                conn.execute(text("SELECT * FROM no_such_table"))
            assert not is_database_outage(missing_table.value)
            conn.rollback()
            conn.execute(text("CREATE TEMP TABLE t (id int PRIMARY KEY)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(sa_exc.IntegrityError) as duplicate:
                conn.execute(text("INSERT INTO t VALUES (1)"))
            assert not is_database_outage(duplicate.value)
            conn.rollback()
            with pytest.raises(sa_exc.DataError) as bad_value:
                conn.execute(text("SELECT 1/0"))
            assert not is_database_outage(bad_value.value)
    finally:
        engine.dispose()

    refused = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    with pytest.raises(sa_exc.OperationalError) as no_server:
        refused.connect()
    assert is_database_outage(no_server.value)

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (id int)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        waiting = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
        with pytest.raises(sa_exc.OperationalError) as locked, waiting.connect() as conn:
            conn.execute(text("SELECT * FROM t"))
        assert "database is locked" in str(locked.value)
        assert is_database_outage(locked.value)
        waiting.dispose()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    plain = create_engine(f"sqlite:///{path}")
    with pytest.raises(sa_exc.OperationalError) as sqlite_missing, plain.connect() as conn:
        conn.execute(text("SELECT * FROM nothing_here"))
    assert not is_database_outage(sqlite_missing.value)
    plain.dispose()


@pytest.mark.no_transaction
def test_sqlite_busy_past_its_timeout_is_503_not_500(tmp_path):
    """Another process holds SQLite's write lock longer than the busy timeout: the write request is told to come
    back (503, Retry-After), not that we failed (500)."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
                     LICENCE_SIGNING_KEY_FILE=str(tmp_path / "key.pem"),
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"timeout": 0.2}})
    with app.app_context():
        upgrade()
        db.session.remove()
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = app.test_client().post("/login", data={"email": "someone@example.org", "password": "x"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_outage_page(response)
    assert app.test_client().post("/login", data={"email": "someone@example.org", "password": "x"}).status_code == 200
