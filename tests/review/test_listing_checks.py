""""Check my listing" as a job: a POST queues the pre-screen (once while one is pending), the page says it is
checking (and asks again by itself) until the stored findings are in; the API answers 202 with the result's
address. The scan never runs inside the seller's request."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace import create_app
from marketplace.db import utcnow
from marketplace.jobs.models import FailedJob
from marketplace.review import listing_checks, prescreen_runs
from marketplace.review.checklist import PrescreenState
from marketplace.review.listing_checks import latest_check, run_check
from marketplace.review.models import ListingCheck
from marketplace.worker.tasks import sweep_lost_jobs
from tests import factories
from tests.support.held_jobs import hold_jobs

V1 = "/api/v1"


@pytest.fixture
def seller_client(client, auth, seller):
    auth.login(seller.email)
    return client


@pytest.fixture
def held(monkeypatch):
    """Jobs queued after a commit are kept here instead of running: what a worker would find in its queue."""
    return hold_jobs(monkeypatch, listing_checks.TASK)


def page_url(version, suffix="/check"):
    return f"/seller/products/{version.product_id}/versions/{version.number}{suffix}"


def api_url(version):
    return f"{V1}/products/{version.product_id}/versions/{version.number}/prescreen"


def test_a_post_queues_the_check_which_runs_after_the_commit_and_its_findings_are_shown(
        seller_client, session, version):
    response = seller_client.post(page_url(version))

    assert response.status_code == 302 and response.headers["Location"].endswith("/check#prescreen")
    check = latest_check(session, version)
    assert check.state == PrescreenState.DONE and check.report["findings"] and check.rows > 0
    page = seller_client.get(page_url(version))
    assert page.status_code == 200 and "Refresh" not in page.headers
    text = page.get_data(as_text=True)
    assert 'id="prescreen"' in text and "Personal information" in text and "Checking…" not in text
    assert version.status.value == "draft"  # checking submits nothing


def test_a_second_post_while_the_check_is_pending_queues_nothing_more(seller_client, session, storage, version,
                                                                      held):
    assert seller_client.post(page_url(version)).status_code == 302
    assert seller_client.post(page_url(version)).status_code == 302

    check = latest_check(session, version)
    assert len(held) == 1 and held[0] == (check.id,) and check.state == PrescreenState.QUEUED
    page = seller_client.get(page_url(version))
    assert "Checking…" in page.get_data(as_text=True) and page.headers["Refresh"] == "3"

    assert run_check(session, check.id, storage) == "done"  # the worker takes it
    assert run_check(session, check.id, storage) == "skipped"  # a second delivery of the job finds it done
    text = seller_client.get(page_url(version)).get_data(as_text=True)
    assert "Checking…" not in text and "Personal information" in text

    assert seller_client.post(page_url(version)).status_code == 302  # done: asking again is a new check
    assert len(held) == 2 and latest_check(session, version).state == PrescreenState.QUEUED


def test_the_api_answers_202_with_the_results_address_and_queues_once(api, session, storage, version, held):
    first = api.post(api_url(version))
    second = api.post(api_url(version))

    assert first.status_code == second.status_code == 202
    assert first.headers["Location"] == first.get_json()["result_url"] == api_url(version)
    assert first.get_json()["state"] == "queued" and first.get_json()["report"] is None
    assert len(held) == 1
    pending = api.get(api_url(version))
    assert pending.status_code == 200 and pending.get_json()["state"] == "queued"

    run_check(session, held[0][0], storage)

    done = api.get(api_url(version)).get_json()
    assert done["state"] == "done" and done["finished_at"] and done["report"]["findings"]
    assert set(done["report"]["counts"]) == {"pass", "review", "fail"}


def test_the_result_of_a_version_never_checked_is_404(api, version):
    response = api.get(api_url(version))
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_a_check_whose_worker_died_is_taken_over_by_the_sweep(session, storage, seller, version, held):
    check, queued = listing_checks.request_check(session, seller, version)
    session.commit()
    assert queued
    session.execute(ListingCheck.__table__.update().values(state="running", attempt=1,
                                                           claimed_until=utcnow() - timedelta(seconds=1)))
    session.commit()

    assert sweep_lost_jobs(timedelta(0))["listing_checks"] == 1  # runs at once in tests
    assert latest_check(session, version).state == PrescreenState.DONE


def test_a_failing_scan_is_retried_then_failed_and_the_seller_may_ask_again(
        seller_client, session, storage, version, held, monkeypatch):
    seller_client.post(page_url(version))
    check_id = held[0][0]

    def broken(*args, **kwargs):
        raise OSError("storage unreachable")

    monkeypatch.setattr(listing_checks, "run_prescreen", broken)
    for _attempt in range(listing_checks.MAX_FAILURES - 1):
        with pytest.raises(OSError):
            run_check(session, check_id, storage)
        assert latest_check(session, version).state == PrescreenState.QUEUED
    assert run_check(session, check_id, storage) == "failed"

    text = seller_client.get(page_url(version)).get_data(as_text=True)
    assert "The check could not be completed." in text
    seller_client.post(page_url(version))
    assert len(held) == 2 and latest_check(session, version).state == PrescreenState.QUEUED


def test_the_rate_limit_counts_the_requests_for_a_check_not_the_reads_of_its_result(
        database_url, tmp_path, api_token, version, held):
    limited_app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
        LICENCE_SIGNING_KEY_FILE=str(tmp_path / "key.pem"), RATELIMIT_ENABLED=True,
        RATELIMIT_PRESCREEN_CHECK="2 per minute")
    api = factories.TokenClient(limited_app.test_client(), api_token)

    assert [api.post(api_url(version)).status_code for _n in range(3)] == [202, 202, 429]
    assert [api.get(api_url(version)).status_code for _n in range(3)] == [200, 200, 200]


def test_a_long_scan_renews_its_claim_so_the_sweep_leaves_it_running(session, storage, seller, version, held,
                                                                     monkeypatch):
    check, _ = listing_checks.request_check(session, seller, version)
    session.commit()
    check_id = check.id
    real = listing_checks.run_prescreen
    seen = []

    def slow(version_, storage_, progress=None):
        # the scan has run almost as long as the claim: the next progress report must push the claim forward
        session.execute(ListingCheck.__table__.update().values(claimed_until=utcnow() + timedelta(seconds=1)))
        session.commit()
        progress(1)
        seen.append(session.scalar(select(ListingCheck.claimed_until).where(ListingCheck.id == check_id)))
        seen.append(listing_checks.stalled_checks(session, overdue=timedelta(hours=1)))
        return real(version_, storage_, progress=progress)

    monkeypatch.setattr(prescreen_runs, "PROGRESS_SECONDS", 0)  # the throttle both scans share
    monkeypatch.setattr(listing_checks, "run_prescreen", slow)
    assert run_check(session, check_id, storage) == "done"
    renewed, stalled = seen
    assert renewed.replace(tzinfo=None) > (utcnow() + timedelta(seconds=30)).replace(tzinfo=None)
    assert stalled == []


def test_a_check_failing_for_good_is_listed_on_the_jobs_page_and_an_admin_reruns_it(
        client, auth, session, storage, seller, admin, version, held, monkeypatch):
    check, _ = listing_checks.request_check(session, seller, version)
    session.commit()
    check_id = check.id
    real = listing_checks.run_prescreen

    def broken(*args, **kwargs):
        raise OSError("storage unreachable")

    monkeypatch.setattr(listing_checks, "run_prescreen", broken)
    for _attempt in range(listing_checks.MAX_FAILURES - 1):
        with pytest.raises(OSError):
            run_check(session, check_id, storage)
    assert session.scalars(select(FailedJob)).all() == []  # retried, not failed yet
    assert run_check(session, check_id, storage) == "failed"
    [failed] = session.scalars(select(FailedJob)).all()
    assert failed.task == listing_checks.TASK and failed.args == [check_id] and failed.attempts == 4

    auth.login(admin.email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert listing_checks.TASK in page and "storage unreachable" in page
    monkeypatch.setattr(listing_checks, "run_prescreen", real)
    assert client.post(f"/admin/jobs/{failed.id}/retry").status_code == 302
    assert held[-1] == (check_id,) and latest_check(session, version).state == PrescreenState.QUEUED
    assert run_check(session, check_id, storage) == "done"
