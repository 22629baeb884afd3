"""The seller's "check my listing" as a background job: asked for by a POST (page or API), run by a worker with
the caps of the submission's pre-screen, its latest result stored per version (``ListingCheck``).

Asking while a check of the version is queued or running is the same check, queued once: the row is inserted if
there is none (``insert_ignoring_duplicate``) or put back in the queue only from done or failed (or running under
a claim that ran out), each in one statement, so two requests at once queue one job. A worker claims the check for
``JOBS_LEASE_SECONDS`` with a new attempt number and saves the report only while the attempt is still its own. A
scan that raises is retried by the queue; after ``MAX_FAILURES`` the check is failed and the seller may ask again.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import User
from marketplace.db import insert_ignoring_duplicate, utcnow, write_intent
from marketplace.listings.models import ProductVersion
from marketplace.review.models import ListingCheck
from marketplace.review.prescreen import run_prescreen
from marketplace.review.prescreen_report import PrescreenReport
from marketplace.review.prescreen_runs import (
    DONE,
    FAILED,
    MAX_FAILURES,
    QUEUED,
    RUNNING,
    lease,
    scan_error,
    throttled,
)
from marketplace.storage import Storage
from marketplace.uow import commit_before

TASK = "review.check_listing"


def request_check(session: Session, user: User, version: ProductVersion) -> tuple[ListingCheck, bool]:
    """Queue a check of ``version`` for after the commit, unless one is queued or running already; the check and
    whether this call queued it. Refuses anyone who may not see the seller's product."""
    require(user, Permission.VIEW_SELLER_PRODUCT, version.product)
    now = utcnow()
    fresh = {"state": QUEUED, "requested_by_id": user.id, "requested_at": now, "failures": 0, "claimed_until": None,
             "report": {}, "outcome": None, "rows": 0, "error": "", "finished_at": None}
    with write_intent():
        queued = insert_ignoring_duplicate(session, ListingCheck, {"version_id": version.id, "attempt": 0, **fresh},
                                           ["version_id"])
        if not queued:
            queued = bool(session.execute(
                update(ListingCheck)
                .where(ListingCheck.version_id == version.id,
                       or_(ListingCheck.state.in_((DONE, FAILED)),
                           (ListingCheck.state == RUNNING) & (ListingCheck.claimed_until < now)))
                .values(**fresh)).rowcount)
    check = latest_check(session, version)
    if queued:
        from marketplace.jobs.outbox import enqueue_after_commit

        enqueue_after_commit(session, TASK, check.id)
    return check, queued


def latest_check(session: Session, version: ProductVersion) -> ListingCheck | None:
    """The version's latest check as stored now, or None if the seller never asked for one."""
    return session.scalars(select(ListingCheck).where(ListingCheck.version_id == version.id)
                           .execution_options(populate_existing=True)).first()


def report_of(check: ListingCheck | None) -> PrescreenReport | None:
    """The check's report once it is done."""
    return PrescreenReport.from_dict(check.report) if check is not None and check.state == DONE else None


def _set(session: Session, check_id: int, attempt: int, **values) -> bool:
    return bool(session.execute(update(ListingCheck).where(
        ListingCheck.id == check_id, ListingCheck.attempt == attempt, ListingCheck.state == RUNNING
    ).values(**values)).rowcount)


def _claim(session: Session, check_id: int) -> int | None:
    now = utcnow()
    with write_intent():
        claimed = session.execute(
            update(ListingCheck)
            .where(ListingCheck.id == check_id,
                   or_(ListingCheck.state == QUEUED,
                       (ListingCheck.state == RUNNING) & (ListingCheck.claimed_until < now)))
            .values(state=RUNNING, attempt=ListingCheck.attempt + 1, claimed_until=now + lease())
        ).rowcount
        attempt = session.scalar(select(ListingCheck.attempt).where(ListingCheck.id == check_id))
        commit_before(session, "a listing check's scan")  # every other worker sees the claim before the scan
    return attempt if claimed else None


def run_check(session: Session, check_id: int, storage: Storage) -> str:
    """Run the queued check ``check_id``: "done", "skipped" (not queued, or another worker has it), "lost" (taken
    over meanwhile: nothing saved), "failed" (its last attempt failed); raises what the scan raised, for a retry."""
    commit_before(session, "claiming a listing check")  # nothing is pending: the claim begins its own transaction
    attempt = _claim(session, check_id)
    if attempt is None:
        return "skipped"
    check = session.get(ListingCheck, check_id)
    progress = throttled(session, lambda rows: _set(session, check_id, attempt, claimed_until=utcnow() + lease()))
    try:
        report = run_prescreen(check.version, storage, progress=progress)
    except Exception as exc:  # noqa: BLE001 - counted on the check, then re-raised for the retry
        session.rollback()
        return _failed(session, check_id, attempt, exc)
    rows = sum(f.rows_scanned for f in report.files)
    commit_before(session, "saving a listing check")  # ends the scan's read transaction
    with write_intent():
        saved = _set(session, check_id, attempt, state=DONE, report=report.to_dict(), outcome=report.outcome,
                     rows=rows, claimed_until=None, error="", finished_at=utcnow())
    return "done" if saved else "lost"


def _failed(session: Session, check_id: int, attempt: int, exc: Exception) -> str:
    error = scan_error(exc)
    with write_intent():
        failures = (session.scalar(select(ListingCheck.failures).where(ListingCheck.id == check_id)) or 0) + 1
        final = failures >= MAX_FAILURES
        if not _set(session, check_id, attempt, state=FAILED if final else QUEUED, failures=failures, error=error,
                    claimed_until=None, finished_at=utcnow() if final else None):
            return "lost"
        if final:
            from marketplace.jobs.models import FailedJob

            session.add(FailedJob(task=TASK, args=[check_id], error=error, attempts=failures))
        commit_before(session, "raising a listing check's failure")  # kept although the job raises
    if final:
        return "failed"
    raise exc  # the job is retried, later each time


def requeue(session: Session, check_id: int) -> None:
    """Put a failed check back in the queue (the admin's retry); its job is queued after the commit."""
    from marketplace.jobs.outbox import enqueue_after_commit

    if session.execute(update(ListingCheck).where(ListingCheck.id == check_id, ListingCheck.state == FAILED)
                       .values(state=QUEUED, failures=0, claimed_until=None, error="", finished_at=None)).rowcount:
        enqueue_after_commit(session, TASK, check_id)


def stalled_checks(session: Session, *, overdue: timedelta) -> list[int]:
    """Checks whose job was lost: queued longer than ``overdue`` ago, or running under a claim that ran out."""
    now = utcnow()
    return list(session.scalars(select(ListingCheck.id).where(or_(
        (ListingCheck.state == QUEUED) & (ListingCheck.requested_at <= now - overdue),
        (ListingCheck.state == RUNNING) & (ListingCheck.claimed_until < now),
    )).order_by(ListingCheck.id)))
