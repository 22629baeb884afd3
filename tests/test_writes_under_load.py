"""GETs that write, under load: ``gunicorn wsgi:app`` with several workers on a database of the test's own (a SQLite
file, or with TEST_DB=postgresql a PostgreSQL database), many clients at the same moment.

A licensed download writes its audit event, and an API token's first call stamps when it was last used. On SQLite a
transaction that begins reading and then writes cannot wait for another writer ("database is locked" at once), so
such a request must say it writes before it begins. Each test counts the answers by status: no 5xx, every write kept.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import ApiToken, PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.orders import services as orders
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.no_transaction

DOWNLOADS = 60
TOKEN_USERS = 20
WORKERS = 4


@pytest.fixture
def market(own_database_url, tmp_path):
    """A listed product, a buyer organization licensed for it (free plan), TOKEN_USERS users each with an API token
    never used yet; the app that built them, its storage folder and the ids the tests need."""
    storage_root = tmp_path / "storage"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(storage_root))
    with app.app_context():
        upgrade()
        session, storage = db.session, app.extensions["storage"]
        seller = factories.user(session, email="load-seller@example.org", organization="Load Seller")
        reviewer = factories.user(session, email="load-reviewer@example.org", role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, reviewer, title="Busy feed", plans=[
            {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None}])
        plan = next(p for p in product.listed_version.plans if p.name == "Open research")
        buyer = factories.user(session, email="load-buyer@example.org", organization="Load Buyer")
        orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer.memberships[0].organization_id, scenario=SCENARIO,
            accept_terms=True, idempotency_key=""))
        deliverable = next(a for a in product.listed_version.assets if a.kind == "deliverable")
        tokens = [factories.api_token(session, factories.user(session, email=f"caller{n}@example.org"))
                  for n in range(TOKEN_USERS)]
        values = {"slug": product.slug, "asset": deliverable.id, "tokens": tokens}
        session.commit()
        db.session.remove()
        db.engine.dispose()
    yield app, storage_root, values
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def server(market, own_database_url, tmp_path):
    _, storage_root, _ = market
    gunicorn = Gunicorn(tmp_path, {"DATABASE_URL": own_database_url, "MARKETPLACE_INSTANCE_DIR": str(tmp_path),
                                   "STORAGE_LOCAL_ROOT": str(storage_root), "RATELIMIT_ENABLED": "0"},
                        workers=WORKERS)
    base = gunicorn.start()
    try:
        yield base
    finally:
        gunicorn.stop()


def _browser() -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False  # loopback only, never through a proxy
    return browser


def _log_in(base: str, email: str) -> dict[str, str]:
    """The session cookie of ``email`` signed in through the log-in form."""
    with _browser() as browser:
        page = browser.get(f"{base}/login", timeout=30).text
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = browser.post(f"{base}/login", data={"csrf_token": csrf, "email": email,
                                                     "password": factories.PASSWORD},
                              allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text[:500]
        return browser.cookies.get_dict()


def _at_once(calls: list) -> Counter:
    """Run every call on a thread of its own, released together; count the answers' statuses (or the failure)."""
    start = threading.Barrier(len(calls))

    def run(call) -> int | str:
        start.wait()
        try:
            return call()
        except requests.RequestException as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(len(calls)) as pool:
        return Counter(pool.map(run, calls))


def _count(app, model, *conditions) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model).where(*conditions))
        db.session.remove()
        return found


def test_concurrent_licensed_downloads_all_answer_and_are_all_audited(market, server):
    app, _, values = market
    cookies = _log_in(server, "load-buyer@example.org")
    url = f"{server}/products/{values['slug']}/assets/{values['asset']}"

    def download() -> int:
        with _browser() as browser:
            browser.cookies.update(cookies)
            return browser.get(url, allow_redirects=False, timeout=60).status_code

    outcomes = _at_once([download] * DOWNLOADS)
    assert outcomes == Counter({200: DOWNLOADS}), outcomes
    assert _count(app, AuditEvent, AuditEvent.action == "asset.download") == DOWNLOADS


def test_first_calls_with_new_api_tokens_all_answer_and_stamp_each_token(market, server):
    app, _, values = market

    def first_call(token: str):
        def call() -> int:
            with _browser() as browser:
                return browser.get(f"{server}/api/v1/orders", headers={"Authorization": f"Bearer {token}"},
                                   timeout=60).status_code
        return call

    outcomes = _at_once([first_call(token) for token in values["tokens"]])
    assert outcomes == Counter({200: TOKEN_USERS}), outcomes
    assert _count(app, ApiToken, ApiToken.last_used_at.is_not(None)) == TOKEN_USERS
