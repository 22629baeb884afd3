"""Side effects in the transaction, delivered after it commits.

A service that must send mail (or, later, call out or notify) writes an ``OutboxMessage`` with ``add_to_outbox``
in the transaction that causes it: if the transaction rolls back, the message never existed; if it commits, a job
delivers it. Jobs that read what the transaction wrote (the pre-screen of a submitted version) are queued the same
way with ``enqueue_after_commit``. Both are handed to the queue by SQLAlchemy's ``after_commit`` event, whoever
commits (a request, a command, a job), and dropped on rollback.

Delivery claims the row for ``JOBS_LEASE_SECONDS`` (committed before the side effect, so no second worker performs
it meanwhile), performs it and marks it sent. A failed attempt waits ``OUTBOX_RETRY_SECONDS``, doubling, up to
``OUTBOX_MAX_ATTEMPTS``; then the row is failed and on the admin jobs page. A worker killed mid-delivery leaves a
claim that runs out: ``sweep`` (at every worker start and each minute) queues whatever is pending and unclaimed.
Mail carries a Message-ID made from the row, so the one case delivery can repeat (killed after the mail server
accepted the message, before the row was marked sent) is recognisable as the same message.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, inspect, or_, select, true, update
from sqlalchemy.orm import Session

from marketplace.db import utcnow, write_intent
from marketplace.extensions import db
from marketplace.jobs.models import FailedJob, OutboxMessage, OutboxStatus
from marketplace.jobs.queue import job
from marketplace.uow import commit_before

log = logging.getLogger(__name__)

_MESSAGES = "outbox.messages"
_JOBS = "outbox.jobs"
CLOCK_SKEW = timedelta(seconds=1)  # a retry scheduled for next_attempt_at may wake a moment early

# What to do for each kind of message: a function of its payload and the message's id.
HANDLERS: dict[str, Callable[[dict, int], None]] = {}


class PermanentFailure(Exception):
    """A delivery that no retry can fix (the mail server refused the recipient for good)."""


def outbox_handler(kind: str):
    """Register the function that performs messages of ``kind``."""
    def register(fn: Callable[[dict, int], None]):
        HANDLERS[kind] = fn
        return fn
    return register


def add_to_outbox(session: Session, kind: str, payload: dict) -> OutboxMessage:
    """Write a side effect of ``kind`` into the current transaction; it is delivered after the commit."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    message = OutboxMessage(kind=kind, payload=payload, status=OutboxStatus.PENDING, next_attempt_at=utcnow())
    session.add(message)
    session.info.setdefault(_MESSAGES, []).append(message)
    return message


def enqueue_after_commit(session: Session, task, *args) -> None:
    """Queue ``task(*args)`` once the session's transaction commits; never if it rolls back."""
    session.info.setdefault(_JOBS, []).append((task, args))


def has_uncommitted(session: Session) -> bool:
    """Whether the session holds side effects waiting for its commit."""
    return bool(session.info.get(_MESSAGES) or session.info.get(_JOBS))


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction itself may still roll back
    messages = session.info.pop(_MESSAGES, [])
    jobs = session.info.pop(_JOBS, [])
    if not messages and not jobs:
        return

    identities = [inspect(message).identity for message in messages]  # the flush's keys; reading them needs no SQL
    jobs = [(deliver_outbox_message, identity) for identity in identities if identity] + jobs
    from marketplace.jobs.queue import TASKS, queue_for_current_app

    queue_for_current_app()
    for task, args in jobs:
        try:
            (TASKS[task] if isinstance(task, str) else task)(*args)
        except Exception:
            log.exception("could not queue %s%r; the sweep will", getattr(task, "name", task), args)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction) -> None:
    if previous_transaction.nested or previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit what came before it
    session.info.pop(_MESSAGES, None)
    session.info.pop(_JOBS, None)


def doubling_delay(attempts: int, base_seconds: int, cap_seconds: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``base_seconds`` doubling each time, at most
    ``cap_seconds``. The outbox's and the webhook deliveries' retries."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: OUTBOX_RETRY_SECONDS, doubling each time (max a day)."""
    return doubling_delay(attempts, int(current_app.config["OUTBOX_RETRY_SECONDS"]), 86_400)


def claim_due(model, row_id: int, pending, now: datetime) -> bool:
    """Claim the row of ``model`` (an outbox message, a webhook delivery: ``status``, ``next_attempt_at``,
    ``locked_until``, ``attempts``) for this worker if it is ``pending``, due and held by nobody: its lease taken
    and its attempt counted. Call inside ``write_intent`` and commit before the side effect, so that every worker
    sees the claim first."""
    lease = timedelta(seconds=int(current_app.config["JOBS_LEASE_SECONDS"]))
    return bool(db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == pending, model.next_attempt_at <= now + CLOCK_SKEW,
               or_(model.locked_until.is_(None), model.locked_until < now))
        .values(locked_until=now + lease, attempts=model.attempts + 1)
    ).rowcount)


