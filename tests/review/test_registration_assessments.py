"""A registration certificate names the assessments it rests on as signed; once one no longer stands (withdrawn by
its provider, or its provider suspended), the registration's page, its API and the online verification say so
beside it, while the signed certificate stays as issued."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.assessments import reports
from marketplace.assessments import services as assessments
from marketplace.assessments.models import Assessment
from marketplace.db import utcnow
from marketplace.notifications.models import Notification
from marketplace.review import public_notice as notices
from marketplace.review import registration
from marketplace.review import services as review
from marketplace.review.notice_models import NoticeStatus, PublicNotice
from tests.assessments.conftest import (  # noqa: F401
    COMPLIANCE_REPORT,
    QUALITY_REPORT,
    assessor,
    provider,
    provider_org,
    provider_owner,
)
from tests.licensing.test_certificates import key_file  # noqa: F401
from tests.review.conftest import PASSING
from tests.review.test_registration import _certify, _verify


@pytest.fixture
def assessed(session, key_file, seller, claimed, provider, assessor):  # noqa: F811
    """A compliance report signed on the version while it is in review."""
    asked = assessments.request_assessment(session, seller, claimed.version, provider, "compliance")
    assessments.decide_request(session, assessor, asked, accept=True)
    reports.sign_report(session, assessor, asked, COMPLIANCE_REPORT)
    session.commit()
    return asked


@pytest.fixture
def certificate(session, assessed, claimed, reviewer):
    return _certify(session, claimed, reviewer)


def _page(client, certificate) -> str:
    return client.get(f"/registrations/{certificate.registration_number}").get_data(as_text=True)


def _api(client, certificate) -> dict:
    return client.get(f"/api/v1/registrations/{certificate.registration_number}").get_json()


def test_a_standing_assessment_is_listed_unmarked(client, session, certificate, assessed):
    assert [a["number"] for a in certificate.statement["assessments"]] == [assessed.number]
    assert registration.lapsed_assessments(session, certificate) == {}
    assert assessed.number in _page(client, certificate) and "No longer stands" not in _page(client, certificate)
    assert _api(client, certificate)["lapsed_assessments"] == {}
    result, _found = _verify(session, certificate)
    assert result.valid and "no longer stands" not in result.reason


def test_a_withdrawn_assessment_is_marked_and_the_signed_text_stays(client, session, certificate, assessed,
                                                                    assessor):  # noqa: F811
    issued = copy.deepcopy(certificate.statement)
    reports.withdraw_report(session, assessor, assessed, "A source's licence was misread.")
    session.commit()
    html = _page(client, certificate)
    assert "No longer stands:" in html and "withdrawn by its provider" in html and "misread" in html
    lapsed = _api(client, certificate)["lapsed_assessments"]
    assert list(lapsed) == [assessed.number] and "withdrawn" in lapsed[assessed.number]
    result, _found = _verify(session, certificate)
    assert result.valid and f"Assessment {assessed.number} no longer stands" in result.reason
    assert certificate.statement == issued


def test_a_suspended_providers_assessment_is_marked(client, session, admin, certificate, assessed, provider):  # noqa: F811
    assessments.suspend_provider(session, admin, provider, suspend=True, reason="Accreditation lapsed.")
    session.commit()
    assert "suspended its provider" in _page(client, certificate)
    assert "suspended its provider" in _api(client, certificate)["lapsed_assessments"][assessed.number]
    result, _found = _verify(session, certificate)
    assert f"Assessment {assessed.number} no longer stands" in result.reason


def test_a_certificate_rests_only_on_assessments_that_stand_when_issued(session, admin, assessed, provider,  # noqa: F811
                                                                        claimed, reviewer):
    assessments.suspend_provider(session, admin, provider, suspend=True, reason="Accreditation lapsed.")
    session.commit()
    issued = _certify(session, claimed, reviewer)
    assert issued.statement["assessments"] == [] and registration.lapsed_assessments(session, issued) == {}


FAILING = {**COMPLIANCE_REPORT, "conclusion": "fail", "conclusion_text": "A cited source forbids commercial reuse."}


def _close(session, claimed):
    notice = session.scalar(select(PublicNotice).where(PublicNotice.version_id == claimed.version.id))
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    return notice


def test_a_standing_failing_report_holds_the_notice_until_it_no_longer_stands(
        session, key_file, seller, claimed, provider, assessor, reviewer):  # noqa: F811
    asked = assessments.request_assessment(session, seller, claimed.version, provider, "compliance")
    assessments.decide_request(session, assessor, asked, accept=True)
    review.approve_version(session, reviewer, claimed, answers=PASSING)
    session.commit()
    reports.sign_report(session, assessor, asked, FAILING)  # on notice: the reviewers are told
    session.commit()
    told = session.scalars(select(Notification).where(Notification.user_id == reviewer.id)).all()
    assert any(asked.number in n.subject for n in told)
    notice = _close(session, claimed)
    assert notices.end_due_notices(session) == [] and notice.status == NoticeStatus.OPEN
    session.commit()
    assert registration.latest_for_product(session, claimed.version.product_id) is None
    reports.withdraw_report(session, assessor, asked, "The source's licence was misread.")
    session.commit()
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    issued = registration.certificates_of(session, notice.registration_number)[0]
    assert issued.statement["assessments"] == []


def test_the_page_shows_each_cited_reports_conclusion(client, certificate, assessed):
    assert certificate.statement["assessments"][0]["conclusion"] == "pass"
    assert "Pass" in _page(client, certificate).split(assessed.number, 1)[1].split("</div>", 1)[0]


def test_a_failing_report_is_never_cited(session, key_file, seller, claimed, provider, assessor):  # noqa: F811
    failing = assessments.request_assessment(session, seller, claimed.version, provider, "compliance")
    quality = assessments.request_assessment(session, seller, claimed.version, provider, "quality")
    for asked in (failing, quality):
        assessments.decide_request(session, assessor, asked, accept=True)
    reports.sign_report(session, assessor, failing, FAILING)
    reports.sign_report(session, assessor, quality, QUALITY_REPORT)
    session.commit()
    assert reports.standing(failing) is None  # it stands, and still is no ground for a registration
    assert [a["number"] for a in registration.assessments_for(session, claimed.version)] == [quality.number]


def test_a_certificate_that_cites_a_failing_report_says_so(client, session, certificate, assessed):
    """A certificate issued before failing reports were left out (its report's recorded conclusion set to fail as
    such a certificate found it): its page, API and verification say so beside the signed text."""
    session.execute(update(Assessment).where(Assessment.id == assessed.id).values(conclusion="fail"))
    session.commit()
    session.expire_all()
    assert "concludes fail" in _api(client, certificate)["lapsed_assessments"][assessed.number]
    assert "concludes fail" in _page(client, certificate)
    result, _found = _verify(session, certificate)
    assert f"Assessment {assessed.number} no longer stands" in result.reason and "concludes fail" in result.reason
