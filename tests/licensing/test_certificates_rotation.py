"""Rotating the signing key: the old key is retired but stays published, so certificates it signed still verify
on the web form, the API and the CLI; new certificates use the new key; an unknown key is still refused."""
from __future__ import annotations

import copy
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from marketplace.licensing.certificates import certificate_document, verify_document
from marketplace.signing.keys import (
    EXTENSION,
    PublishedKey,
    Signer,
    forget_signer,
    private_pem,
    rfc3339,
    signer_for,
    trusted_keys,
)
from marketplace.signing.models import SigningKey
from marketplace.signing.services import record_key
from tests.licensing import test_certificates as shared
from tests.licensing.test_certificates import issue_licence, other_signer

# The certificate fixtures of test_certificates, for this module's tests too; each test asks for key_file first,
# so that everything it signs (audit checkpoints included) uses the test's own key.
document, key_file, licence, licensee, product, signer = (
    shared.document, shared.key_file, shared.licence, shared.licensee, shared.product, shared.signer)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _registry(session) -> dict[str, SigningKey]:
    session.expire_all()
    return {row.key_id: row for row in session.scalars(select(SigningKey))}


def _rotate(app) -> str:
    result = run(app, "licences", "rotate-key")
    assert result.exit_code == 0, result.output
    return result.output


def test_signing_records_the_public_key_once(key_file, app, session, licence):
    rows = _registry(session)
    assert list(rows) == [licence.key_id] and rows[licence.key_id].retired_at is None
    assert record_key(session, signer_for(app)).id == rows[licence.key_id].id  # idempotent
    assert len(_registry(session)) == 1


def test_rotation_replaces_the_key_file_and_retires_the_old_key(key_file, app, session, licence):
    old_pem, old_kid = key_file.read_bytes(), licence.key_id
    output = _rotate(app)
    new_kid = signer_for(app).key_id
    assert new_kid != old_kid
    assert f"Retired key {old_kid}" in output and f"New signing key {new_kid} written to {key_file}" in output
    assert key_file.read_bytes() != old_pem  # the old private key is gone from the file, not kept beside it
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]
    rows = _registry(session)
    assert rows[old_kid].retired_at is not None and rows[new_kid].retired_at is None


def test_the_published_keys_hold_the_current_key_and_the_retired_one(key_file, app, client, session, licence):
    old_kid = licence.key_id
    _rotate(app)
    response = client.get("/.well-known/licence-keys.json")
    keys = response.get_json()["keys"]
    assert [k["kid"] for k in keys] == [signer_for(app).key_id, old_kid]  # the current key first
    current, retired = keys
    assert "retired_at" not in current and retired["retired_at"].endswith("Z")
    assert retired["use"] == "sig" and retired["alg"] == "EdDSA" and "d" not in retired
    assert json.loads(run(app, "licences", "public-key").output)["keys"] == keys


def test_a_certificate_signed_before_a_rotation_still_verifies_everywhere(key_file, app, client, licence, document,
                                                                          tmp_path):
    _rotate(app)
    api = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert api["valid"] is True and api["status"] == "active" and licence.key_id in api["reason"]

    page = client.post("/certificates/verify", data={"document": json.dumps(document)}).get_data(as_text=True)
    assert "Valid." in page

    saved_keys = tmp_path / "licence-keys.json"
    saved_keys.write_bytes(client.get("/.well-known/licence-keys.json").data)
    certificate = tmp_path / "certificate.json"
    certificate.write_text(json.dumps(document))
    result = run(app, "licences", "verify", str(certificate), "--keys", str(saved_keys))
    assert result.exit_code == 0 and f"VALID: {licence.serial}" in result.output


def test_a_certificate_signed_after_a_rotation_uses_the_new_key(key_file, app, client, session, product, licensee,
                                                                 licence):
    _rotate(app)
    newer = issue_licence(session, product, licensee, serial="LIC-2025-TEST02")
    assert newer.key_id == signer_for(app).key_id != licence.key_id
    jwks = client.get("/.well-known/licence-keys.json").get_json()
    assert verify_document(certificate_document(newer), jwks).valid
    assert client.post("/api/v1/certificates/verify", json=certificate_document(newer)).get_json()["valid"] is True


