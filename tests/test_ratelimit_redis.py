"""Rate limits hold across processes when they count in Redis: ``gunicorn wsgi:app`` with two workers on loopback,
a real ``redis-server`` on a unix socket, log-in attempts from many connections at once. Gunicorn's access log
names the worker of each answer, so the test knows both workers served. With Redis the attempts let through are
exactly the limit; with memory storage (the contrast) each worker counts alone and lets the limit through itself.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.extensions import db
from tests.support.gunicorn import Gunicorn
from tests.support.redis import RedisServer

pytestmark = pytest.mark.no_transaction

LIMIT = 5
ATTEMPTS = 24


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("ratelimit-db")
    url = f"sqlite:///{folder / 'live.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(folder / "storage"))
    with app.app_context():
        upgrade()
        db.session.remove()
    return url


def _server(tmp: Path, database: str, storage_uri: str) -> Gunicorn:
    """Gunicorn with two workers counting log-ins where ``storage_uri`` says, logging which worker answered."""
    return Gunicorn(tmp, {
        "DATABASE_URL": database, "MARKETPLACE_INSTANCE_DIR": str(tmp), "STORAGE_LOCAL_ROOT": str(tmp / "storage"),
        "RATELIMIT_ENABLED": "1", "RATELIMIT_STORAGE_URI": storage_uri, "RATELIMIT_LOGIN": f"{LIMIT} per minute",
        "RATELIMIT_LOGIN_EMAIL": "1000 per minute", "RATELIMIT_KEY_PREFIX": f"test-{tmp.name}",
    }, "--access-logfile", str(tmp / "access.log"), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s")


def _attempt(base: str, n: int) -> tuple[int, str | None]:
    """One log-in attempt as a browser makes it, on connections of its own: the form (CSRF token), then the post."""
    with requests.Session() as browser:
        browser.trust_env = False  # loopback only, never through a proxy
        page = browser.get(f"{base}/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        resp = browser.post(f"{base}/login", data={"csrf_token": token, "email": f"guess{n}@example.org",
                                                   "password": "wrong"}, headers={"Connection": "close"}, timeout=10)
        return resp.status_code, resp.headers.get("Retry-After")


def _fire(base: str, access_log: Path) -> tuple[list[tuple[int, str | None]], dict[str, Counter]]:
    """ATTEMPTS log-ins, four at a time; the answers, and per worker pid the statuses it gave to POST /login."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda n: _attempt(base, n), range(ATTEMPTS)))
    deadline = time.monotonic() + 5
    while True:  # the access log is written after each answer is sent
        lines = [line.split() for line in access_log.read_text().splitlines()]
        posts = [line for line in lines if line[1:3] == ["POST", "/login"]]
        if len(posts) == ATTEMPTS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    by_worker: dict[str, Counter] = {}
    for pid, _method, _path, status in posts:
        by_worker.setdefault(pid, Counter())[int(status)] += 1
    return answers, by_worker


def _serve_and_fire(tmp: Path, database: str, storage_uri: str):
    server = _server(tmp, database, storage_uri)
    try:
        return _fire(server.start(), tmp / "access.log")
    finally:
        server.stop()


def test_redis_counts_log_ins_once_across_two_gunicorn_workers(tmp_path, database, redis_server):
    answers, by_worker = _serve_and_fire(tmp_path, database, redis_server.uri)
    statuses = Counter(status for status, _ in answers)
    assert len(by_worker) == 2, by_worker  # both workers answered log-ins
    assert statuses == {200: LIMIT, 429: ATTEMPTS - LIMIT}, (statuses, by_worker)
    assert all(1 <= int(retry) <= 60 for status, retry in answers if status == 429)
    assert redis_server.client().dbsize() > 0  # the counters are in Redis


def test_memory_storage_counts_per_worker(tmp_path, database):
    answers, by_worker = _serve_and_fire(tmp_path, database, "memory://")
    allowed = sum(1 for status, _ in answers if status == 200)
    assert len(by_worker) == 2, by_worker
    # Each worker lets the limit through by itself: more than the limit in all when both saw enough attempts.
    assert allowed == sum(min(LIMIT, sum(c.values())) for c in by_worker.values()), (allowed, by_worker)
