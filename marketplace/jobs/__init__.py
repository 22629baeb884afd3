"""Background jobs (huey): the outbox delivered after commit, the pre-screen off the request, the schedules, and
the admin's page of failed jobs."""
from __future__ import annotations


def init_jobs(app) -> None:
    """Configure the queue for ``app`` (see ``marketplace.jobs.queue``)."""
    from marketplace.jobs.queue import init_jobs as init

    init(app)
