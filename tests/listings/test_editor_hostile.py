"""The seller's editor against what a first-time or careless seller does: two windows on one step, stale forms and
odd input. Every refusal re-shows the step with the input kept and says why."""
from __future__ import annotations

import html
import io
import re

import pytest

from tests import factories
from tests.listings.test_views import COMPLIANCE_FORM, METADATA, PLAN_FORM, SOURCE_FORM, _dictionary_form, text, vurl


@pytest.fixture
def complete(session, storage, seller, draft):
    factories.complete_version(session, storage, seller, draft.latest_version)
    session.commit()
    return draft


def stamp_of(page: str) -> str:
    return re.search(r'name="saved_stamp" value="([0-9a-f]+)"', page).group(1)


STALE = "This step was changed in another window since you opened it: check and save again."


def test_a_details_save_from_an_older_window_is_refused_with_the_input_kept(seller_client, session, draft):
    assert seller_client.post(vurl(draft, "/details"), data=METADATA).status_code == 302
    tab_a = stamp_of(text(seller_client.get(vurl(draft, "/details"))))
    tab_b = stamp_of(text(seller_client.get(vurl(draft, "/details"))))
    assert tab_a == tab_b
    saved = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "spatial_coverage": "Tab B coverage", "saved_stamp": tab_b})
    assert saved.status_code == 302

    stale = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "tags": "traffic, tab a", "saved_stamp": tab_a})
    assert stale.status_code == 409
    page = html.unescape(text(stale))
    assert STALE in page
    assert 'value="traffic, tab a"' in page  # the input kept
    assert "Tab B coverage" in page  # what is saved now, shown
    session.expire_all()
    assert draft.latest_version.spatial_coverage == "Tab B coverage"
    assert "tab a" not in draft.latest_version.tags

    # Saving again from the re-shown form is the seller's choice, and goes through.
    again = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "tags": "traffic, tab a", "saved_stamp": stamp_of(text(stale))})
    assert again.status_code == 302
    session.expire_all()
    assert "tab a" in draft.latest_version.tags


def test_a_dictionary_or_compliance_save_from_an_older_window_is_refused(seller_client, session, draft):
    old_dictionary = stamp_of(text(seller_client.get(vurl(draft, "/dictionary"))))
    old_compliance = stamp_of(text(seller_client.get(vurl(draft, "/compliance"))))
    assert seller_client.post(vurl(draft, "/dictionary"),
                              data=_dictionary_form([{"name": "speed", "type": "number"}])).status_code == 302
    assert seller_client.post(vurl(draft, "/compliance"), data=COMPLIANCE_FORM).status_code == 302

    stale = seller_client.post(vurl(draft, "/dictionary"), data={
        **_dictionary_form([{"name": "volume", "type": "integer"}]), "saved_stamp": old_dictionary})
    assert stale.status_code == 409 and STALE in html.unescape(text(stale))
    assert 'value="volume"' in text(stale) and "speed" in text(stale)
    stale = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-source_legality": "Typed in tab A", "saved_stamp": old_compliance})
    assert stale.status_code == 409 and STALE in html.unescape(text(stale))
    assert "Typed in tab A" in text(stale)
    session.expire_all()
    assert [f.name for f in draft.latest_version.fields] == ["speed"]
    assert draft.latest_version.source_legality == "Public DATA.GOV.HK data."


# ---------------------------------------------------------------- every refusal says why, once


def summary(page: str) -> str:
    return html.unescape(page.split('class="form-errors" role="alert">')[1].split("</div>")[0])


@pytest.mark.parametrize(("row", "shown"), [
    ({"name": "speed", "type": "number", "unit": "u" * 80}, "Row 1, Unit"),
    ({"name": "speed", "type": "hexadecimal"}, "Row 1, Type"),
])
def test_a_refused_dictionary_row_says_why_beside_the_cell_and_in_the_summary(seller_client, draft, row, shown):
    response = seller_client.post(vurl(draft, "/dictionary"), data=_dictionary_form([row]))
    assert response.status_code == 422
    page = text(response)
    assert shown in summary(page)
    assert 'aria-invalid="true"' in page and 'class="field-error" id="dict-rows-0-' in page


