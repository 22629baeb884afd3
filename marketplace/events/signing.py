"""A webhook endpoint's signing secret, kept encrypted with a key derived from the app's SECRET_KEY (the server signs
every delivery with it, so it must be recoverable; a database dump alone does not give it away), and the signature
header, made the way Stripe signs its own events:

    Webhook-Signature: t=TIMESTAMP,v1=HEX(HMAC-SHA256(secret, "TIMESTAMP.BODY"))

A receiver recomputes v1 over the raw body with its secret, compares in constant time and refuses a timestamp
older than a few minutes (a replayed request). Changing SECRET_KEY makes the stored secrets unreadable: roll each
endpoint's secret afterwards."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SIGNATURE_HEADER = "Webhook-Signature"
EVENT_ID_HEADER = "Webhook-Id"


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"marketplace webhook endpoint secrets").derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for ``body`` sent at ``timestamp`` (seconds since the epoch)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
