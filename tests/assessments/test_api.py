"""The providers' directory and signed reports in the JSON API: public, in the API's one error shape."""
from __future__ import annotations

import pytest

from marketplace.assessments import reports, services
from tests.assessments.conftest import QUALITY_REPORT
from tests.licensing import test_certificates as shared

key_file = shared.key_file


def test_the_directory_lists_approved_providers_only(client, session, provider, admin):
    from tests import factories

    waiting = factories.user(session, email="waiting@example.org", organization="Waiting Assessors")
    services.apply_as_provider(session, waiting, waiting.memberships[0].organization, services=["valuation"],
                               qualifications="Valuers.")
    session.commit()
    body = client.get("/api/v1/providers").get_json()
    assert [p["name"] for p in body] == ["Lujiazui Data Assurance"]
    assert body[0]["services"] == ["compliance", "quality"] and body[0]["approved_at"]
    assert client.get("/api/v1/providers?service=quality").get_json()[0]["slug"] == provider.organization.slug
    assert client.get("/api/v1/providers?service=valuation").get_json() == []
    assert client.get(f"/api/v1/providers/{waiting.memberships[0].organization.slug}").status_code == 404


@pytest.mark.parametrize("query", ["service=astrology", "colour=blue"])
def test_a_bad_query_is_a_clear_error(client, query):
    response = client.get(f"/api/v1/providers?{query}")
    assert response.status_code in (400, 422)
    assert set(response.get_json()) == {"status", "code", "message", "errors"}


def test_a_provider_and_its_signed_report(client, session, key_file, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.commit()
    assert client.get(f"/api/v1/assessments/{asked.number}").status_code == 404
    services.decide_request(session, assessor, asked, accept=True)
    reports.sign_report(session, assessor, asked, QUALITY_REPORT)
    session.commit()
    body = client.get(f"/api/v1/providers/{provider.organization.slug}").get_json()
    assert body["reports"] == [{"number": asked.number, "kind": "quality", "product": submitted.product.slug,
                                "version": submitted.label, "signed_at": body["reports"][0]["signed_at"]}]
    report = client.get(f"/api/v1/assessments/{asked.number}").get_json()
    assert report["document"] == reports.report_document(asked) and report["provider"] == provider.organization.slug
    verified = client.post("/api/v1/certificates/verify", json=report["document"]).get_json()
    assert verified["valid"] is True and verified["kind"] == "assessment"


def test_unknown_numbers_and_slugs_are_404_in_the_error_shape(client):
    for url in ("/api/v1/assessments/AS-2026-NOPE", "/api/v1/providers/nobody", "/api/v1/assessments/" + "x" * 300):
        response = client.get(url)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
