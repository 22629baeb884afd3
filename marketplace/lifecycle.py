"""The one shape every lifecycle takes: a table of allowed (state, action) -> (next state, who may act), and the
one locked transition that applies it to a row.

``Lifecycle.next(state, action, actor)`` answers from the table alone: a move missing from the table is
InvalidTransition (409), a move the actor's role may not make is Forbidden (403). ``Lifecycle.apply`` is how a
service moves an object: it locks the object's row, re-reads its state, asks the table, sets the new state, stamps
the time and writes the audit event, so that of two concurrent decisions on one object exactly one wins and the
other is refused before it notifies anyone or calls a provider.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask_babel import gettext as _
from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Forbidden, InvalidTransition

S = TypeVar("S", bound=enum.StrEnum)
A = TypeVar("A", bound=enum.StrEnum)


def in_sentence(label: str) -> str:
    """A label written to stand alone ("Awaiting payment") as it reads inside a sentence ("awaiting payment"); an
    acronym ("PII ...") and scripts without case stay as they are."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


@dataclass(frozen=True)
class Words:
    """How a lifecycle's refusals name its things in the reader's language, each a translated label (lazy, read
    when a refusal is written): ``subject`` with its English article ("an order"), a label per action ("request
    changes") and per actor ("a reviewer"), and the states' labels: ``states`` maps or gives them, or else the
    state enum's own ``label`` is used, as it reads in a sentence. ``refusals`` may give a move missing from the
    table its own plain sentence, by (state, action), in place of the generic refusal."""

    subject: Any
    actions: Mapping[Any, Any]
    actors: Mapping[Any, Any]
    states: Mapping[Any, Any] | Callable[[Any], str] | None = None
    refusals: Mapping[tuple[Any, Any], Any] = field(default_factory=dict)

    def state(self, value: enum.StrEnum) -> str:
        if callable(self.states):
            return str(self.states(value))
        if self.states is not None:
            return str(self.states[value])
        return in_sentence(str(value.label))

    def actors_of(self, actors: Iterable[enum.StrEnum]) -> str:
        """The actors as one phrase ("a reviewer or a seller"), in the order of their values."""
        labels = [str(self.actors[a]) for a in sorted(actors, key=lambda a: a.value)]
        phrase = labels[0]
        for label in labels[1:]:
            phrase = _("%(first)s or %(second)s", first=phrase, second=label)
        return phrase


@dataclass(frozen=True)
class Move(Generic[S]):
    to: S
    by: frozenset


def move(to: S, *by: enum.StrEnum) -> Move[S]:
    return Move(to, frozenset(by))


@dataclass(frozen=True)
class Subject:
    """How a lifecycle's objects map onto their rows and audit events.

    ``kind`` is the audit subject type and the prefix of the event's action ("order" -> "order.approve");
    ``status`` the attribute holding the state; ``stamps`` the time columns set on every move; ``stamps_into``
    the time columns set when a move ends in one of the given states (an order's ``closed_at``); ``facts`` what
    every event of this subject carries besides from/to (an order's product and plan).
    """

    kind: str
    status: str = "status"
    stamps: tuple[str, ...] = ()
    stamps_into: Mapping[str, frozenset] = field(default_factory=dict)
    facts: Callable[[Any], dict] = lambda obj: {}


@dataclass(frozen=True)
class Moved(Generic[S]):
    """What ``Lifecycle.apply`` did: the state before and after, when, and the audit event written."""

    previous: S
    state: S
    at: datetime
    event: AuditEvent


