"""Conflicts of interest are of people: nobody assesses their own product through a second organization, by page
or API; and the small words of reports (a withdrawal's day, a core-data refusal, a second withdrawal), and a
request read by its two parties in the API."""
from __future__ import annotations

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import MemberRole, Membership
from marketplace.assessments import reports, services
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import AssessmentStatus
from marketplace.errors import Forbidden, InvalidTransition, ValidationFailed
from marketplace.i18n import day
from tests import factories
from tests.assessments.conftest import COMPLIANCE_REPORT, QUALITY_REPORT
from tests.licensing import test_certificates as shared

key_file = shared.key_file


@pytest.fixture
def own_provider(session, seller, admin):
    """A second organization of the seller's owner, approved as a provider for compliance and quality."""
    org = accounts.create_organization(session, seller, name="Harbour Assurance")
    applied = services.apply_as_provider(session, seller, org, services=["compliance", "quality"],
                                         qualifications="Ten years of data audits.")
    services.decide_application(session, admin, applied, approve=True)
    session.commit()
    return applied


def test_a_provider_sharing_a_member_with_the_seller_is_refused_the_request(session, seller, submitted,
                                                                            own_provider):
    with pytest.raises(ValidationFailed) as refused:
        services.request_assessment(session, seller, submitted, own_provider, "quality")
    assert "is also a member of Harbour Analytics" in refused.value.message
    assert refused.value.errors["provider"]
    session.rollback()
    assert session.query(Assessment).count() == 0


def test_the_request_page_and_the_api_say_why(client, auth, api, session, seller, seller_org, submitted,
                                              own_provider):
    auth.login(seller.email)
    page = client.post(f"/seller/{seller_org.slug}/assessments", data={
        "version": str(submitted.id), "provider": str(own_provider.id), "kind": "quality"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "none of whose members belongs to your organization" in html
    sent = api.post("/api/v1/assessments", json={"product_id": submitted.product_id, "version": submitted.number,
                                                 "provider": own_provider.organization.slug, "kind": "quality"})
    assert sent.status_code == 422 and "provider" in sent.get_json()["errors"]
    assert session.query(Assessment).count() == 0


@pytest.fixture
def joined(session, seller, submitted, provider, assessor):
    """A request accepted by the provider, after which the seller's owner joined the provider organization."""
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    services.decide_request(session, assessor, asked, accept=True)
    session.add(Membership(user_id=seller.id, organization_id=provider.organization_id, role=MemberRole.MEMBER))
    session.commit()
    return asked


def test_a_seller_member_may_not_sign_by_service_page_or_api(client, auth, session, key_file, seller, joined,
                                                             provider, assessor):
    with pytest.raises(Forbidden) as refused:
        reports.sign_report(session, seller, joined, QUALITY_REPORT)
    assert "member of Harbour Analytics" in refused.value.message
    session.rollback()
    auth.login(seller.email)
    page = client.post(f"/provider/{provider.organization.slug}/assessments/{joined.number}/sign", data={
        "completeness_percent": "99.5", "records_examined": "1200", "accuracy_checks-0-check": "Coordinates",
        "accuracy_checks-0-result": "passed", "timeliness_lag_days": "1", "summary": "Complete."})
    assert page.status_code == 403 and "member of Harbour Analytics" in page.get_data(as_text=True)
    api = factories.TokenClient(client, factories.api_token(session, seller))
    sent = api.post(f"/api/v1/assessments/{joined.number}/sign", json={"report": QUALITY_REPORT})
    assert sent.status_code == 403 and "member of Harbour Analytics" in sent.get_json()["message"]
    session.expire_all()
    assert session.get(Assessment, joined.id).status == AssessmentStatus.ACCEPTED
    reports.sign_report(session, assessor, joined, QUALITY_REPORT)  # a provider member outside the seller signs
    assert joined.status == AssessmentStatus.SIGNED


def test_a_seller_member_may_not_accept(session, seller, submitted, provider):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.add(Membership(user_id=seller.id, organization_id=provider.organization_id, role=MemberRole.MEMBER))
    session.flush()
    with pytest.raises(Forbidden):
        services.decide_request(session, seller, asked, accept=True)


# ---------------------------------------------------------------- words


def test_a_withdrawal_writes_its_day_as_the_reader_reads_days(app, session, key_file, seller, submitted, provider,
                                                              assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    services.decide_request(session, assessor, asked, accept=True)
    reports.sign_report(session, assessor, asked, QUALITY_REPORT)
    reports.withdraw_report(session, assessor, asked, "Sampled the wrong month.")
    words = reports.standing(asked)
    assert day(asked.withdrawn_at) in words and asked.withdrawn_at.strftime("%Y-%m-%d") not in words
    with pytest.raises(InvalidTransition) as again:
        reports.withdraw_report(session, assessor, asked, "Twice.")
    assert again.value.message == "This report was already withdrawn."


def test_core_data_passing_is_named_in_the_headline_beside_other_gaps(session, key_file, seller, submitted,
                                                                      provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**COMPLIANCE_REPORT, "classification": "core",
                                                       "conclusion": "pass", "handling": ""})
    assert "core data may not be traded" in refused.value.message
    assert set(refused.value.errors) == {"conclusion", "handling"}


# ---------------------------------------------------------------- a request in the API


def test_an_open_request_is_read_by_its_two_parties_only(client, session, seller, submitted, provider, assessor,
                                                         reviewer):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    services.decide_request(session, assessor, asked, accept=True, fee=120000, currency="HKD")
    reports.save_draft(session, assessor, asked, {"summary": "Half done."})
    session.commit()
    url = f"/api/v1/assessments/{asked.number}"
    for user in (seller, assessor):
        body = factories.TokenClient(client, factories.api_token(session, user)).get(url).get_json()
        assert body["status"] == "accepted" and body["fee_state"]["state"] == "unpaid"
        assert body["fee"] == 120000 and body["currency"] == "HKD"
        assert body["draft"] == ({"summary": "Half done."} if user is assessor else None)
    assert client.get(url).status_code == 404
    other = factories.TokenClient(client, factories.api_token(session, reviewer)).get(url)
    assert other.status_code == 404 and other.get_json()["code"] == "not_found"
