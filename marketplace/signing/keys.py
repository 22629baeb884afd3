"""The platform's Ed25519 signing key: loaded from config, generated for development, rewritten by a rotation;
its public half as a JWK; public keys read back from a JWKS.

The key comes from ``LICENCE_SIGNING_KEY`` (an inline PEM) or the PEM file ``LICENCE_SIGNING_KEY_FILE``. Outside
production a missing file is generated on first use (mode 0600); production refuses to start without it. What a
key signs is the canonical JSON of a statement (``canonical_bytes``), so that any JSON implementation can check it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from flask_babel import gettext as _

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
KEYS_PATH = "/.well-known/licence-keys.json"  # where the platform publishes its public keys (a JWKS)
EXTENSION = "licence_signer"  # where the loaded signer is kept in ``app.extensions``
FETCH_TIMEOUT_SECONDS = 10
_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_load_lock = threading.Lock()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: other characters, or a non-canonical encoding, are refused."""
    if not isinstance(text, str) or not _B64URL_CHARS.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:  # unused trailing bits set: another spelling of the same bytes
        raise ValueError("not canonical base64url")
    return data


def canonical_bytes(statement: dict) -> bytes:
    """The signed form of a statement: JSON with sorted keys, no whitespace, UTF-8 (no ASCII escaping)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:16]


def public_jwk(public_key: Ed25519PublicKey, key_id: str | None = None) -> dict:
    """An Ed25519 public key as a JWK (RFC 8037) for signatures."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public_key(public_key)),
            "kid": key_id or key_id_of(public_key), "use": "sig", "alg": ALGORITHM}


class Signer:
    """The platform's signing key."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of ``data``, base64url without padding."""
        return b64url(self._private_key.sign(data))

    def public_jwk(self) -> dict:
        return public_jwk(self.public_key, self.key_id)

    def jwks(self) -> dict:
        """A JSON Web Key Set holding this key alone."""
        return {"keys": [self.public_jwk()]}


