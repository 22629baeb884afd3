"""Signed checkpoints of the audit chain: tamper evidence that rewriting the events table cannot rewrite.

The chain alone proves only that the rows agree with each other: whoever can write the table can delete rows and
recompute every hash after them. A checkpoint is the platform's Ed25519 signature over the statement

    {"type": "AuditCheckpoint", "count": N, "head_event_id": ID, "head_hash": H, "at": "2025-03-01T08:00:00Z"}

(canonical JSON, as for licence certificates), stored in ``audit_checkpoints`` and published at
``/.well-known/audit-checkpoints.json`` for outsiders to keep. ``verify_audit`` then requires, for every
checkpoint, that the event ``head_event_id`` still has hash ``head_hash`` and that exactly ``count`` events lead to
it: removing or inserting an event before a checkpoint is caught even if the chain was recomputed, and altering a
checkpoint breaks its signature. A saved copy of the published checkpoints also catches deleted checkpoint rows.

When: ``record`` signs one in the same transaction when the newest checkpoint is older than
``AUDIT_CHECKPOINT_SECONDS`` (default 3600; 0 turns this off), so an active trail is anchored at least hourly;
``flask audit checkpoint`` (for cron) anchors a quiet trail's latest events too.

Limits: events after the newest checkpoint are protected by the chain only; a forger holding the private key
can sign new checkpoints (a saved published copy still catches the rewrite; a key retired by a rotation is
trusted only for checkpoints dated before its retirement, so a leaked old key cannot sign new ones); and one who
can write ``signing_keys`` can add a key of their own, so an outside check passes ``--keys`` with a saved JWKS.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditCheckpoint, AuditEvent
from marketplace.audit.services import GENESIS, lock_chain, walk_chain
from marketplace.db import utcnow
from marketplace.signing.keys import ALGORITHM, PublishedKey, canonical_bytes, signature_holds, trusted_keys
from marketplace.signing.services import current_signer

STATEMENT_TYPE = "AuditCheckpoint"
CHECKPOINTS_PATH = "/.well-known/audit-checkpoints.json"
DEFAULT_INTERVAL_SECONDS = 3600
PUBLISHED_PER_PAGE = 100


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement_of(checkpoint: AuditCheckpoint) -> dict:
    """The statement a checkpoint row signs."""
    return {"type": STATEMENT_TYPE, "count": checkpoint.event_count, "head_event_id": checkpoint.head_event_id,
            "head_hash": checkpoint.head_hash, "at": iso_utc(checkpoint.created_at)}


def published_entry(checkpoint: AuditCheckpoint) -> dict:
    """A checkpoint as published: its statement and signature (``id`` is the row's, for paging; it is not signed)."""
    return {"id": checkpoint.id, "statement": statement_of(checkpoint),
            "signature": {"alg": ALGORITHM, "kid": checkpoint.key_id, "value": checkpoint.signature}}


def make_checkpoint(session: Session) -> AuditCheckpoint:
    """Sign the chain's current head (event count, newest event's id and hash) with the platform's current key.
    Holds the chain's lock, so no event lands between the count and the head."""
    lock_chain(session)
    head = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    count = session.scalar(select(func.count()).select_from(AuditEvent)) if head else 0
    # Dated before the key is chosen: a key retired in between still signed before its retirement.
    at = utcnow().replace(microsecond=0)
    signer = current_signer(session, current_app)
    checkpoint = AuditCheckpoint(created_at=at, event_count=count,
                                 head_event_id=head.id if head else None, head_hash=head.hash if head else GENESIS,
                                 key_id=signer.key_id, signature="")
    checkpoint.signature = signer.sign(canonical_bytes(statement_of(checkpoint)))
    session.add(checkpoint)
    session.flush()
    return checkpoint


def checkpoint_interval() -> int:
    """Seconds between automatic checkpoints (``AUDIT_CHECKPOINT_SECONDS``); 0 when they are off."""
    if not has_app_context():
        return 0
    return int(current_app.config.get("AUDIT_CHECKPOINT_SECONDS", DEFAULT_INTERVAL_SECONDS) or 0)


def checkpoint_if_due(session: Session) -> AuditCheckpoint | None:
    """A new checkpoint when the newest one is older than the interval (or there is none); otherwise None."""
    interval = checkpoint_interval()
    if interval <= 0:
        return None
    newest = session.scalar(select(AuditCheckpoint.created_at).order_by(AuditCheckpoint.id.desc()).limit(1))
    if newest is not None and utcnow() - newest < timedelta(seconds=interval):
        return None
    return make_checkpoint(session)


def published_checkpoints(session: Session, before: int | None = None,
                          limit: int | None = None) -> tuple[list[dict], int | None]:
    """The newest published checkpoints (with ids below ``before``), and the id to page on from, if older exist."""
    limit = limit or PUBLISHED_PER_PAGE
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditCheckpoint.id < before)
    rows = list(session.scalars(query))
    return [published_entry(row) for row in rows[:limit]], rows[limit - 1].id if len(rows) > limit else None


# ---------------------------------------------------------------- verifying


