"""Objections: evidence under its own cap, one waiting objection per organization and notice, evidence through the
API, and the other waiting objections closed as superseded once one is upheld."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.errors import Conflict, ValidationFailed
from marketplace.i18n import in_locale_of
from marketplace.notifications.models import Notification
from marketplace.review import public_notice as notices
from marketplace.review.notice_models import NoticeStatus, Objection, ObjectionStatus
from tests import factories
from tests.review.conftest import org_of

MB = 1024 * 1024


def _pdf(size: int) -> io.BytesIO:
    return io.BytesIO(b"%PDF-1.4\n" + b"0" * (size - 9))


def _objections(session, notice) -> list[Objection]:
    session.expire_all()
    return list(session.scalars(select(Objection).where(Objection.notice_id == notice.id).order_by(Objection.id)))


def test_evidence_larger_than_a_page_form_but_under_its_setting_is_taken(client, auth, app, session, notice,
                                                                          objector, monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_EVIDENCE_MAX_BYTES", 4 * MB)
    assert app.config["FORM_MAX_BYTES"] < 3 * MB
    auth.login(objector.email)
    filed = client.post(f"/notices/{notice.id}", data={
        "organization_id": org_of(objector).id, "reasons": "The scan of the upstream licence is attached.",
        "evidence": (_pdf(3 * MB), "scan.pdf")}, content_type="multipart/form-data")
    assert filed.status_code == 302
    [objection] = _objections(session, notice)
    assert objection.evidence_size == 3 * MB and objection.evidence_filename == "scan.pdf"


def test_evidence_over_its_setting_is_refused_before_it_is_read(client, auth, app, session, notice, objector,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_EVIDENCE_MAX_BYTES", 1 * MB)
    auth.login(objector.email)
    refused = client.post(f"/notices/{notice.id}", data={
        "organization_id": org_of(objector).id, "reasons": "Too big.", "evidence": (_pdf(2 * MB), "big.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 413
    assert _objections(session, notice) == []
    auth.logout()
    anonymous = client.post(f"/notices/{notice.id}", data={"reasons": "x"})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_an_empty_evidence_file_is_refused_and_the_form_kept(client, auth, session, notice, objector):
    auth.login(objector.email)
    empty = client.post(f"/notices/{notice.id}", data={
        "organization_id": org_of(objector).id, "reasons": "Kept reasons", "evidence": (io.BytesIO(b""), "empty.pdf")},
        content_type="multipart/form-data")
    assert empty.status_code == 422 and "empty" in empty.text and "Kept reasons" in empty.text
    assert _objections(session, notice) == []


def test_a_second_objection_of_an_organization_while_its_first_waits_is_refused(client, auth, session, notice,
                                                                                 objector, reviewer):
    auth.login(objector.email)
    data = {"organization_id": org_of(objector).id, "reasons": "Names in the sample."}
    assert client.post(f"/notices/{notice.id}", data=data).status_code == 302
    twice = client.post(f"/notices/{notice.id}", data=data)
    assert twice.status_code == 409 and "already has an objection" in twice.text
    assert len(_objections(session, notice)) == 1
    with pytest.raises(Conflict):
        notices.object_to(session, objector, notice, org_of(objector), "Again.")
    session.rollback()
    # Once the first is decided, the organization may object again.
    notices.decide_objection(session, reviewer, _objections(session, notice)[0], "dismiss", "Road names.")
    session.commit()
    assert client.post(f"/notices/{notice.id}", data=data).status_code == 302
    assert [o.status for o in _objections(session, notice)] == [ObjectionStatus.DISMISSED, ObjectionStatus.PENDING]


@pytest.mark.parametrize(("tag", "words"), [
    ("en", ["The file may be at most 1 MB.", "fill in the form again"]),
    ("zh-Hans", ["文件最大为 1 MB。", "重新填写表单"]),
    ("zh-Hant-HK", ["檔案最大為 1 MB。", "重新填寫表格"]),
])
def test_a_too_large_objection_shows_the_form_again_with_the_cap_in_the_readers_words(
        client, auth, app, session, notice, objector, monkeypatch, tag, words):
    monkeypatch.setitem(app.config, "NOTICE_EVIDENCE_MAX_BYTES", 1 * MB)
    objector.locale = tag
    session.commit()
    auth.login(objector.email)
    refused = client.post(f"/notices/{notice.id}", data={
        "organization_id": org_of(objector).id, "reasons": "Typed before the file.",
        "evidence": (_pdf(2 * MB), "big.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 413
    assert all(word in refused.text for word in words), refused.text
    assert 'name="reasons"' in refused.text and 'name="evidence"' in refused.text  # the form, empty: body unread
    assert "Typed before the file." not in refused.text and "KiB" not in refused.text
    api = factories.TokenClient(client, factories.api_token(session, objector))
    filed = api.post(f"/api/v1/notices/{notice.id}/objections",
                     json={"organization_id": org_of(objector).id, "reasons": "See the letter."})
    evidence = f"/api/v1/notices/{notice.id}/objections/{filed.get_json()['id']}/evidence?filename=a.pdf"
    too_large = api.put(evidence, data=_pdf(2 * MB).getvalue(), content_type="application/octet-stream")
    assert too_large.status_code == 413 and too_large.get_json()["message"] == words[0]


def test_objecting_with_evidence_through_the_api(client, app, session, notice, objector, seller, monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_EVIDENCE_MAX_BYTES", 3 * MB)
    api = factories.TokenClient(client, factories.api_token(session, objector))
    url = f"/api/v1/notices/{notice.id}/objections"
    filed = api.post(url, json={"organization_id": org_of(objector).id, "reasons": "See the attached letter."})
    assert filed.status_code == 201
    twice = api.post(url, json={"organization_id": org_of(objector).id, "reasons": "See the attached letter."})
    assert twice.status_code == 409 and "organization_id" in twice.get_json()["errors"]
    evidence = f"{url}/{filed.get_json()['id']}/evidence"
    octets = {"content_type": "application/octet-stream"}
    assert client.put(f"{evidence}?filename=a.pdf", data=b"%PDF-1", **octets).status_code == 401
    assert api.put(f"{evidence}?filename=a.pdf", data=b"", **octets).status_code == 422
    assert api.put(f"{evidence}?filename=a.exe", data=b"MZ", **octets).status_code == 422
    assert api.put(f"{evidence}?filename=a.pdf", data=_pdf(4 * MB).getvalue(), **octets).status_code == 413
    seller_api = factories.TokenClient(client, factories.api_token(session, seller))
    foreign = seller_api.put(f"{evidence}?filename=a.pdf", data=b"%PDF-1", **octets)
    assert foreign.status_code == 403
    assert foreign.get_json()["message"] == "You may only add evidence to your own organization's objection."
    sent = api.put(f"{evidence}?filename=letter.pdf", data=_pdf(int(2.5 * MB)).getvalue(), **octets)
    assert sent.status_code == 200 and sent.get_json()["evidence_filename"] == "letter.pdf"
    again = api.put(f"{evidence}?filename=letter.pdf", data=b"%PDF-1", **octets)
    assert again.status_code == 409
    [objection] = _objections(session, notice)
    assert objection.evidence_size == int(2.5 * MB)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "objection.evidence", AuditEvent.subject_id == objection.id)) == 1
    spec = client.get("/api/v1/openapi.json").get_json()
    path = spec["paths"]["/api/v1/notices/{notice_id}/objections/{objection_id}/evidence"]["put"]
    assert "application/octet-stream" in path["requestBody"]["content"]


def test_upholding_one_objection_closes_the_others_as_superseded(session, notice, objector, reviewer):
    second = factories.user(session, email="second@example.org", organization="Delta Data")
    third = factories.user(session, email="third@example.org", organization="Lantau Data")
    session.commit()
    first = notices.object_to(session, objector, notice, org_of(objector), "Names in row 2.")
    other = notices.object_to(session, second, notice, org_of(second), "The licence forbids resale.")
    dismissed = notices.object_to(session, third, notice, org_of(third), "Unclear.")
    notices.decide_objection(session, reviewer, dismissed, "dismiss", "Clear enough.")
    session.commit()
    notices.decide_objection(session, reviewer, first, "uphold", "Names confirmed.")
    session.commit()
    session.expire_all()
    assert notice.status == NoticeStatus.WITHDRAWN
    assert [o.status for o in _objections(session, notice)] == [
        ObjectionStatus.UPHELD, ObjectionStatus.SUPERSEDED, ObjectionStatus.DISMISSED]
    other = session.get(Objection, other.id)
    assert "upheld" in other.decision_reason and other.decided_at is not None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.supersede",
                                                    AuditEvent.subject_id == other.id))
    assert event.payload["from"] == "pending" and event.payload["upheld_objection_id"] == first.id
    told = session.scalars(select(Notification).where(Notification.user_id == second.id)).all()
    assert any("closed" in n.subject for n in told)
    # Nothing waits any more: the review queue no longer lists the notice.
    assert notice not in notices.notices_with_objections(session, reviewer)


@pytest.mark.parametrize(("tag", "words"), [("zh-Hans", "此公示的另一项异议已成立"),
                                            ("zh-Hant-HK", "此公示的另一項異議已成立")])
def test_a_superseded_objections_reason_is_recorded_in_english_and_shown_in_the_readers_words(
        client, auth, session, notice, objector, reviewer, tag, words):
    second = factories.user(session, email="second@example.org", organization="Delta Data")
    second.locale = tag
    session.commit()
    first = notices.object_to(session, objector, notice, org_of(objector), "Names in row 2.")
    other = notices.object_to(session, second, notice, org_of(second), "The licence forbids resale.")
    session.commit()
    with in_locale_of(tag):  # the reviewer who upholds reads Chinese: the record stays English
        notices.decide_objection(session, reviewer, first, "uphold", "Names confirmed.")
    session.commit()
    assert session.get(Objection, other.id).decision_reason.startswith("Another objection to this notice was upheld")
    auth.login(second.email)  # the superseded objection's own organization reads it
    page = client.get(f"/notices/{notice.id}")
    assert page.status_code == 200 and words in page.text and "Another objection" not in page.text


def test_an_empty_evidence_file_is_refused_by_the_service(session, notice, objector, storage):
    with pytest.raises(ValidationFailed) as refused:
        notices.object_to(session, objector, notice, org_of(objector), "Reasons.", ("e.txt", io.BytesIO(b"")), storage)
    assert "evidence" in refused.value.errors
