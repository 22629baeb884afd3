"""Assessment fixtures: an approved data service provider organization with an owner and a member, and a seller's
version submitted for review."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import MemberRole, Membership
from marketplace.assessments import services
from tests import factories

COMPLIANCE_REPORT = {
    "legal_bases": ["DATA.GOV.HK terms of use permit commercial reuse with attribution."],
    "personal_information": "none", "handling": "No personal information: detector readings only.",
    "classification": "general", "classification_reason": "Public traffic statistics.",
    "cross_boundary": "No personal information or important data: no cross-boundary mechanism is needed.",
    "conclusion": "pass", "conclusion_text": "The version may be listed as declared.",
}

QUALITY_REPORT = {
    "completeness_percent": "99.5", "records_examined": "1200",
    "accuracy_checks": [{"check": "Coordinates inside Hong Kong", "result": "passed", "detail": "1200 of 1200"},
                        {"check": "", "result": "", "detail": ""}],
    "timeliness_lag_days": "1", "summary": "Complete and current.",
}


@pytest.fixture
def provider_owner(session):
    user = factories.user(session, email="owner@assurance.example", organization="Lujiazui Data Assurance",
                          name="Olivia Owner")
    session.commit()
    return user


@pytest.fixture
def provider_org(provider_owner):
    return provider_owner.memberships[0].organization


@pytest.fixture
def assessor(session, provider_org):
    """A plain member of the provider organization."""
    user = factories.user(session, email="assessor@assurance.example", name="Alan Assessor")
    session.add(Membership(user_id=user.id, organization_id=provider_org.id, role=MemberRole.MEMBER))
    session.commit()
    return user


@pytest.fixture
def provider(session, provider_owner, provider_org, admin):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["compliance", "quality"],
                                         qualifications="Member of the Shanghai Data Service Provider Association.")
    services.decide_application(session, admin, applied, approve=True)
    session.commit()
    return applied


@pytest.fixture
def submitted(session, storage, seller):
    """The seller's version, complete and submitted for review."""
    product = factories.product(session, seller, title="Strategic road speeds")
    version = factories.complete_version(session, storage, seller, product.latest_version)
    factories.submit(session, seller, version, storage)
    return version
