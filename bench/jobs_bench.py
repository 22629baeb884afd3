"""Jobs benchmark: outbox messages delivered per second by one ``flask jobs worker`` process, on the SQLite queue
and on Redis (Debian's redis-server on a unix socket), over a throwaway SQLite database.

    .venv/bin/python bench/jobs_bench.py [--messages 1000] [--runs 3] [--queue sqlite redis] [--workers 2]

Each run starts a worker (mail to the in-memory mailer: the queue and the database are measured, not a mail
server), waits until it is up, commits ``--messages`` e-mails in one transaction (each queued after the commit as
one delivery job), and times from the commit until every outbox row is marked sent. A job claims its row (one
commit), delivers, marks it sent (a second commit). Prints each run and the median per queue.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_once(queue: str, messages: int, workers: int, folder: Path) -> float:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, func, select

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.jobs.models import OutboxMessage, OutboxStatus
    from marketplace.mail import send_mail
    from tests.support.jobs import Worker, wait_for
    from tests.support.redis import RedisServer

    folder.mkdir(parents=True)
    database_url = f"sqlite:///{folder / 'bench.db'}"
    redis = None
    if queue == "redis":
        (folder / "redis").mkdir()
        redis = RedisServer(folder / "redis").start()
        jobs_url = f"unix://{redis.socket}"
    else:
        jobs_url = f"sqlite:///{folder / 'jobs.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, JOBS_URL=jobs_url, JOBS_IMMEDIATE=False,
                     LICENCE_SIGNING_KEY_FILE=str(folder / "key.pem"))
    with app.app_context():
        upgrade()
    worker = Worker(folder, {"DATABASE_URL": database_url, "JOBS_URL": jobs_url, "MAIL_BACKEND": "memory",
                             "JOBS_WORKERS": str(workers)}).start()
    engine = create_engine(database_url)

    def sent() -> int:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == OutboxStatus.SENT))

    try:
        wait_for(lambda: "Queued again at start" in worker.log_text, 60, "the worker to start", worker)
        with app.app_context():
            for n in range(messages):
                send_mail(f"buyer{n}@example.org", f"Order {n}", "Your licence is active.")
            started = time.perf_counter()
            db.session.commit()
        wait_for(lambda: sent() == messages, 600, "every message to be sent", worker)
        return messages / (time.perf_counter() - started)
    finally:
        worker.stop()
        engine.dispose()
        if redis is not None:
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queue", nargs="+", default=["sqlite", "redis"], choices=["sqlite", "redis"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    os.environ["MARKETPLACE_INSTANCE_DIR"] = str(base / "instance")
    for queue in args.queue:
        rates = []
        for run in range(args.runs):
            rate = run_once(queue, args.messages, args.workers, base / f"{queue}-{run}")
            rates.append(rate)
            print(f"{queue} run {run + 1}: {rate:.0f} jobs/s", flush=True)
        print(f"{queue}: median {statistics.median(rates):.0f} jobs/s over {args.runs} runs of {args.messages} "
              f"deliveries, {args.workers} worker threads", flush=True)


if __name__ == "__main__":
    main()
