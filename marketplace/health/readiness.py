"""Readiness: may a load balancer send this process traffic? Each backend the app needs answers a cheap question.

``/healthz`` says the process answers (liveness: restart it if not). ``/readyz`` runs every registered check and
answers 200 with each one's result, or 503 with ``Retry-After`` naming those that failed (take it out of rotation
until they pass). Any package adds its own check with ``add_readiness_check``; the database and file storage
checks are here, and the task queue and rate-limit store are checked when the app has them.

Failures name only the kind of error: the endpoint is public, and a message could name internal hosts.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from marketplace.errors import Unavailable

#: A check raises when its backend cannot be used; whatever it returns (a dict or None) is shown beside ``ok``.
ReadinessCheck = Callable[[], "dict[str, Any] | None"]

EXTENSION = "marketplace.readiness"
RETRY_AFTER_SECONDS = 10


def add_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Register (or replace) the readiness check called ``name``; ``/readyz`` runs it on every call."""
    app.extensions.setdefault(EXTENSION, {})[name] = check


def readiness_checks(app: Flask) -> dict[str, ReadinessCheck]:
    """The registered checks by name, in registration order."""
    return dict(app.extensions.get(EXTENSION, {}))


def check_database() -> None:
    """The database answers ``SELECT 1`` on a connection of the pool (pre-pinged, so a restart is survived)."""
    from marketplace.extensions import db

    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def check_storage() -> None:
    """The configured file store answers: S3's bucket a HEAD request, a local folder a written-and-removed file."""
    current_app.extensions["storage"].check()


def check_jobs() -> dict[str, Any] | None:
    """The task queue's store answers (huey's queue length: one round trip to SQLite or Redis); no queue, no check.
    The queue is ``app.extensions["jobs"]`` (a huey instance, or an object with one as ``.huey``), else the
    ``huey`` of ``marketplace.jobs.queue`` once the app has loaded it."""
    jobs = current_app.extensions.get("jobs")
    if jobs is None:
        queue_module = sys.modules.get("marketplace.jobs.queue")
        jobs = getattr(queue_module, "huey", None)
    if jobs is None:
        return {"skipped": "no task queue"}
    huey = getattr(jobs, "huey", jobs)
    return {"queued": huey.storage.queue_size()}


def check_rate_limit_store() -> dict[str, Any] | None:
    """The rate-limit counters' store (Redis in production) answers a ping; in-process memory always does."""
    limiter = current_app.extensions.get("marketplace.limiter")
    if limiter is None or not limiter.enabled or str(current_app.config.get("RATELIMIT_STORAGE_URI", "")) \
            .startswith("memory://"):
        return {"skipped": "no shared store"}
    if not limiter.storage.check():
        raise Unavailable("The rate-limit store does not answer.")


def run_checks(app: Flask) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every check; return whether all passed and each one's result (``ok``, milliseconds, details)."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in readiness_checks(app).items():
        started = time.monotonic()
        try:
            detail = check() or {}
            result: dict[str, Any] = {"ok": True, **detail}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", whatever the backend raised
            app.logger.warning("Readiness check %s failed: %r", name, exc)
            cause = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ is not None else exc
            result = {"ok": False, "error": type(cause).__name__}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        results[name] = result
    return all(r["ok"] for r in results.values()), results


def init_readiness(app: Flask) -> None:
    """Register the built-in checks and the ``/readyz`` endpoint."""
    add_readiness_check(app, "database", check_database)
    add_readiness_check(app, "storage", check_storage)
    add_readiness_check(app, "jobs", check_jobs)
    add_readiness_check(app, "rate_limit_store", check_rate_limit_store)

    @app.get("/readyz")
    def readyz():
        """Readiness for load balancers: 200 when every backend answers, else 503 naming the ones that did not."""
        ready, checks = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
        body = {"status": "ready" if ready else "unavailable", "checks": checks}
        if ready:
            return jsonify(body), 200, {"Cache-Control": "no-store"}
        return jsonify(body), 503, {"Cache-Control": "no-store", "Retry-After": str(RETRY_AFTER_SECONDS)}
