"""What the background worker runs: the outbox's delivery, every domain's tasks (the pre-screen off the request)
and the schedules in place of cron (expiries, Stripe reconciliation, audit checkpoints); ``flask jobs worker``,
and the admin's page of failed jobs. It sits above the domains it calls; the queue itself is ``marketplace.jobs``."""
from __future__ import annotations

from flask import Flask


def init_worker(app: Flask) -> None:
    """Configure the queue for ``app``, register the tasks, the admin page and ``flask jobs``."""
    from marketplace.jobs import outbox  # noqa: F401  (session hooks and the delivery task)
    from marketplace.jobs.queue import init_jobs
    from marketplace.worker import tasks  # noqa: F401  (task registration)
    from marketplace.worker.cli import init_jobs_cli
    from marketplace.worker.views import bp

    init_jobs(app)
    init_jobs_cli(app)
    app.register_blueprint(bp)
