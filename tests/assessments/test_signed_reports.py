"""A signed assessment report verifies like a certificate (page, endpoint, offline command) and never passes for
another kind of document; approval may require a passing compliance assessment."""
from __future__ import annotations

import copy
import json

import pytest

from marketplace.assessments import reports, services
from marketplace.errors import ValidationFailed
from marketplace.licensing.certificates import verify_document
from marketplace.review import services as review
from tests import factories
from tests.assessments.conftest import COMPLIANCE_REPORT
from tests.licensing import test_certificates as shared

jwks, key_file, signer = shared.jwks, shared.key_file, shared.signer


def sign(session, seller, version, provider, assessor, report=COMPLIANCE_REPORT, kind="compliance"):
    asked = services.request_assessment(session, seller, version, provider, kind)
    services.decide_request(session, assessor, asked, accept=True)
    reports.sign_report(session, assessor, asked, report)
    session.commit()
    return asked


@pytest.fixture
def signed(session, key_file, seller, submitted, provider, assessor):
    return sign(session, seller, submitted, provider, assessor)


def test_the_signed_report_verifies_offline_and_any_change_fails(signed, jwks):
    document = reports.report_document(signed)
    result = verify_document(document, jwks)
    assert result.valid and result.kind == "assessment" and result.serial == signed.number
    for path in (("assessment", "report", "conclusion"), ("assessment", "provider", "name"),
                 ("assessment", "signed_by", "name"), ("assessment", "files"), ("assessment", "type")):
        changed = verify_document(shared.with_change(document, path), jwks)
        assert not changed.valid and not changed.malformed, path


def test_a_report_never_passes_for_a_certificate_or_a_voucher(signed, jwks):
    document = reports.report_document(signed)
    for kind in ("certificate", "voucher"):
        result = verify_document({kind: document["assessment"], "signature": document["signature"]}, jwks)
        assert not result.valid, kind


def test_the_verify_page_and_endpoint_check_the_report_against_the_record(client, signed):
    document = reports.report_document(signed)
    body = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert body == {"valid": True, "reason": body["reason"], "serial": signed.number, "kind": "assessment",
                    "status": "signed"}
    assert "matches the assessment report on record" in body["reason"]
    page = client.post("/certificates/verify", data={"document": json.dumps(document)}).get_data(as_text=True)
    assert "Valid." in page and signed.number in page and "Lujiazui Data Assurance" in page
    forged = copy.deepcopy(document)
    forged["assessment"]["number"] = "AS-2026-0000000000"
    body = client.post("/api/v1/certificates/verify", json=forged).get_json()
    assert body["valid"] is False


def test_a_report_signed_but_not_on_record_is_refused(client, session, signed, signer):
    from marketplace.signing.keys import canonical_bytes

    statement = {**copy.deepcopy(signed.statement), "number": "AS-2026-FFFFFFFFFF"}
    document = {"assessment": statement, "signature": {"alg": "EdDSA", "kid": signer.key_id,
                                                       "value": signer.sign(canonical_bytes(statement))}}
    body = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert body["valid"] is False and "never issued" in body["reason"]


def test_the_cli_verifies_a_report_offline(app, tmp_path, signed, jwks):
    keys, good, bad = tmp_path / "keys.json", tmp_path / "report.json", tmp_path / "tampered.json"
    keys.write_text(json.dumps(jwks))
    document = reports.report_document(signed)
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    bad.write_text(json.dumps(shared.with_change(document, ("assessment", "report", "conclusion_text"))))
    result = shared.run(app, "licences", "verify", str(good), "--keys", str(keys))
    assert result.exit_code == 0 and f"VALID: {signed.number}" in result.output, result.output
    result = shared.run(app, "licences", "verify", str(bad), "--keys", str(keys))
    assert result.exit_code == 1 and "does not match" in result.output


def test_the_public_report_page_and_its_download(client, signed, jwks):
    page = client.get(f"/assessments/{signed.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lujiazui Data Assurance" in html and "Alan Assessor" in html and "DATA.GOV.HK terms" in html
    download = client.get(f"/assessments/{signed.number}.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert verify_document(download.get_data(), jwks).valid


def test_an_unsigned_report_is_not_public(client, session, seller, submitted, provider):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    session.commit()
    assert client.get(f"/assessments/{asked.number}").status_code == 404
    assert client.get(f"/assessments/{asked.number}.json").status_code == 404


# ---------------------------------------------------------------- approval


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_COMPLIANCE_ASSESSMENT", True)


def approve(session, reviewer, version):
    case = review.case_for_version(session, version)
    if case.reviewer_id is None:
        review.claim_case(session, reviewer, case)
    return review.approve_version(session, reviewer, case, answers=factories.ALL_PASS)


def test_approval_without_a_compliance_assessment_is_refused_when_required(session, required, reviewer, submitted):
    with pytest.raises(ValidationFailed) as refused:
        approve(session, reviewer, submitted)
    assert "compliance assessment" in refused.value.errors["decision"][0]
    assert submitted.status == "in_review"


def test_a_failing_or_quality_assessment_does_not_count(session, required, key_file, reviewer, seller, submitted,
                                                        provider, assessor):
    sign(session, seller, submitted, provider, assessor, {**COMPLIANCE_REPORT, "conclusion": "fail"})
    from tests.assessments.conftest import QUALITY_REPORT
    sign(session, seller, submitted, provider, assessor, QUALITY_REPORT, "quality")
    with pytest.raises(ValidationFailed):
        approve(session, reviewer, submitted)


def test_a_passing_compliance_assessment_lets_the_version_be_approved(session, required, reviewer, signed,
                                                                     submitted):
    approve(session, reviewer, submitted)
    assert submitted.status == "listed"


def test_without_the_setting_approval_needs_no_assessment(session, reviewer, submitted):
    approve(session, reviewer, submitted)
    assert submitted.status == "listed"


def test_the_case_page_and_the_product_page_show_the_assessment(client, auth, session, reviewer, signed,
                                                                submitted):
    case = review.case_for_version(session, submitted)
    auth.login("reviewer@example.org")
    html = client.get(f"/review/cases/{case.id}").get_data(as_text=True)
    assert signed.number in html and "Assessed by Lujiazui Data Assurance" in html
    approve(session, reviewer, submitted)
    session.commit()
    auth.logout()
    html = client.get(f"/products/{submitted.product.slug}").get_data(as_text=True)
    assert "Assessed by" in html and f"/assessments/{signed.number}" in html


def test_the_reviewers_page_says_why_approval_waits_for_an_assessment(client, auth, session, required, reviewer,
                                                                      submitted):
    case = review.case_for_version(session, submitted)
    review.claim_case(session, reviewer, case)
    session.commit()
    auth.login(reviewer.email)
    form = {"decision": "approve", "comment": ""}
    for item, answer in factories.ALL_PASS.items():
        form[f"{item}-result"], form[f"{item}-comment"] = answer["result"], answer["comment"]
    refused = client.post(f"/review/cases/{case.id}/decision", data=form)
    assert refused.status_code == 422
    assert "needs a signed compliance assessment" in refused.get_data(as_text=True)
    assert submitted.status == "in_review"
