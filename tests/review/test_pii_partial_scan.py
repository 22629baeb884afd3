"""A pre-screen that stops at its row cap says so: in its findings, its summary, the API, and the pages."""
from __future__ import annotations

import html
import io
import re

import pytest

from marketplace.listings.assets import upload_asset
from marketplace.review import services as review
from marketplace.review.checklist import ChecklistItem as I
from marketplace.review.checklist import PrescreenOutcome
from marketplace.review.prescreen import run_prescreen
from marketplace.review.prescreen_report import PrescreenReport
from tests.review.conftest import check_listing

ROWS = 30
BIG = ("AID_ID_Number,Latitude\n" + "".join(f"AID{n:05d},22.3\n" for n in range(ROWS))).encode()


@pytest.fixture
def capped(app, monkeypatch):
    monkeypatch.setitem(app.config, "PRESCREEN_MAX_ROWS", 10)  # the worker's scan and the seller's check alike


@pytest.fixture
def big_file(session, storage, seller, version):
    upload_asset(session, storage, seller, version, kind="deliverable", filename="readings.csv",
                 stream=io.BytesIO(BIG), content_type="text/csv", max_bytes=100_000)
    session.commit()
    return version


def test_a_capped_clean_scan_never_passes_and_says_what_it_scanned(storage, big_file):
    report = run_prescreen(big_file, storage, max_rows=10)
    [scanned] = [f for f in report.files if f.filename == "readings.csv"]
    assert (scanned.rows_scanned, scanned.truncated, scanned.total_rows, scanned.total_exact) == (10, True, ROWS, True)
    assert report.outcome == PrescreenOutcome.REVIEW and not report.complete  # the unscanned rows need a reviewer
    assert report.summary() == (f"scanned the first 10 of {ROWS} rows of readings.csv (deliverable); "
                                f"not checked beyond, so it needs review")
    [clean] = [f for f in report.findings_for(I.PERSONAL_INFORMATION) if f.rule == "scan_clean"]
    assert clean.outcome == PrescreenOutcome.REVIEW and "pass" not in clean.message.lower()
    assert f"the first 10 of {ROWS} rows" in clean.message and "not checked beyond" in clean.message
    assert report.outcome_for(I.PERSONAL_INFORMATION) == PrescreenOutcome.REVIEW
    [partial] = [f for f in report.findings_for(I.PERSONAL_INFORMATION) if f.rule == "scan_partial"]
    assert "not checked" in partial.message and partial.details["scope"] == f"the first 10 of {ROWS} rows"
    assert partial.outcome == PrescreenOutcome.REVIEW and "(the row cap)" in partial.message
    data = report.to_dict()
    assert data["complete"] is False and data["summary"] == report.summary()
    assert PrescreenReport.from_dict(data).files == report.files


def test_a_whole_scan_says_nothing_about_a_cap(storage, big_file):
    report = run_prescreen(big_file, storage, max_rows=1000)
    assert report.complete and report.summary() == "passed"
    assert not [f for f in report.findings if f.rule == "scan_partial"]


def test_a_report_stored_before_totals_were_counted_says_more_than(storage, big_file):
    data = run_prescreen(big_file, storage, max_rows=10).to_dict()
    for f in data["files"]:
        f.pop("total_rows"), f.pop("total_exact")
    old = PrescreenReport.from_dict(data)
    assert "readings.csv" in old.summary() and "the first 10 of more than 10 rows" in old.summary()


def test_the_reviewer_sees_the_cap_on_the_case_page_not_in_a_collapsed_section(
        capped, session, storage, seller, big_file, client, auth, reviewer):
    review.submit_version(session, seller, big_file, storage)
    session.commit()
    case = review.case_for_version(session, big_file)
    auth.login(reviewer.email)
    page = html.unescape(client.get(f"/review/cases/{case.id}").get_data(as_text=True))
    notice = page[page.index('class="notice notice-warning prescreen-partial"'):]
    assert f"scanned the first 10 of {ROWS} rows of readings.csv (deliverable); not checked beyond" in notice[:400]
    assert "<details" not in page[page.index('id="prescreen"'):page.index("prescreen-partial")]


def test_the_seller_sees_the_cap_in_the_result_of_check_my_listing(capped, client, auth, seller, big_file):
    auth.login(seller.email)
    page = html.unescape(client.post(f"/seller/products/{big_file.product_id}/versions/{big_file.number}/check",
                                     follow_redirects=True).get_data(as_text=True))
    result = page[page.index("Result"):]
    partial = result.index("Partial scan: the pre-screen scanned the first 10 of")
    assert partial < result.index("<details")  # above the collapsed list of files, not inside it


def test_the_api_report_carries_the_summary(capped, api, big_file):
    response = check_listing(api, f"/api/v1/products/{big_file.product_id}/versions/{big_file.number}/prescreen")
    assert response.status_code == 200
    body = response.get_json()
    assert body["complete"] is False and body["summary"].startswith("scanned the first 10 of")


