"""The seller's editor as steps: each step its own page with only its own forms, a refusal re-showing the step with
the input kept and nothing else touched, the progress read from the submission checklist, the licence picker with
open-data licences first, the look-up's own example, and the reviewer's requested changes on every step."""
from __future__ import annotations

import html
import io
import re

import pytest

from marketplace.listings.forms import LOOKUP_EXAMPLE
from marketplace.listings.licences import OPEN_DATA_LICENCES, grouped_licence_choices
from marketplace.listings.opendata import lookup_source
from marketplace.review import services as review
from tests import factories
from tests.listings.test_views import COMPLIANCE_FORM, METADATA, PLAN_FORM, SOURCE_FORM, _dictionary_form, text, vurl

# Each step: its address (after the version's) and a field only its own forms have.
STEPS = {
    "details": ("/details", 'name="title_en"'),
    "sources": ("/sources", 'name="source-title"'),
    "files": ("/files", 'name="upload-file"'),
    "dictionary": ("/dictionary", 'name="dict-rows-0-name"'),
    "plans": ("/plans", 'name="plan-name"'),
    "compliance": ("/compliance", 'name="compliance-attest"'),
    "review": ("", "/submit"),
}
STEP_TITLES = ["Details", "Sources", "Files", "Data dictionary", "Pricing plans", "Compliance", "Review and submit"]


@pytest.fixture
def complete(session, storage, seller, draft):
    factories.complete_version(session, storage, seller, draft.latest_version)
    session.commit()
    return draft


def current_step(page: str) -> str:
    return html.unescape(re.search(r'aria-current="step">.*?class="editor-step-title">([^<]+)<', page, re.S).group(1))


def complete_steps(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(
        r'class="editor-step[^"]*is-complete">.*?class="editor-step-title">([^<]+)<', page, re.S)]


# ---------------------------------------------------------------- one page per step


@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_is_a_page_with_only_its_own_forms(seller_client, draft, step):
    suffix, own = STEPS[step]
    response = seller_client.get(vurl(draft, suffix))
    assert response.status_code == 200
    page = text(response)
    assert own in page
    for other, (_suffix, marker) in STEPS.items():
        if other != step and other != "review":
            assert marker not in page, other
    assert current_step(page) == STEP_TITLES[list(STEPS).index(step)]
    assert page.count('class="editor-step') >= 7


@pytest.mark.parametrize(("suffix", "data", "then"), [
    ("/details", METADATA, "/sources"),
    ("/sources", SOURCE_FORM, "/sources"),
    ("/dictionary", _dictionary_form([{"name": "speed", "type": "number"}]), "/dictionary"),
    ("/plans", PLAN_FORM, "/plans"),
    ("/compliance", {**COMPLIANCE_FORM, "compliance-attest": "y", "compliance-attested_by_name": "Ada"}, ""),
])
def test_a_saved_step_goes_to_itself_or_the_next(seller_client, draft, suffix, data, then):
    response = seller_client.post(vurl(draft, suffix), data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft, then))


def test_an_upload_goes_back_to_the_files_step(seller_client, draft):
    response = seller_client.post(vurl(draft, "/assets"), content_type="multipart/form-data", data={
        "upload-kind": "sample", "upload-file": (io.BytesIO(b"a,b\n1,2\n"), "sample.csv", "text/csv")})
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft, "/files"))


BAD_INPUT = [
    ("/details", {**METADATA, "title_en": " ", "title_zh": "保留的标题"}, "details",
     ["An English title is required.", 'value="保留的标题"']),
    ("/sources", {**SOURCE_FORM, "source-licence_id": "Made-Up-1.0", "source-publisher": "Kept publisher"}, "sources",
     ["Choose a licence from the SPDX list", 'value="Kept publisher"']),
    ("/assets", {"upload-kind": "deliverable"}, "files", ["Choose a file to upload.", 'value="deliverable" selected',
                                                          'selected value="deliverable"']),
    ("/dictionary", _dictionary_form([{"name": "speed", "type": "number", "description": "first"},
                                      {"name": "Speed", "type": "integer", "description": "kept text"}]),
     "dictionary", ["Duplicate field name", 'value="kept text"']),
    ("/plans", {**PLAN_FORM, "plan-name": "Kept plan name", "plan-amount": "12.345"}, "plans",
     ["At most two decimal places", 'value="Kept plan name"', 'value="12.345"']),
    ("/compliance", {**COMPLIANCE_FORM, "compliance-source_legality": "Kept legality text", "compliance-attest": "y",
                     "compliance-attested_by_name": ""}, "compliance",
     ["Name the person who attests.", "Kept legality text"]),
]


