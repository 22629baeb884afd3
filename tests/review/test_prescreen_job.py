"""The pre-screen off the request: submitting queues it, a job runs it after the commit, its state and progress are
shown to the seller and the reviewer (pages and API), and a decision waits for its report."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from huey.storage import MemoryStorage
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.jobs.models import FailedJob
from marketplace.jobs.queue import huey
from marketplace.listings.assets import upload_asset
from marketplace.review import prescreen_runs
from marketplace.review import services as review
from marketplace.review.checklist import PrescreenState
from marketplace.review.models import ReviewRound
from marketplace.worker.tasks import sweep_lost_jobs
from tests import factories
from tests.review.conftest import PASSING

V1 = "/api/v1"


class HeldJobs:
    """The queue holding jobs (as a real one does until a worker takes them); ``run()`` works them off here."""

    def run(self) -> int:
        done = 0
        while (data := huey.storage.dequeue()) is not None:
            huey.execute(huey.deserialize_task(data))
            done += 1
        return done


@pytest.fixture
def held_jobs():
    saved = huey._immediate, huey.storage
    huey._immediate, huey.storage = False, MemoryStorage("held")
    try:
        yield HeldJobs()
    finally:
        huey._immediate, huey.storage = saved


def _round(session, version) -> ReviewRound:
    session.expire_all()
    return review.case_for_version(session, version).current_round


def test_submitting_queues_the_prescreen_and_seller_and_reviewer_follow_it_until_done(
        session, client, auth, api, version, reviewer, held_jobs):
    product_id, number = version.product_id, version.number
    response = api.post(f"{V1}/products/{product_id}/versions/{number}/submit", json={})
    assert response.status_code == 200, response.get_json()
    round_ = _round(session, version)
    assert round_.prescreen_state == PrescreenState.QUEUED and round_.prescreen_outcome is None
    seen = api.get(f"{V1}/products/{product_id}/versions/{number}/review").get_json()["rounds"][0]
    assert seen["prescreen_state"] == "queued" and seen["prescreen"] is None
    reviewer_api = factories.TokenClient(client, factories.api_token(session, reviewer))
    [item] = reviewer_api.get(f"{V1}/review/cases").get_json()["items"]
    assert item["prescreen_state"] == "queued" and item["prescreen_outcome"] is None
    auth.login(reviewer.email)
    case_id = round_.case_id
    assert "prescreen-state" in client.get(f"/review/cases/{case_id}").get_data(as_text=True)
    assert ">queued</span>" in client.get("/review/").get_data(as_text=True)
    auth.logout()

    assert held_jobs.run() == 1
    round_ = _round(session, version)
    assert round_.prescreen_state == PrescreenState.DONE and round_.prescreen_outcome is not None
    assert round_.prescreen["findings"] and round_.prescreen_rows == 1
    assert round_.case.prescreen_state == PrescreenState.DONE
    assert round_.case.prescreen_outcome == round_.prescreen_outcome
    seen = api.get(f"{V1}/products/{product_id}/versions/{number}/review").get_json()["rounds"][0]
    assert seen["prescreen_state"] == "done" and seen["prescreen"]["findings"] and seen["prescreen_rows"] == 1
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == version.id,
                                                             AuditEvent.subject_type == "version")).all()
    assert events[-2:] == ["version.submit", "version.prescreened"]


def test_a_decision_waits_for_the_prescreen_report(session, storage, seller, reviewer, version, held_jobs):
    round_ = factories.submit(session, seller, version, storage)
    case = round_.case
    review.claim_case(session, reviewer, case)
    session.commit()
    with pytest.raises(review.InvalidTransition, match="still queued"):
        review.decide(session, reviewer, case, "approve", answers=PASSING)
    with pytest.raises(review.InvalidTransition, match="still queued"):
        review.decide(session, reviewer, case, "reject", "No.")
    session.rollback()
    held_jobs.run()
    case = review.case_for_version(session, version)
    review.decide(session, reviewer, case, "approve", answers=PASSING)
    assert case.version.status == "listed"


def test_progress_is_saved_as_the_rows_are_scanned(session, storage, seller, version, held_jobs, monkeypatch):
    rows = "".join(f"AID{n:05d},22.{n % 10}\n" for n in range(35_000))
    upload_asset(session, storage, seller, version, kind="deliverable", filename="big.csv",
                 stream=io.BytesIO(f"AID_ID_Number,Latitude\n{rows}".encode()), content_type="text/csv",
                 max_bytes=10_000_000)
    factories.submit(session, seller, version, storage)
    saved = []
    real_set = prescreen_runs._set

    def spy(session_, round_id, attempt, **values):
        if "prescreen_rows" in values and values.get("prescreen_state") is None:
            saved.append(values["prescreen_rows"])
        return real_set(session_, round_id, attempt, **values)

    monkeypatch.setattr(prescreen_runs, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(prescreen_runs, "_set", spy)
    held_jobs.run()
    # detectors.csv (1 row), then big.csv every 10,000 rows, then its end
    assert saved == [1, 10_001, 20_001, 30_001, 35_001]
    assert _round(session, version).prescreen_rows == 35_001


def test_a_failing_prescreen_is_retried_then_failed_onto_the_jobs_page_and_an_admin_reruns_it(
        session, storage, seller, reviewer, admin, version, held_jobs, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("storage unavailable")

    monkeypatch.setattr(prescreen_runs, "run_prescreen", broken)
    round_ = factories.submit(session, seller, version, storage)
    round_id = round_.id
    for attempt in range(1, prescreen_runs.MAX_FAILURES + 1):
        with pytest.raises(OSError) if attempt < prescreen_runs.MAX_FAILURES else _nothing():
            prescreen_runs.run_round_prescreen(session, round_id, storage)
        round_ = _round(session, version)
        assert round_.prescreen_failures == attempt and "storage unavailable" in round_.prescreen_error
    assert round_.prescreen_state == PrescreenState.FAILED
    [failed] = session.scalars(select(FailedJob)).all()
    assert failed.task == "review.prescreen" and failed.args == [round_id]

    case = round_.case
    review.claim_case(session, reviewer, case)
    with pytest.raises(review.InvalidTransition, match="failed"):
        review.decide(session, reviewer, case, "approve", answers=PASSING)
    session.rollback()

    monkeypatch.undo()
    from marketplace.worker import services as jobs

    jobs.retry_failed_job(session, admin, failed.id)
    session.commit()
    assert _round(session, version).prescreen_state == PrescreenState.QUEUED
    held_jobs.run()
    assert _round(session, version).prescreen_state == PrescreenState.DONE


def test_a_prescreen_whose_worker_died_is_taken_over_and_saved_once(session, storage, seller, version, held_jobs):
    round_ = factories.submit(session, seller, version, storage)
    huey.storage.flush_queue()  # the worker that took the job dies with it
    dead = prescreen_runs._claim(session, round_.id)  # a worker claimed it, then was killed
    assert dead == 1 and _round(session, version).prescreen_state == PrescreenState.RUNNING
    # its claim still holds
    assert sweep_lost_jobs() == {"outbox": 0, "prescreens": 0, "listing_checks": 0, "webhooks": 0}
    round_ = _round(session, version)
    round_.prescreen_claimed_until = utcnow() - timedelta(seconds=1)  # the claim ran out
    session.commit()
    assert sweep_lost_jobs() == {"outbox": 0, "prescreens": 1, "listing_checks": 0, "webhooks": 0}
    held_jobs.run()
    round_ = _round(session, version)
    assert round_.prescreen_state == PrescreenState.DONE and round_.prescreen_attempt == 2
    # The dead worker's attempt can save nothing any more.
    assert not prescreen_runs._set(session, round_.id, dead, prescreen_rows=99)
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "version.prescreened")).all()) == 1


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
