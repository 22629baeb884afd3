"""What each outage answers: the real PostgreSQL, moto S3 and Redis servers stopped (and started again) under the
app, through Flask's test client with exceptions answered as in production (a 500, not raised).

    .venv/bin/python bench/outages.py

Prints one line per scenario: the status, its Retry-After, and for uploads and downloads how many asset rows and
download events were recorded. Needs PostgreSQL's binaries (initdb, pg_ctl) and redis-server, as the tests do.
"""
from __future__ import annotations

import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import PlatformRole  # noqa: E402
from marketplace.audit.models import AuditEvent  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.listings.models import Asset  # noqa: E402
from marketplace.orders import services as orders  # noqa: E402
from tests import factories  # noqa: E402
from tests.licensing.conftest import SCENARIO  # noqa: E402
from tests.support.moto import start_moto_server  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="outages-"))
RESULTS: dict[str, str] = {}
ATTEMPT = {"email": "someone@example.org", "password": "wrong"}


def make_app(url: str, **overrides):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(TMP / uuid.uuid4().hex[:6]),
                     LICENCE_SIGNING_KEY_FILE=str(TMP / "key.pem"), PROPAGATE_EXCEPTIONS=False, **overrides)
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def status(response) -> str:
    return f"{response.status_code} Retry-After={response.headers.get('Retry-After')}"


def postgres() -> None:
    cluster = PostgresCluster()
    url = cluster.start()
    try:
        client = make_app(url).test_client()
        client.get("/api/v1/catalog")
        cluster.pause()
        for path in ("/api/v1/catalog", "/catalog", "/api/3/action/package_list", "/readyz", "/healthz"):
            RESULTS[f"pg stopped: GET {path}"] = status(client.get(path))
        cluster.resume()
        RESULTS["pg restarted: first GET /api/v1/catalog"] = status(client.get("/api/v1/catalog"))
        for _ in range(3):
            client.get("/api/v1/catalog")
        cluster.pause()
        cluster.resume()
        RESULTS["pg restarted, no request in between: first GET /api/v1/catalog"] = status(
            client.get("/api/v1/catalog"))
    finally:
        cluster.stop()


def sqlite_busy() -> None:
    app = make_app(f"sqlite:///{TMP / 'busy.db'}", SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
    holder = sqlite3.connect(TMP / "busy.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    RESULTS["sqlite locked past the busy timeout: POST /login"] = status(app.test_client().post("/login", data=ATTEMPT))
    holder.execute("ROLLBACK")
    holder.close()


def s3() -> None:
    port = free_port()
    server, endpoint = start_moto_server(port=port)
    app = make_app(f"sqlite:///{TMP / 's3.db'}", STORAGE_BACKEND="s3", S3_BUCKET=f"m{uuid.uuid4().hex[:12]}",
                   S3_ENDPOINT_URL=endpoint, S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing",
                   MAX_UPLOAD_BYTES=16 << 20, MAX_CONTENT_LENGTH=17 << 20)
    storage = app.extensions["storage"]
    storage.ensure_bucket()
    with app.app_context():
        session = db.session
        seller = factories.user(session, email="seller@example.org", organization="Seller Org")
        reviewer = factories.user(session, email="reviewer@example.org", role=PlatformRole.REVIEWER)
        token = factories.api_token(session, seller)
        product = factories.listed_product(session, storage, seller, reviewer, plans=[
            {"name": "Free", "kind": "free", "amount": 0, "duration_days": None}])
        draft = factories.product(session, seller)
        session.commit()
        plan = next(p for p in product.listed_version.plans if p.name == "Free")
        buyer = factories.user(session, email="buyer@example.org", organization="Buyer Org")
        orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer.memberships[0].organization.id, scenario=SCENARIO,
            accept_terms=True, idempotency_key=""))
        session.commit()
        asset = next(a for a in product.listed_version.assets if a.kind.value == "deliverable")
        download = f"/products/{product.slug}/assets/{asset.id}"
        key, draft_id, draft_version_id = asset.storage_key, draft.id, draft.latest_version.id
        session.remove()

    def count(model, *where) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

    def rows() -> int:
        return count(Asset, Asset.version_id == draft_version_id)

    def downloads() -> int:
        return count(AuditEvent, AuditEvent.action == "asset.download")

    api = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    client.post("/login", data={"email": "buyer@example.org", "password": factories.PASSWORD})
    upload = f"/api/v1/products/{draft_id}/versions/1/assets?kind=sample&filename="
    server.stop()
    response = client.post(upload + "a.csv", data=b"a,b\n1,2\n", content_type="text/csv", headers=api)
    RESULTS["s3 stopped: POST upload"] = f"{status(response)} asset rows={rows()}"
    RESULTS["s3 stopped: GET deliverable"] = f"{status(client.get(download))} download events={downloads()}"
    server, endpoint = start_moto_server(port=port)
    stopped: list[int] = []

    def stop_before_the_second_part(params, **_):
        if params["PartNumber"] == 2 and not stopped:
            stopped.append(1)
            server.stop()

    storage.client.meta.events.register("provide-client-params.s3.UploadPart", stop_before_the_second_part)
    response = client.post(upload + "big.csv", data=b"x" * (11 << 20), content_type="text/csv", headers=api)
    RESULTS["s3 stopped mid multipart upload: POST upload"] = f"{status(response)} asset rows={rows()}"
    server, endpoint = start_moto_server(port=port)
    storage.delete(key)
    response = client.get(download)
    RESULTS["s3 object deleted: GET deliverable"] = (
        f"{status(response)} redirect={'Location' in response.headers} download events={downloads()}")
    server.stop()


def redis() -> None:
    folder = TMP / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    app = make_app(f"sqlite:///{TMP / 'limits.db'}", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=server.uri,
                   RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False)
    client = app.test_client()
    client.post("/login", data=ATTEMPT)
    server.stop()
    RESULTS["redis stopped: POST /login"] = status(client.post("/login", data=ATTEMPT))
    RESULTS["redis stopped: GET /readyz"] = status(client.get("/readyz"))


if __name__ == "__main__":
    for scenario in (postgres, sqlite_busy, s3, redis):
        scenario()
    for name, result in RESULTS.items():
        print(f"{name:66s} {result}")
