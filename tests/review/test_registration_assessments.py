"""A registration certificate names the assessments it rests on as signed; once one no longer stands (withdrawn by
its provider, or its provider suspended), the registration's page, its API and the online verification say so
beside it, while the signed certificate stays as issued."""
from __future__ import annotations

import copy

import pytest

from marketplace.assessments import reports
from marketplace.assessments import services as assessments
from marketplace.review import registration
from tests.assessments.conftest import (  # noqa: F401
    COMPLIANCE_REPORT,
    assessor,
    provider,
    provider_org,
    provider_owner,
)
from tests.licensing.test_certificates import key_file  # noqa: F401
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
