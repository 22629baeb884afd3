"""A mail server that is down loses nothing: the Stripe payment commits, the webhook answers 200, and the mail waits
in the outbox until the server (the real SMTP test server, stopped, then started again) takes it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.jobs.models import OutboxMessage, OutboxStatus
from marketplace.licensing.states import LicenceStatus
from marketplace.mail import SMTPMailer
from marketplace.orders.states import OrderStatus
from marketplace.worker.tasks import sweep_lost_jobs
from tests.payments.test_webhooks import completed, fresh, post_event
from tests.support.smtp import SMTPServer


def test_a_stripe_payment_commits_while_smtp_is_down_and_its_mail_leaves_when_the_server_is_back(
        app, client, session, checkout, stripe_stub, monkeypatch):
    server = SMTPServer().start()
    port = server.port
    server.stop()  # the mail server goes down
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", port, "marketplace@localhost"))
    earlier = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0

    response = post_event(client, completed(stripe_stub, checkout))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["outcome"] == "fulfilled"
    order = fresh(session, checkout)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE
    waiting = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id > earlier)))
    assert waiting and all(m.status == OutboxStatus.PENDING and m.attempts == 1 for m in waiting)
    assert all("Connection refused" in m.last_error for m in waiting)

    server = SMTPServer(port=port).start()  # back up
    try:
        for m in waiting:
            m.next_attempt_at = utcnow() - timedelta(seconds=1)  # its back-off is over
        session.commit()
        assert sweep_lost_jobs(timedelta(0))["outbox"] == len(waiting)
        session.expire_all()
        assert all(m.status == OutboxStatus.SENT for m in session.scalars(select(OutboxMessage)))
        assert len(server.received) == len(waiting)
        assert any(order.number in r.message.get_content() or order.number in r.message["Subject"]
                   for r in server.received)
    finally:
        server.stop()