def test_a_refused_note_for_the_reviewer_says_why(seller_client, session, storage, seller, reviewer, complete):
    from marketplace.review import services as review

    version = complete.latest_version
    factories.submit(session, seller, version, storage)
    case = review.case_for_version(session, version)
    review.claim_case(session, reviewer, case)
    review.decide(session, reviewer, case, "request_changes", "Cite the dataset.", answers=factories.ALL_PASS)
    session.commit()
    response = seller_client.post(vurl(complete, "/submit"), data={"note": "n" * 20_000})
    assert response.status_code == 422
    page = html.unescape(text(response))
    note = page.split('id="submit-note"')[0].rsplit('<div class="field', 1)[1] + page.split('id="submit-note"')[1]
    assert "n" * 20_000 in note and 'class="field-error"' in note
    assert 'class="form-errors" role="alert"' in page.split('id="submit"')[1]
    assert 'href="#submit-note"' in page


def test_every_error_of_a_source_shows_at_once_with_the_summary(seller_client, draft):
    response = seller_client.post(vurl(draft, "/sources"), data={
        **SOURCE_FORM, "source-title": "t" * 400, "source-url": "ftp://nowhere", "source-licence_id": "Made-Up"})
    assert response.status_code == 422
    shown = summary(text(response))
    assert "The source is not valid." in shown
    for label in ("Dataset title", "Dataset URL", "Licence"):
        assert f">{label}</a>" in shown, label


def test_no_message_shows_twice(seller_client, draft):
    response = seller_client.post(vurl(draft, "/assets"), content_type="multipart/form-data", data={
        "upload-kind": "sample", "upload-file": (io.BytesIO(b""), "empty.csv", "text/csv")})
    page = html.unescape(text(response))
    assert response.status_code == 422
    message = re.search(r"The file is empty[^<]*", page).group(0)
    assert summary(page).count(message) == 1 and page.count(message) == 2  # in the summary and by the field
    assert "notice-error" not in page
    response = seller_client.post(vurl(draft, "/dictionary"), data=_dictionary_form(
        [{"name": "speed", "type": "number"}, {"name": "Speed", "type": "number"}]))
    assert html.unescape(text(response)).count("The data dictionary is not valid.") == 1


# ---------------------------------------------------------------- plans


@pytest.mark.parametrize(("field", "value"), [("plan-licence_cap", "1.5"), ("plan-duration_days", "abc")])
def test_a_number_that_is_not_whole_says_so(seller_client, draft, field, value):
    response = seller_client.post(vurl(draft, "/plans"), data={**PLAN_FORM, field: value})
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert "Enter a whole number" in page and "too large" not in page


def test_a_free_plan_needs_no_price_and_a_paid_one_is_told_in_main_units(seller_client, session, draft):
    free = seller_client.post(vurl(draft, "/plans"), data={**PLAN_FORM, "plan-kind": "free", "plan-amount": ""})
    assert free.status_code == 302
    paid = seller_client.post(vurl(draft, "/plans"), data={**PLAN_FORM, "plan-name": "Paid", "plan-amount": ""})
    page = html.unescape(text(paid))
    assert paid.status_code == 422 and "A paid plan needs a price above zero" in page
    assert "minor units" not in page and "cents" not in page


# ---------------------------------------------------------------- the progress indicator


def step_item(page: str, title: str) -> str:
    return [li for li in page.split('<li class="editor-step')[1:] if f'class="editor-step-title">{title}<' in li][0]


def test_an_opened_incomplete_step_is_marked_and_says_what_it_misses(seller_client, draft):
    details = text(seller_client.get(vurl(draft, "/details")))
    missing = html.unescape(details.split('class="step-missing"')[1].split("</div>")[0])
    assert "Still missing on this step" in missing and "<li>" in missing
    page = text(seller_client.get(vurl(draft, "/sources")))
    item = step_item(page, "Details")
    assert "is-incomplete" in item and '<span class="editor-step-state">incomplete</span>' in item
    assert 'aria-hidden="true">!</span>' in item
    assert "is-incomplete" not in step_item(page, "Pricing plans")  # not opened yet: its number only


def test_steps_the_reviewer_failed_need_changes(seller_client, session, storage, seller, reviewer, complete):
    from marketplace.review import services as review

    version = complete.latest_version
    factories.submit(session, seller, version, storage)
    case = review.case_for_version(session, version)
    review.claim_case(session, reviewer, case)
    answers = {**factories.ALL_PASS, "source_legality": {"result": "fail", "comment": "Add attribution text."}}
    review.decide(session, reviewer, case, "request_changes", "Attribution, please.", answers=answers)
    session.commit()
    page = text(seller_client.get(vurl(complete, "/details")))
    sources = step_item(page, "Sources")
    assert "needs changes" in sources and "is-complete" not in sources
    assert "is-complete" in step_item(page, "Pricing plans")


def test_the_review_step_has_an_address_by_its_name(seller_client, draft):
    response = seller_client.get(vurl(draft, "/review"))
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft))


# ---------------------------------------------------------------- compliance


