"""The data dictionary's difference between two listed versions: added, removed and retyped columns."""
from __future__ import annotations

import pytest

from marketplace.events.dictionary import Retyped, dictionary_diff

CASES = [
    ("same", [("a", "string")], [("a", "string")], [], [], []),
    ("added", [("a", "string")], [("a", "string"), ("b", "number")], [("b", "number")], [], []),
    ("removed", [("a", "string"), ("b", "number")], [("a", "string")], [], [("b", "number")], []),
    ("retyped", [("a", "string")], [("a", "integer")], [], [], [Retyped("a", "string", "integer")]),
    ("renamed is removed and added", [("lat", "number")], [("latitude", "number")], [("latitude", "number")],
     [("lat", "number")], []),
    ("reordered is no change", [("a", "string"), ("b", "number")], [("b", "number"), ("a", "string")], [], [], []),
    ("from nothing", [], [("a", "string")], [("a", "string")], [], []),
    ("all at once", [("a", "string"), ("b", "number"), ("c", "date")], [("a", "number"), ("c", "date"),
                                                                        ("d", "boolean")],
     [("d", "boolean")], [("b", "number")], [Retyped("a", "string", "number")]),
]


@pytest.mark.parametrize(("name", "before", "after", "added", "removed", "retyped"), CASES,
                         ids=[case[0] for case in CASES])
def test_dictionary_diff(name, before, after, added, removed, retyped):
    diff = dictionary_diff(before, after)
    assert (diff.added, diff.removed, diff.retyped) == (added, removed, retyped)
    assert bool(diff) == bool(added or removed or retyped)


def test_the_difference_as_event_data():
    diff = dictionary_diff([("a", "string"), ("b", "number")], [("a", "integer"), ("c", "date")])
    assert diff.as_data() == {"added": [{"name": "c", "type": "date"}], "removed": [{"name": "b", "type": "number"}],
                              "retyped": [{"name": "a", "from": "string", "to": "integer"}]}
