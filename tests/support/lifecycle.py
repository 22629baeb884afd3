"""Checking a lifecycle table against the one a test writes out independently."""
from __future__ import annotations

import pytest

from marketplace.errors import Forbidden, InvalidTransition


def check_move(lifecycle, expected: dict, state, action, actor) -> None:
    """``expected`` maps (state, action) to (next state, the actor or set of actors allowed); anything missing
    must be refused as InvalidTransition (409) naming the state, a move by anyone else as Forbidden (403) naming who
    may, each in the lifecycle's words."""
    entry = expected.get((state, action))
    if entry is None:
        with pytest.raises(InvalidTransition) as err:
            lifecycle.next(state, action, actor)
        assert err.value.status == 409 and lifecycle.words.state(state) in err.value.message
        return
    allowed = entry[1] if isinstance(entry[1], (set, frozenset)) else {entry[1]}
    if actor not in allowed:
        with pytest.raises(Forbidden) as err:
            lifecycle.next(state, action, actor)
        assert err.value.status == 403 and all(str(lifecycle.words.actors[a]) in err.value.message for a in allowed)
    else:
        assert lifecycle.next(state, action, actor) == entry[0]