@dataclass
class AuditReport:
    """The chain's report, and what the checkpoints found. ``ok`` only when the chain and every checkpoint hold."""

    chain_ok: bool
    checked: int
    broken_at: int | None = None
    chain_reason: str = ""
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain_ok and not self.problems

    @property
    def reason(self) -> str:
        return self.chain_reason or (self.problems[0] if self.problems else "")


def _describe(statement: Mapping) -> str:
    return _("checkpoint of %(at)s (%(count)s events)", at=statement.get("at"), count=statement.get("count"))


def _statement_problem(statement: Mapping, signature: Mapping, keys: Mapping[str, PublishedKey],
                       found: Mapping[int, tuple[int, str]]) -> str | None:
    """What is wrong with one signed checkpoint, or None: its signature (a retired key's only if made before its
    retirement), then the events it vouches for."""
    what = _describe(statement)
    key = keys.get(signature.get("kid"))
    if key is None:
        return _("The %(what)s is signed with an unknown key %(kid)r.", what=what, kid=signature.get("kid"))
    if signature.get("alg") != ALGORITHM or not signature_holds(key.public_key, signature.get("value"),
                                                                canonical_bytes(dict(statement))):
        return _("The %(what)s does not match its signature: it was altered after it was signed.", what=what)
    late = key.signed_after_retirement(statement.get("at"))
    if late:
        return _("The %(what)s is not trusted: it was %(late)s.", what=what, late=late)
    head, count = statement["head_event_id"], statement["count"]
    if head is None:
        return None if count == 0 else _("The %(what)s names no head event.", what=what)
    if head not in found:
        return _("Event %(head)s, the head of the %(what)s, is missing.", head=head, what=what)
    position, stored_hash = found[head]
    if stored_hash != statement["head_hash"]:
        return _("Event %(head)s no longer has the hash the %(what)s signed: the chain was rewritten.", head=head,
                 what=what)
    if position != count:
        if position < count:
            return _("%(position)s events lead to event %(head)s, but the %(what)s signed %(count)s: events were "
                     "removed.", position=position, head=head, what=what, count=count)
        return _("%(position)s events lead to event %(head)s, but the %(what)s signed %(count)s: events were "
                 "inserted.", position=position, head=head, what=what, count=count)
    return None


def _saved_entries(saved) -> list[Mapping]:
    """Entries of a saved copy: the published document (or several pages' entries as one list)."""
    entries = saved.get("checkpoints") if isinstance(saved, Mapping) else saved
    if not isinstance(entries, list):
        raise ValueError('A saved copy is the published document, an object with a "checkpoints" list.')
    for entry in entries:
        if not (isinstance(entry, Mapping) and isinstance(entry.get("statement"), Mapping)
                and isinstance(entry.get("signature"), Mapping)
                and all(isinstance(entry["signature"].get(k), str) for k in ("alg", "kid", "value"))
                and set(entry["statement"]) == {"type", "count", "head_event_id", "head_hash", "at"}
                and entry["statement"]["type"] == STATEMENT_TYPE
                and isinstance(entry["statement"]["count"], int)
                and (entry["statement"]["head_event_id"] is None
                     or isinstance(entry["statement"]["head_event_id"], int))):
            raise ValueError(f"Not a published checkpoint: {json.dumps(entry, default=str)[:120]}")
    return entries


def verify_audit(session: Session, keys, saved: object = None) -> AuditReport:
    """Check the chain and every checkpoint: each signature under ``keys`` (a JWKS or whatever
    ``signing.keys.trusted_keys`` reads; a retired key only for checkpoints made before its retirement), and the
    events it vouches for still in place (the head event with its hash, and exactly ``count`` events up to it). With
    ``saved`` (a copy of the published checkpoints) also its entries, and that each is still in the database. Raises
    ValueError when ``saved`` is not such a copy."""
    saved_entries = _saved_entries(saved) if saved is not None else []
    keys = trusted_keys(keys)
    rows = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    signed: list[tuple[Mapping, Mapping, str]] = [
        (statement_of(r), {"alg": ALGORITHM, "kid": r.key_id, "value": r.signature}, "") for r in rows]
    stored = {(json.dumps(s, sort_keys=True), sig["value"]) for s, sig, _ in signed}
    for entry in saved_entries:
        statement, signature = entry["statement"], entry["signature"]
        if (json.dumps(statement, sort_keys=True), signature.get("value")) not in stored:
            signed.append((statement, signature, _("The %(what)s in the saved copy is missing from the database: "
                                                   "checkpoints were deleted or altered.",
                                                   what=_describe(statement))))
    marks = {s["head_event_id"] for s, _, _ in signed if s["head_event_id"] is not None}
    chain, found = walk_chain(session, marks)
    report = AuditReport(chain.ok, chain.checked, chain.broken_at, chain.reason, checkpoints=len(signed))
    for statement, signature, missing in signed:
        if missing:
            report.problems.append(missing)
        problem = _statement_problem(statement, signature, keys, found)
        if problem:
            report.problems.append(problem)
    return report

