"""``flask jobs worker`` runs the queue's consumer (``make run`` starts it next to the server); ``flask jobs sweep``
queues again what lost jobs left behind."""
from __future__ import annotations

import logging
from datetime import timedelta

import click
from flask import Flask, current_app


def init_jobs_cli(app: Flask) -> None:
    if "jobs" in app.cli.commands:
        return

    @app.cli.group("jobs")
    def jobs() -> None:
        """Background jobs (huey)."""

    @jobs.command("worker")
    @click.option("--workers", type=int, default=None, help="Worker threads (JOBS_WORKERS).")
    def worker(workers: int | None) -> None:
        """Run jobs until stopped: outbox delivery, pre-screens, the schedules. Pending work is queued at start."""
        from marketplace.jobs.queue import huey, in_unit_of_work
        from marketplace.worker.tasks import sweep_lost_jobs

        if huey.immediate:
            raise click.ClickException("JOBS_IMMEDIATE is on: jobs run where they are queued; no worker needed.")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        found = in_unit_of_work(sweep_lost_jobs, timedelta(0))
        click.echo(f"Queued again at start: {found['outbox']} outbox message(s), {found['prescreens']} pre-screen(s), "
                   f"{found['listing_checks']} listing check(s), {found['webhooks']} webhook delivery(ies).")
        consumer = huey.create_consumer(workers=workers or current_app.config["JOBS_WORKERS"], worker_type="thread",
                                        periodic=True, check_worker_health=True)
        consumer.run()

    @jobs.command("sweep")
    def sweep() -> None:
        """Queue again pending outbox messages and stalled pre-screens (what a killed worker left)."""
        from marketplace.jobs.queue import in_unit_of_work
        from marketplace.worker.tasks import sweep_lost_jobs

        found = in_unit_of_work(sweep_lost_jobs, timedelta(0))
        click.echo(f"Queued {found['outbox']} outbox message(s), {found['prescreens']} pre-screen(s), "
                   f"{found['listing_checks']} listing check(s), {found['webhooks']} webhook delivery(ies).")
