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


# ---------------------------------------------------------------- S3 (moto) stopped and started


class MotoProcess:
    """A moto S3 server on a port of its own that a test may stop and start again; what it stored survives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = None

    def start(self) -> None:
        self.server, self.endpoint = start_moto_server(port=self.port)

    def stop(self) -> None:
        self.server.stop()
        self.server = None


@pytest.fixture(scope="module")
def moto():
    import os

    saved = dict(os.environ)
    server = MotoProcess()
    server.start()
    try:
        yield server
    finally:
        if server.server is not None:
            server.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def s3(app, moto, monkeypatch):
    """The app's storage: a fresh bucket on the module's moto server; the server is running again afterwards."""
    storage = S3Storage(f"outage-{uuid.uuid4().hex[:16]}", endpoint_url=moto.endpoint, region=DUMMY_REGION,
                        access_key_id=DUMMY_ACCESS_KEY_ID, secret_access_key=DUMMY_SECRET_ACCESS_KEY)
    storage.ensure_bucket()
    monkeypatch.setitem(app.extensions, "storage", storage)
    yield storage
    if moto.server is None:
        moto.start()


def assets_of(session, version_id: int) -> list[Asset]:
    session.expire_all()
    return list(session.scalars(select(Asset).where(Asset.version_id == version_id)))


def download_events(session, asset_id: int) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "asset.download",
                                                         AuditEvent.subject_id == asset_id)))


def test_uploads_answer_503_while_s3_is_down_and_work_once_it_is_back(session, seller, api, s3, moto):
    product = factories.product(session, seller)
    session.commit()
    version_id = product.latest_version.id
    upload = f"/api/v1/products/{product.id}/versions/1/assets?kind=sample&filename=roads.csv"
    body = b"road,speed\nTolo Highway,72\n"

    moto.stop()
    response = api.post(upload, data=body, content_type="text/csv")
    assert_outage_json(response)
    assert assets_of(session, version_id) == []  # nothing recorded of the failed upload

    moto.start()
    response = api.post(upload, data=body, content_type="text/csv")
    assert response.status_code == 201, response.get_json()
    [asset] = assets_of(session, version_id)
    assert s3.exists(asset.storage_key)


def test_s3_stopping_in_the_middle_of_a_multipart_upload_is_503_and_records_nothing(
        app, session, seller, api, s3, moto, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 16 * 1024 * 1024)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 17 * 1024 * 1024)
    product = factories.product(session, seller)
    session.commit()
    version_id = product.latest_version.id
    sent: list[int] = []

    def stop_before_the_second_part(params, **_):
        sent.append(params["PartNumber"])
        if params["PartNumber"] == 2:
            moto.stop()  # the first 5 MiB part is stored; the server goes away before the second

    s3.client.meta.events.register("provide-client-params.s3.UploadPart", stop_before_the_second_part)
    body = b"road,speed\n" + b"Tolo Highway,72\n" * (11 * 1024 * 1024 // 16)
    response = api.post(f"/api/v1/products/{product.id}/versions/1/assets?kind=deliverable&filename=big.csv",
                        data=body, content_type="text/csv")
    assert sent[:2] == [1, 2]
    assert_outage_json(response)
    assert assets_of(session, version_id) == []

    moto.start()
    assert list(s3.keys()) == []  # no object was completed
    # The abort could not reach S3 either: the parts wait, and the storage check names them.
    result = app.test_cli_runner().invoke(args=["storage", "check", "--stale-minutes", "0"])
    assert result.exit_code == 1, result.output
    assert "Incomplete uploads (1)" in result.output and f"assets/{product.id}/" in result.output


def test_downloads_answer_503_while_s3_is_down_and_are_not_counted(app, session, seller, reviewer, client, auth,
                                                                   s3, moto):
    product, buyer, asset = licensed_deliverable(session, s3, seller, reviewer)
    auth.login(buyer.email)

    moto.stop()
    assert_outage_page(client.get(f"/products/{product.slug}/assets/{asset.id}"))
    assert download_events(session, asset.id) == []

    moto.start()
    response = client.get(f"/products/{product.slug}/assets/{asset.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith(moto.endpoint)
    assert len(download_events(session, asset.id)) == 1


def licensed_deliverable(session, storage, seller, reviewer):
    """A listed product, a buyer organization holding a free licence to it, and the product's deliverable."""
    from marketplace.orders import services as orders
    from tests.licensing.conftest import SCENARIO

    product = factories.listed_product(session, storage, seller, reviewer, plans=[
        {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None}])
    session.commit()
    plan = next(p for p in product.listed_version.plans if p.name == "Open research")
    buyer = factories.user(session, email=f"buyer-{uuid.uuid4().hex[:8]}@example.org", organization="Buyer Org")
    orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=buyer.memberships[0].organization.id, scenario=SCENARIO,
        accept_terms=True, idempotency_key=""))
    session.commit()
    asset = next(a for a in product.listed_version.assets if a.kind.value == "deliverable")
    return product, buyer, asset


