"""The messages of the libraries that check input, in the reader's language: marshmallow and webargs (the JSON
API's 422 answers) and WTForms and Flask-WTF (the pages' form errors).

Those libraries write English, and write it before we see it: "Longer than maximum length 100." Rather than
restate a message on every field of every schema and form (and miss one), we keep each library's message
*templates* below as msgids of our own catalogs, and translate a finished message by matching it against them:
one without values by its text, one with values by its template's pattern, whose values go into the translated
template. A message that matches no template (our own, already translated where it was written: gettext at raise
time) passes through unchanged. WTForms' own catalogs are switched off (``WTF_I18N_ENABLED``): they know one
Chinese, and not our glossary's words.

The lists are the libraries' own words, held to them by tests/test_library_messages.py: a new or reworded
message in an upgrade fails that test rather than leaving English in a Chinese answer.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import gettext

from marketplace.i18n import N_

# marshmallow's fields and validators (Range written out for each of its bounds), and webargs' default.
MARSHMALLOW = (
    N_("Missing data for required field."), N_("Field may not be null."), N_("Invalid value."),
    N_("Invalid input type."), N_("Invalid input."), N_("Invalid type."), N_("Unknown field."),
    N_("Not a valid string."), N_("Not a valid utf-8 string."), N_("Not a valid integer."),
    N_("Not a valid number."), N_("Number too large."), N_("Not a valid boolean."), N_("Not a valid date."),
    N_("Not a valid list."), N_("Not a valid tuple."), N_("Not a valid mapping type."), N_("Not a valid URL."),
    N_("Not a valid UUID."), N_("Not a valid email address."), N_("Not a valid period of time."),
    N_("Not a valid IP address."), N_("Not a valid IP interface."), N_("Not a valid IPv4 address."),
    N_("Not a valid IPv4 interface."), N_("Not a valid IPv6 address."), N_("Not a valid IPv6 interface."),
    N_("Not a valid {obj_type}."), N_("Not a valid {awareness} {obj_type}."),
    N_("\"{input}\" cannot be formatted as a {obj_type}."), N_("\"{input}\" cannot be formatted as a date."),
    N_("{input!r} cannot be formatted as a timedelta."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."), N_("Must be equal to {other}."),
    N_("Must be one of: {choices}."), N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."), N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."), N_("One or more of the choices you made was not in: {choices}."),
    N_("One or more of the choices you made was in: {values}."),
    N_("Must be greater than or equal to {min}."), N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."), N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
)

# WTForms' validators and fields, and Flask-WTF's CSRF check.
WTFORMS = (
    N_("This field is required."), N_("Invalid email address."), N_("Invalid URL."), N_("Invalid UUID."),
    N_("Invalid IP address."), N_("Invalid Mac address."), N_("Field must be equal to %(other_name)s."),
    N_("Field must be at least %(min)d character long."), N_("Field must be at least %(min)d characters long."),
    N_("Field cannot be longer than %(max)d character."), N_("Field cannot be longer than %(max)d characters."),
    N_("Field must be exactly %(max)d character long."), N_("Field must be exactly %(max)d characters long."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."), N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."), N_("Date must be at least %(min)s."),
    N_("Date must be at most %(max)s."), N_("Date must be between %(min)s and %(max)s."),
    N_("Invalid value, must be one of: %(values)s."), N_("Invalid value, can't be any of: %(values)s."),
    N_("This field cannot be edited."), N_("This field is disabled and cannot have a value."),
    N_("Not a valid choice."), N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_("'%(value)s' is not a valid choice for this field."), N_("'%(value)s' are not valid choices for this field."),
    N_("Not a valid datetime value."), N_("Not a valid date value."), N_("Not a valid time value."),
    N_("Not a valid week value."), N_("Not a valid integer value."), N_("Not a valid decimal value."),
    N_("Not a valid float value."), N_("Invalid CSRF Token."), N_("CSRF token missing."), N_("CSRF failed."),
    N_("CSRF token expired."), N_("The CSRF token is missing."), N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."), N_("The CSRF token is invalid."), N_("The CSRF tokens do not match."),
)

# A value in a template: marshmallow's {name} or {name!r}, WTForms' %(name)s or %(name)d.
_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?\}|%\((\w+)\)[sd]")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """Each template with values, as a pattern that captures them (longest first: the most specific wins)."""
    out = []
    for template in sorted({*MARSHMALLOW, *WTFORMS}, key=len, reverse=True):
        if not _PLACEHOLDER.search(template):
            continue
        pattern, at = "", 0
        for match in _PLACEHOLDER.finditer(template):
            pattern += re.escape(template[at:match.start()])
            name = match.group(1) or match.group(2)
            pattern += f"(?P<{name}>.+?)" if f"(?P<{name}>" not in pattern else f"(?P={name})"
            at = match.end()
        out.append((re.compile(pattern + re.escape(template[at:]) + r"\Z", re.S), template))
    return tuple(out)


_PLAIN = frozenset(t for t in (*MARSHMALLOW, *WTFORMS) if not _PLACEHOLDER.search(t))


def translated(message: object) -> str:
    """A library's finished ``message`` in the current locale; any other message as it is."""
    text = str(message)
    if text in _PLAIN:
        return gettext(text)
    for pattern, template in _patterns():
        found = pattern.match(text)
        if found:
            values = found.groupdict()
            # Our catalog's template, its values put back as the library had written them.
            # gettext without values formats nothing: the translated template's placeholders come back intact.
            return _PLACEHOLDER.sub(lambda m, v=values: v[m.group(1) or m.group(2)], gettext(template))
    return text


def translated_errors(errors: object) -> object:
    """A marshmallow/webargs error structure (dicts of field names, lists, strings) with every message
    translated; field names and list indexes stay as they are."""
    if isinstance(errors, dict):
        return {key: translated_errors(value) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [translated_errors(value) for value in errors]
    return translated(errors) if isinstance(errors, str) else errors
