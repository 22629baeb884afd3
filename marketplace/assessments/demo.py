"""The demo's data service provider: an approved organization whose member signed a compliance assessment of a demo
seller's listed version, made through the real services (``flask demo load`` calls ``load_provider_demo``)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Membership, Organization, PlatformRole, User
from marketplace.accounts.services import create_organization, normalise_email, register_user
from marketplace.assessments import reports, services
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import AssessmentStatus
from marketplace.listings.models import DataProduct

ACCOUNT = {"email": "assessor@demo.exchange", "password": "demo-assessor-pass", "name": "Zhou Min",
           "what": "data service provider (Lujiazui Data Compliance Services)"}
ORGANIZATION = {"name": "Lujiazui Data Compliance Services",
                "description": "A data service provider (数商) writing compliance and quality assessments of data "
                               "products for listing on data exchanges in Shanghai and Hong Kong.",
                "contact_email": "assessments@lujiazui-compliance.example"}
QUALIFICATIONS = ("Member of the Shanghai Data Service Provider Association; compliance assessments by lawyers "
                  "admitted in the Mainland and Hong Kong; data quality audits against GB/T 36344-2018.")


def _provider_org(session: Session, created: Counter) -> tuple[User, Organization]:
    user = session.scalar(select(User).where(User.email == normalise_email(ACCOUNT["email"])))
    if user is None:
        created["users"] += 1
        user = register_user(session, email=ACCOUNT["email"], password=ACCOUNT["password"],
                             display_name=ACCOUNT["name"], locale="zh-Hans", platform_role=PlatformRole.NONE,
                             email_verified=True)
    org = session.scalar(select(Organization).join(Membership).where(
        Membership.user_id == user.id, Organization.name == ORGANIZATION["name"]))
    if org is None:
        created["organizations"] += 1
        org = create_organization(session, user, **ORGANIZATION)
    return user, org


def load_provider_demo(session: Session, users: dict[str, User], created: Counter) -> list[str]:
    """The approved demo provider and its signed compliance assessment of the demo seller's first listed product
    (once); the lines the demo's report adds for it."""
    assessor, org = _provider_org(session, created)
    provider = services.provider_of(session, org)
    if provider is None:
        provider = services.apply_as_provider(session, assessor, org, services=["compliance", "quality"],
                                              qualifications=QUALIFICATIONS)
        services.decide_application(session, users["admin@demo.exchange"], provider, approve=True)
        created["data service providers"] += 1
    seller = users["seller@demo.exchange"]
    product = session.scalar(select(DataProduct).where(
        DataProduct.organization_id == seller.memberships[0].organization_id,
        DataProduct.listed_version_id.is_not(None)).order_by(DataProduct.id))
    done = session.scalar(select(Assessment).where(Assessment.provider_id == provider.id,
                                                   Assessment.status == AssessmentStatus.SIGNED))
    if done is None and product is not None:
        version = product.listed_version
        asked = services.request_assessment(session, seller, version, provider, "compliance",
                                            "Before we offer it to Mainland buyers.")
        services.decide_request(session, assessor, asked, accept=True)
        reports.sign_report(session, assessor, asked, {
            "legal_bases": [f"Published by {s.publisher or s.title} under {s.licence_id}, which permits "
                            f"re-use with attribution; the product keeps the attribution." for s in version.sources],
            "personal_information": str(version.personal_info or "none"),
            "handling": "No record identifies a person; the files were scanned for identifiers and none were found.",
            "classification": str(version.classification or "general"),
            "classification_reason": "Aggregated public statistics; no important data under GB/T 43697-2024.",
            "cross_boundary": "No personal information or important data: providing it outside the Mainland needs "
                              "no security assessment, standard contract or certification.",
            "conclusion": "pass",
            "conclusion_text": "The sources may be re-used as the product does, and the version may be listed as "
                               "declared.",
        })
        created["assessments"] += 1
    return ["", "Data service provider: " + ORGANIZATION["name"] + f" ({ACCOUNT['email']} / {ACCOUNT['password']}), "
            "approved, with a signed compliance assessment at /providers."]
