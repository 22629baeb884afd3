"""The rules of providers and assessment requests, through the services."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.assessments import reports, services
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import AssessmentStatus, ProviderStatus
from marketplace.audit.models import AuditEvent
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.notifications.models import Notification
from tests import factories
from tests.assessments.conftest import COMPLIANCE_REPORT, QUALITY_REPORT


def events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# ---------------------------------------------------------------- providers


def test_an_owner_applies_and_an_admin_approves(session, provider_owner, provider_org, admin):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["quality", "valuation"],
                                         qualifications="ISO 8000 data quality auditors.")
    assert applied.status == ProviderStatus.APPLIED and applied.services == ["quality", "valuation"]
    assert services.approved_providers(session) == []
    services.decide_application(session, admin, applied, approve=True)
    assert applied.status == ProviderStatus.APPROVED
    assert services.approved_providers(session) == [applied]
    assert services.approved_provider(session, provider_org.slug) is applied
    assert [e.payload["to"] for e in events(session, "provider.apply") + events(session, "provider.approve")] == [
        "applied", "approved"]
    assert session.scalars(select(Notification).where(Notification.user_id == provider_owner.id)).all()


def test_a_member_who_is_not_an_owner_cannot_apply(session, assessor, provider_org):
    with pytest.raises(Forbidden):
        services.apply_as_provider(session, assessor, provider_org, services=["quality"], qualifications="x")


@pytest.mark.parametrize("chosen, qualifications, field", [
    ([], "Accredited.", "services"), (["astrology"], "Accredited.", "services"), (["quality"], "  ", "qualifications"),
])
def test_an_application_needs_services_and_qualifications(session, provider_owner, provider_org, chosen,
                                                           qualifications, field):
    with pytest.raises(ValidationFailed) as refused:
        services.apply_as_provider(session, provider_owner, provider_org, services=chosen,
                                   qualifications=qualifications)
    assert field in refused.value.errors


def test_a_rejection_needs_a_reason_and_the_organization_may_apply_again(session, provider_owner, provider_org,
                                                                        admin):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["compliance"],
                                         qualifications="Lawyers.")
    with pytest.raises(ValidationFailed):
        services.decide_application(session, admin, applied, approve=False, reason=" ")
    services.decide_application(session, admin, applied, approve=False, reason="No accreditation shown.")
    assert applied.status == ProviderStatus.REJECTED and applied.decision_reason == "No accreditation shown."
    with pytest.raises(InvalidTransition):
        services.decide_application(session, admin, applied, approve=True)
    again = services.apply_as_provider(session, provider_owner, provider_org, services=["compliance"],
                                       qualifications="Lawyers, accredited by the association in 2024.")
    assert again is applied and again.status == ProviderStatus.APPLIED and again.decision_reason == ""
    with pytest.raises(Conflict):
        services.apply_as_provider(session, provider_owner, provider_org, services=["compliance"],
                                   qualifications="Twice.")


def test_only_admins_decide_applications(session, provider_owner, provider_org, reviewer):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["compliance"],
                                         qualifications="Lawyers.")
    for who in (reviewer, provider_owner):
        with pytest.raises(Forbidden):
            services.decide_application(session, who, applied, approve=True)


def test_an_application_keeps_its_document_in_the_storage(session, storage, provider_owner, provider_org):
    import io

    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["quality"],
                                         qualifications="See the certificate.", storage=storage,
                                         document=io.BytesIO(b"%PDF-1.4 accreditation"), filename="cert.pdf")
    assert applied.document_filename == "cert.pdf" and applied.document_size == 22
    assert storage.open(applied.document_key).read() == b"%PDF-1.4 accreditation"


# ---------------------------------------------------------------- requests


def test_a_seller_asks_and_the_provider_accepts(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance", "Before listing.")
    assert asked.status == AssessmentStatus.REQUESTED and asked.number.startswith("AS-")
    assert session.scalars(select(Notification).where(Notification.user_id == assessor.id)).all()
    services.decide_request(session, assessor, asked, accept=True)
    assert asked.status == AssessmentStatus.ACCEPTED
    assert [e.action for e in events(session, "assessment.request") + events(session, "assessment.accept")] == [
        "assessment.request", "assessment.accept"]


def test_a_draft_is_never_assessed(session, storage, seller, provider):
    draft = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    with pytest.raises(Conflict):
        services.request_assessment(session, seller, draft, provider, "compliance")


def test_only_the_products_organization_asks(session, submitted, provider, provider_owner):
    stranger = factories.user(session, organization="Elsewhere Ltd")
    for who in (stranger, provider_owner):
        with pytest.raises(NotFound):
            services.request_assessment(session, who, submitted, provider, "compliance")


def test_a_provider_is_asked_only_for_what_it_offers(session, seller, submitted, provider_owner, provider_org,
                                                      admin):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["quality"],
                                         qualifications="Auditors.")
    with pytest.raises(ValidationFailed):  # not approved yet
        services.request_assessment(session, seller, submitted, applied, "quality")
    services.decide_application(session, admin, applied, approve=True)
    with pytest.raises(ValidationFailed):
        services.request_assessment(session, seller, submitted, applied, "compliance")
    with pytest.raises(ValidationFailed):
        services.request_assessment(session, seller, submitted, applied, "valuation")
    assert services.request_assessment(session, seller, submitted, applied, "quality").kind == "quality"


def test_a_second_request_of_the_same_assessment_is_refused(session, seller, submitted, provider):
    services.request_assessment(session, seller, submitted, provider, "compliance")
    with pytest.raises(Conflict):
        services.request_assessment(session, seller, submitted, provider, "compliance")
    assert services.request_assessment(session, seller, submitted, provider, "quality").kind == "quality"


def test_a_decline_needs_a_reason_and_is_final(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    with pytest.raises(ValidationFailed):
        services.decide_request(session, assessor, asked, accept=False, reason="")
    services.decide_request(session, assessor, asked, accept=False, reason="Fully booked this month.")
    assert asked.status == AssessmentStatus.DECLINED
    with pytest.raises(InvalidTransition):
        services.decide_request(session, assessor, asked, accept=True)
    with pytest.raises(Forbidden):
        services.assessed_asset(asked, submitted.assets[0].id)
    # declined, the same request may be made again (to this provider or another)
    assert services.request_assessment(session, seller, submitted, provider, "quality").status == "requested"


def test_nobody_outside_the_provider_decides(session, seller, submitted, provider, reviewer):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    for who in (seller, reviewer):
        with pytest.raises(NotFound):
            services.decide_request(session, who, asked, accept=True)
        with pytest.raises(NotFound):
            services.assessment_for_provider(session, who, asked.number)


# ---------------------------------------------------------------- reports


def accepted(session, seller, version, provider, assessor, kind="compliance") -> Assessment:
    asked = services.request_assessment(session, seller, version, provider, kind)
    services.decide_request(session, assessor, asked, accept=True)
    return asked


def test_signing_a_compliance_report(session, seller, submitted, provider, assessor):
    asked = accepted(session, seller, submitted, provider, assessor)
    reports.sign_report(session, assessor, asked, COMPLIANCE_REPORT)
    s = asked.statement
    assert asked.status == AssessmentStatus.SIGNED and asked.conclusion == "pass" and asked.signature
    assert s["type"] == "AssessmentReport" and s["number"] == asked.number and s["kind"] == "compliance"
    assert s["provider"]["name"] == "Lujiazui Data Assurance" and s["signed_by"]["name"] == "Alan Assessor"
    assert s["report"]["sources"][0]["legal_basis"].startswith("DATA.GOV.HK")
    assert {f["sha256"] for f in s["files"]} == {a.sha256 for a in submitted.assets}
    assert services.signed_for_versions(session, [submitted.id]) == [asked]
    assert services.signed_assessment(session, asked.number) is asked
    with pytest.raises(InvalidTransition):  # signed once, never again
        reports.sign_report(session, assessor, asked, COMPLIANCE_REPORT)
    with pytest.raises(Forbidden):  # the version is no longer open to the provider
        services.assessed_asset(asked, submitted.assets[0].id)


def test_a_request_must_be_accepted_before_it_is_signed(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    with pytest.raises(InvalidTransition):
        reports.sign_report(session, assessor, asked, COMPLIANCE_REPORT)
    with pytest.raises(NotFound):
        services.signed_assessment(session, asked.number)


@pytest.mark.parametrize("change, field", [
    ({"legal_bases": []}, "legal_bases-0"),
    ({"personal_information": "maybe"}, "personal_information"),
    ({"handling": ""}, "handling"),
    ({"classification": ""}, "classification"),
    ({"cross_boundary": " "}, "cross_boundary"),
    ({"conclusion": "probably"}, "conclusion"),
    ({"conclusion_text": ""}, "conclusion_text"),
])
def test_an_incomplete_compliance_report_is_refused(session, seller, submitted, provider, assessor, change, field):
    asked = accepted(session, seller, submitted, provider, assessor)
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**COMPLIANCE_REPORT, **change})
    assert field in refused.value.errors
    assert asked.status == AssessmentStatus.ACCEPTED and asked.signature is None


def test_signing_a_quality_report(session, seller, submitted, provider, assessor):
    asked = accepted(session, seller, submitted, provider, assessor, "quality")
    reports.sign_report(session, assessor, asked, QUALITY_REPORT)
    r = asked.statement["report"]
    assert r["completeness_percent"] == "99.5" and r["records_examined"] == 1200 and r["timeliness_lag_days"] == 1
    assert r["accuracy_checks"] == [{"check": "Coordinates inside Hong Kong", "result": "passed",
                                     "detail": "1200 of 1200"}]


@pytest.mark.parametrize("change, field", [
    ({"completeness_percent": "100.01"}, "completeness_percent"),
    ({"completeness_percent": "-1"}, "completeness_percent"),
    ({"completeness_percent": "99.555"}, "completeness_percent"),
    ({"records_examined": "many"}, "records_examined"),
    ({"timeliness_lag_days": "-3"}, "timeliness_lag_days"),
    ({"accuracy_checks": []}, "accuracy_checks"),
    ({"accuracy_checks": [{"check": "Ranges", "result": "maybe", "detail": ""}]}, "accuracy_checks-0-result"),
    ({"summary": ""}, "summary"),
])
def test_an_incomplete_quality_report_is_refused(session, seller, submitted, provider, assessor, change, field):
    asked = accepted(session, seller, submitted, provider, assessor, "quality")
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**QUALITY_REPORT, **change})
    assert field in refused.value.errors


def test_only_the_providers_members_sign(session, seller, submitted, provider, assessor):
    asked = accepted(session, seller, submitted, provider, assessor)
    with pytest.raises(NotFound):
        reports.sign_report(session, seller, asked, COMPLIANCE_REPORT)


def test_the_provider_states_its_fee_on_accepting(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    for fee, currency in ((-1, "HKD"), (100, "EUR"), (100, None)):
        with pytest.raises(ValidationFailed) as refused:
            services.decide_request(session, assessor, asked, accept=True, fee=fee, currency=currency)
        assert "fee" in refused.value.errors
    assert asked.status == AssessmentStatus.REQUESTED
    services.decide_request(session, assessor, asked, accept=True, fee=880000, currency="CNY")
    assert (asked.fee_amount, asked.fee_currency) == (880000, "CNY")
    assert events(session, "assessment.accept")[0].payload["fee"] == 880000
