"""The audit trail as CSV: stable English column names, one row per event, streamed in batches so a long trail
never sits in memory, every cell that a spreadsheet would run as a formula made inert."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import Select
from sqlalchemy.orm import Session

from marketplace.admin.audit_objects import actors_of, resolve_subjects
from marketplace.audit.models import AuditEvent
from marketplace.i18n import in_locale_of
from marketplace.text import inert

COLUMNS = ("event_id", "occurred_at_utc", "actor_id", "actor_email", "actor_name", "action", "subject_type",
           "subject_id", "subject_label", "product_id", "payload", "hash", "prev_hash")
BATCH = 500


def _line(cells) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([inert(c) for c in cells])
    return out.getvalue()


def audit_csv(session: Session, query: Select) -> Iterator[str]:
    """The CSV text of the events ``query`` selects, a header line first, then batch after batch of rows."""
    yield _line(COLUMNS)
    last = None
    while True:
        page = query.where(AuditEvent.id < last) if last is not None else query
        batch = list(session.scalars(page.limit(BATCH)))
        if not batch:
            return
        actors = actors_of(session, batch)
        with in_locale_of("en"):  # the labels in English, like the column names
            subjects = resolve_subjects(session, batch)
        for e in batch:
            actor = actors.get(e.actor_id)
            linked = subjects.get((e.subject_type, e.subject_id))
            yield _line((e.id, e.occurred_at.isoformat(), e.actor_id, actor.email if actor else "",
                         actor.display_name if actor else "", e.action, e.subject_type, e.subject_id,
                         linked.label if linked else "", linked.product_id if linked else "",
                         json.dumps(e.payload, sort_keys=True, ensure_ascii=False, default=str), e.hash,
                         e.prev_hash))
        last = batch[-1].id
