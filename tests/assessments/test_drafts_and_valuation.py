"""A provider saves a report unsigned and comes back to it, then signs it as a separate step; a provider declaring
valuation signs a valuation report (method, value range with currency, basis, assumptions) verified like the
others; the seller's version page asks for an assessment of that version."""
from __future__ import annotations

import pytest

from marketplace.assessments import reports, services
from marketplace.assessments.states import AssessmentStatus
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.licensing.certificates import verify_document
from tests.assessments.conftest import QUALITY_REPORT
from tests.licensing import test_certificates as shared

jwks, key_file, signer = shared.jwks, shared.key_file, shared.signer

VALUATION_REPORT = {"method": "income", "value_low": 1_200_000, "value_high": 1_800_000, "currency": "HKD",
                    "basis": "Five years of licence income from comparable traffic feeds.",
                    "assumptions": "Subscriptions renew at the 2025 rate."}


@pytest.fixture
def valuer(session, provider):
    """The provider declares valuation too."""
    provider.services = [*provider.services, "valuation"]
    session.commit()
    return provider


def accepted(session, seller, version, provider, assessor, kind):
    asked = services.request_assessment(session, seller, version, provider, kind)
    services.decide_request(session, assessor, asked, accept=True)
    session.commit()
    return asked


# ---------------------------------------------------------------- drafts


def test_a_draft_is_kept_unsigned_and_signed_later(session, key_file, seller, submitted, provider, assessor,
                                                   provider_owner):
    asked = accepted(session, seller, submitted, provider, assessor, "quality")
    half = {**QUALITY_REPORT, "summary": "", "completeness_percent": "99.5"}
    reports.save_draft(session, assessor, asked, half)
    session.commit()
    assert asked.status == AssessmentStatus.ACCEPTED and asked.draft["completeness_percent"] == "99.5"
    assert asked.signature is None
    with pytest.raises(ValidationFailed) as refused:  # signing the draft checks it in full
        reports.sign_report(session, assessor, asked)
    assert "summary" in refused.value.errors
    reports.save_draft(session, provider_owner, asked, {**half, "summary": "Complete and current."})
    reports.sign_report(session, assessor, asked)
    assert asked.status == AssessmentStatus.SIGNED and asked.statement["report"]["summary"] == "Complete and current."
    assert asked.draft is None
    with pytest.raises(Conflict):
        reports.save_draft(session, assessor, asked, half)


def test_only_the_provider_drafts_and_only_an_accepted_request(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    with pytest.raises(NotFound):
        reports.save_draft(session, seller, asked, QUALITY_REPORT)
    with pytest.raises(Conflict):
        reports.save_draft(session, assessor, asked, QUALITY_REPORT)
    services.decide_request(session, assessor, asked, accept=True)
    with pytest.raises(ValidationFailed):
        reports.save_draft(session, assessor, asked, {"summary": "x" * 70_000})


def test_the_work_page_saves_a_draft_and_shows_it_again(client, auth, session, key_file, seller, submitted,
                                                        provider, assessor):
    asked = accepted(session, seller, submitted, provider, assessor, "quality")
    url = f"/provider/{provider.organization.slug}/assessments/{asked.number}"
    auth.login(assessor.email)
    page = client.get(url).get_data(as_text=True)
    assert "Save as draft" in page and f"{url}/draft" in page
    saved = client.post(f"{url}/draft", data={"completeness_percent": "97.25", "records_examined": "",
                                              "accuracy_checks-0-check": "Dates parse", "summary": ""})
    assert saved.status_code == 303
    session.expire_all()
    assert asked.status == AssessmentStatus.ACCEPTED
    page = client.get(url).get_data(as_text=True)
    assert 'value="97.25"' in page and 'value="Dates parse"' in page and "Draft saved" in page


# ---------------------------------------------------------------- valuation


def test_a_valuation_report_is_signed_and_verifies(client, session, key_file, jwks, seller, submitted, valuer,
                                                   assessor):
    asked = accepted(session, seller, submitted, valuer, assessor, "valuation")
    reports.sign_report(session, assessor, asked, VALUATION_REPORT)
    session.commit()
    report = asked.statement["report"]
    assert report == {"method": "income", "value_range": {"low": 1_200_000, "high": 1_800_000, "currency": "HKD"},
                      "basis": VALUATION_REPORT["basis"], "assumptions": VALUATION_REPORT["assumptions"]}
    document = reports.report_document(asked)
    assert verify_document(document, jwks).valid
    body = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert body["valid"] is True and body["status"] == "signed"
    page = client.get(f"/assessments/{asked.number}").get_data(as_text=True)
    assert "Income method" in page and "12,000.00" in page and "18,000.00" in page


@pytest.mark.parametrize("change, field", [
    ({"method": "astrology"}, "method"), ({"value_low": -1}, "value_low"), ({"value_low": "1200"}, "value_low"),
    ({"value_low": 2_000_000}, "value_high"), ({"currency": "EUR"}, "currency"), ({"basis": " "}, "basis"),
    ({"assumptions": ""}, "assumptions"), ({"value_high": True}, "value_high"),
])
def test_a_valuation_report_must_be_complete(session, key_file, seller, submitted, valuer, assessor, change, field):
    asked = accepted(session, seller, submitted, valuer, assessor, "valuation")
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**VALUATION_REPORT, **change})
    assert field in refused.value.errors
    assert asked.status == AssessmentStatus.ACCEPTED


