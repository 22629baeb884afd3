"""Words the system writes down for people to read later, shown in the reader's language.

A licence's status reason, a payment's failure and a payment anomaly's detail are stored in English, as the audit
trail keeps them and the API gives them. Each form such a text can take is a catalog msgid (marked with ``N_``)
whose ``%(name)s`` placeholders stand for values; reading the text back, the form is found, its values are taken out
and the form is translated with them. A value is itself read through the forms (a refund's reason inside a
licence's) unless a function is given for it (an enum value shown by its label). Text in no known form, such as the
words a person typed, is shown as it was written.

    LICENCE_REASONS = RecordedText(N_("The licence period ended."), N_("Order refunded: %(reason)s"))
    licence.status_reason = LICENCE_REASONS.english(N_("Order refunded: %(reason)s"), reason=typed)
    LICENCE_REASONS.shown(licence.status_reason)   # "订单已退款：…" for a zh-Hans reader
"""
from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _pattern(form: str) -> re.Pattern[str]:
    parts, seen = [], set()
    for i, piece in enumerate(_PLACEHOLDER.split(form)):
        if i % 2 == 0:
            parts.append(re.escape(piece))
        else:  # a placeholder's name: any text, the same text where the name comes again
            parts.append(f"(?P={piece})" if piece in seen else f"(?P<{piece}>.+?)")
            seen.add(piece)
    return re.compile("".join(parts), re.DOTALL)


class RecordedText:
    """The forms of one kind of recorded text, and functions that show some of their values."""

    def __init__(self, *forms: str, **values: Callable[[str], str]):
        self._forms = [(form, _pattern(form)) for form in forms]
        self._values = values

    def english(self, form: str, **values: object) -> str:
        """The text to store: ``form`` (one of this kind's) filled with ``values``, untranslated."""
        if not any(form == known for known, _pattern_of in self._forms):
            raise ValueError(f"Not a form of this recorded text: {form!r}")
        return form % {name: str(value) for name, value in values.items()}

    def form_of(self, text: str | None) -> tuple[str, dict[str, str]] | None:
        """The known form ``text`` was written in and the values filled into it, or None (text in no known form)."""
        for form, pattern in self._forms:
            found = pattern.fullmatch(text or "")
            if found:
                return form, found.groupdict()
        return None

    def shown(self, text: str | None) -> str:
        """``text`` in the reader's language when it has a known form, else as it was written."""
        text = text or ""
        for form, pattern in self._forms:
            found = pattern.fullmatch(text)
            if found:
                return gettext(form, **{name: self._value(name, value)
                                        for name, value in found.groupdict().items()})
        return text

    def _value(self, name: str, value: str) -> str:
        show = self._values.get(name)
        if show is None:
            return self.shown(value)
        try:
            return show(value)
        except (KeyError, ValueError):  # a value the function does not know (an older record): as written
            return value
