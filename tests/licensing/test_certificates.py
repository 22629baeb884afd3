"""Licence certificates: the signing key, the signed statement, offline verification and the CLI.

A licence is built directly (an order row and a licence row) so that these tests prove the certificate alone.
"""
from __future__ import annotations

import copy
import json
import os
import socket
import stat
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from marketplace.db import utcnow
from marketplace.licensing.certificates import (
    Signer,
    build_statement,
    canonical_bytes,
    certificate_document,
    sign_licence,
    signer_for,
    verify_document,
)
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.listings.vocab import AssetKind
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests import factories

SUBSCRIPTION = {"name": "Monthly", "kind": "subscription", "billing_period": "month", "amount": 68000,
                "duration_days": None, "permitted_uses": ["research", "commercial_product"], "territory": "worldwide",
                "prohibitions": ["redistribution"], "derivatives_allowed": False, "attribution_required": False}


# ---------------------------------------------------------------- fixtures and helpers (used by the web tests too)


@pytest.fixture
def key_file(app, tmp_path):
    """The app signs with a key generated into a fresh file for this test; the previous signer comes back after."""
    saved = {name: app.config.get(name) for name in ("LICENCE_SIGNING_KEY", "LICENCE_SIGNING_KEY_FILE")}
    previous = app.extensions.pop("licence_signer", None)
    path = tmp_path / "keys" / "licence-signing-key.pem"
    app.config.update(LICENCE_SIGNING_KEY=None, LICENCE_SIGNING_KEY_FILE=str(path))
    try:
        yield path
    finally:
        app.config.update(saved)
        app.extensions.pop("licence_signer", None)
        if previous is not None:
            app.extensions["licence_signer"] = previous


@pytest.fixture
def signer(app, key_file) -> Signer:
    return signer_for(app)


@pytest.fixture
def jwks(signer) -> dict:
    return signer.jwks()


@pytest.fixture
def licensee(session):
    user = factories.user(session, email="licensee@example.org", organization="九龍研究 Kowloon Research",
                          name="Lee Licensee")
    session.commit()
    return user


@pytest.fixture
def product(session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road speeds",
                                       plans=[SUBSCRIPTION])
    session.commit()
    return product


def issue_licence(session, product, licensee, *, plan_name: str = "Research licence", serial: str = "LIC-2025-TEST01",
                  valid_days: int | None = 365) -> Licence:
    """An order and its licence as the order service leaves them, signed with ``sign_licence``."""
    version = product.listed_version
    plan = next(p for p in version.plans if p.name == plan_name)
    org = licensee.memberships[0].organization
    now = utcnow()
    order = Order(buyer_organization_id=org.id, buyer_id=licensee.id, seller_organization_id=product.organization_id,
                  product_id=product.id, version_id=version.id, plan_id=plan.id, status=OrderStatus.FULFILLED,
                  purpose="research", sector="academia", territory="hong_kong", expected_users=5,
                  scenario_description="Academic study of congestion on Hong Kong strategic roads, 香港.",
                  terms_accepted_at=now, amount=plan.amount, currency=plan.currency, idempotency_key=serial,
                  paid_at=now, closed_at=now)
    session.add(order)
    session.flush()
    licence = Licence(serial=serial, order_id=order.id, buyer_organization_id=org.id,
                      seller_organization_id=product.organization_id, product_id=product.id, plan_id=plan.id,
                      plan_kind=plan.kind, status=LicenceStatus.ACTIVE, terms=plan.terms.to_dict(),
                      scenario=order.scenario.to_dict(), version_ids=[version.id], valid_from=now,
                      valid_until=now + timedelta(days=valid_days) if valid_days else None)
    session.add(licence)
    session.flush()
    sign_licence(session, licence)
    session.commit()
    return licence


@pytest.fixture
def licence(session, product, licensee, key_file) -> Licence:
    return issue_licence(session, product, licensee)


@pytest.fixture
def document(licence) -> dict:
    # Through JSON, as a verifier holding the download has it.
    return json.loads(json.dumps(certificate_document(licence)))


