"""Request-wide input guards that no single form or schema should have to repeat.

- ``<int:...>`` in any route means a row id: numbers past a 32-bit signed integer cannot name a row, so they are 404
  before the database sees them (SQLite raises OverflowError on them, PostgreSQL an out-of-range error).
- A NUL character is never valid text: PostgreSQL refuses to store it. Requests carrying one in the query string,
  a form field or a JSON string get 400 with a clear message, whatever the page or endpoint.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_inputs(app: Flask) -> None:
    """Install the row-id converter (before any route is added) and the NUL guard."""
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def _refuse_nul():
        fields = [*request.args.values(), *request.args.keys()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [*request.form.values(), *request.form.keys()]
        if _has_nul(fields) or (request.is_json and _has_nul(request.get_json(silent=True))):
            raise BadRequest("Text may not contain NUL characters (\\x00).")