def test_the_seller_sees_the_cap_beside_each_round(capped, session, storage, seller, big_file, client, auth):
    review.submit_version(session, seller, big_file, storage)
    session.commit()
    auth.login(seller.email)
    page = html.unescape(client.get(
        f"/seller/products/{big_file.product_id}/versions/{big_file.number}").get_data(as_text=True))
    round_line = page[page.index("Round 1"):page.index("Round 1") + 1500]
    assert f"scanned the first 10 of {ROWS} rows of readings.csv (deliverable); not checked beyond" in round_line


def test_the_audit_trail_records_whether_the_scan_was_complete(capped, session, storage, seller, big_file):
    from sqlalchemy import select

    from marketplace.audit.models import AuditEvent

    review.submit_version(session, seller, big_file, storage)
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "version.prescreened")).one()
    assert event.payload["complete"] is False and event.payload["rows"] >= 10


def test_the_reviewers_queue_row_shows_a_partial_scan(capped, session, storage, seller, big_file, client, auth,
                                                       reviewer):
    review.submit_version(session, seller, big_file, storage)
    session.commit()
    auth.login(reviewer.email)
    page = html.unescape(client.get("/review/").get_data(as_text=True))
    row = page[page.index(big_file.title_en):]
    row = row[:row.index("</tr>")]
    assert "review" in row[row.index("badge-prescreen-"):][:80]
    assert f"scanned the first 10 of {ROWS} rows of readings.csv (deliverable); not checked beyond" in row


def test_a_scan_stopped_by_the_cell_budget_needs_review_and_says_why(session, storage, seller, version):
    wide = (",".join(f"c{i}" for i in range(50)) + "\n" + "\n".join(",".join("7" * 50) for _ in range(40)) + "\n")
    upload_asset(session, storage, seller, version, kind="deliverable", filename="wide.csv",
                 stream=io.BytesIO(wide.encode()), content_type="text/csv", max_bytes=100_000)
    session.commit()
    report = run_prescreen(version, storage, max_rows=1000, max_cells=500)
    [partial] = [f for f in report.findings_for(I.PERSONAL_INFORMATION) if f.rule == "scan_partial"]
    assert partial.outcome == PrescreenOutcome.REVIEW and "(the cell budget)" in partial.message
    assert partial.details["scope"] == "the first 10 of 40 rows"
    assert not report.complete


def test_the_seller_never_reads_pass_on_a_partly_scanned_file(capped, client, auth, seller, big_file):
    auth.login(seller.email)
    page = html.unescape(client.post(f"/seller/products/{big_file.product_id}/versions/{big_file.number}/check",
                                     follow_redirects=True).get_data(as_text=True))
    report = page[page.index('id="prescreen"'):]
    assert "badge-prescreen-review" in report[:report.index("Partial scan")]  # the result: at most a warning
    item = report[report.index("Personal information"):]
    item = item[:item.index("</div>")]
    assert "badge-prescreen-pass" not in item and "Passed" not in item and "not checked beyond" in item


def test_a_report_stored_when_partial_scans_passed_reads_as_one_for_review(storage, big_file):
    data = run_prescreen(big_file, storage, max_rows=10).to_dict()
    [clean] = [f for f in data["findings"] if f["rule"] == "scan_clean"]
    clean.update(outcome="pass", message="Passed on 1 file(s), 10 row(s): ...",
                 text="Passed on %(files)s file(s), %(rows)s row(s)%(partial)s: no personal information found, "
                      "consistent with the declaration (%(declared)s).")
    old = PrescreenReport.from_dict(data)
    [clean] = [f for f in old.findings if f.rule == "scan_clean"]
    assert clean.outcome == PrescreenOutcome.REVIEW and "not checked beyond" in clean.message
    assert old.outcome == PrescreenOutcome.REVIEW


def test_a_large_file_scanned_in_part_says_how_much_of_it_was_read(session, storage, seller, version):
    rows = 20_000
    body = ("AID_ID_Number,Latitude\n" + "".join(f"AID{n:05d},22.3\n" for n in range(rows))).encode()
    upload_asset(session, storage, seller, version, kind="deliverable", filename="large.csv",
                 stream=io.BytesIO(body), content_type="text/csv", max_bytes=10_000_000)
    session.commit()
    report = run_prescreen(version, storage, max_rows=10)
    [scanned] = [f for f in report.files if f.filename == "large.csv"]
    assert scanned.size == len(body) and 0 < scanned.bytes_scanned < len(body)
    assert re.fullmatch(r"the first 10 of more than [\d,]+ rows \(about [\d.]+ KiB of 273\.5 KiB\)", scanned.scope)
    assert report.summary().startswith(f"scanned {scanned.scope} of large.csv (deliverable); not checked beyond")
    assert PrescreenReport.from_dict(report.to_dict()).files == report.files
