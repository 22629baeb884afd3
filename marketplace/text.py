"""The rule for single-line text (names and titles): what no name or title may contain.

Names and titles are written into e-mail bodies and subjects, page headings, certificates and exports. A line
break there lets whoever chose the name write lines of their own into a platform e-mail ("ACTION NEEDED: ..."),
and a bidirectional override makes text read differently from what it is ("txt.exe" shown as "exe.txt"). So a
single-line field refuses line breaks of every kind, every other control character (C0, DEL, C1 such as U+0085)
and the bidi embedding, override and isolate characters. Marks that only steer direction (U+200E, U+200F) stay
allowed: right-to-left names need them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from marketplace.errors import ValidationFailed

# C0 (tab, CR and LF included), DEL, C1 (NEL U+0085 among them), LINE and PARAGRAPH SEPARATOR, the bidi
# embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069); and invisible characters that make two
# names look the same: zero width space, word joiner and invisible operators (U+2060-U+2064), deprecated format
# characters (U+206A-U+206F), the byte order mark, interlinear annotation (U+FFF9-U+FFFB) and tag characters.
# Zero width (non-)joiners stay: several scripts and emoji need them.
_NOT_SINGLE_LINE_BMP = ("\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff\ufff9-\ufffb")
_NOT_SINGLE_LINE = re.compile(f"[{_NOT_SINGLE_LINE_BMP}\U000e0000-\U000e007f]")
# The same rule as JSON Schema patterns (the OpenAPI document states it for every name and title), for a line
# that may be empty and one that must not be blank. The tag characters (U+E0000-U+E007F) are left out of the
# patterns: a character class past the BMP is not portable between regular expression engines.
SINGLE_LINE_PATTERN = f"^[^{_NOT_SINGLE_LINE_BMP}]*$"
SINGLE_LINE_NON_BLANK_PATTERN = (f"^[^{_NOT_SINGLE_LINE_BMP}]*[^\\s{_NOT_SINGLE_LINE_BMP}]"
                                 f"[^{_NOT_SINGLE_LINE_BMP}]*$")
# Any text the API takes refuses C0 control characters but tab and line breaks (marketplace.inputs): the same
# rules as JSON Schema patterns, for text that may be empty and text that must not be blank.
_CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f"
TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*$"
NON_BLANK_TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*[^\\s{_CONTROL_CHARS}][^{_CONTROL_CHARS}]*$"
SINGLE_LINE_MESSAGE = "Use one line of plain text: no line breaks, control characters or text-direction overrides."


def is_single_line(value: str) -> bool:
    """Whether ``value`` holds none of the characters a name or title may not contain."""
    return _NOT_SINGLE_LINE.search(value) is None


def single_line_errors(values: Mapping[str, object]) -> dict[str, list[str]]:
    """Field name -> [message] for each text of ``values`` (field name -> value; non-text is skipped) that
    contains a line break, a control character or a bidi override, embedding or isolate."""
    return {field: [SINGLE_LINE_MESSAGE] for field, value in values.items()
            if isinstance(value, str) and not is_single_line(value)}


def require_single_line(values: Mapping[str, object]) -> None:
    """Refuse (ValidationFailed, field by field as ``single_line_errors``) any text of ``values`` that is not a
    single line of plain text."""
    if errors := single_line_errors(values):
        raise ValidationFailed("Names and titles must be a single line of plain text.", errors)


# An idempotency key (a form's hidden field, the API's Idempotency-Key header) an order can carry.
MAX_IDEMPOTENCY_KEY = 100


def idempotency_key_fits(key: str) -> bool:
    """Whether an order could carry ``key``: at most MAX_IDEMPOTENCY_KEY printable characters."""
    return len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> str:
    """A CSV cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
