"""Measured results that tests want shown in the normal test output (agreement counts, precision and recall).

A test calls ``report("licence cases: 47/47 agree")``; the ``pytest_terminal_summary`` hook in tests/conftest.py prints
every recorded line under a "results" heading at the end of the run, in the order they were recorded.
"""
from __future__ import annotations

LINES: list[str] = []


def report(line: str) -> None:
    """Record one line to print in the test run's terminal summary."""
    LINES.append(line)