def lock_row(session: Session, obj: Any, *also: Any) -> None:
    """Lock ``obj``'s row until the transaction ends and re-read it (and ``also``, read after the lock): a row lock
    (``SELECT ... FOR UPDATE``) on PostgreSQL; on SQLite the database write lock, taken by a no-op write of the row,
    which makes every other writer wait. Pending changes are flushed first, so the re-read loses none of them."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(obj, with_for_update=True)
    else:
        mapper = inspect(obj).mapper
        key = mapper.primary_key[0]
        table = mapper.local_table
        # Every column set to itself, so that no ``onupdate`` (updated_at) fires: the write changes nothing.
        unchanged = {key.name: key, **{c.name: c for c in table.columns if c.onupdate is not None}}
        session.execute(update(table).where(key == getattr(obj, mapper.get_property_by_column(key).key))
                        .values(unchanged))
        session.refresh(obj)
    for other in also:
        session.refresh(other)


class Lifecycle(Generic[S, A]):
    """A state machine given as a table; ``subject`` names the thing in audit events unless ``maps`` says otherwise
    ("version", "order"), ``words`` in the refusals people read."""

    def __init__(self, subject: str, table: dict[tuple[S, A], Move[S]], maps: Subject | None = None, *,
                 words: Words):
        self.subject = subject
        self.table = table
        self.maps = maps or Subject(subject)
        self.words = words

    def next(self, current: S, action: A, actor: enum.StrEnum) -> S:
        """The state ``action`` by ``actor`` leads to from ``current``; refused, in the reader's language, if the
        table does not allow it."""
        entry = self.table.get((current, action))
        words = self.words
        if entry is None:
            if (current, action) in words.refusals:
                raise InvalidTransition(str(words.refusals[(current, action)]))
            raise InvalidTransition(_("Cannot %(action)s %(subject)s that is %(state)s.",
                                      action=words.actions[action], subject=words.subject,
                                      state=words.state(current)))
        if actor not in entry.by:
            raise Forbidden(_("Only %(actors)s may %(action)s %(subject)s.", actors=words.actors_of(entry.by),
                              action=words.actions[action], subject=words.subject))
        return entry.to

    def actions_from(self, current: S, actors: Iterable[enum.StrEnum]) -> list[A]:
        """The actions open to any of ``actors`` in state ``current`` (what a page offers as buttons)."""
        actors = set(actors)
        return [action for (state, action), entry in self.table.items() if state == current and entry.by & actors]

    def lock(self, session: Session, obj: Any, *also: Any) -> S:
        """Lock ``obj``'s row (see ``lock_row``), re-read it and ``also``; its state now, which no concurrent
        transition can change until this transaction ends."""
        lock_row(session, obj, *also)
        return getattr(obj, self.maps.status)

    def apply(self, session: Session, obj: Any, action: A, actor: enum.StrEnum, *, user: Any = None,
              payload: Mapping[str, Any] | None = None, also: Iterable[Any] = (),
              check: Callable[[S], Mapping[str, Any] | None] | None = None) -> Moved[S]:
        """Move ``obj`` by ``action`` as ``actor``, for ``user`` (None for the platform itself).

        Locks the row and re-reads it (and ``also``) first, then asks the table with the state read under the lock:
        InvalidTransition (409) if the move is not allowed from it (a concurrent decision won), Forbidden (403) if
        the actor's role may not make it. ``check(state)``, given the state read under the lock, then runs before
        anything changes, for the service's own conditions and outside calls (a capped plan's count, the case's
        claimant, the provider's refund): it refuses by raising, and may return more for the event's payload. Sets
        the state, stamps the subject's time columns and writes the audit event ``<kind>.<action>`` with from, to,
        the subject's facts, ``payload`` and what ``check`` returned."""
        maps = self.maps
        previous = self.lock(session, obj, *also)
        state = self.next(previous, action, actor)
        found = check(previous) if check is not None else None
        now = utcnow()
        setattr(obj, maps.status, state)
        for column in maps.stamps:
            setattr(obj, column, now)
        for column, states in maps.stamps_into.items():
            if state in states:
                setattr(obj, column, now)
        event = record(session, actor_id=getattr(user, "id", None), action=f"{maps.kind}.{action.value}",
                       subject_type=maps.kind, subject_id=obj.id,
                       payload={**maps.facts(obj), "from": previous.value, "to": state.value, **(payload or {}),
                                **(found or {})})
        return Moved(previous, state, now, event)
