"""What a signed report is worth today: of the version's files only while they match what it pinned, nothing once
withdrawn, and marked when its provider is suspended; a core-data report never concludes pass; the directory
and the approval hook ask the database only what they need."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select

from marketplace.assessments import reports, services
from marketplace.assessments.states import AssessmentKind, AssessmentStatus, ProviderStatus
from marketplace.audit.models import AuditEvent
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.review import services as review
from tests.assessments.conftest import COMPLIANCE_REPORT
from tests.assessments.test_signed_reports import approve, key_file, required, sign, signed, signer  # noqa: F401


def change_a_file(session, version):
    """The version's first file replaced behind the report's back (a new upload under the same name)."""
    asset = version.assets[0]
    asset.sha256, asset.size = "0" * 64, asset.size + 1
    session.commit()


def statements(app):
    """The SQL statements run until the list is read, collected from the engine."""
    seen: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", collect)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", collect)


# ---------------------------------------------------------------- 1. the files the report pinned


def test_a_report_stops_counting_once_the_version_files_change(session, required, reviewer, signed,  # noqa: F811
                                                               submitted):
    assert not signed.files_changed
    change_a_file(session, submitted)
    assert signed.files_changed
    with pytest.raises(ValidationFailed) as refused:
        approve(session, reviewer, submitted)
    assert "compliance assessment" in refused.value.errors["decision"][0]


def test_the_reviewer_reads_that_the_files_changed_and_the_product_page_drops_assessed_by(
        client, auth, session, reviewer, signed, submitted):  # noqa: F811
    case = review.case_for_version(session, submitted)
    approve(session, reviewer, submitted)
    session.commit()
    change_a_file(session, submitted)
    auth.login(reviewer.email)
    html = client.get(f"/review/cases/{case.id}").get_data(as_text=True)
    assert "The files changed after this assessment" in html and "Assessed by Lujiazui" not in html
    auth.logout()
    html = client.get(f"/products/{submitted.product.slug}").get_data(as_text=True)
    assert "Assessed by" not in html
    page = client.get(f"/assessments/{signed.number}").get_data(as_text=True)
    assert "The files changed after this assessment" in page


def test_the_sellers_list_says_the_files_changed(client, auth, session, seller, signed, submitted):  # noqa: F811
    url = f"/seller/{submitted.product.organization.slug}/assessments"
    auth.login(seller.email)
    assert "The files changed after this assessment" not in client.get(url).get_data(as_text=True)
    change_a_file(session, submitted)
    html = client.get(url).get_data(as_text=True)
    assert signed.number in html and "The files changed after this assessment" in html


# ---------------------------------------------------------------- 2. core data


@pytest.mark.parametrize("conclusion", ["pass", "pass_with_conditions"])
def test_a_core_data_report_cannot_conclude_pass(session, key_file, seller, submitted, provider, assessor,  # noqa: F811
                                                 conclusion):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**COMPLIANCE_REPORT, "classification": "core",
                                                       "conclusion": conclusion})
    assert "Core data may not be traded" in refused.value.errors["conclusion"][0]
    assert refused.value.message.startswith("Core data may not be traded")  # not "The report is not complete."
    reports.sign_report(session, assessor, asked, {**COMPLIANCE_REPORT, "classification": "core",
                                                   "conclusion": "fail"})
    assert asked.status == AssessmentStatus.SIGNED


def test_the_report_form_refuses_core_data_passing(client, auth, session, key_file, seller, submitted,  # noqa: F811
                                                   provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    session.commit()
    auth.login(assessor.email)
    form = {**COMPLIANCE_REPORT, "legal_bases-0": COMPLIANCE_REPORT["legal_bases"][0], "classification": "core"}
    del form["legal_bases"]
    page = client.post(f"/provider/{provider.organization.slug}/assessments/{asked.number}/sign", data=form)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Core data may not be traded" in html and "Public traffic statistics." in html
    assert asked.status == AssessmentStatus.ACCEPTED


# ---------------------------------------------------------------- 3. suspension


def test_an_admin_suspends_and_reinstates_a_provider_with_a_reason(session, admin, provider, provider_org,
                                                                  provider_owner):
    with pytest.raises(ValidationFailed):
        services.suspend_provider(session, admin, provider, suspend=True, reason=" ")
    with pytest.raises(Forbidden):
        services.suspend_provider(session, provider_owner, provider, suspend=True, reason="Self.")
    services.suspend_provider(session, admin, provider, suspend=True, reason="Accreditation lapsed.")
    assert provider.status == ProviderStatus.SUSPENDED and provider.suspension_reason == "Accreditation lapsed."
    assert services.approved_providers(session) == []
    with pytest.raises(NotFound):
        services.approved_provider(session, provider_org.slug)
    with pytest.raises(InvalidTransition):
        services.suspend_provider(session, admin, provider, suspend=True, reason="Again.")
    services.suspend_provider(session, admin, provider, suspend=False, reason="Accreditation renewed.")
    assert services.approved_providers(session) == [provider]
    moves = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["provider.suspend",
                                                                            "provider.reinstate"])).order_by(AuditEvent.id)).all()
    assert [(e.payload["to"], e.payload["reason"]) for e in moves] == [
        ("suspended", "Accreditation lapsed."), ("approved", "Accreditation renewed.")]


def test_a_suspended_provider_cannot_accept_or_sign(session, key_file, admin, seller, submitted, provider,  # noqa: F811
                                                    assessor):
    accepted = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, accepted, accept=True)
    waiting = services.request_assessment(session, seller, submitted, provider, "quality")
    services.suspend_provider(session, admin, provider, suspend=True, reason="Under investigation.")
    with pytest.raises(Conflict):
        services.decide_request(session, assessor, waiting, accept=True)
    with pytest.raises(Conflict):
        reports.sign_report(session, assessor, accepted, COMPLIANCE_REPORT)
    assert (accepted.status, waiting.status) == (AssessmentStatus.ACCEPTED, AssessmentStatus.REQUESTED)
    with pytest.raises(ValidationFailed):  # nor be asked
        services.request_assessment(session, seller, submitted, provider, "valuation")


def test_a_suspended_providers_report_says_so_verified_and_on_its_page(client, session, admin, signed,  # noqa: F811
                                                                        provider):
    services.suspend_provider(session, admin, provider, suspend=True, reason="Under investigation.")
    session.commit()
    body = client.post("/api/v1/certificates/verify", json=reports.report_document(signed)).get_json()
    assert body["valid"] is True and "suspended its provider" in body["reason"]
    assert "suspended its provider" in client.get(f"/assessments/{signed.number}").get_data(as_text=True)
    assert client.get(f"/providers/{provider.organization.slug}").status_code == 404
    assert provider.organization.name not in client.get("/providers").get_data(as_text=True)


def test_the_admin_page_suspends_with_a_reason(client, auth, session, admin, provider):
    auth.login(admin.email)
    refused = client.post(f"/admin/providers/{provider.id}/suspend", data={f"p{provider.id}-reason": ""})
    assert refused.status_code == 422 and "This field is required." in refused.get_data(as_text=True)
    done = client.post(f"/admin/providers/{provider.id}/suspend", data={f"p{provider.id}-reason": "Lapsed."})
    assert done.status_code == 303
    session.expire_all()
    assert provider.status == ProviderStatus.SUSPENDED
    assert "Reinstate" in client.get("/admin/providers").get_data(as_text=True)


# ---------------------------------------------------------------- 3. withdrawal


def test_a_provider_withdraws_a_signed_report_with_a_reason(client, session, required, reviewer, signed,  # noqa: F811
                                                            submitted, assessor, seller):
    with pytest.raises(ValidationFailed):
        reports.withdraw_report(session, assessor, signed, "")
    with pytest.raises(NotFound):
        reports.withdraw_report(session, seller, signed, "Not mine.")
    reports.withdraw_report(session, assessor, signed, "A source's licence was misread.")
    session.commit()
    assert signed.status == AssessmentStatus.WITHDRAWN
    with pytest.raises(InvalidTransition):
        reports.withdraw_report(session, assessor, signed, "Twice.")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.withdraw"))
    assert event.payload["reason"] == "A source's licence was misread."
    assert services.signed_for_versions(session, [submitted.id]) == []
    with pytest.raises(ValidationFailed):
        approve(session, reviewer, submitted)
    page = client.get(f"/assessments/{signed.number}").get_data(as_text=True)
    assert "withdrawn by its provider" in page and "misread" in page
    body = client.post("/api/v1/certificates/verify", json=reports.report_document(signed)).get_json()
    assert body["valid"] is True and body["status"] == "withdrawn" and "withdrawn" in body["reason"]
    verified = client.post("/certificates/verify", data={"document": json.dumps(reports.report_document(signed))})
    assert "withdrawn by its provider" in verified.get_data(as_text=True)


def test_the_work_page_withdraws(client, auth, session, signed, provider, assessor):  # noqa: F811
    auth.login(assessor.email)
    url = f"/provider/{provider.organization.slug}/assessments/{signed.number}"
    assert "Withdraw the report" in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/withdraw", data={"withdraw-reason": ""}).status_code == 422
    assert client.post(f"{url}/withdraw", data={"withdraw-reason": "Superseded."}).status_code == 303
    session.expire_all()
    assert signed.status == AssessmentStatus.WITHDRAWN and signed.withdrawal_reason == "Superseded."


# ---------------------------------------------------------------- 9. asking the database only what is needed


def test_the_directory_filters_by_service_in_sql(app, session, provider):
    seen, stop = statements(app)
    try:
        assert services.approved_providers(session, AssessmentKind.QUALITY) == [provider]
        assert services.approved_providers(session, AssessmentKind.VALUATION) == []
    finally:
        stop()
    directory = [s for s in seen if "FROM service_providers" in s]
    assert directory and all("services" in s.split("WHERE", 1)[1] for s in directory), directory


def test_the_approval_hook_reads_no_report(app, session, required, signed, submitted):  # noqa: F811
    session.expire_all()
    seen, stop = statements(app)
    try:
        assert services.approval_problems(session, submitted) == {}
    finally:
        stop()
    assessments = [s for s in seen if "FROM assessments" in s]
    assert assessments and not any("statement" in s or "signature" in s for s in assessments), assessments