def test_an_s3_endpoint_that_accepts_and_never_answers_is_503_within_the_configured_timeouts(app, client,
                                                                                          monkeypatch):
    import socket
    import time

    from marketplace.storage import storage_from_config

    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # connections are accepted by the kernel and never read: a server that hangs
    try:
        storage = storage_from_config({**app.config, "STORAGE_BACKEND": "s3", "S3_BUCKET": "hung",
                                       "S3_ENDPOINT_URL": f"http://127.0.0.1:{hung.getsockname()[1]}",
                                       "S3_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
                                       "S3_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY, "S3_READ_TIMEOUT": 1})
        monkeypatch.setitem(app.extensions, "storage", storage)
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"]["error"] == "ReadTimeoutError"
    assert elapsed < 15  # three attempts of one second and their backoff, not three of botocore's minute


# ---------------------------------------------------------------- a file missing from storage


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_deliverable_whose_file_is_gone_is_a_404_that_tells_the_seller_and_is_not_a_download(
        request, app, session, seller, reviewer, client, auth, backend):
    storage = request.getfixturevalue("s3") if backend == "s3" else app.extensions["storage"]
    product, buyer, asset = licensed_deliverable(session, storage, seller, reviewer)
    storage.delete(asset.storage_key)
    auth.login(buyer.email)

    for _ in range(2):
        response = client.get(f"/products/{product.slug}/assets/{asset.id}")
        assert response.status_code == 404  # not a redirect to an S3 error page
        assert "missing" in response.get_data(as_text=True) and "seller has been told" in response.get_data(
            as_text=True)
    assert download_events(session, asset.id) == []
    session.expire_all()
    [missing] = session.scalars(select(AuditEvent).where(AuditEvent.action == "asset.file_missing",
                                                         AuditEvent.subject_id == asset.id)).all()  # once a day
    assert missing.payload["storage_key"] == asset.storage_key
    told = session.scalars(select(Notification).where(Notification.user_id == seller.id,
                                                      Notification.subject.contains("missing"))).all()
    assert len(told) == 1 and asset.filename in told[0].body


# ---------------------------------------------------------------- readiness


def test_readyz_answers_each_check_and_healthz_stays_liveness(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True and body["checks"]["storage"]["ok"] is True
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_503_naming_local_storage_that_cannot_be_written(app, client, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    monkeypatch.setitem(app.extensions, "storage", LocalStorage(blocker))
    response = client.get("/readyz")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    checks = response.get_json()["checks"]
    assert checks["storage"] == {"ok": False, "error": checks["storage"]["error"], "ms": checks["storage"]["ms"]}
    assert checks["database"]["ok"] is True


def test_readyz_is_503_while_s3_is_down(client, s3, moto):
    assert client.get("/readyz").status_code == 200
    moto.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == {
        "ok": False, "error": "EndpointConnectionError", "ms": response.get_json()["checks"]["storage"]["ms"]}
    moto.start()
    assert client.get("/readyz").status_code == 200


def test_other_packages_add_their_own_readiness_checks(app, client, monkeypatch):
    from marketplace.health.readiness import EXTENSION

    monkeypatch.setitem(app.extensions, EXTENSION, dict(app.extensions[EXTENSION]))
    state = {"up": True}

    def queue_check():
        if not state["up"]:
            raise ConnectionError("queue store gone")
        return {"queued": 3}

    add_readiness_check(app, "queue", queue_check)
    assert client.get("/readyz").get_json()["checks"]["queue"]["queued"] == 3
    state["up"] = False
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"]["error"] == "ConnectionError"


# ---------------------------------------------------------------- flask storage check


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_storage_check_lists_missing_objects_and_objects_nothing_names(request, app, session, seller, reviewer,
                                                                       backend):
    storage = request.getfixturevalue("s3") if backend == "s3" else app.extensions["storage"]
    product = factories.listed_product(session, storage, seller, reviewer)
    session.commit()
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["storage", "check"])
    assert clean.exit_code == 0, clean.output
    assert "No problems found." in clean.output

    gone = product.listed_version.assets[0]
    storage.delete(gone.storage_key)
    storage.save("assets/999/left-behind", io.BytesIO(b"orphan"), content_type="text/plain", max_bytes=100)
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 1, result.output
    assert f"asset {gone.id} " in result.output and gone.storage_key in result.output
    assert "Unreferenced objects (1)" in result.output and "assets/999/left-behind" in result.output
    assert "Missing objects (1)" in result.output
    assert "Incomplete uploads" not in result.output


def test_storage_check_names_a_local_upload_left_unfinished_long_ago_but_not_one_in_progress(app, session, tmp_path):
    import os
    import time

    storage = app.extensions["storage"]
    storage.save("assets/7/done", io.BytesIO(b"x"), content_type="text/plain", max_bytes=10)
    folder = storage.root / "assets" / "7"
    (folder / ".abandoned.k2j4h.tmp").write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(folder / ".abandoned.k2j4h.tmp", (two_hours_ago, two_hours_ago))
    (folder / ".uploading.x8d1q.tmp").write_bytes(b"now")
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 1, result.output
    assert "Incomplete uploads (1)" in result.output and "assets/7/abandoned " in result.output
    assert "uploading" not in result.output
    assert "Unreferenced objects (1)" in result.output and "assets/7/done" in result.output


def _drop_bucket(s3) -> None:
    """The store answers but its bucket is gone (a store restored empty): every object with it."""
    for key in list(s3.keys()):
        s3.delete(key)
    s3.client.delete_bucket(Bucket=s3.bucket)


def test_a_bucket_gone_is_an_outage_not_a_missing_file_nor_a_500(app, session, seller, reviewer, client, auth, api,
                                                                s3, moto):
    product, buyer, asset = licensed_deliverable(session, s3, seller, reviewer)
    draft = factories.product(session, seller)
    session.commit()
    _drop_bucket(s3)

    uploaded = api.post(f"/api/v1/products/{draft.id}/versions/1/assets?kind=sample&filename=a.csv",
                        data=b"a,b\n1,2\n", content_type="text/csv")
    assert uploaded.status_code == 503 and uploaded.headers.get("Retry-After"), uploaded.get_json()
    assert uploaded.get_json()["code"] == "service_unavailable"
    auth.login(buyer.email)
    assert_outage_page(client.get(f"/products/{product.slug}/assets/{asset.id}"))
    session.expire_all()
    assert download_events(session, asset.id) == []
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "asset.file_missing")).all()
    checked = app.test_cli_runner().invoke(args=["storage", "check"])
    assert checked.exit_code == 2, checked.output
    assert client.get("/readyz").status_code == 503


def test_storage_check_says_when_s3_does_not_answer(app, s3, moto):
    moto.stop()
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 2
    assert "EndpointConnectionError" in result.output


# ---------------------------------------------------------------- Redis (the rate-limit store) stopped and started


@pytest.mark.no_transaction
def test_a_stopped_redis_is_503_with_retry_after_and_readyz_names_the_rate_limit_store_and_the_task_queue(tmp_path):
    from huey import RedisHuey

    from tests.support.redis import RedisServer

    folder = tmp_path / "redis"
    folder.mkdir()
    redis_server = RedisServer(folder).start()
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'limits.db'}",
                         STORAGE_LOCAL_ROOT=str(tmp_path / "storage"), LICENCE_SIGNING_KEY_FILE=str(tmp_path / "k.pem"),
                         RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_server.uri,
                         RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False, RATELIMIT_KEY_PREFIX=f"t{uuid.uuid4().hex[:8]}")
        with app.app_context():
            upgrade()
            db.session.remove()
        app.extensions["jobs"] = RedisHuey(f"outage-{uuid.uuid4().hex[:8]}", url=f"unix://{redis_server.socket}")
        client = app.test_client()
        attempt = {"email": "someone@example.org", "password": "wrong"}
        assert client.post("/login", data=attempt).status_code == 200  # counted in Redis, form shown again
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["checks"]["rate_limit_store"]["ok"] is True
        jobs = ready.get_json()["checks"]["jobs"]
        assert jobs["ok"] is True and jobs["queued"] == 0

        redis_server.stop()
        assert_outage_page(client.post("/login", data=attempt))
        ready = client.get("/readyz")
        assert ready.status_code == 503
        checks = ready.get_json()["checks"]
        assert checks["rate_limit_store"]["ok"] is False and checks["jobs"]["ok"] is False
        assert checks["database"]["ok"] is True

        redis_server = RedisServer(folder).start()
        assert client.get("/readyz").status_code == 200
        assert client.post("/login", data=attempt).status_code == 200
    finally:
        redis_server.stop()
