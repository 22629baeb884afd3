"""The pre-screen of a submitted round as a background job: queued by the submission (after it commits), claimed by
one worker, its progress (rows scanned) saved as it goes, its report saved once.

A worker claims a round for ``JOBS_LEASE_SECONDS`` and renews the claim with each progress report; a worker killed
mid-scan leaves a claim that runs out, and the sweep queues the round again. Each claim takes a new attempt number,
and a worker saves progress or the report only while the attempt is still its own, so a scan taken over is saved
once. A scan that raises goes back to the queue (the job is retried); after ``MAX_FAILURES`` the round's pre-screen
is failed, on the admin jobs page, until an admin runs it again.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace.audit.services import record
from marketplace.db import utcnow, write_intent
from marketplace.errors import InvalidTransition
from marketplace.review.checklist import PrescreenState
from marketplace.review.models import ReviewCase, ReviewRound
from marketplace.review.prescreen import run_prescreen
from marketplace.storage import Storage
from marketplace.uow import commit_before

TASK = "review.prescreen"
MAX_FAILURES = 4
PROGRESS_SECONDS = 0.5  # at most two progress writes a second

QUEUED, RUNNING, DONE, FAILED = (PrescreenState.QUEUED, PrescreenState.RUNNING, PrescreenState.DONE,
                                 PrescreenState.FAILED)


def lease() -> timedelta:
    """How long a scan's claim lasts before another worker may take it over."""
    return timedelta(seconds=int(current_app.config["JOBS_LEASE_SECONDS"]))


def scan_error(exc: Exception) -> str:
    """A failed scan's error as stored."""
    return f"{type(exc).__name__}: {exc}"[:4000]


def throttled(session: Session, write: Callable[[int], None]) -> Callable[[int], None]:
    """A scan's progress callback: at most every ``PROGRESS_SECONDS``, ``write(rows)`` in a transaction of its own
    (ending the scan's read first) committed at once, so other workers see the renewed claim while the scan goes
    on."""
    last = [0.0]

    def progress(rows: int) -> None:
        if time.monotonic() - last[0] < PROGRESS_SECONDS:
            return
        last[0] = time.monotonic()
        commit_before(session, "saving a scan's progress")  # ends the scan's read: the write begins its own
        with write_intent():
            write(rows)
            commit_before(session, "scanning on")

    return progress


def queue_prescreen(session: Session, case: ReviewCase, round_: ReviewRound) -> None:
    """Mark the round's pre-screen queued and queue its job for after the commit."""
    from marketplace.jobs.outbox import enqueue_after_commit

    round_.prescreen_state, round_.prescreen_rows, round_.prescreen_error = QUEUED, 0, ""
    round_.prescreen_outcome, round_.prescreen = None, {}
    round_.prescreen_failures, round_.prescreen_claimed_until = 0, None
    case.prescreen_state, case.prescreen_rows, case.prescreen_outcome = QUEUED, 0, None
    session.flush()
    enqueue_after_commit(session, TASK, round_.id)


def _set(session: Session, round_id: int, attempt: int | None, **values) -> bool:
    """Update the round (and its case, for the queue) if ``attempt`` is still the current one."""
    query = update(ReviewRound).where(ReviewRound.id == round_id)
    if attempt is not None:
        query = query.where(ReviewRound.prescreen_attempt == attempt, ReviewRound.prescreen_state == RUNNING)
    if not session.execute(query.values(**values)).rowcount:
        return False
    case_values = {k.removeprefix("case_"): v for k, v in values.items()
                   if k in ("prescreen_state", "prescreen_rows", "prescreen_outcome")}
    current = select(ReviewRound.case_id).where(ReviewRound.id == round_id).scalar_subquery()
    latest = select(ReviewRound.id).where(ReviewRound.case_id == current) \
        .order_by(ReviewRound.number.desc()).limit(1).scalar_subquery()
    if case_values:  # only while this round is the case's latest
        session.execute(update(ReviewCase).where(ReviewCase.id == current, latest == round_id).values(**case_values))
    return True


def _claim(session: Session, round_id: int) -> int | None:
    now = utcnow()
    with write_intent():
        claimed = session.execute(
            update(ReviewRound)
            .where(ReviewRound.id == round_id,
                   or_(ReviewRound.prescreen_state == QUEUED,
                       (ReviewRound.prescreen_state == RUNNING) & (ReviewRound.prescreen_claimed_until < now)))
            .values(prescreen_state=RUNNING, prescreen_attempt=ReviewRound.prescreen_attempt + 1,
                    prescreen_claimed_until=now + lease(), prescreen_rows=0)
        ).rowcount
        attempt = session.scalar(select(ReviewRound.prescreen_attempt).where(ReviewRound.id == round_id))
        if claimed:
            _set(session, round_id, None, prescreen_state=RUNNING, prescreen_rows=0)
        commit_before(session, "a pre-screen scan")  # every other worker sees the claim before the scan starts
    return attempt if claimed else None


