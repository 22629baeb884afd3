"""What the admin jobs page reads and does: failed jobs, the outbox's counts, and retrying a failed job."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import InvalidTransition, NotFound
from marketplace.jobs.models import FailedJob, OutboxMessage, OutboxStatus


def failed_jobs(session: Session, user: User, limit: int = 200) -> list[FailedJob]:
    """Failed jobs not retried yet, newest first (platform admins only)."""
    require(user, Permission.ADMIN)
    return list(session.scalars(select(FailedJob).where(FailedJob.retried_at.is_(None))
                                .order_by(FailedJob.id.desc()).limit(limit)))


def failed_job_count(session: Session, user: User) -> int:
    """How many failed jobs wait for a retry (platform admins only)."""
    require(user, Permission.ADMIN)
    return session.scalar(select(func.count(FailedJob.id)).where(FailedJob.retried_at.is_(None))) or 0


def outbox_counts(session: Session, user: User) -> dict[str, int]:
    """Outbox messages by status (platform admins only)."""
    require(user, Permission.ADMIN)
    counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status.value: counts.get(status, 0) for status in OutboxStatus}


def retry_failed_job(session: Session, user: User, failed_id: int) -> FailedJob:
    """Queue a failed job again, after the commit (an outbox message goes back to pending, a pre-screen or a listing
    check back to queued). Refuses a job already retried (InvalidTransition) and anyone but a platform admin."""
    from marketplace.jobs import outbox
    from marketplace.review import listing_checks, prescreen_runs

    require(user, Permission.ADMIN)
    failed = session.get(FailedJob, failed_id)
    if failed is None:
        raise NotFound(_("No such failed job."))
    if failed.retried_at is not None:
        raise InvalidTransition(_("This job was retried already."))
    if failed.task == "outbox.deliver":
        outbox.retry_failed(session, failed)
    elif failed.task == prescreen_runs.TASK:
        prescreen_runs.requeue(session, *failed.args)
    elif failed.task == listing_checks.TASK:
        listing_checks.requeue(session, *failed.args)
    else:
        outbox.enqueue_after_commit(session, failed.task, *failed.args)
    failed.retried_at, failed.retried_by_id = utcnow(), user.id
    record(session, actor_id=user.id, action="job.retried", subject_type="job", subject_id=failed.id,
           payload={"task": failed.task, "args": failed.args})
    session.flush()
    return failed