@pytest.mark.parametrize(("suffix", "data", "step", "shown"), BAD_INPUT)
def test_bad_input_reshows_its_step_with_the_input_and_touches_no_other_step(seller_client, session, complete,
                                                                             suffix, data, step, shown):
    version = complete.latest_version
    before = (version.title_en, [s.title for s in version.sources], [a.id for a in version.assets],
              [f.name for f in version.fields], [p.name for p in version.plans], version.attested_at)
    response = seller_client.post(vurl(complete, suffix), data=data)
    assert response.status_code == 422
    page = text(response)
    assert current_step(page) == STEP_TITLES[list(STEPS).index(step)]
    if step == "files":
        assert shown[0] in page and (shown[1] in page or shown[2] in page)
    else:
        for words in shown:
            assert words in page, words
    # The other steps' forms are not on the page, and what they hold is as it was.
    for other, (_suffix, marker) in STEPS.items():
        if other not in (step, "review"):
            assert marker not in page, other
    session.expire_all()
    version = complete.latest_version
    assert before == (version.title_en, [s.title for s in version.sources], [a.id for a in version.assets],
                      [f.name for f in version.fields], [p.name for p in version.plans], version.attested_at)


def test_saving_the_dictionary_never_shows_or_clears_a_plan_form(seller_client, complete):
    """The hole as it was met: a typed plan name vanished after "Save dictionary". The dictionary's save answers
    with the dictionary step, which holds no plan form to clear; the plans step is another page."""
    response = seller_client.post(vurl(complete, "/dictionary"), data=_dictionary_form([
        {"name": "AID_ID_Number", "type": "string"}]), follow_redirects=True)
    assert response.request.path == vurl(complete, "/dictionary")
    assert 'name="plan-name"' not in text(response)
    refused = text(seller_client.post(vurl(complete, "/dictionary"), data=_dictionary_form([
        {"name": "x", "type": "string"}, {"name": "X", "type": "string"}])))
    assert 'name="plan-name"' not in refused


# ---------------------------------------------------------------- progress


def test_the_progress_follows_the_submission_checklist(seller_client, session, storage, seller, draft):
    page = text(seller_client.get(vurl(draft)))
    assert complete_steps(page) == []
    assert page.count('aria-label="incomplete"') == 6
    factories.complete_version(session, storage, seller, draft.latest_version)
    session.commit()
    page = text(seller_client.get(vurl(draft, "/plans")))
    assert complete_steps(page) == STEP_TITLES[:6]
    assert current_step(page) == "Pricing plans"
    factories.submit(session, seller, draft.latest_version, storage)
    page = text(seller_client.get(vurl(draft)))
    assert complete_steps(page) == STEP_TITLES  # submitted: the last step is done too


def test_old_addresses_open_the_right_step(seller_client, draft):
    assert seller_client.get(f"/seller/products/{draft.id}").headers["Location"].endswith(vurl(draft))
    assert seller_client.get(vurl(draft, "/edit")).headers["Location"].endswith(vurl(draft, "/details"))


# ---------------------------------------------------------------- the licence picker


def test_the_licence_picker_lists_open_data_licences_first_then_the_rest(seller_client, draft):
    page = text(seller_client.get(vurl(draft, "/sources")))
    tag, select = re.search(r'(<select[^>]*name="source-licence_id"[^>]*>)(.*?)</select>', page, re.S).groups()
    assert 'data-licence-picker' in tag and 'data-filter-label="Search all licences"' in tag
    blank, open_data, others = re.split(r"<optgroup ", select)
    assert re.findall(r'value="([^"]*)"', blank) == [""]
    assert 'label="Open-data licences"' in open_data and 'label="Other licences"' in others
    assert re.findall(r'value="([^"]*)"', open_data) == [
        "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-By-1.0", "ODbL-1.0", "PDDL-1.0", "OGL-UK-3.0",
        "LicenseRef-DATA.GOV.HK-Terms", "LicenseRef-DataShanghai-Terms", "LicenseRef-SODA-Data-Licence"]
    rest = re.findall(r'value="([^"]*)"', others)
    assert "MIT" in rest and "Apache-2.0" in rest and "CC-BY-4.0" not in rest
    assert rest == sorted(rest, key=str.lower)