def test_a_provider_not_declaring_valuation_is_not_asked_for_one(session, seller, submitted, provider):
    with pytest.raises(ValidationFailed):
        services.request_assessment(session, seller, submitted, provider, "valuation")


def test_the_valuation_form_signs_through_the_page(client, auth, session, key_file, seller, submitted, valuer,
                                                   assessor):
    asked = accepted(session, seller, submitted, valuer, assessor, "valuation")
    url = f"/provider/{valuer.organization.slug}/assessments/{asked.number}"
    auth.login(assessor.email)
    assert "Valuation method" in client.get(url).get_data(as_text=True)
    form = {"method": "market", "value_low": "500.00", "value_high": "400.00", "currency": "CNY",
            "basis": "Comparable trades.", "assumptions": "None."}
    refused = client.post(f"{url}/sign", data=form)
    assert refused.status_code == 422 and "cannot be below" in refused.get_data(as_text=True)
    assert client.post(f"{url}/sign", data={**form, "value_high": "900.50"}).status_code == 303
    session.expire_all()
    assert asked.statement["report"]["value_range"] == {"low": 50_000, "high": 90_050, "currency": "CNY"}


# ---------------------------------------------------------------- the seller's version page


def test_the_version_page_asks_for_an_assessment_of_that_version(client, auth, seller, seller_org, submitted,
                                                                provider):
    auth.login(seller.email)
    page = client.get(f"/seller/products/{submitted.product_id}/versions/{submitted.number}").get_data(as_text=True)
    link = f"/seller/{seller_org.slug}/assessments?version={submitted.id}"
    assert "Ask for an assessment" in page and link in page
    form = client.get(link).get_data(as_text=True)
    assert f'<option selected value="{submitted.id}">' in form or f'value="{submitted.id}" selected' in form


@pytest.mark.parametrize("value, words", [
    (10**30, "from 0 to 1,000,000,000,000,000 in minor units"),
    (1.5, "whole amount in minor units (cents), without decimals"),
])
def test_a_valuation_amount_refused_says_the_real_limit(session, key_file, seller, submitted, valuer, assessor,
                                                        value, words):
    asked = accepted(session, seller, submitted, valuer, assessor, "valuation")
    with pytest.raises(ValidationFailed) as refused:
        reports.sign_report(session, assessor, asked, {**VALUATION_REPORT, "value_low": value})
    assert words in refused.value.errors["value_low"][0]
