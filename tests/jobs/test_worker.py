"""A real consumer process (``flask jobs worker``) on the SQLite queue and on Redis: killed with SIGKILL in the
middle of a slow delivery, it loses nothing; the next worker delivers the message, once, and marks it sent."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.extensions import db
from marketplace.jobs.models import OutboxMessage, OutboxStatus
from marketplace.jobs.queue import _apps, configure_queue
from marketplace.mail import send_mail
from tests.support.jobs import Worker, wait_for
from tests.support.redis import RedisServer
from tests.support.smtp import SMTPServer

pytestmark = pytest.mark.no_transaction


@pytest.fixture
def restore_queue(app):
    """The suite's queue (immediate) again after a test pointed this process at a real one."""
    yield
    configure_queue(app.config)
    _apps[:] = [app]


@pytest.fixture(params=["sqlite", "redis"])
def jobs_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    try:
        yield f"unix://{server.socket}"
    finally:
        server.stop()


def _message(engine, message_id: int) -> OutboxMessage:
    with Session(engine) as s:
        return s.get(OutboxMessage, message_id)


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_next_one_delivers_once(
        own_database_url, jobs_url, tmp_path, restore_queue):
    smtp = SMTPServer(mail_delay=30).start()  # slow: the first worker is killed while it waits
    env = {"DATABASE_URL": own_database_url, "JOBS_URL": jobs_url, "JOBS_LEASE_SECONDS": "2",
           "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, JOBS_URL=jobs_url, JOBS_IMMEDIATE=False)
    engine = create_engine(own_database_url)
    first = second = None
    try:
        with app.app_context():
            upgrade()
            send_mail("ada@example.org", "Your licence", "It is active.")
            db.session.commit()  # queued on the real queue after the commit
            message_id = db.session.scalar(select(OutboxMessage.id))
        first = Worker(tmp_path, env, "first").start()
        wait_for(lambda: _message(engine, message_id).locked_until, 30, "the first worker to claim it", first)
        wait_for(lambda: smtp._server.mail_delay and _connected(smtp), 10, "the first worker to reach the server")
        first.kill()
        killed = _message(engine, message_id)
        assert killed.status == OutboxStatus.PENDING and killed.attempts == 1 and smtp.received == []

        smtp._server.mail_delay = 0
        second = Worker(tmp_path, env, "second").start()
        wait_for(lambda: _message(engine, message_id).status == OutboxStatus.SENT, 30, "the delivery", second)
        sent = _message(engine, message_id)
        assert sent.attempts == 2 and sent.sent_at is not None
        [received] = smtp.received
        assert received.recipients == ["ada@example.org"]
        assert received.message["Message-ID"] == f"<outbox-{message_id}@localhost>"
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        smtp.stop()
        engine.dispose()
        with app.app_context():
            db.engine.dispose()


def _connected(smtp: SMTPServer) -> bool:
    return bool(smtp._server.connections)
