"""Licence certificates on the web: the page, the downloads, the published keys and the verification endpoints."""
from __future__ import annotations

import copy
import io
import json

import pytest
import rdflib.plugins.shared.jsonld.context as jsonld_context
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import ODRL2 as ODRL
from rdflib.namespace import RDF

from marketplace.db import utcnow
from marketplace.licensing.states import LicenceStatus
from tests.licensing import test_certificates as shared
from tests.licensing.test_certificates import issue_licence, other_signer, with_change

# The certificate fixtures of test_certificates, for this module's tests too.
document, jwks, key_file, licence, licensee, product, signer = (
    shared.document, shared.jwks, shared.key_file, shared.licence, shared.licensee, shared.product, shared.signer)

BASE = "http://127.0.0.1:5000"
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")

# The term definitions this policy uses, copied from the published ODRL context (https://www.w3.org/ns/odrl.jsonld),
# so that the document parses offline exactly as a JSON-LD processor that fetches the context reads it.
ODRL_CONTEXT = {"@context": {
    "odrl": "http://www.w3.org/ns/odrl/2/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "uid": {"@type": "@id", "@id": "odrl:uid"}, "type": "@type",
    "Agreement": "odrl:Agreement", "profile": {"@type": "@id", "@id": "odrl:profile"},
    "target": {"@type": "@id", "@id": "odrl:target"}, "Party": "odrl:Party",
    "assignee": {"@type": "@id", "@id": "odrl:assignee"}, "assigner": {"@type": "@id", "@id": "odrl:assigner"},
    "attributedParty": {"@type": "@id", "@id": "odrl:attributedParty"},
    "compensatedParty": {"@type": "@id", "@id": "odrl:compensatedParty"},
    "action": {"@type": "@vocab", "@id": "odrl:action"},
    "Permission": "odrl:Permission", "permission": {"@type": "@id", "@id": "odrl:permission"},
    "Prohibition": "odrl:Prohibition", "prohibition": {"@type": "@id", "@id": "odrl:prohibition"},
    "use": "odrl:use", "derive": "odrl:derive", "distribute": "odrl:distribute", "sell": "odrl:sell",
    "Duty": "odrl:Duty", "duty": {"@type": "@id", "@id": "odrl:duty"},
    "attribute": "odrl:attribute", "compensate": "odrl:compensate",
    "Constraint": "odrl:Constraint", "constraint": {"@type": "@id", "@id": "odrl:constraint"},
    "refinement": {"@type": "@id", "@id": "odrl:refinement"},
    "operator": {"@type": "@vocab", "@id": "odrl:operator"}, "rightOperand": "odrl:rightOperand",
    "leftOperand": {"@type": "@vocab", "@id": "odrl:leftOperand"}, "unit": "odrl:unit",
    "dateTime": "odrl:dateTime", "payAmount": "odrl:payAmount", "purpose": "odrl:purpose",
    "spatial": "odrl:spatial", "eq": "odrl:eq", "gteq": "odrl:gteq", "lt": "odrl:lt",
}}


@pytest.fixture
def odrl_context(monkeypatch):
    """Serve the ODRL context to rdflib's JSON-LD parser without the network."""
    fetch = jsonld_context.source_to_json

    def offline(source, *args, **kwargs):
        if source == "http://www.w3.org/ns/odrl.jsonld":
            return copy.deepcopy(ODRL_CONTEXT), None
        return fetch(source, *args, **kwargs)

    monkeypatch.setattr(jsonld_context, "source_to_json", offline)


def revoke(session, licence):
    licence.status = LicenceStatus.REVOKED
    licence.status_reason = "Order refunded."
    licence.status_changed_at = utcnow()
    session.commit()


# ---------------------------------------------------------------- the page


