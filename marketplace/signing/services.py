"""The registry of signing keys: every public key the platform signs with is recorded when first used, and stays
published after a rotation retires it, so that what it signed still verifies.

Rotating a key kept in ``LICENCE_SIGNING_KEY_FILE`` is ``rotate_key_file`` (``flask licences rotate-key``). A key
set inline in ``LICENCE_SIGNING_KEY`` cannot be rewritten from here: the operator sets the new key, restarts, and
runs ``retire_previous_keys`` (``flask licences retire-key``).
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.errors import Conflict
from marketplace.signing.keys import (
    PublishedKey,
    Signer,
    b64url,
    b64url_decode,
    forget_signer,
    inline_key,
    key_file,
    load_signer,
    public_jwk,
    raw_public_key,
    replace_key_file,
    rfc3339,
    signer_for,
)
from marketplace.signing.models import SigningKey
from marketplace.uow import commit_before

INLINE_ROTATION = (
    "The signing key is set inline in LICENCE_SIGNING_KEY, which this command cannot rewrite. To rotate it: "
    "make a new key (openssl genpkey -algorithm ed25519), set LICENCE_SIGNING_KEY to it, restart the app, then run "
    "`flask licences retire-key`: it records the keys used before as retired, and they stay published so that "
    "what they signed still verifies. Keep the old key until the app runs with the new one."
)


def record_key(session: Session, signer: Signer) -> SigningKey:
    """The registry row of ``signer``'s public key, inserted if this is its first use. Two processes recording the
    same key at once both end with the one row (``key_id`` is unique)."""
    row = session.scalar(select(SigningKey).where(SigningKey.key_id == signer.key_id))
    if row is not None:
        return row
    values = {"key_id": signer.key_id, "public_key": b64url(raw_public_key(signer.public_key)), "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(SigningKey).values(**values).on_conflict_do_nothing(index_elements=["key_id"]))
    else:  # pragma: no cover - the two backends we run are handled above
        try:
            with session.begin_nested():
                session.add(SigningKey(**values))
        except IntegrityError:
            pass
    return session.scalars(select(SigningKey).where(SigningKey.key_id == signer.key_id)
                           .execution_options(populate_existing=True)).one()


def current_signer(session: Session, app: Flask) -> Signer:
    """The signer to sign with now, its public key recorded. A process still holding a key that a rotation retired
    reads the configured key again; if that is retired too, nothing is signed."""
    signer = signer_for(app)
    if record_key(session, signer).retired_at is None:
        return signer
    forget_signer(app)
    signer = signer_for(app)
    if record_key(session, signer).retired_at is not None:
        raise RuntimeError(f"The configured signing key {signer.key_id} was retired; configure the new key (see "
                           f"`flask licences rotate-key`).")
    return signer


def _recorded(session: Session) -> list[SigningKey]:
    # Keys in use first, then retired ones, newest first within each.
    return list(session.scalars(select(SigningKey).order_by(
        SigningKey.retired_at.is_not(None), SigningKey.retired_at.desc(), SigningKey.id.desc())))


def published_jwks(session: Session, app: Flask) -> dict:
    """The JWKS the platform publishes: the keys in use first, then every key a rotation retired; a retired key
    carries ``retired_at`` (an RFC 3339 time) besides the usual members, and is still ``"use": "sig"``: verifiers
    trust it only for statements issued before that time."""
    keys = []
    for row in _recorded(session):
        jwk = public_jwk(Ed25519PublicKey.from_public_bytes(b64url_decode(row.public_key)), row.key_id)
        if row.retired_at is not None:
            jwk["retired_at"] = rfc3339(row.retired_at)  # rounded up to the second: refuses nothing signed before
        keys.append(jwk)
    signer = signer_for(app)
    if all(jwk["kid"] != signer.key_id for jwk in keys):  # configured but not used yet
        keys.insert(0, signer.public_jwk())
    return {"keys": keys}


def known_keys(session: Session, app: Flask) -> dict[str, PublishedKey]:
    """Every public key that verifies what the platform signed: the current one and all recorded ones, each retired
    key with its exact retirement time (it vouches only for what it signed before then)."""
    keys = {row.key_id: PublishedKey(Ed25519PublicKey.from_public_bytes(b64url_decode(row.public_key)), row.retired_at)
            for row in _recorded(session)}
    signer = signer_for(app)
    keys.setdefault(signer.key_id, PublishedKey(signer.public_key))
    return keys


@dataclass(frozen=True)
class Rotation:
    retired: str | None
    current: str
    path: str


def rotate_key_file(session: Session, app: Flask) -> Rotation:
    """Replace the key in ``LICENCE_SIGNING_KEY_FILE`` with a new one and record the old one as retired.

    The registry is committed before the file is replaced, so the old public key is never lost; the old private
    key is then overwritten by a rename (no copy is kept). Refuses (Conflict) when the key is configured inline.
    """
    if inline_key(app):
        raise Conflict(INLINE_ROTATION)
    path = key_file(app)
    if path is None:
        raise Conflict("Set LICENCE_SIGNING_KEY_FILE to the file that should hold the signing key.")
    old = load_signer(app) if path.exists() else None
    new_key = Ed25519PrivateKey.generate()
    new = Signer(new_key)
    if old is not None:
        row = record_key(session, old)
        row.retired_at = row.retired_at or utcnow()
    record_key(session, new)
    commit_before(session, "the signing key file is replaced")
    try:
        replace_key_file(path, new_key)
    except OSError as exc:
        raise RuntimeError(f"The key registry retired {old.key_id if old else 'no key'} but {path} could not be "
                           f"rewritten ({exc}); nothing is signed until `flask licences rotate-key` succeeds.") from exc
    forget_signer(app)
    return Rotation(old.key_id if old else None, new.key_id, str(path))


def retire_previous_keys(session: Session, app: Flask) -> list[str]:
    """Record the configured key and mark every other recorded key that is still in use as retired (after an
    inline key was replaced); the ids it retired."""
    forget_signer(app)
    current = record_key(session, signer_for(app))
    if current.retired_at is not None:
        raise Conflict(f"The configured key {current.key_id} is itself retired: configure a new key first.")
    retired = []
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None),
                                                        SigningKey.key_id != current.key_id)):
        row.retired_at = utcnow()
        retired.append(row.key_id)
    session.flush()
    return retired