def test_an_empty_profile_cannot_be_attested(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/compliance"), data={
        "compliance-attest": "y", "compliance-attested_by_name": "New Seller"})
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert "Complete the profile before attesting it" in page
    for message in ("Declare the personal-information category.", "Declare the data classification level.",
                    "State how the sources were lawfully obtained.", "State whether data crosses borders."):
        assert message in summary(page), message
    session.expire_all()
    assert draft.latest_version.attested_at is None


def test_important_data_without_a_reason_is_refused_on_the_compliance_step(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-classification": "important", "compliance-classification_reason": " "})
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert 'aria-current="step">' in page and "Important data needs a stated reason." in summary(page)
    session.expire_all()
    assert draft.latest_version.classification != "important"


# ---------------------------------------------------------------- files


def upload(client, draft, name: str, body: bytes, kind: str = "sample", ctype: str = "application/octet-stream"):
    return client.post(vurl(draft, "/assets"), content_type="multipart/form-data", data={
        "upload-kind": kind, "upload-file": (io.BytesIO(body), name, ctype)})


# Files every upload refuses (the seller's page and the API alike), and what the refusal says.
REFUSED_UPLOADS = [
    ("notes.exe", b"MZ\x90\x00\x03\x00\x00\x00", "is a program or a script"),
    ("data.csv", b"MZ\x90\x00 looks like a program", "is a program or a script"),
    ("random.csv", bytes(range(256)) * 8, "does not look like CSV"),
    ("book.xlsx", b"a,b\n1,2\n", "does not look like XLSX"),
    ("photo.png", b"\x89PNG\r\n\x1a\n", "is not a file of this product's formats"),
]


@pytest.mark.parametrize(("name", "body", "says"), REFUSED_UPLOADS)
def test_a_file_the_role_cannot_hold_is_refused_at_upload(seller_client, session, draft, name, body, says):
    response = upload(seller_client, draft, name, body)
    assert response.status_code == 422
    assert says in html.unescape(summary(text(response)))
    session.expire_all()
    assert draft.latest_version.assets == []


def test_only_the_declared_formats_are_taken(seller_client, session, draft):
    assert seller_client.post(vurl(draft, "/details"), data={**METADATA, "formats": ["CSV"]}).status_code == 302
    refused = upload(seller_client, draft, "areas.geojson", b'{"type": "FeatureCollection", "features": []}')
    assert refused.status_code == 422 and "(CSV)" in html.unescape(text(refused))
    assert upload(seller_client, draft, "rows.csv", "名稱,數值\n甲,1\n".encode()).status_code == 302


def test_an_identical_file_is_taken_with_a_warning(seller_client, session, draft):
    assert upload(seller_client, draft, "big.csv", b"a,b\n1,2\n").status_code == 302
    again = upload(seller_client, draft, "copy.csv", b"a,b\n1,2\n", kind="deliverable")
    assert again.status_code == 302
    page = html.unescape(text(seller_client.get(again.headers["Location"])))
    assert "flash-warning" in page and "copy.csv is identical to big.csv (sample" in page
    session.expire_all()
    assert len(draft.latest_version.assets) == 2


# ---------------------------------------------------------------- the pre-screen's extent


def test_the_sellers_check_and_the_reviewers_scan_report_the_same_extent(app, seller_client, session, storage, draft,
                                                                         monkeypatch):
    from marketplace.review.listing_checks import latest_check, report_of
    from marketplace.review.prescreen import run_prescreen

    monkeypatch.setitem(app.config, "PRESCREEN_MAX_ROWS", 10)
    rows = "".join(f"AID{n:05d},22.3\n" for n in range(30))
    assert upload(seller_client, draft, "big.csv", f"AID,Latitude\n{rows}".encode(), kind="deliverable",
                  ctype="text/csv").status_code == 302
    version = draft.latest_version
    page = html.unescape(text(seller_client.post(vurl(draft, "/check"), follow_redirects=True)))
    checked = report_of(latest_check(session, version))
    scanned = run_prescreen(version, storage)  # what the worker runs on submission
    assert [f.scope for f in checked.files] == [f.scope for f in scanned.files] == ["the first 10 of 30 rows"]
    assert "the first 10 of 30 rows of big.csv" in page


# ---------------------------------------------------------------- Chinese


def test_in_chinese_the_breadcrumb_follows_the_heading_and_the_first_changelog_is_translated(
        client, auth, session, seller):
    product = factories.product(session, seller, title="Traffic detectors", title_zh="交通探测器")
    seller.locale = "zh-Hans"  # created in English, read in Chinese
    session.commit()
    auth.login(seller.email)
    assert product.latest_version.changelog == "First version."
    page = text(client.get(f"/seller/products/{product.id}/versions/1", headers={"Accept-Language": "zh-CN"}))
    crumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    heading = page.split("<h1>")[1].split("</h1>")[0]
    assert "交通探测器" in crumbs and "Traffic detectors" not in crumbs and "交通探测器" in heading
    assert "First version." not in page


# ---------------------------------------------------------------- sources


def test_a_saved_sources_attribution_title_and_address_are_edited_in_place(seller_client, session, draft):
    assert seller_client.post(vurl(draft, "/sources"), data=SOURCE_FORM).status_code == 302
    [source] = draft.latest_version.sources
    listing = text(seller_client.get(vurl(draft, "/sources")))
    edit_url = vurl(draft, f"/sources/{source.id}/edit")
    assert f'href="{edit_url}#source-{source.id}"' in listing
    form = text(seller_client.get(edit_url))
    assert f'id="source-{source.id}"' in form and f'name="edit{source.id}-attribution"' in form
    assert 'aria-current="step">' in form and "Sources" in form

    prefix = f"edit{source.id}-"
    bad = seller_client.post(edit_url, data={prefix + "title": "", prefix + "url": "nowhere",
                                             prefix + "attribution": "Kept attribution"})
    assert bad.status_code == 422
    assert "Kept attribution" in text(bad) and "The source is not valid." in summary(text(bad))

    saved = seller_client.post(edit_url, data={
        prefix + "title": "Road network", prefix + "url": "https://data.gov.hk/en-data/dataset/road-network",
        prefix + "publisher": "Lands Department", prefix + "attribution": "Contains CC-BY-4.0 data from the CSDI."})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(vurl(draft, "/sources"))
    session.expire_all()
    [source] = draft.latest_version.sources
    assert (source.title, source.attribution) == ("Road network", "Contains CC-BY-4.0 data from the CSDI.")
    assert source.licence_id == SOURCE_FORM["source-licence_id"]


# ---------------------------------------------------------------- dictionary proposals


def test_a_proposal_is_reached_by_a_redirect_and_same_named_files_are_told_apart(seller_client, session, draft):
    assert upload(seller_client, draft, "big.csv", b"a,b\n1,2\n").status_code == 302
    assert upload(seller_client, draft, "big.csv", b"a,b,c\n1,2,3\n", kind="deliverable").status_code == 302
    sample, deliverable = draft.latest_version.assets
    page = html.unescape(text(seller_client.get(vurl(draft, "/dictionary"))))
    assert "big.csv (sample, 8 B, uploaded" in page and "big.csv (deliverable, 12 B, uploaded" in page

    response = seller_client.post(vurl(draft, f"/assets/{deliverable.id}/infer"))
    assert response.status_code == 303 or response.status_code == 302
    assert response.headers["Location"].endswith(vurl(draft, f"/dictionary?proposal={deliverable.id}"))
    shown = text(seller_client.get(response.headers["Location"]))
    assert 'value="c"' in shown and "data-unsaved=" in shown
    assert "data-unsaved=" not in text(seller_client.get(vurl(draft, "/dictionary")))


def test_every_error_of_the_details_shows_at_once(seller_client, draft):
    response = seller_client.post(vurl(draft, "/details"), data={
        **METADATA, "title_en": "", "spatial_coverage": "s" * 600, "temporal_start": "2024-01-01",
        "temporal_end": "2023-01-01"})
    assert response.status_code == 422
    shown = summary(text(response))
    assert "Some fields are not valid." in shown
    for label in ("Title (English)", "Spatial coverage", "Temporal coverage until"):
        assert f">{label}</a>" in shown, label


def test_a_plan_saved_from_an_older_window_is_refused_with_the_input_kept(seller_client, session, draft):
    from tests.listings.test_views import PLAN_FORM as PLAN

    assert seller_client.post(vurl(draft, "/plans"), data=PLAN).status_code == 302
    [plan] = draft.latest_version.plans
    edit = vurl(draft, f"/plans/{plan.id}/edit")
    fields = {k.removeprefix("plan-"): v for k, v in PLAN.items()}
    old = stamp_of(text(seller_client.get(edit)))
    assert seller_client.post(edit, data={**fields, "name": "Saved in tab B", "saved_stamp": old}).status_code == 302
    stale = seller_client.post(edit, data={**fields, "name": "Typed in tab A", "saved_stamp": old})
    assert stale.status_code == 409
    page = html.unescape(text(stale))
    assert STALE in page and 'value="Typed in tab A"' in page and "Saved in tab B" in page
    session.expire_all()
    assert draft.latest_version.plans[0].name == "Saved in tab B"