def test_a_certificate_signed_by_an_unknown_key_is_still_refused(key_file, app, client, licence, document, tmp_path):
    _rotate(app)
    impostor = other_signer()
    forged = {"certificate": document["certificate"],
              "signature": {"alg": "EdDSA", "kid": impostor.key_id,
                            "value": impostor.sign(shared.canonical_bytes(document["certificate"]))}}
    body = client.post("/api/v1/certificates/verify", json=forged).get_json()
    assert body["valid"] is False and "Unknown signing key" in body["reason"]
    saved_keys = tmp_path / "licence-keys.json"
    saved_keys.write_bytes(client.get("/.well-known/licence-keys.json").data)
    certificate = tmp_path / "forged.json"
    certificate.write_text(json.dumps(forged))
    result = run(app, "licences", "verify", str(certificate), "--keys", str(saved_keys))
    assert result.exit_code == 1 and "Unknown signing key" in result.output


def test_a_process_still_holding_the_retired_key_signs_with_the_new_one(key_file, app, session, product, licensee,
                                                                        licence):
    stale = signer_for(app)
    _rotate(app)
    app.extensions[EXTENSION] = stale  # another worker loaded the key before the rotation
    newer = issue_licence(session, product, licensee, serial="LIC-2025-TEST03")
    assert newer.key_id != stale.key_id and newer.key_id == signer_for(app).key_id


def test_rotation_refuses_an_inline_key_and_says_how(key_file, app, session):
    app.config["LICENCE_SIGNING_KEY"] = private_pem(Ed25519PrivateKey.generate()).decode()
    result = run(app, "licences", "rotate-key")
    assert result.exit_code == 1
    assert "set inline in LICENCE_SIGNING_KEY" in result.output and "flask licences retire-key" in result.output
    assert not key_file.exists()


def test_after_replacing_an_inline_key_retire_key_keeps_the_old_one_published(key_file, app, client, session,
                                                                              product, licensee):
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    app.config["LICENCE_SIGNING_KEY"] = private_pem(first).decode()
    forget_signer(app)  # the app restarts with its configuration
    old = issue_licence(session, product, licensee)
    assert old.key_id == Signer(first).key_id

    app.config["LICENCE_SIGNING_KEY"] = private_pem(second).decode()  # the operator sets the new key, restarts...
    forget_signer(app)
    result = run(app, "licences", "retire-key")  # ...and, once the app runs with it, retires the old one
    assert result.exit_code == 0 and f"Retired key {old.key_id}" in result.output
    rows = _registry(session)
    assert rows[old.key_id].retired_at is not None and rows[Signer(second).key_id].retired_at is None
    assert run(app, "licences", "retire-key").output.strip().endswith("0 key(s) retired.")  # idempotent

    body = client.post("/api/v1/certificates/verify", json=certificate_document(old)).get_json()
    assert body["valid"] is True
    newer = issue_licence(session, product, licensee, serial="LIC-2025-TEST04")
    assert newer.key_id == Signer(second).key_id


def test_a_retired_inline_key_signs_nothing(key_file, app, session, product, licensee):
    key = Ed25519PrivateKey.generate()
    app.config["LICENCE_SIGNING_KEY"] = private_pem(key).decode()
    forget_signer(app)
    row = record_key(session, Signer(key))
    row.retired_at = row.created_at
    session.commit()
    with pytest.raises(RuntimeError, match="was retired"):
        issue_licence(session, product, licensee)


# ---------------------------------------------------------------- a retired key vouches only for its past


def _forge(leaked: Signer, statement: dict) -> dict:
    """A certificate document signed with a key that leaked (canonical JSON, as the platform signs)."""
    return {"certificate": statement,
            "signature": {"alg": "EdDSA", "kid": leaked.key_id,
                          "value": leaked.sign(shared.canonical_bytes(statement))}}


def _verdicts(app, client, forged: dict, tmp_path) -> tuple[dict, str, object]:
    """What the API, the web form and the offline CLI (with the published keys saved) say about ``forged``."""
    api = client.post("/api/v1/certificates/verify", json=forged).get_json()
    page = client.post("/certificates/verify", data={"document": json.dumps(forged)}).get_data(as_text=True)
    saved_keys = tmp_path / "licence-keys.json"
    saved_keys.write_bytes(client.get("/.well-known/licence-keys.json").data)
    certificate = tmp_path / "forged.json"
    certificate.write_text(json.dumps(forged))
    return api, page, run(app, "licences", "verify", str(certificate), "--keys", str(saved_keys))


