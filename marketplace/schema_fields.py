"""Field builders every API schema uses: lengths, single-line names, non-blank text, closed vocabularies, strict
integers and booleans, http(s) addresses. Each states in the OpenAPI document the rule a service checks (the
service stays the one that refuses, with its own message)."""
from __future__ import annotations

from marshmallow import fields, validate

from marketplace.inputs import MAX_ROW_ID
from marketplace.text import NON_BLANK_TEXT_PATTERN, SINGLE_LINE_NON_BLANK_PATTERN, SINGLE_LINE_PATTERN


def one_of(enum_cls) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum_cls])


def text(max_len: int, *, min_len: int = 0, **kw) -> fields.String:
    return fields.String(validate=validate.Length(min=min_len, max=max_len), **kw)


def documented(kw: dict, **rules) -> dict:
    """``kw`` with ``rules`` added to the field's metadata: what the OpenAPI document states of a rule a service
    checks (the service stays the one that refuses, with its own message)."""
    return {**kw, "metadata": {**rules, **kw.get("metadata", {})}}


def line(max_len: int, *, min_len: int = 0, blank: bool = True, **kw) -> fields.String:
    """A name or title: single-line text (``marketplace.text``); ``blank=False`` when the service requires it."""
    pattern = SINGLE_LINE_PATTERN if blank else SINGLE_LINE_NON_BLANK_PATTERN
    return text(max_len, min_len=min_len, **documented(kw, pattern=pattern, **({} if blank else {"minLength": 1})))


def filled(max_len: int, **kw) -> fields.String:
    """Text the service requires to hold more than white space (a reason, a message)."""
    return text(max_len, **documented(kw, pattern=NON_BLANK_TEXT_PATTERN, minLength=1))


def choice(enum_cls, **kw) -> fields.String:
    return fields.String(validate=one_of(enum_cls), **kw)


def choices(enum_cls, max_items: int = 20, **kw) -> fields.List:
    return fields.List(choice(enum_cls), validate=validate.Length(max=max_items), **kw)


def strict_int(**kw) -> fields.Integer:
    return fields.Integer(strict=True, **kw)


def row_id(**kw) -> fields.Integer:
    """The id of a row: a strict integer from 1 to 2**31 - 1 (a larger number names no row, and the database
    could not even compare it)."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID), **kw)


class JsonBoolean(fields.Boolean):
    """A JSON boolean: true or false, not 0, 1 or "yes" (the document says boolean, and means it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def flag(**kw) -> fields.Boolean:
    return JsonBoolean(**kw)


# What the document promises of a dataset address: an http(s) URL with a host name marshmallow's URL check and
# the source rules accept (they accept more: ports, queries; the document names the common case).
URL_PATTERN = (r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}"
               r"(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*$")


def http_url(**kw) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=1000),
                      **documented(kw, pattern=URL_PATTERN))
