"""Recording audit events in a hash chain, and verifying the chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, false, or_, select, text
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.i18n import N_

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x617564697400  # "audit": any constant the app uses for nothing else


def _event_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        {
            "prev": prev_hash, "at": event.occurred_at.isoformat(), "actor": event.actor_id,
            "action": event.action, "subject": [event.subject_type, event.subject_id], "payload": event.payload,
        },
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session, *, actor_id: int | None, action: str, subject_type: str, subject_id: int | None,
    payload: dict | None = None,
) -> AuditEvent:
    """Append an event whose hash covers the previous event's hash; in the same transaction, sign a checkpoint
    of the chain when the newest one is older than ``AUDIT_CHECKPOINT_SECONDS`` (see ``audit.checkpoints``).

    ``prev_hash`` is unique, so two writers chaining onto the same event cannot both commit. On PostgreSQL a
    transaction-scoped advisory lock makes concurrent writers queue instead of failing; SQLite already allows
    one writer at a time.
    """
    lock_chain(session)
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = last or GENESIS
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0), actor_id=actor_id, action=action,
        subject_type=subject_type, subject_id=subject_id, payload=json.loads(json.dumps(payload or {}, default=str)),
        prev_hash=prev,
    )
    event.hash = _event_hash(prev, event)
    session.add(event)
    session.flush()
    from marketplace.audit.checkpoints import checkpoint_if_due

    checkpoint_if_due(session)
    return event


def lock_chain(session: Session) -> None:
    """Hold the chain's head until the transaction ends: on PostgreSQL a transaction-scoped advisory lock (SQLite
    already allows one writer at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in id order and report the first event whose link or hash does not hold."""
    return walk_chain(session)[0]


def walk_chain(session: Session, marks: set[int] = frozenset()) -> tuple[ChainReport, dict[int, tuple[int, str]]]:
    """``verify_chain``, and for each event id in ``marks`` that exists: its position in the chain (the number of
    events up to and including it) and its stored hash. The walk reads every row even past a broken link, so
    that checkpoints can still be compared with what is there."""
    prev = GENESIS
    n = 0
    report = None
    found: dict[int, tuple[int, str]] = {}
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        n += 1
        if event.id in marks:
            found[event.id] = (n, event.hash)
        if report is None:
            if event.prev_hash != prev:
                report = ChainReport(False, n, event.id, N_("previous event missing or altered"))
            elif _event_hash(prev, event) != event.hash:
                report = ChainReport(False, n, event.id, N_("event content altered"))
            prev = event.hash
        elif not marks or len(found) == len(marks):
            break
    return report or ChainReport(True, n), found


@dataclass(frozen=True)
class EventFilter:
    """Which events to show: each part narrows; ``subjects`` is any of (subject type, ids) pairs (ids None: any id
    of that type), so a caller can name everything that concerns one object."""

    action: str = ""  # the action starts with this
    actor_ids: tuple[int, ...] | Select | None = None  # None: anyone; () would match nobody
    subjects: tuple[tuple[str, tuple[int, ...] | Select | None], ...] | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


def filtered_events(event_filter: EventFilter) -> Select:
    """The query of the events ``event_filter`` lets through, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    f = event_filter
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action, autoescape=True))
    if f.actor_ids is not None:
        query = query.where(AuditEvent.actor_id.in_(f.actor_ids))
    if f.subjects is not None:
        query = query.where(or_(false(), *(
            and_(AuditEvent.subject_type == kind, *([AuditEvent.subject_id.in_(ids)] if ids is not None else []))
            for kind, ids in f.subjects)))
    if f.since is not None:
        query = query.where(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.occurred_at < f.until)
    return query


def event_page(session: Session, event_filter: EventFilter, before: int | None = None,
               limit: int = 100) -> tuple[list[AuditEvent], bool]:
    """The newest events the filter lets through (before event ``before``), and whether older ones exist."""
    query = filtered_events(event_filter).limit(limit + 1)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(session.scalars(query))
    return rows[:limit], len(rows) > limit


def known_actions(session: Session) -> list[str]:
    """Every action the trail holds, in order."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