def test_certificate_page_shows_what_was_licensed_and_its_signature(client, licence):
    response = client.get(f"/certificates/{licence.serial}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    s = licence.statement
    assert '<meta charset="utf-8">' in html and "<script" not in html
    for text in (licence.serial, "Harbour Analytics", "九龍研究 Kowloon Research", "Strategic road speeds",
                 s["versions"][0]["files"][0]["sha256"], "HK$1,200.00", licence.order.number,
                 "May be used for: research, internal analysis.", "Not allowed: resale, re-identification.",
                 "Territory: Hong Kong", "Academic study of congestion", "Research", "Academia",
                 licence.key_id, licence.signature, "This licence is active", s["valid_until"]):
        assert text in html, text
    assert f'href="/certificates/{licence.serial}.json"' in html
    assert f'href="/certificates/{licence.serial}.jsonld"' in html
    assert 'rel="alternate"' in response.headers["Link"]


def test_certificate_page_shows_a_revoked_licence_as_revoked(client, session, licence):
    revoke(session, licence)
    html = client.get(f"/certificates/{licence.serial}").get_data(as_text=True)
    assert "This licence has been revoked." in html and "Order refunded." in html
    assert 'badge-revoked' in html and "This licence is active" not in html


def test_certificate_page_shows_a_lapsed_licence_as_expired(client, session, licence):
    licence.valid_until = utcnow()
    session.commit()
    html = client.get(f"/certificates/{licence.serial}").get_data(as_text=True)
    assert "This licence has expired." in html and "badge-expired" in html


def test_unknown_serial_is_404_everywhere(client, key_file):
    page = client.get("/certificates/LIC-0000-NOPE")
    assert page.status_code == 404 and page.mimetype == "text/html"
    for url in ("/certificates/LIC-0000-NOPE.json", "/certificates/LIC-0000-NOPE.jsonld"):
        response = client.get(url)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found", url
    assert client.get("/certificates/" + "X" * 300).status_code == 404


# ---------------------------------------------------------------- the downloads and the keys


def test_json_download_is_the_signed_document(client, licence, jwks):
    from marketplace.licensing.certificates import certificate_document, verify_document

    response = client.get(f"/certificates/{licence.serial}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{licence.serial}.json"'
    assert json.loads(response.data) == certificate_document(licence)
    assert "九龍研究" in response.get_data(as_text=True)  # UTF-8 as signed, not escaped
    assert verify_document(response.data, jwks).valid


def test_well_known_keys_publish_the_signing_key(client, signer):
    response = client.get("/.well-known/licence-keys.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == signer.jwks()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]


def test_jsonld_is_an_odrl_agreement(client, licence, odrl_context):
    response = client.get(f"/certificates/{licence.serial}.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    data = response.get_json()
    assert data["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    g = Graph().parse(data=response.get_data(as_text=True), format="json-ld")
    policy = URIRef(f"{BASE}/certificates/{licence.serial}")
    seller, buyer = licence.statement["licensor"]["slug"], licence.statement["licensee"]["slug"]
    assert (policy, RDF.type, ODRL.Agreement) in g
    assert (policy, ODRL.uid, policy) in g
    assert (policy, ODRL.assigner, URIRef(f"{BASE}/organizations/{seller}")) in g
    assert (policy, ODRL.assignee, URIRef(f"{BASE}/organizations/{buyer}")) in g
    assert (policy, ODRL.target, URIRef(f"{licence.statement['product']['url']}#dataset")) in g

    uses = {g.value(c, ODRL.rightOperand) for p in g.objects(policy, ODRL.permission)
            for c in g.objects(p, ODRL.constraint) if g.value(c, ODRL.leftOperand) == ODRL.purpose}
    assert uses == {URIRef(f"{BASE}/vocab/licence#research"), URIRef(f"{BASE}/vocab/licence#internal_analysis")}
    permission = next(iter(g.objects(policy, ODRL.permission)))
    constraints = {(g.value(c, ODRL.leftOperand), g.value(c, ODRL.operator)): g.value(c, ODRL.rightOperand)
                   for c in g.objects(permission, ODRL.constraint)}
    assert constraints[(ODRL.spatial, ODRL.eq)] == URIRef("https://sws.geonames.org/1819730/")
    assert constraints[(ODRL.dateTime, ODRL.gteq)].datatype == XSD_DATETIME
    assert constraints[(ODRL.dateTime, ODRL.lt)] == Literal(licence.statement["valid_until"], datatype=XSD_DATETIME)
    duty_actions = {g.value(d, ODRL.action) for d in g.objects(permission, ODRL.duty)}
    assert ODRL.attribute in duty_actions
    prohibited = {g.value(p, ODRL.action) for p in g.objects(policy, ODRL.prohibition)}
    assert prohibited == {ODRL.sell, URIRef(f"{BASE}/vocab/licence#reidentify")}


def test_jsonld_uses_the_vocabulary_of_the_catalog_offers(client, session, product, licensee, key_file,
                                                          odrl_context):
    licence = issue_licence(session, product, licensee, plan_name="Monthly", serial="LIC-2025-SUB001",
                            valid_days=None)
    agreement = Graph().parse(data=client.get(f"/certificates/{licence.serial}.jsonld").get_data(as_text=True),
                              format="json-ld")
    catalog = Graph().parse(data=client.get(f"/products/{product.slug}.jsonld").get_data(as_text=True),
                            format="json-ld")
    offer = URIRef(f"{BASE}/products/{product.slug}#plan-{licence.plan_id}")
    policy = URIRef(f"{BASE}/certificates/{licence.serial}")

    def purposes(g, node):
        return {g.value(c, ODRL.rightOperand) for p in g.objects(node, ODRL.permission)
                for c in g.objects(p, ODRL.constraint) if g.value(c, ODRL.leftOperand) == ODRL.purpose}

    def prohibitions(g, node):
        return {g.value(p, ODRL.action) for p in g.objects(node, ODRL.prohibition)}

    assert purposes(agreement, policy) == purposes(catalog, offer) != set()
    assert prohibitions(agreement, policy) == prohibitions(catalog, offer) == {ODRL.distribute, ODRL.derive}
    assert agreement.value(policy, ODRL.target) == URIRef(f"{BASE}/products/{product.slug}#dataset")
    assert (URIRef(f"{BASE}/products/{product.slug}#dataset"), ODRL.hasPolicy, offer) in catalog
    # Worldwide and perpetual: no spatial constraint, no end date.
    operands = {catalog_operand for p in agreement.objects(policy, ODRL.permission)
                for c in agreement.objects(p, ODRL.constraint)
                for catalog_operand in [(agreement.value(c, ODRL.leftOperand), agreement.value(c, ODRL.operator))]}
    assert (ODRL.spatial, ODRL.eq) not in operands and (ODRL.dateTime, ODRL.lt) not in operands


# ---------------------------------------------------------------- verifying


def test_verify_page_accepts_a_pasted_certificate_and_shows_its_status(client, licence, document):
    assert client.get("/certificates/verify").status_code == 200
    response = client.post("/certificates/verify", data={"document": json.dumps(document)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Valid." in html and "badge-active" in html
    assert f'href="/certificates/{licence.serial}"' in html


def test_verify_page_accepts_an_uploaded_file(client, licence, document, session):
    revoke(session, licence)
    upload = (io.BytesIO(json.dumps(document).encode()), "certificate.json")
    response = client.post("/certificates/verify", data={"upload": upload}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "Valid." in html and "badge-revoked" in html  # the signature holds; the licence no longer does


def test_verify_page_rejects_a_tampered_certificate_with_the_reason(client, licence, document):
    tampered = with_change(document, ("certificate", "terms", "territory"))
    html = client.post("/certificates/verify", data={"document": json.dumps(tampered)}).get_data(as_text=True)
    assert "Not valid." in html and "does not match" in html and "badge-active" not in html
    html = client.post("/certificates/verify", data={"document": "{oops"}).get_data(as_text=True)
    assert "Not valid." in html and "not valid JSON" in html


def test_verify_page_asks_for_a_certificate(client, key_file):
    response = client.post("/certificates/verify", data={"document": "  "})
    assert response.status_code == 422 and "Paste the certificate JSON" in response.get_data(as_text=True)


def test_api_verifies_a_certificate_and_reports_the_current_status(client, session, licence, document):
    response = client.post("/api/v1/certificates/verify", json=document)
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is True and body["serial"] == licence.serial and body["status"] == "active"
    assert body["reason"]
    revoke(session, licence)
    assert client.post("/api/v1/certificates/verify", json=document).get_json()["status"] == "revoked"


def test_api_reports_an_invalid_certificate(client, licence, document):
    forged = with_change(document, ("certificate", "order", "amount"))
    body = client.post("/api/v1/certificates/verify", json=forged).get_json()
    assert body == {"valid": False, "reason": body["reason"], "serial": licence.serial, "kind": "certificate",
                    "status": None}
    impostor = other_signer()
    document["signature"]["kid"] = impostor.key_id
    body = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert body["valid"] is False and "Unknown signing key" in body["reason"]


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"certificate": {}}', b""])
def test_api_refuses_malformed_input_with_the_error_shape(client, key_file, payload):
    response = client.post("/api/v1/certificates/verify", data=payload, content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"status", "code", "message", "errors"} and body["status"] == 400 and body["message"]


def test_api_refuses_an_oversized_body(client, key_file):
    response = client.post("/api/v1/certificates/verify", data=b"{" + b" " * 600_000 + b"}",
                           content_type="application/json")
    assert response.status_code == 413 and response.get_json()["code"] == "upload_too_large"


def test_api_needs_no_csrf_token_but_the_form_does(app, client, licence, document, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/api/v1/certificates/verify", json=document).get_json()["valid"] is True
    response = client.post("/certificates/verify", data={"document": json.dumps(document)})
    assert response.status_code in (400, 422) and "Valid." not in response.get_data(as_text=True)