def signature_holds(public_key: Ed25519PublicKey, signature: str, data: bytes) -> bool:
    """Whether ``signature`` (base64url) is ``public_key``'s signature of ``data``; malformed text does not hold."""
    try:
        public_key.verify(b64url_decode(signature), data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


@dataclass(frozen=True)
class PublishedKey:
    """A public key the platform signs with, or signed with until a rotation retired it at ``retired_at``."""

    public_key: Ed25519PublicKey
    retired_at: datetime | None = None

    def signed_after_retirement(self, issued_at: object) -> str | None:
        """Why this key's signature over a statement issued at ``issued_at`` (RFC 3339 text, to the second) is not
        trusted, or None. A retired key vouches only for what it signed before it was retired: whoever obtains it
        afterwards could sign anything, so a statement dated at or after ``retired_at`` is refused, and so is one
        whose date cannot be read."""
        if self.retired_at is None:
            return None
        retired = rfc3339(self.retired_at)
        moment = parse_rfc3339(issued_at)
        if moment is None:
            return _("signed by a key retired on %(retired)s, and its issue time %(issued)r is not a time",
                     retired=retired, issued=issued_at)
        # Statements carry whole seconds: one dated in the second of the retirement may have come just before it.
        if moment >= _whole_second_after(self.retired_at):
            return _("signed by a key retired on %(retired)s after its retirement (issued %(issued)s)",
                     retired=retired, issued=rfc3339(moment))
        return None


def rfc3339(moment: datetime) -> str:
    """A UTC time as RFC 3339 text to the second, rounded up ("2025-03-01T08:00:01Z" for 08:00:00.2), so that a
    retirement published this way refuses nothing signed before it."""
    return _whole_second_after(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole_second_after(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=0) + timedelta(seconds=1) if moment.microsecond else moment


def parse_rfc3339(text: object) -> datetime | None:
    """The UTC time written "2025-03-01T08:00:00Z" (how statements and JWKS members write times), or None."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def trusted_keys(jwks_or_keys) -> dict[str, PublishedKey]:
    """Public keys by key id, each with its retirement time, from a JWKS (a retired key carries ``retired_at``), a
    list of JWKs, a Signer, or a mapping of key ids to public keys or to ``PublishedKey``s. A JWK whose
    ``retired_at`` cannot be read is left out: when it stopped being trusted is unknown."""
    if isinstance(jwks_or_keys, Signer):
        return {jwks_or_keys.key_id: PublishedKey(jwks_or_keys.public_key)}
    if isinstance(jwks_or_keys, Mapping) and "keys" not in jwks_or_keys and all(
            isinstance(v, Ed25519PublicKey | PublishedKey) for v in jwks_or_keys.values()):
        return {kid: v if isinstance(v, PublishedKey) else PublishedKey(v) for kid, v in jwks_or_keys.items()}
    entries = jwks_or_keys.get("keys") if isinstance(jwks_or_keys, Mapping) else jwks_or_keys
    keys: dict[str, PublishedKey] = {}
    for jwk in entries if isinstance(entries, list | tuple) else ():
        if not (isinstance(jwk, Mapping) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519"):
            continue  # a JWKS may publish other keys; only Ed25519 ones sign here
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk.get("x")))
        except (ValueError, TypeError, binascii.Error):
            continue
        retired_at = None
        if jwk.get("retired_at") is not None:
            retired_at = parse_rfc3339(jwk["retired_at"])
            if retired_at is None:
                continue
        keys[str(jwk.get("kid") or key_id_of(key))] = PublishedKey(key, retired_at)
    return keys


def public_keys(jwks_or_keys) -> dict[str, Ed25519PublicKey]:
    """Ed25519 public keys by key id, from whatever ``trusted_keys`` reads (their retirement times left aside)."""
    return {kid: published.public_key for kid, published in trusted_keys(jwks_or_keys).items()}


def _fetched(url: str) -> str:
    """The text at ``url``; ValueError in one line when the site cannot be reached or refuses (the network's own
    exception says it in a paragraph of connection-pool detail)."""
    import requests

    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, headers={"Accept": "application/json"})
    except requests.Timeout:
        raise ValueError(f"Could not fetch the public keys from {url}: the site did not answer within "
                         f"{FETCH_TIMEOUT_SECONDS} seconds.") from None
    except requests.RequestException:
        raise ValueError(f"Could not fetch the public keys from {url}: the site cannot be reached.") from None
    if response.status_code != 200:
        raise ValueError(f"Could not fetch the public keys from {url}: the site answered HTTP "
                         f"{response.status_code}.")
    return response.text


def read_jwks(source: str) -> dict:
    """A JWKS from a file path or an http(s) URL (fetched once). Raises ValueError saying what went wrong."""
    if source.startswith(("http://", "https://")):
        text = _fetched(source)
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"Could not read the public keys from {source}: {exc}") from None
    try:
        jwks = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"Could not read the public keys from {source}: {exc}") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError(f"{source} is not a JSON Web Key Set (an object with a \"keys\" list).")
    return jwks


# ---------------------------------------------------------------- loading the key


def parse_pem(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(f"The signing key in {where} is not an unencrypted PEM private key.") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"The signing key in {where} is not an Ed25519 key.")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def is_production(app: Flask) -> bool:
    """Whether the app runs as production, where a missing key is an error rather than generated."""
    return bool(app.config.get("PRODUCTION"))


def _temporary_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _write_private(path: Path, pem: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)  # whatever the umask


def _generate_key_file(path: Path) -> bytes:
    """Write a new key to ``path`` (mode 0600) unless another process just did; return the file's PEM."""
    pem = private_pem(Ed25519PrivateKey.generate())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _temporary_beside(path)
    try:
        _write_private(temporary, pem)
        # A hard link appears whole and never replaces a key another process wrote first.
        os.link(temporary, path)
        log.warning("Generated a development signing key at %s", path)
        return pem
    except FileExistsError:
        return path.read_bytes()
    finally:
        temporary.unlink(missing_ok=True)


def replace_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Put ``key`` in ``path`` in one step (a rename over the old file, mode 0600): readers see the old key or the
    new one, never a half-written file. The old file's name then points at the new key only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _temporary_beside(path)
    try:
        _write_private(temporary, private_pem(key))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    try:  # make the rename itself durable
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def inline_key(app: Flask) -> str | None:
    """The PEM configured inline in ``LICENCE_SIGNING_KEY``, if any."""
    inline = app.config.get("LICENCE_SIGNING_KEY")
    if inline and "\\n" in inline and "\n" not in inline:  # a PEM squeezed onto one line of an environment file
        inline = inline.replace("\\n", "\n")
    return inline or None


def key_file(app: Flask) -> Path | None:
    configured = app.config.get("LICENCE_SIGNING_KEY_FILE")
    return Path(configured) if configured else None


def load_signer(app: Flask) -> Signer:
    """Read the configured key (inline first, then the file, generated outside production when missing)."""
    inline = inline_key(app)
    if inline:
        return Signer(parse_pem(inline.encode(), "LICENCE_SIGNING_KEY"))
    path = key_file(app)
    if path is None:
        raise RuntimeError("Set LICENCE_SIGNING_KEY or LICENCE_SIGNING_KEY_FILE to sign certificates and "
                           "audit checkpoints.")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if is_production(app):
            raise RuntimeError(f"The signing key file {path} does not exist.") from None
        data = _generate_key_file(path)
    return Signer(parse_pem(data, str(path)))


def signer_for(app: Flask) -> Signer:
    """The app's signer, loaded once and kept in ``app.extensions``. Callers that sign should prefer
    ``signing.services.current_signer``, which also records the key and notices a rotation."""
    signer = app.extensions.get(EXTENSION)
    if signer is None:
        with _load_lock:
            signer = app.extensions.get(EXTENSION)
            if signer is None:
                signer = app.extensions[EXTENSION] = load_signer(app)
    return signer


def forget_signer(app: Flask) -> None:
    """Drop the loaded signer so the next use reads the configured key again."""
    app.extensions.pop(EXTENSION, None)
