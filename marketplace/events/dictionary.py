"""How a new version's data dictionary differs from the one listed before: columns added, removed or retyped."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Retyped:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class DictionaryDiff:
    added: list[tuple[str, str]] = field(default_factory=list)  # (name, type)
    removed: list[tuple[str, str]] = field(default_factory=list)
    retyped: list[Retyped] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def as_data(self) -> dict:
        """The difference as the event's JSON."""
        return {"added": [{"name": n, "type": t} for n, t in self.added],
                "removed": [{"name": n, "type": t} for n, t in self.removed],
                "retyped": [{"name": r.name, "from": r.before, "to": r.after} for r in self.retyped]}


def dictionary_diff(before: Iterable[tuple[str, str]], after: Iterable[tuple[str, str]]) -> DictionaryDiff:
    """The columns (name, type) in ``after`` and not ``before`` (added), the reverse (removed), and those in both
    whose type changed (retyped), each in the order its dictionary lists them. Names compare exactly: a renamed
    column is one removed and one added."""
    old, new = dict(before), dict(after)
    return DictionaryDiff(
        added=[(name, kind) for name, kind in new.items() if name not in old],
        removed=[(name, kind) for name, kind in old.items() if name not in new],
        retyped=[Retyped(name, old[name], kind) for name, kind in new.items() if name in old and old[name] != kind])
