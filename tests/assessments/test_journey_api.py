"""The provider journey through the JSON API with tokens: apply, ask, accept or decline, save a draft, sign,
withdraw; every refusal in the API's one error shape with the right status, never a 500."""
from __future__ import annotations

import pytest

from marketplace.assessments import services
from marketplace.assessments.states import AssessmentStatus, ProviderStatus
from tests import factories
from tests.assessments.conftest import COMPLIANCE_REPORT
from tests.assessments.test_fees import fee_order, pay_by_card
from tests.licensing import test_certificates as shared

key_file = shared.key_file


def as_(client, session, user):
    return factories.TokenClient(client, factories.api_token(session, user))


def error(response, status: int) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"status", "code", "message", "errors"} and body["status"] == status
    return body


def test_an_owner_applies_through_the_api(client, session, provider_owner, provider_org, assessor, seller):
    url = f"/api/v1/organizations/{provider_org.slug}/provider"
    assert error(client.post(url, json={"services": ["quality"], "qualifications": "Q."}), 401)
    error(as_(client, session, assessor).post(url, json={"services": ["quality"], "qualifications": "Q."}), 403)
    error(as_(client, session, seller).post(url, json={"services": ["quality"], "qualifications": "Q."}), 404)
    owner = as_(client, session, provider_owner)
    assert "services" in error(owner.post(url, json={"services": ["astrology"], "qualifications": "Q."}),
                               422)["errors"]
    made = owner.post(url, json={"services": ["quality", "valuation"], "qualifications": "ISO 8000 auditors."})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["status"] == "applied" and made.get_json()["services"] == ["quality", "valuation"]
    error(owner.post(url, json={"services": ["quality"], "qualifications": "Again."}), 409)
    assert services.provider_of(session, provider_org).status == ProviderStatus.APPLIED


def test_the_whole_journey_through_the_api(client, session, key_file, seller, submitted, provider, assessor,
                                           provider_owner):
    sells, assesses = as_(client, session, seller), as_(client, session, assessor)
    ask = {"product_id": submitted.product_id, "version": submitted.number,
           "provider": provider.organization.slug, "kind": "compliance", "note": "Before listing."}
    error(sells.post("/api/v1/assessments", json={**ask, "provider": "nobody"}), 422)
    error(as_(client, session, provider_owner).post("/api/v1/assessments", json=ask), 404)
    made = sells.post("/api/v1/assessments", json=ask)
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["number"]
    assert made.get_json()["status"] == "requested" and made.get_json()["seller"] == submitted.product.organization.slug
    error(sells.post("/api/v1/assessments", json=ask), 409)

    base = f"/api/v1/assessments/{number}"
    error(sells.post(f"{base}/decision", json={"decision": "accept"}), 404)
    error(assesses.put(f"{base}/draft", json={"report": {"handling": "x"}}), 409)
    error(assesses.post(f"{base}/decision", json={"decision": "accept", "fee": -5, "currency": "HKD"}), 422)
    accepted = assesses.post(f"{base}/decision", json={"decision": "accept", "fee": 500_000, "currency": "HKD"})
    assert accepted.status_code == 200 and accepted.get_json()["fee"] == 500_000
    error(assesses.post(f"{base}/decision", json={"decision": "accept"}), 409)  # decided once
    # The fee is paid before the provider may work: signing waits for it.
    assert "not paid" in error(assesses.post(f"{base}/sign", json={}), 403)["message"]
    pay_by_card(session, seller, fee_order(session, services.assessment_for_provider(session, assessor, number)))

    half = {k: v for k, v in COMPLIANCE_REPORT.items() if k != "conclusion_text"}
    drafted = assesses.put(f"{base}/draft", json={"report": half})
    assert drafted.status_code == 200 and drafted.get_json()["draft"]["handling"] == half["handling"]
    assert drafted.get_json()["status"] == "accepted"
    error(assesses.put(f"{base}/draft", json={"report": {"handling": {"nested": ["x"]}}}), 422)
    assert "conclusion_text" in error(assesses.post(f"{base}/sign", json={}), 422)["errors"]
    refused = assesses.post(f"{base}/sign", json={"report": {**COMPLIANCE_REPORT, "classification": "core"}})
    assert "Core data may not be traded" in error(refused, 422)["errors"]["conclusion"][0]
    assesses.put(f"{base}/draft", json={"report": COMPLIANCE_REPORT})
    signed = assesses.post(f"{base}/sign", json={})
    assert signed.status_code == 200 and signed.get_json()["status"] == "signed", signed.get_json()
    assert signed.get_json()["conclusion"] == "pass" and signed.get_json()["draft"] is None
    error(assesses.post(f"{base}/sign", json={}), 409)

    assert "reason" in error(assesses.post(f"{base}/withdraw", json={"reason": " "}), 422)["errors"]
    withdrawn = assesses.post(f"{base}/withdraw", json={"reason": "A licence was misread."})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    public = client.get(base).get_json()
    assert public["status"] == "withdrawn" and "misread" in public["standing"]
    error(assesses.post(f"{base}/withdraw", json={"reason": "Twice."}), 409)


def test_a_decline_needs_a_reason_and_bad_bodies_are_refused(client, session, seller, submitted, provider,
                                                             assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.commit()
    assesses = as_(client, session, assessor)
    base = f"/api/v1/assessments/{asked.number}"
    error(assesses.post(f"{base}/decision", json={"decision": "decline"}), 422)
    error(assesses.post(f"{base}/decision", json={"decision": "maybe"}), 422)
    error(assesses.post(f"{base}/decision", json=["accept"]), 422)
    error(assesses.post("/api/v1/assessments/AS-NONE/decision", json={"decision": "accept"}), 404)
    declined = assesses.post(f"{base}/decision", json={"decision": "decline", "reason": "Busy."})
    assert declined.status_code == 200 and declined.get_json()["decline_reason"] == "Busy."
    session.expire_all()
    assert asked.status == AssessmentStatus.DECLINED


@pytest.mark.parametrize("report", [{"legal_bases": 5}, {"accuracy_checks": 7}, {"conclusion": ["pass"]},
                                    {"value_low": "x"}])
def test_a_report_of_the_wrong_shape_is_refused_not_crashed(client, session, key_file, seller, submitted, provider,
                                                            assessor, report):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    session.commit()
    response = as_(client, session, assessor).post(f"/api/v1/assessments/{asked.number}/sign",
                                                   json={"report": report})
    error(response, 422)


@pytest.mark.parametrize("path, method", [("sign", "post"), ("draft", "put")])
def test_an_unknown_report_field_is_refused_by_name(client, session, key_file, seller, submitted, provider,
                                                    assessor, path, method):
    asked = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, asked, accept=True)
    session.commit()
    call = getattr(as_(client, session, assessor), method)
    body = error(call(f"/api/v1/assessments/{asked.number}/{path}",
                      json={"report": {**COMPLIANCE_REPORT, "conclusoin": "pass"}}), 422)
    assert list(body["errors"]) == ["conclusoin"] and "conclusoin" in body["message"]
    session.expire_all()
    assert asked.status == AssessmentStatus.ACCEPTED and asked.draft is None
