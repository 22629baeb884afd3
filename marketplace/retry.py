"""A unit of work that lost to a concurrent one at the database is run again instead of answering 500.

Decisions lock their rows in one order (an order before its plan and its licence, a version before its product),
so deadlocks should not happen; a PostgreSQL deadlock (40P01) or serialization failure (40001) that happens all the
same, or SQLite's "database is locked" when a deferred transaction could not take the write lock, aborts the whole
transaction. The request is then rolled back and its view called again, a bounded number of times; if it still
loses a deadlock or serialization failure, it answers 409 "try again" in the error shape, and if SQLite is still
locked after waiting each time, 503 (an overloaded database); never 500.
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import DBAPIError

from marketplace.db import write_intent
from marketplace.errors import Conflict

log = logging.getLogger(__name__)

ATTEMPTS = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


class TryAgain(Conflict):
    code = "try_again"


def retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a transaction that lost to a concurrent one (worth running again)."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return orig.__class__.__module__.startswith("sqlite3") and "database is locked" in str(orig)


def run_again_on_conflict(work: Callable[[], Any], rollback: Callable[[], None], attempts: int = ATTEMPTS) -> Any:
    """Run ``work``; when the database aborts it for a concurrent transaction (``retryable``), roll back and run it
    again, up to ``attempts`` times in all, then refuse with TryAgain (409). A run again takes SQLite's write lock
    first (``write_intent``): it queues behind the winner instead of losing to it again."""
    for attempt in range(1, attempts + 1):
        try:
            if attempt == 1:
                return work()
            with write_intent():
                return work()
        except DBAPIError as exc:
            if not retryable(exc):
                raise
            rollback()
            log.warning("Transaction lost to a concurrent one (attempt %d of %d): %s", attempt, attempts, exc.orig)
            if attempt == attempts:
                if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
                    raise TryAgain("Someone else changed this at the same moment; please try again.") from exc
                # SQLite still locked after waiting its busy timeout each time: the database is overloaded, an
                # outage (503 with Retry-After, marketplace.health.outages), not a conflict of this request's.
                raise
            time.sleep(0.02 * attempt)


def init_retry(app: Flask) -> None:
    """Wrap every registered view so that a write request lost to a concurrent transaction is run again from a
    rolled-back session (call after every blueprint is registered, before the rate limits wrap the views, so that a
    retry is not counted as another request). Requests carrying files are not run again: their uploads were read."""
    from marketplace.extensions import db

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def retried(*args, **kwargs):
            if request.method in ("GET", "HEAD", "OPTIONS") or request.mimetype == "multipart/form-data":
                return view(*args, **kwargs)
            return run_again_on_conflict(lambda: view(*args, **kwargs), db.session.rollback)
        return retried

    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = wrap(view)
