"""Prints the corpus measurements (precision and recall per kind) at the end of every run that included them."""
from __future__ import annotations

from tests.review.corpus import REPORT


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(REPORT, None)
    if lines:
        terminalreporter.write_sep("=", "personal-information scanner on the generated corpus")
        for line in lines:
            terminalreporter.write_line(line)
