"""The one shape every lifecycle takes: a table of allowed (state, action) -> (next state, who may act).

A service asks ``Lifecycle.next(state, action, actor)`` before it moves anything; a move missing from the table
is InvalidTransition (409), a move the actor's role may not make is Forbidden (403).
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from marketplace.errors import Forbidden, InvalidTransition

S = TypeVar("S", bound=enum.StrEnum)
A = TypeVar("A", bound=enum.StrEnum)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


@dataclass(frozen=True)
class Move(Generic[S]):
    to: S
    by: frozenset


def move(to: S, *by: enum.StrEnum) -> Move[S]:
    return Move(to, frozenset(by))


class Lifecycle(Generic[S, A]):
    """A state machine given as a table; ``subject`` names the thing in error messages ("version", "order")."""

    def __init__(self, subject: str, table: dict[tuple[S, A], Move[S]]):
        self.subject = subject
        self.table = table

    def next(self, current: S, action: A, actor: enum.StrEnum) -> S:
        """The state ``action`` by ``actor`` leads to from ``current``; refused if the table does not allow it."""
        entry = self.table.get((current, action))
        if entry is None:
            raise InvalidTransition(
                f"Cannot {_words(action.value)} {_a(self.subject)} that is {_words(current.value)}."
            )
        if actor not in entry.by:
            who = " or ".join(sorted(_words(a.value) for a in entry.by))
            raise Forbidden(f"Only {_a(who)} may {_words(action.value)} {_a(self.subject)}.")
        return entry.to

    def actions_from(self, current: S, actors: Iterable[enum.StrEnum]) -> list[A]:
        """The actions open to any of ``actors`` in state ``current`` (what a page offers as buttons)."""
        actors = set(actors)
        return [action for (state, action), entry in self.table.items() if state == current and entry.by & actors]