def run_round_prescreen(session: Session, round_id: int, storage: Storage) -> str:
    """Run the queued pre-screen of round ``round_id``: "done", "skipped" (not queued, or another worker has it),
    "lost" (taken over meanwhile: nothing saved). Raises what the scan raised after putting the round back in
    the queue, or marks it failed after ``MAX_FAILURES`` (returns "failed")."""
    commit_before(session, "claiming a pre-screen")  # nothing is pending: the claim begins its own transaction
    attempt = _claim(session, round_id)
    if attempt is None:
        return "skipped"
    round_ = session.get(ReviewRound, round_id)
    version = round_.case.version
    progress = throttled(session, lambda rows: _set(session, round_id, attempt, prescreen_rows=rows,
                                                    prescreen_claimed_until=utcnow() + lease()))
    try:
        report = run_prescreen(version, storage, progress=progress)
    except Exception as exc:  # noqa: BLE001 - recorded on the round, then re-raised for the retry
        session.rollback()
        return _scan_failed(session, round_id, attempt, exc)
    rows = sum(f.rows_scanned for f in report.files)
    commit_before(session, "saving the pre-screen report")  # ends the scan's read transaction
    with write_intent():
        saved = _set(session, round_id, attempt, prescreen_state=DONE, prescreen=report.to_dict(),
                     prescreen_outcome=report.outcome, prescreen_rows=rows, prescreen_claimed_until=None,
                     prescreen_error="")
        if not saved:
            return "lost"
        round_ = session.get(ReviewRound, round_id)
        session.refresh(round_)
        record(session, actor_id=None, action="version.prescreened", subject_type="version",
               subject_id=round_.case.version_id, payload={"case_id": round_.case_id, "round": round_.number,
                                                           "outcome": report.outcome.value, "rows": rows,
                                                           "complete": report.complete})
    return "done"


def _scan_failed(session: Session, round_id: int, attempt: int, exc: Exception) -> str:
    error = scan_error(exc)
    with write_intent():
        failures = (session.scalar(select(ReviewRound.prescreen_failures).where(ReviewRound.id == round_id)) or 0) + 1
        final = failures >= MAX_FAILURES
        if not _set(session, round_id, attempt, prescreen_state=FAILED if final else QUEUED,
                    prescreen_failures=failures, prescreen_error=error, prescreen_claimed_until=None):
            return "lost"
        if final:
            from marketplace.jobs.models import FailedJob

            session.add(FailedJob(task=TASK, args=[round_id], error=error, attempts=failures))
        commit_before(session, "raising the scan's failure")  # the failure is kept although the job raises
    if final:
        return "failed"
    raise exc  # the job is retried, later each time


def requeue(session: Session, round_id: int) -> None:
    """Put a failed pre-screen back in the queue (the admin's retry); its job is queued after the commit."""
    from marketplace.jobs.outbox import enqueue_after_commit

    if _set(session, round_id, None, prescreen_state=QUEUED, prescreen_failures=0, prescreen_claimed_until=None):
        enqueue_after_commit(session, TASK, round_id)


def stalled_rounds(session: Session, *, overdue: timedelta) -> list[int]:
    """Rounds whose pre-screen job was lost: queued longer than ``overdue`` ago, or running under a claim that ran
    out (its worker was killed)."""
    now = utcnow()
    return list(session.scalars(
        select(ReviewRound.id).where(or_(
            (ReviewRound.prescreen_state == QUEUED) & (ReviewRound.submitted_at <= now - overdue),
            (ReviewRound.prescreen_state == RUNNING) & (ReviewRound.prescreen_claimed_until < now),
        )).order_by(ReviewRound.id)))


def require_prescreen_done(round_: ReviewRound, *, allow_failed: bool = False) -> None:
    """Refuse a decision (InvalidTransition) while the round's pre-screen has no report: queued or running, or
    failed unless ``allow_failed`` (sending a version back needs no report; approving does)."""
    state = PrescreenState(round_.prescreen_state)
    if state == DONE or (state == FAILED and allow_failed):
        return
    if state == FAILED:
        raise InvalidTransition("The automated pre-screen of this round failed, so there is no report to approve "
                                "against: an admin can run it again from the jobs page, or request changes.")
    rows = f" ({round_.prescreen_rows:,} rows scanned so far)" if state == RUNNING else ""
    raise InvalidTransition(f"The automated pre-screen is still {state.value}{rows}: decide once its report is in.")


def run_now(session: Session, round_: ReviewRound, storage: Storage) -> None:
    """Run a queued pre-screen inside the caller's transaction (the demo loader, which decides at once); the job
    queued for it finds it done and skips it."""
    report = run_prescreen(round_.case.version, storage)
    rows = sum(f.rows_scanned for f in report.files)
    round_.prescreen, round_.prescreen_outcome, round_.prescreen_state, round_.prescreen_rows = (
        report.to_dict(), report.outcome, DONE, rows)
    case = round_.case
    case.prescreen_outcome, case.prescreen_state, case.prescreen_rows = report.outcome, DONE, rows
    record(session, actor_id=None, action="version.prescreened", subject_type="version", subject_id=case.version_id,
           payload={"case_id": case.id, "round": round_.number, "outcome": report.outcome.value, "rows": rows,
                    "complete": report.complete})
    session.flush()
