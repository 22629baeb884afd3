"""A generated corpus for the personal-information scanner, and its measured precision and recall."""
from __future__ import annotations

import pytest

REPORT = pytest.StashKey[list[str]]()  # lines the corpus test leaves for the terminal summary