def _retired_at(session, key_id: str) -> datetime:
    return _registry(session)[key_id].retired_at


def test_a_made_up_certificate_signed_with_the_retired_key_after_its_retirement_is_refused_everywhere(
        key_file, app, client, session, document, tmp_path):
    leaked = signer_for(app)
    _rotate(app)
    statement = copy.deepcopy(document["certificate"])
    statement.update(serial="LIC-2099-FORGED", url=statement["url"].replace("LIC-2025-TEST01", "LIC-2099-FORGED"),
                     issued_at=rfc3339(_retired_at(session, leaked.key_id) + timedelta(hours=1)))
    api, page, cli = _verdicts(app, client, _forge(leaked, statement), tmp_path)

    assert api["valid"] is False and api["status"] is None
    assert "retired on" in api["reason"] and "after its retirement" in api["reason"]
    assert "Not valid." in page and "after its retirement" in page
    assert cli.exit_code == 1 and "NOT VALID: LIC-2099-FORGED" in cli.output and "after its retirement" in cli.output


def test_a_real_serial_with_a_changed_licensee_re_signed_with_the_retired_key_is_refused_online(
        key_file, app, client, session, licence, document, tmp_path):
    leaked = signer_for(app)
    _rotate(app)
    statement = copy.deepcopy(document["certificate"])  # issued before the rotation, as the real one was
    statement["licensee"]["name"] = "Mallory Holdings"
    api, page, _ = _verdicts(app, client, _forge(leaked, statement), tmp_path)

    assert api["valid"] is False and api["status"] is None
    assert "does not match the certificate issued under this serial" in api["reason"]
    assert "Not valid." in page and "does not match the certificate issued under this serial" in page
    assert "badge-active" not in page


def test_a_certificate_no_licence_stands_behind_is_refused_online_even_under_the_current_key(
        key_file, app, client, session, document, tmp_path):
    statement = copy.deepcopy(document["certificate"])
    statement["serial"] = "LIC-2099-NOBODY"
    api, page, cli = _verdicts(app, client, _forge(signer_for(app), statement), tmp_path)
    assert api["valid"] is False and api["status"] is None
    assert "no licence with this serial was issued here" in api["reason"].lower()
    assert "Not valid." in page and "No licence with this serial was issued here" in page
    assert cli.exit_code == 0  # offline, a current key's signature is all there is to check


def test_the_published_retirement_time_is_rounded_up_to_the_second(key_file, app, client, session, licence):
    _rotate(app)
    retired_at = _retired_at(session, licence.key_id)
    published = next(k for k in client.get("/.well-known/licence-keys.json").get_json()["keys"]
                     if k["kid"] == licence.key_id)
    assert published["retired_at"] == rfc3339(retired_at)
    moment = datetime.strptime(published["retired_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(0) <= moment - retired_at < timedelta(seconds=1)


RETIRED = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("retired_at", "issued_at", "trusted"), [
    (RETIRED, "2025-03-01T07:59:59Z", True),
    (RETIRED, "2025-03-01T08:00:00Z", False),  # at the retirement
    (RETIRED, "2026-01-01T00:00:00Z", False),
    (RETIRED + timedelta(microseconds=200_000), "2025-03-01T08:00:00Z", True),  # the same second, maybe before
    (RETIRED + timedelta(microseconds=200_000), "2025-03-01T08:00:01Z", False),
    (RETIRED, "2025-03-01 07:00:00", False),  # a time that cannot be read proves nothing
    (RETIRED, None, False),
    (None, "2030-01-01T00:00:00Z", True),  # a key in use
])
def test_a_retired_key_is_trusted_only_for_statements_issued_before_its_retirement(retired_at, issued_at, trusted):
    key = PublishedKey(Signer(Ed25519PrivateKey.generate()).public_key, retired_at)
    assert (key.signed_after_retirement(issued_at) is None) is trusted


def test_a_published_key_whose_retirement_time_cannot_be_read_is_not_trusted():
    signer = Signer(Ed25519PrivateKey.generate())
    jwks = {"keys": [{**signer.public_jwk(), "retired_at": "last spring"}]}
    assert trusted_keys(jwks) == {}
    jwks["keys"][0]["retired_at"] = "2025-03-01T08:00:00Z"
    assert trusted_keys(jwks)[signer.key_id].retired_at == RETIRED
