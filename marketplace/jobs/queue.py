"""The task queue: one huey instance, configured from the app (SQLite file by default, Redis when ``JOBS_URL`` says
so, immediate in tests), and the ``job`` decorator that makes a function a task with one unit of work.

A job runs inside an app context with a session of its own: it commits once when it returns and rolls back when it
raises. A job that raises is retried with a doubling delay; after its last retry it is recorded in ``failed_jobs``
for the admin jobs page, which can enqueue it again.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.signals import SIGNAL_ERROR
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy.engine import make_url

from marketplace.db import write_intent
from marketplace.extensions import db
from marketplace.uow import job_unit_of_work

log = logging.getLogger(__name__)

huey = Huey("marketplace", results=False, utc=True, storage_class=MemoryStorage)

# Tasks by name, for the admin's retry (a failed job is stored by name and arguments).
TASKS: dict[str, Any] = {}
# Tasks that record their own failures (the outbox keeps its attempts on the row).
SELF_RECORDING: set[str] = set()
_apps: list[Flask] = []


def storage_for(url: str) -> tuple[type, dict]:
    """The huey storage class and its arguments for ``JOBS_URL``: a SQLite file or a Redis server."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage, {"url": url}
    if url.startswith("redis+unix://"):
        return RedisStorage, {"url": "unix://" + url.removeprefix("redis+unix://")}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = os.path.abspath(parsed.database)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        return SqliteStorage, {"filename": path}
    raise ValueError(f"JOBS_URL must be sqlite:///<file> or redis://..., not {url!r}")


_configured: list[tuple[str, bool]] = []


def configure_queue(config) -> None:
    """Point the process's queue at the config's backend. A process serves one app; where several apps share one
    (tests), each hand-over of jobs calls this again for the app at hand (``queue_for_current_app``)."""
    wanted = (str(config["JOBS_URL"]), bool(config.get("JOBS_IMMEDIATE")))
    if _configured == [wanted]:
        return
    storage_class, kwargs = storage_for(wanted[0])
    huey.storage_class, huey.storage_kwargs = storage_class, kwargs
    huey._immediate = wanted[1]
    huey.storage = huey.create_storage()
    _configured[:] = [wanted]


def queue_for_current_app() -> None:
    """Make sure the queue is the current app's before jobs are handed to it."""
    if has_app_context():
        configure_queue(current_app.config)


def init_jobs(app: Flask) -> None:
    """Configure the queue for ``app`` (the domains' tasks, the worker command and the admin page are
    ``marketplace.worker``'s)."""
    configure_queue(app.config)
    _apps[:] = [app]


def job_app() -> Flask:
    """The app a job runs in: the current one (immediate mode, inside a request or test), else the worker's."""
    if has_app_context():
        return current_app._get_current_object()
    if not _apps:
        raise RuntimeError("no app: create_app() configures the job queue")
    return _apps[0]


def in_unit_of_work(fn: Callable, *args, **kwargs):
    """Run ``fn`` in a fresh app context: commit if it returns, roll back if it raises."""
    with job_app().app_context(), job_unit_of_work():
        return fn(*args, **kwargs)


def job(name: str, *, retries: int = 3, retry_delay: int = 10, schedule: crontab | None = None,
        records_own_failures: bool = False):
    """Make ``fn`` a task named ``name`` that runs as one unit of work, retried ``retries`` times after
    ``retry_delay`` seconds, doubling; ``schedule`` makes it periodic (run by the worker, never enqueued)."""

    def decorate(fn: Callable):
        @functools.wraps(fn)
        def unit_of_work(*args, **kwargs):
            return in_unit_of_work(fn, *args, **kwargs)

        options = {"retries": retries, "retry_delay": retry_delay, "retry_backoff": 2, "name": name}
        task = huey.periodic_task(schedule, **options)(unit_of_work) if schedule else huey.task(**options)(unit_of_work)
        TASKS[name] = task
        if records_own_failures:
            SELF_RECORDING.add(name)
        return task

    return decorate


@huey.signal(SIGNAL_ERROR)
def _record_last_failure(signal, task, exc=None) -> None:
    if task.retries or task.name in SELF_RECORDING:
        return  # huey retries it
    try:
        from marketplace.jobs.models import FailedJob

        def record() -> None:
            db.session.add(FailedJob(task=task.name, args=list(task.data[0] or ()), error=_describe(exc),
                                     attempts=1 + (TASKS[task.name].task_class.default_retries
                                                   if task.name in TASKS else 0)))

        def record_now() -> None:
            with write_intent():
                record()
                db.session.flush()

        in_unit_of_work(record_now)
    except Exception:
        log.exception("could not record the failure of %s", task)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    return f"{type(exc).__name__}: {exc}"[:4000]