def _claim(message_id: int, now: datetime) -> tuple[str, dict] | None:
    """Claim the message for this worker (committed at once); its kind and payload, or None if not ours."""
    commit_before(db.session, "claiming an outbox message")  # a SQLite write must begin its transaction
    with write_intent():
        claimed = claim_due(OutboxMessage, message_id, OutboxStatus.PENDING, now)
        found = db.session.execute(select(OutboxMessage.kind, OutboxMessage.payload)
                                   .where(OutboxMessage.id == message_id)).first() if claimed else None
        commit_before(db.session, "an outbox message's side effect")  # every worker sees the claim first
    return (found.kind, found.payload) if found else None


def deliver(message_id: int) -> str:
    """Perform one pending message if nobody holds it and it is due: "sent", "retry", "failed" or "skipped"
    (already sent, claimed by another worker, not yet due, or gone with a rolled-back transaction)."""
    claimed = _claim(message_id, utcnow())
    if claimed is None:
        return "skipped"
    kind, payload = claimed
    try:
        HANDLERS[kind](payload, message_id)  # no transaction is open meanwhile
    except Exception as exc:  # noqa: BLE001 - every failure is kept on the row and retried or reported
        with write_intent():  # SQLite: the write's transaction takes the lock at once, waiting its turn
            return _failed(db.session.get(OutboxMessage, message_id), exc)
    with write_intent():
        message = db.session.get(OutboxMessage, message_id)
        message.status, message.sent_at, message.locked_until, message.last_error = (
            OutboxStatus.SENT, utcnow(), None, "")
        db.session.flush()
    return "sent"


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, (PermanentFailure, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _failed(message: OutboxMessage, exc: Exception) -> str:
    log.warning("outbox message %s (%s), attempt %s, failed: %s", message.id, message.kind, message.attempts, exc)
    message.last_error = f"{type(exc).__name__}: {exc}"[:4000]
    message.locked_until = None
    if _permanent(exc) or message.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        message.status = OutboxStatus.FAILED
        db.session.add(FailedJob(task="outbox.deliver", args=[message.id], error=message.last_error,
                                 attempts=message.attempts, outbox_message_id=message.id))
        return "failed"
    delay = retry_delay(message.attempts)
    message.next_attempt_at = utcnow() + delay

    enqueue_after_commit(db.session,
                         lambda: deliver_outbox_message.schedule((message.id,), delay=delay.total_seconds()))
    return "retry"


def sweep(*, overdue: timedelta = timedelta(seconds=60)) -> int:
    """Queue again every pending message nobody holds whose turn came more than ``overdue`` ago (its job was lost:
    a worker killed mid-delivery, the queue down at commit); with ``overdue=0`` (worker start) every pending one,
    each at its due time. Returns how many were queued."""

    now = utcnow()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.next_attempt_at, OutboxMessage.locked_until)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now - overdue if overdue else true())
        .order_by(OutboxMessage.id)
    ).all()
    queued = 0
    for message_id, due, locked_until in rows:
        if overdue and locked_until is not None and locked_until > now - overdue:
            continue  # a worker holds it (or held it a moment ago)
        wait = (max(due, locked_until or due) - now).total_seconds()
        if wait > 0:
            deliver_outbox_message.schedule((message_id,), delay=wait)
        else:
            deliver_outbox_message(message_id)
        queued += 1
    return queued


def retry_failed(session: Session, failed: FailedJob) -> None:
    """Put a failed outbox message back to pending and queue it after commit (the admin's retry)."""

    message = session.get(OutboxMessage, failed.outbox_message_id) if failed.outbox_message_id else None
    if message is not None and message.status != OutboxStatus.SENT:
        message.status, message.attempts, message.next_attempt_at, message.locked_until = (
            OutboxStatus.PENDING, 0, utcnow(), None)
        enqueue_after_commit(session, deliver_outbox_message, message.id)


@job("outbox.deliver", retries=3, retry_delay=2, records_own_failures=True)
def deliver_outbox_message(message_id: int) -> str:
    """Deliver one outbox message (its own back-off and failure record are on the row)."""
    return deliver(message_id)
