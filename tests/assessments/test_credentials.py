"""What the product page presents as "assessed by": only reports that stand (``reports.standing``: signed, not
withdrawn, of a provider not suspended, of the version's files) and never a compliance report concluding fail,
with the conclusion beside it; a failing report on a version already approved goes to the reviewers, audited."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.assessments import reports, services
from marketplace.audit.models import AuditEvent
from marketplace.notifications.models import Notification
from tests.assessments.conftest import COMPLIANCE_REPORT
from tests.assessments.test_signed_reports import approve, key_file, required, sign, signed, signer  # noqa: F401

FAILING = {**COMPLIANCE_REPORT, "classification": "core", "conclusion": "fail",
           "conclusion_text": "Core data: it may not be traded."}


def product_page(client, version) -> str:
    return client.get(f"/products/{version.product.slug}").get_data(as_text=True)


def test_a_standing_pass_shows_with_its_conclusion(client, session, reviewer, signed, submitted):  # noqa: F811
    approve(session, reviewer, submitted)
    session.commit()
    html = product_page(client, submitted)
    assert "Assessed by" in html and f"/assessments/{signed.number}" in html
    assert '<strong class="assessment-conclusion">Pass</strong>' in html


def test_a_failing_report_is_no_credential_on_the_product_page(client, session, key_file, reviewer, seller,  # noqa: F811
                                                               submitted, provider, assessor):
    failing = sign(session, seller, submitted, provider, assessor, report=FAILING)
    approve(session, reviewer, submitted)
    session.commit()
    html = product_page(client, submitted)
    assert "Assessed by" not in html and failing.number not in html


def test_a_suspended_providers_report_is_no_credential(client, session, admin, reviewer, signed, submitted,  # noqa: F811
                                                       provider):
    approve(session, reviewer, submitted)
    session.commit()
    assert "Assessed by" in product_page(client, submitted)  # and the page is kept
    services.suspend_provider(session, admin, provider, suspend=True, reason="Under investigation.")
    session.commit()
    assert "Assessed by" not in product_page(client, submitted)
    services.suspend_provider(session, admin, provider, suspend=False, reason="Cleared.")
    session.commit()
    assert "Assessed by" in product_page(client, submitted)


def test_a_suspended_providers_report_does_not_clear_approval(session, required, admin, reviewer, signed,  # noqa: F811
                                                              submitted, provider):
    services.suspend_provider(session, admin, provider, suspend=True, reason="Under investigation.")
    session.commit()
    assert "decision" in services.approval_problems(session, submitted)
    assert reports.standing(signed) is not None


def test_a_failing_report_signed_after_approval_reaches_the_reviewers(session, key_file, reviewer, seller,  # noqa: F811
                                                                       submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    approve(session, reviewer, submitted)
    session.commit()
    reports.sign_report(session, assessor, asked, FAILING)
    session.commit()
    notes = session.scalars(select(Notification).where(Notification.user_id == reviewer.id)).all()
    assert [n.link for n in notes if n.link == f"/assessments/{asked.number}"]
    assert any(f"{asked.number} concluded fail" in n.subject for n in notes)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.fail_on_cleared_version"))
    assert event is not None and event.subject_id == asked.id and event.payload["version_status"] == "listed"


def test_a_failing_report_before_review_goes_only_to_the_case(session, key_file, reviewer, seller, submitted,  # noqa: F811
                                                              provider, assessor):
    sign(session, seller, submitted, provider, assessor, report=FAILING)
    session.commit()
    assert session.scalar(select(Notification).where(Notification.user_id == reviewer.id)) is None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment.fail_on_cleared_version")) is None