def other_signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def leaf_paths(value, path=()):
    """Every leaf of a JSON value, as a path of keys and indexes."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    else:
        yield path


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("X" if value[-1:] != "X" else "Y") if value else "X"
    return "X"  # None


def with_change(document: dict, path: tuple) -> dict:
    altered = copy.deepcopy(document)
    target = altered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = changed(target[path[-1]])
    return altered


# ---------------------------------------------------------------- the signing key


def test_development_key_is_generated_once_readable_only_by_its_owner(app, key_file):
    signer = signer_for(app)
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert signer_for(app) is signer  # loaded once per app
    app.extensions.pop("licence_signer")
    assert signer_for(app).key_id == signer.key_id  # the file is reused, not replaced
    assert len(signer.key_id) == 16 and int(signer.key_id, 16) >= 0


def test_an_inline_pem_key_takes_precedence_over_the_file(app, key_file):
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    app.config["LICENCE_SIGNING_KEY"] = pem.replace("\n", "\\n")  # as an environment file carries it
    assert signer_for(app).key_id == Signer(private).key_id
    assert not key_file.exists()


def test_production_never_generates_a_key(app, key_file, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    with pytest.raises(RuntimeError, match="does not exist"):
        signer_for(app)
    assert not key_file.exists()


def test_the_published_key_is_an_ed25519_jwk(signer):
    (jwk,) = signer.jwks()["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA" and jwk["use"] == "sig"
    assert jwk["kid"] == signer.key_id and "d" not in jwk  # the public half only
    assert "=" not in jwk["x"] and len(jwk["x"]) == 43


# ---------------------------------------------------------------- the statement


def test_the_certificate_states_parties_product_files_terms_scenario_and_validity(app, licence, product):
    s = licence.statement
    assert s["type"] == "DataLicenceCertificate" and s["version"] == 1 and s["serial"] == "LIC-2025-TEST01"
    assert s["url"] == "http://127.0.0.1:5000/certificates/LIC-2025-TEST01"
    assert s["licensor"] == {"id": product.organization.id, "slug": product.organization.slug,
                             "name": "Harbour Analytics"}
    assert s["licensee"]["name"] == "九龍研究 Kowloon Research"
    assert s["product"] == {"id": product.id, "slug": product.slug, "title": "Strategic road speeds",
                            "url": f"http://127.0.0.1:5000/products/{product.slug}"}
    assert s["order"] == {"number": licence.order.number, "amount": 120000, "currency": "HKD"}
    deliverable = next(a for a in product.listed_version.assets if a.kind == AssetKind.DELIVERABLE)
    assert s["versions"] == [{"number": 1, "label": product.listed_version.label, "files": [
        {"filename": deliverable.filename, "size": deliverable.size, "sha256": deliverable.sha256}]}]
    assert s["coverage"] == "The versions named."
    assert s["terms"]["permitted_uses"] == ["research", "internal_analysis"] and s["terms"]["duration_days"] == 365
    assert s["scenario"]["purpose"] == "research" and s["scenario"]["expected_users"] == 5
    assert s["valid_from"].endswith("Z") and s["valid_until"].endswith("Z") and s["valid_from"] < s["valid_until"]
    assert licence.key_id == signer_for(app).key_id and len(licence.signature) == 86


def test_a_subscription_certificate_also_covers_versions_listed_while_active(session, product, licensee, key_file):
    licence = issue_licence(session, product, licensee, plan_name="Monthly", serial="LIC-2025-SUB001",
                            valid_days=None)
    assert licence.statement["coverage"] == "The versions named, and versions listed while the licence is active."
    assert licence.statement["valid_until"] is None and licence.statement["plan"]["billing_period"] == "month"


def test_the_statement_is_stored_exactly_as_signed(session, licence, signer):
    session.expire_all()
    stored = session.get(Licence, licence.id)
    assert stored.statement == build_statement(stored)
    assert verify_document(certificate_document(stored), signer.jwks()).valid


def test_canonical_bytes_are_sorted_compact_utf8():
    assert canonical_bytes({"b": 1, "a": ["香港", None, True]}) == '{"a":["香港",null,true],"b":1}'.encode()


# ---------------------------------------------------------------- verification


def test_a_certificate_verifies_against_the_published_keys(document, jwks):
    result = verify_document(document, jwks)
    assert result.valid and result.serial == "LIC-2025-TEST01" and result.kid == jwks["keys"][0]["kid"]
    assert verify_document(json.dumps(document, indent=4), jwks).valid  # layout and key order do not matter


def test_changing_any_field_of_the_statement_fails(document, jwks):
    paths = list(leaf_paths(document["certificate"]))
    assert len(paths) > 30
    for path in paths:
        result = verify_document(with_change(document, ("certificate", *path)), jwks)
        assert not result.valid, path
        assert "does not match" in result.reason, path


def test_adding_or_removing_a_field_fails(document, jwks):
    removed = copy.deepcopy(document)
    del removed["certificate"]["scenario"]
    added = copy.deepcopy(document)
    added["certificate"]["terms"]["exclusive"] = True
    for altered in (removed, added):
        assert not verify_document(altered, jwks).valid


def test_changing_any_byte_of_the_download_fails(client, licence, jwks):
    raw = client.get(f"/certificates/{licence.serial}.json").data
    assert verify_document(raw, jwks).valid
    checked = 0
    for i, byte in enumerate(raw):
        if chr(byte).isspace() or byte >= 0x80:
            continue  # whitespace is layout, not content; multi-byte characters are changed via their fields
        altered = raw[:i] + bytes([byte ^ 0x01]) + raw[i + 1:]
        result = verify_document(altered, jwks)
        assert not result.valid, (i, raw[max(0, i - 20):i + 20])
        assert result.reason
        checked += 1
    assert checked > 1000


def test_changing_the_signature_fails(document, jwks):
    value = document["signature"]["value"]
    for altered in (value[:-1] + ("A" if value[-1] != "A" else "B"), value[:-2], value + "=", "!" + value[1:]):
        bad = copy.deepcopy(document)
        bad["signature"]["value"] = altered
        assert not verify_document(bad, jwks).valid, altered


def test_a_statement_signed_with_another_key_fails(document, jwks):
    impostor = other_signer()
    forged = copy.deepcopy(document)
    forged["certificate"]["terms"]["permitted_uses"].append("commercial_product")
    forged["signature"]["value"] = impostor.sign(canonical_bytes(forged["certificate"]))  # claims our key id
    result = verify_document(forged, jwks)
    assert not result.valid and "does not match" in result.reason
    # Verifying with the impostor's key under our key id fails for the genuine certificate too.
    swapped = {"keys": [{**impostor.public_jwk(), "kid": document["signature"]["kid"]}]}
    assert not verify_document(document, swapped).valid


def test_an_unknown_key_id_fails(document, jwks):
    impostor = other_signer()
    forged = copy.deepcopy(document)
    forged["signature"] = {"alg": "EdDSA", "kid": impostor.key_id,
                           "value": impostor.sign(canonical_bytes(forged["certificate"]))}
    result = verify_document(forged, jwks)
    assert not result.valid and "Unknown signing key" in result.reason and result.kid == impostor.key_id
    assert not verify_document(document, {"keys": []}).valid
    assert verify_document(forged, impostor.jwks()).valid  # the impostor's own keys are not ours


def test_another_algorithm_is_refused(document, jwks):
    document["signature"]["alg"] = "none"
    result = verify_document(document, jwks)
    assert not result.valid and "Unsupported signature algorithm" in result.reason


@pytest.mark.parametrize("raw, reason", [
    (b"not json at all", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    ("[1, 2]", "exactly two fields"),
    ('{"certificate": {}}', "exactly two fields"),
    ('{"certificate": [], "signature": {"alg": "EdDSA", "kid": "x", "value": "y"}}', '"certificate" must be'),
    ('{"certificate": {"serial": "S"}, "signature": {"alg": "EdDSA", "kid": "x"}}', '"signature" must be'),
    ('{"certificate": {}, "signature": {"alg": "EdDSA", "kid": 1, "value": "y"}}', '"signature" must be'),
    ('{"certificate": {"a": 1, "a": 2}, "signature": {}}', "appears twice"),
    ('{"certificate": {"a": NaN}, "signature": {}}', "not a JSON number"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ("", "not valid JSON"),
])
def test_malformed_documents_fail_with_a_reason(raw, reason, jwks):
    result = verify_document(raw, jwks)
    assert not result.valid and result.malformed and reason in result.reason


def test_malformed_keys_verify_nothing(document):
    for keys in (None, "keys", {"keys": "x"}, {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "!!"}]}, [42]):
        assert not verify_document(document, keys).valid


# ---------------------------------------------------------------- the CLI


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def files(tmp_path, document, jwks):
    certificate = tmp_path / "certificate.json"
    certificate.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(with_change(document, ("certificate", "valid_until"))), encoding="utf-8")
    keys = tmp_path / "licence-keys.json"
    keys.write_text(json.dumps(jwks), encoding="utf-8")
    return certificate, tampered, keys


def test_cli_verifies_a_certificate_offline_with_a_jwks_file(app, files):
    certificate, tampered, keys = files
    result = run(app, "licences", "verify", str(certificate), "--keys", str(keys))
    assert result.exit_code == 0, result.output
    assert "VALID: LIC-2025-TEST01" in result.output


def test_cli_rejects_a_tampered_certificate_with_the_reason(app, files):
    _, tampered, keys = files
    result = run(app, "licences", "verify", str(tampered), "--keys", str(keys))
    assert result.exit_code == 1
    assert "NOT VALID: LIC-2025-TEST01" in result.output and "does not match" in result.output


def test_cli_rejects_a_certificate_under_other_keys(app, files, tmp_path):
    certificate, _, _ = files
    other = tmp_path / "other-keys.json"
    other.write_text(json.dumps(other_signer().jwks()))
    result = run(app, "licences", "verify", str(certificate), "--keys", str(other))
    assert result.exit_code == 1 and "Unknown signing key" in result.output


def test_cli_reports_keys_it_cannot_read(app, files, tmp_path):
    certificate, _, _ = files
    result = run(app, "licences", "verify", str(certificate), "--keys", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "Could not read the public keys" in result.output
    (tmp_path / "not-keys.json").write_text('{"hello": 1}')
    result = run(app, "licences", "verify", str(certificate), "--keys", str(tmp_path / "not-keys.json"))
    assert result.exit_code == 2 and "not a JSON Web Key Set" in result.output


def test_cli_fetches_the_published_keys_once_from_a_url(app, files, jwks):
    certificate, _, _ = files
    body, requests_seen = json.dumps(jwks).encode(), []

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self):
            requests_seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        app.config["PUBLIC_BASE_URL"], saved = base, app.config["PUBLIC_BASE_URL"]
        try:
            result = run(app, "licences", "verify", str(certificate))  # the default: PUBLIC_BASE_URL's keys
        finally:
            app.config["PUBLIC_BASE_URL"] = saved
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert requests_seen == ["/.well-known/licence-keys.json"]


def test_cli_says_in_one_line_that_the_site_cannot_be_reached_and_how_to_verify_offline(app, files,
                                                                                      monkeypatch):
    certificate, _, _ = files
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
    try:
        result = run(app, "licences", "verify", str(certificate))
    finally:
        closed.close()
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "cannot be reached" in result.output, result.output
    assert "--keys FILE" in result.output and "ConnectionError" not in result.output
    assert "Pool" not in result.output and "Traceback" not in result.output


def test_cli_help_says_where_the_keys_come_from(app):
    words = " ".join(run(app, "licences", "verify", "--help").output.split())
    assert "fetched from this marketplace's site" in words and "fully offline" in words
    assert "offline: its signature" not in words


def test_cli_prints_the_public_key(app, signer):
    result = run(app, "licences", "public-key")
    assert result.exit_code == 0
    assert json.loads(result.output) == signer.jwks()


def test_the_statement_holds_no_floats(licence):
    # Floats would make the canonical form depend on the JSON library.
    def floats(value):
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        if isinstance(value, list):
            return any(floats(v) for v in value)
        return isinstance(value, float)

    assert not floats(licence.statement)