def test_the_grouped_choices_hold_every_current_licence_once():
    open_data, others = grouped_licence_choices()
    ids = [i for i, _name in open_data + others]
    assert len(ids) == len(set(ids)) and [i for i, _name in open_data] == list(OPEN_DATA_LICENCES)
    assert ("CC-BY-4.0", "Creative Commons Attribution 4.0 International (CC-BY-4.0)") in open_data


def test_a_chosen_licence_of_the_rest_is_saved_and_shown_selected(seller_client, draft):
    response = seller_client.post(vurl(draft, "/sources"), data={**SOURCE_FORM, "source-licence_id": "MIT",
                                                                  "source-title": ""})
    assert response.status_code == 422
    assert re.search(r'<option selected value="MIT">', text(response))


# ---------------------------------------------------------------- the DATA.GOV.HK look-up's example


def test_the_lookup_finds_its_own_placeholder(seller_client, session, draft):
    page = text(seller_client.get(vurl(draft, "/sources")))
    placeholder = html.unescape(re.search(r'name="lookup-q"[^>]*placeholder="([^"]+)"|placeholder="([^"]+)"[^>]*'
                                          r'name="lookup-q"', page).group(1))
    assert placeholder == LOOKUP_EXAMPLE
    response = seller_client.post(vurl(draft, "/sources/lookup"), data={"lookup-q": placeholder})
    assert response.status_code == 200
    found = text(response)
    assert "Found “Traffic speed map”" in html.unescape(found)
    assert f'value="{LOOKUP_EXAMPLE}"' in found and 'value="Transport Department"' in found
    assert lookup_source(LOOKUP_EXAMPLE)["external_id"] == "hk-td-sm_1-traffic-speed-map"


# ---------------------------------------------------------------- uploads


def test_the_upload_form_works_without_script_and_carries_what_the_script_shows(seller_client, draft):
    page = text(seller_client.get(vurl(draft, "/files")))
    upload = page.split('enctype="multipart/form-data"')[1].split("</form>")[0]
    assert "data-upload" in upload and 'data-sending="Sending…"' in html.unescape(upload)
    assert '<div class="upload-progress" hidden>' in upload and "<progress" in upload
    assert 'src="/static/seller-editor.js"' in page and "<script>" not in page


# ---------------------------------------------------------------- requested changes


def test_the_requested_changes_head_every_step(seller_client, session, storage, seller, reviewer, complete):
    version = complete.latest_version
    factories.submit(session, seller, version, storage)
    case = review.case_for_version(session, version)
    review.claim_case(session, reviewer, case)
    answers = {**factories.ALL_PASS, "source_legality": {"result": "fail", "comment": "Attach the SODA terms."}}
    review.decide(session, reviewer, case, "request_changes", "Cite the detector locations dataset.", answers=answers)
    session.commit()
    for step, (suffix, _marker) in STEPS.items():
        page = text(seller_client.get(vurl(complete, suffix)))
        banner = page.split('class="notice notice-warning changes-requested"')[1].split("</section>")[0]
        assert "The reviewer asked for changes" in banner, step
        assert "Cite the detector locations dataset." in banner and "Attach the SODA terms." in banner
        assert page.index("changes-requested") < page.index("editor-steps")  # at the top, above the steps
        assert "Everything is in place" not in page
    review_step = text(seller_client.get(vurl(complete)))
    assert "Make the changes the reviewer asked for" in review_step and 'name="note"' in review_step


def test_no_banner_without_requested_changes(seller_client, complete):
    assert "changes-requested" not in text(seller_client.get(vurl(complete)))
    assert "Everything is in place" in text(seller_client.get(vurl(complete)))


def test_the_api_marks_the_open_data_licences(client):
    licences = {lic["id"]: lic for lic in client.get("/api/v1/licences").get_json()}
    assert {i for i, lic in licences.items() if lic["open_data"]} == set(OPEN_DATA_LICENCES)
    assert licences["MIT"]["open_data"] is False
