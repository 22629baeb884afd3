"""A column profile's numbers in the reader's words: shares read as Babel's percent patterns would write them."""
from __future__ import annotations

import random

import pytest
from babel import numbers

from marketplace.catalog import profile_display


def babel_share(value: float, locale: str) -> str:
    if 0 < value < 0.001:
        return "<" + numbers.format_percent(0.001, "#,##0.#%", locale=locale)
    return numbers.format_percent(value, "#,##0.#%" if value < 0.1 else "#,##0%", locale=locale)


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant_HK", "de_DE", "fr_FR"])
def test_a_share_reads_as_babel_writes_it(monkeypatch, locale):
    rng = random.Random(locale)
    values = ([rng.random() for _ in range(2000)] + [rng.random() / 10 for _ in range(2000)]
              + [i / 2000 for i in range(2001)] + [0.0005, 0.00099, 0.0125, 0.0135, 0.0995, 0.0999, 0.995])
    monkeypatch.setattr(profile_display, "babel_locale", lambda: numbers.Locale.parse(locale))
    wrong = [(v, profile_display.share(v), babel_share(v, locale)) for v in values
             if profile_display.share(v) != babel_share(v, locale)]
    assert not wrong, wrong[:5]
