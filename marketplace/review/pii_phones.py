"""Bare eight-digit Hong Kong phone numbers (no +852, no separator), judged per column whatever its name.

A value is a possible subscriber number when its leading digits fall in a range the numbering plan gives to
fixed or mobile services. The Communications Authority's numbering plan for Hong Kong (8-digit plan since 1995;
OFCA, "Numbering Plan for Telecommunications Services in Hong Kong", and the CA Statement of June 2016 on more
efficient use of the 8-digit plan, implemented from 1 July 2017, OFCA press release of 5 February 2018):

* ``2`` and ``3``: fixed telecommunications network services;
* ``5``, ``6`` and ``9``: mobile services;
* ``4``: the "4X" level, re-allocated to mobile services;
* ``70``-``73``: the "7(0-3)X" levels, relocated from paging to mobile services (``74``-``79`` are not);
* ``81``-``83``: vacant numbers of the "8(1-3)X" levels, re-allocated to mobile services; the rest of ``8``
  (``800`` freephone and other special services) and ``0``/``1`` (operator and service codes) are not
  subscriber numbers.

Eight-digit counts, ids, codes and dates often fall in those ranges too, so a column is taken for phone numbers
only when ``SHARE`` of its non-empty values are valid numbers, at least ``MIN_NUMBERS`` of them, and their spread
looks like phone numbers: not mostly dates (``20240101``), not a run of near-consecutive values (sequential ids,
``MAX_STEP`` apart or less), not clustered under one three-digit prefix (product or area codes), and not in a
column whose name says it counts, sums, codes or dates something.
"""
from __future__ import annotations

import re
from datetime import date

SHARE = 0.8
MIN_NUMBERS = 3
MAX_STEP = 1_000  # consecutive values at most this far apart are a sequence of ids
SEQUENCE_SHARE = 0.5
PREFIX_SHARE = 0.5
DATE_SHARE = 0.3
MAX_PREFIXES = 1_000
_EIGHT = re.compile(r"[0-9]{8}")
NOT_PHONE_WORDS = frozenset({
    "count", "total", "sum", "amount", "qty", "quantity", "population", "code", "id", "seq", "serial", "index",
    "date", "year", "period", "ref", "reference", "value", "price", "cost", "area", "size",
})


def is_hk_subscriber_number(digits: str) -> bool:
    """Whether eight digits fall in a fixed or mobile range of the Hong Kong numbering plan (see the module)."""
    if not _EIGHT.fullmatch(digits):
        return False
    first, second = digits[0], digits[1]
    return (first in "234569" or first == "7" and second in "0123" or first == "8" and second in "123")


def _is_date(digits: str) -> bool:
    try:
        return 1900 <= int(digits[:4]) <= 2100 and bool(date(int(digits[:4]), int(digits[4:6]), int(digits[6:])))
    except ValueError:
        return False


class BareNumberTally:
    """The eight-digit statistics of one column, in bounded memory (at most ``MAX_PREFIXES`` prefixes)."""

    __slots__ = ("values", "valid", "dates", "steps", "small_steps", "last", "prefixes", "example")

    def __init__(self) -> None:
        self.values = self.valid = self.dates = self.steps = self.small_steps = 0
        self.last: int | None = None
        self.prefixes: dict[str, int] = {}
        self.example = ""

    def add(self, text: str) -> None:
        """Count one non-empty value of the column."""
        self.values += 1
        v = text.strip() if len(text) != 8 else text
        if len(v) != 8 or not is_hk_subscriber_number(v):
            return
        self.valid += 1
        if _is_date(v):
            self.dates += 1
        n = int(v)
        if self.last is not None:
            self.steps += 1
            if abs(n - self.last) <= MAX_STEP:
                self.small_steps += 1
        self.last = n
        if v[:3] in self.prefixes or len(self.prefixes) < MAX_PREFIXES:
            self.prefixes[v[:3]] = self.prefixes.get(v[:3], 0) + 1
        self.example = self.example or f"{v[:2]}****{v[-2:]}"

    def verdict(self, column_tokens: set[str]) -> tuple[int, str] | None:
        """(numbers, masked example) when the column holds Hong Kong phone numbers, else None."""
        if self.valid < MIN_NUMBERS or self.valid < SHARE * self.values or column_tokens & NOT_PHONE_WORDS:
            return None
        if self.dates >= DATE_SHARE * self.valid:
            return None
        if self.steps and self.small_steps >= SEQUENCE_SHARE * self.steps:
            return None
        if self.valid >= 5 and max(self.prefixes.values()) >= PREFIX_SHARE * self.valid:
            return None
        return self.valid, self.example
