"""The outbox: mail written in the transaction that causes it, sent only after the commit, never after a rollback,
retried with a doubling delay while the mail server is down, failed for good onto the admin jobs page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.jobs import outbox as outbox_module
from marketplace.jobs.models import FailedJob, OutboxMessage, OutboxStatus
from marketplace.jobs.outbox import deliver_outbox_message
from marketplace.mail import SMTPMailer, send_mail
from marketplace.notifications.services import notify_organization
from marketplace.worker.tasks import sweep_lost_jobs
from tests.support.ports import free_port
from tests.support.smtp import SMTPServer


def messages(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def due_now(session) -> None:
    """Time passes: every pending message's back-off is over."""
    for message in messages(session):
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.commit()


def test_mail_leaves_after_the_commit_once_and_is_marked_sent(session, seller, seller_org, outbox):
    notify_organization(session, seller_org, "Listed", "Your product is listed.")
    [message] = messages(session)
    assert message.status == OutboxStatus.PENDING and outbox == []  # written, not sent
    session.commit()
    assert [m.to for m in outbox] == [seller.email]
    assert outbox[0].message_id == f"<outbox-{message.id}@localhost>"
    [message] = messages(session)
    assert message.status == OutboxStatus.SENT and message.sent_at and message.attempts == 1
    assert deliver_outbox_message.call_local(message.id) == "skipped"  # a second delivery job sends nothing
    assert len(outbox) == 1


def test_mail_of_a_transaction_that_rolls_back_is_never_sent(session, seller, seller_org, outbox):
    notify_organization(session, seller_org, "Listed", "Your product is listed.")
    session.rollback()
    assert messages(session) == []
    session.commit()  # a later transaction's commit does not send the forgotten one either
    assert outbox == []


def test_mail_is_retried_with_a_doubling_delay_while_the_server_is_down_and_sent_when_it_is_back(
        app, session, seller, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", port, "marketplace@localhost"))
    send_mail(seller.email, "Welcome", "Hello.")
    before = utcnow()
    session.commit()  # the first attempt fails: nothing listens on the port
    [message] = messages(session)
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "Connection refused" in message.last_error
    first_wait = message.next_attempt_at - before
    assert timedelta(seconds=29) < first_wait < timedelta(seconds=32)
    assert deliver_outbox_message.call_local(message.id) == "skipped"  # not due yet
    due_now(session)
    before = utcnow()
    assert deliver_outbox_message.call_local(message.id) == "retry"
    [message] = messages(session)
    assert message.attempts == 2 and timedelta(seconds=59) < message.next_attempt_at - before < timedelta(seconds=62)

    server = SMTPServer(port=port).start()  # the mail server is back
    try:
        due_now(session)
        assert sweep_lost_jobs(timedelta(0)) == {"outbox": 1, "prescreens": 0, "listing_checks": 0, "webhooks": 0}
        [message] = messages(session)
        assert message.status == OutboxStatus.SENT and message.attempts == 3
        [received] = server.received
        assert received.recipients == [seller.email] and received.message["Subject"] == "Welcome"
        assert received.message["Message-ID"] == f"<outbox-{message.id}@localhost>"
        assert sweep_lost_jobs(timedelta(0)) == {"outbox": 0, "prescreens": 0, "listing_checks": 0, "webhooks": 0}
        assert len(server.received) == 1
    finally:
        server.stop()


def test_after_its_last_attempt_a_message_fails_onto_the_jobs_page_and_an_admin_retry_sends_it(
        app, session, seller, admin_client, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", port, "marketplace@localhost"))
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    send_mail(seller.email, "Welcome", "Hello.")
    session.commit()
    due_now(session)
    assert deliver_outbox_message.call_local(messages(session)[0].id) == "failed"
    [message] = messages(session)
    assert message.status == OutboxStatus.FAILED and message.attempts == 2
    [failed] = session.scalars(select(FailedJob)).all()
    assert failed.task == "outbox.deliver" and failed.outbox_message_id == message.id
    page = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "outbox.deliver" in page and "Connection refused" in page

    server = SMTPServer(port=port).start()
    try:
        response = admin_client.post(f"/admin/jobs/{failed.id}/retry")
        assert response.status_code == 302
        [message] = messages(session)
        assert message.status == OutboxStatus.SENT and len(server.received) == 1
        assert "No failed jobs." in admin_client.get("/admin/jobs").get_data(as_text=True)
        again = admin_client.post(f"/admin/jobs/{failed.id}/retry", follow_redirects=True)
        assert "retried already" in again.get_data(as_text=True) and len(server.received) == 1
    finally:
        server.stop()


def test_a_recipient_the_server_refuses_for_good_fails_at_once(app, session, seller, monkeypatch):
    class Refusing:
        def send(self, mail):
            import smtplib
            raise smtplib.SMTPRecipientsRefused({mail.to: (550, b"no such user")})

    monkeypatch.setitem(app.extensions, "mailer", Refusing())
    send_mail(seller.email, "Welcome", "Hello.")
    session.commit()
    [message] = messages(session)
    assert message.status == OutboxStatus.FAILED and message.attempts == 1


def test_a_message_kind_without_a_handler_is_refused_when_written(session):
    with pytest.raises(ValueError):
        outbox_module.add_to_outbox(session, "fax", {})


def test_a_scheduled_job_whose_last_retry_fails_is_recorded_for_the_jobs_page_and_retried_from_it(
        session, admin_client, monkeypatch):
    from marketplace.jobs.queue import huey
    from marketplace.orders import requests as order_requests
    from marketplace.worker.tasks import expire_orders_job

    def locked(session_, now=None):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(order_requests, "expire_orders", locked)
    task = expire_orders_job.s()
    task.retries = 1  # not the last attempt: huey retries it, nothing is recorded
    huey.execute(task)
    assert session.scalars(select(FailedJob)).all() == []
    last = expire_orders_job.s()
    last.retries = 0  # the last attempt
    huey.execute(last)
    [failed] = session.scalars(select(FailedJob)).all()
    assert failed.task == "orders.expire" and failed.error == "RuntimeError: database is locked"
    assert "orders.expire" in admin_client.get("/admin/jobs").get_data(as_text=True)

    monkeypatch.undo()
    assert admin_client.post(f"/admin/jobs/{failed.id}/retry").status_code == 302
    session.expire_all()
    assert session.get(FailedJob, failed.id).retried_at is not None
    assert session.scalars(select(FailedJob)).all() == [failed]  # the retry ran (at once here) and succeeded


def test_mail_written_inside_a_savepoint_waits_for_the_transaction_and_dies_with_it(
        session, seller, seller_org, outbox):
    with session.begin_nested():
        notify_organization(session, seller_org, "Listed", "Your product is listed.")
    assert outbox == []  # releasing the savepoint is no commit
    session.rollback()
    assert outbox == [] and messages(session) == []
    with session.begin_nested():
        notify_organization(session, seller_org, "Listed", "Your product is listed.")
    session.commit()
    assert [m.to for m in outbox] == [seller.email]
