"""The demo's data service provider: approved, its member can sign in, and its compliance assessment of a demo
seller's listed version is signed, public and verifies."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.services import authenticate
from marketplace.assessments import reports
from marketplace.assessments.demo import ACCOUNT, ORGANIZATION
from marketplace.assessments.models import Assessment, ServiceProvider
from marketplace.demo import load_demo
from marketplace.licensing.certificates import check_certificate


def test_the_demo_provider_signed_a_compliance_assessment(client, session, storage):
    report = load_demo(session, storage)
    session.commit()
    assert ACCOUNT["email"] in report and ACCOUNT["password"] in report
    user = authenticate(session, ACCOUNT["email"], ACCOUNT["password"])
    org = user.memberships[0].organization
    assert org.name == ORGANIZATION["name"]
    provider = session.scalar(select(ServiceProvider).where(ServiceProvider.organization_id == org.id))
    assert provider.status == "approved"
    signed = session.scalars(select(Assessment).where(Assessment.provider_id == provider.id)).one()
    assert signed.status == "signed" and signed.kind == "compliance" and signed.conclusion == "pass"
    assert signed.version.product.organization.slug == signed.statement["seller"]["slug"]
    assert signed.version.status == "listed"
    verification, record = check_certificate(session, reports.report_document(signed))
    assert verification.valid and record is signed
    page = client.get(f"/products/{signed.version.product.slug}").get_data(as_text=True)
    assert f"/assessments/{signed.number}" in page and ORGANIZATION["name"] in page
    assert ORGANIZATION["name"] in client.get("/providers").get_data(as_text=True)
