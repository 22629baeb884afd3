"""Request-wide input guards that no single form or schema should have to repeat.

- ``<int:...>`` in any route means a row id: numbers past a 32-bit signed integer cannot name a row, so they are 404
  before the database sees them (SQLite raises OverflowError on them, PostgreSQL an out-of-range error).
- Request bodies have caps by kind (``MarketplaceRequest``): uploads on their own endpoints keep
  ``MAX_CONTENT_LENGTH`` (or the cap they declared); JSON, and anything sent to ``/api/`` or ``/webhooks/``,
  ``JSON_MAX_BYTES``; page forms ``FORM_MAX_BYTES``. Every reader (CSRF's form parsing, webargs, a view) stops
  at the cap; a declared length over it is 413 before a byte is read, and a chunked JSON body that reaches it is
  413.
- JSON nested deeper than ``JSON_MAX_DEPTH`` is 400 before any parser sees it: Python's parser recurses once per
  level and a body of ``[[[[...`` would otherwise end in RecursionError (a 500) on every JSON endpoint.
- A NUL character is never valid text: PostgreSQL refuses to store it. Requests carrying one in the URL path,
  the query string, a form field or a JSON string get 400 with a clear message, whatever the page or endpoint,
  before any database query. So is a lone UTF-16 surrogate in a JSON string (``"\\ud800"``: UTF-8 cannot
  carry one; the query string and forms decode invalid UTF-8 to U+FFFD). Other control characters (all of C0 but
  tab and line breaks) are refused the same way in the query string, forms and JSON: no field of ours means them,
  and they end up in e-mails and documents.
- Uploads are read only by someone who may upload there: an anonymous visitor, or a member of another
  organization, is refused before any reader (CSRF's form parsing included) touches the body.

Order: ``init_inputs`` (first, before CSRF) checks the path, sets the caps and refuses oversized bodies and
unauthorized uploads without reading them; the API then authenticates its writes (``marketplace.api``); only after
that does ``init_body_checks`` read and check bodies.
"""
from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable
from itertools import accumulate

from flask import Flask, Request, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from marketplace.errors import DomainError
from marketplace.i18n import number

MAX_ROW_ID = 2**31 - 1
MB = 1024 * 1024
# The endpoints that take a file as the body (they stream it to storage under MAX_UPLOAD_BYTES), each with the
# check of who may upload there, which runs before anything reads the body. The package that owns an upload
# endpoint registers it (``upload_endpoint``), so that this module knows no domain.
UPLOAD_ENDPOINTS: dict[str, Callable[[], ResponseReturnValue | None]] = {}
# An upload endpoint with a cap of its own: the config key of its largest file (the body may hold that and
# UPLOAD_FORM_ROOM for the form's other fields).
UPLOAD_CAPS: dict[str, str] = {}
# An upload page that can be shown again when its body is refused unread, given the refusal's words: its form,
# empty (what was typed is in the unread body).
TOO_LARGE_PAGES: dict[str, Callable[[str], ResponseReturnValue]] = {}
UPLOAD_FORM_ROOM = 64 * 1024
# Paths whose bodies are read as JSON whatever their content type (CKAN and certificates parse raw bodies).
JSON_PATHS = ("/api/", "/webhooks/")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Where the JSON API lives (marketplace.api); the rate limits and the body caps need it too.
API_PREFIX = "/api/v1"

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_DEPTH_CHUNK = 65_536
# Control characters no text field of ours takes: C0 but tab, LF and CR. Webhooks (another service's text) are
# held to NUL only, which no database column can store.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUL = re.compile(r"\x00")
# A lone UTF-16 surrogate: JSON can spell one (``"\\ud800"``), UTF-8 cannot, so no database can store it and
# no text of ours holds one.
_SURROGATE = re.compile("[\ud800-\udfff]")
WEBHOOK_PATHS = ("/webhooks/",)


class RowIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def body_cap(req: Request) -> int | None:
    """The most bytes this request's body may have: by endpoint (uploads) and kind (JSON, API, page form)."""
    config = current_app.config
    if req.endpoint in UPLOAD_CAPS:
        return config[UPLOAD_CAPS[req.endpoint]] + UPLOAD_FORM_ROOM
    if req.endpoint in UPLOAD_ENDPOINTS:
        return config["MAX_CONTENT_LENGTH"]
    if req.is_json or req.path.startswith(JSON_PATHS):
        return config["JSON_MAX_BYTES"]
    return config["FORM_MAX_BYTES"]


class MarketplaceRequest(Request):
    """Flask's request with the body cap chosen per request, so that every reader (CSRF's form parsing, webargs,
    ``get_data``) stops at it, whichever hook or view reads first."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None or not current_app:
            return super().max_content_length
        return body_cap(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def json_nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than ``limit`` levels deep, without parsing or recursing:
    strings (with their escapes) are cut out, then the running count of brackets is checked chunk by chunk, so
    a deep body is refused within its first chunk. Unbalanced brackets are left for the parser to refuse."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    steps = array("b", _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEP, _NOT_BRACKET))
    depth = 0
    for start in range(0, len(steps), _DEPTH_CHUNK):
        running = list(accumulate(steps[start:start + _DEPTH_CHUNK], initial=depth))
        if max(running) > limit:
            return True
        depth = running[-1]
    return False


def _has_forbidden(value, forbidden: re.Pattern) -> bool:
    if isinstance(value, str):
        return forbidden.search(value) is not None
    if isinstance(value, dict):
        return any(_has_forbidden(k, forbidden) or _has_forbidden(v, forbidden) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_forbidden(v, forbidden) for v in value)
    return False


def _parsed_json(raw: bytes):
    """The body as JSON if it is JSON (whatever its content type: CKAN and certificate verification read raw
    bodies), else None. Only called after the depth check, so the parser cannot recurse too deep."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # malformed: the endpoint's parser refuses it in its words
    except ValueError:  # well-formed, but a number longer than Python converts (4,300 digits)
        raise BadRequest("A number in the JSON body has more digits than any value accepted here.") from None


def upload_endpoint(endpoint: str, may_upload: Callable[[], ResponseReturnValue | None],
                    cap: str | None = None,
                    too_large_page: Callable[[str], ResponseReturnValue] | None = None) -> None:
    """Declare ``endpoint`` an upload: its body gets the upload cap (or, given ``cap``, the config key of its
    largest file, that file's cap), and ``may_upload`` (a response to refuse with, or None; or it raises) runs
    before anything reads the body. ``too_large_page``, given the refusal's words, renders the upload's form
    again (without reading the body) when the body is too large."""
    UPLOAD_ENDPOINTS[endpoint] = may_upload
    if cap is not None:
        UPLOAD_CAPS[endpoint] = cap
    if too_large_page is not None:
        TOO_LARGE_PAGES[endpoint] = too_large_page


def _size_words(size: int) -> str:
    if size >= MB:
        return _("%(num)s MB", num=number(round(size / MB, 1)))
    return _("%(num)s KB", num=number(max(1, size // 1024)))


def too_large_words() -> str:
    """Why this request's body is refused, in the reader's language, with the cap as the user knows it: the
    largest file for an upload, the whole request otherwise."""
    config = current_app.config
    if request.endpoint in UPLOAD_CAPS:
        return _("The file may be at most %(size)s.", size=_size_words(config[UPLOAD_CAPS[request.endpoint]]))
    if request.endpoint in UPLOAD_ENDPOINTS:
        limit = config.get("MAX_UPLOAD_BYTES") or config["MAX_CONTENT_LENGTH"]
        return _("The file may be at most %(size)s.", size=_size_words(limit))
    return _("The request may be at most %(size)s.", size=_size_words(body_cap(request) or 0))


def too_large_page() -> ResponseReturnValue | None:
    """An upload page's form shown again with the refusal of its too large body, for someone who may upload there
    (the body stays unread, so the form comes back empty and the message says to fill it in again); None where
    there is no such page or the page cannot be shown to this user (the plain refusal answers then)."""
    show = TOO_LARGE_PAGES.get(request.endpoint)
    if show is None or request.method not in BODY_METHODS or request.path.startswith(JSON_PATHS):
        return None
    # The body stays unread: every form the page builds sees an empty one, as werkzeug stores a parsed body.
    unread = request._get_current_object().__dict__
    unread["form"], unread["files"] = ImmutableMultiDict(), ImmutableMultiDict()
    try:
        if UPLOAD_ENDPOINTS[request.endpoint]() is not None:
            return None
        return show(_("%(refusal)s Nothing you sent could be read: choose a smaller file and fill in the form "
                      "again.", refusal=too_large_words()))
    except (HTTPException, DomainError):
        return None


def _too_large() -> RequestEntityTooLarge:
    return RequestEntityTooLarge(too_large_words())


def _reads_as_json() -> bool:
    return (request.method in BODY_METHODS and request.endpoint not in UPLOAD_ENDPOINTS
            and (request.is_json or request.path.startswith(JSON_PATHS)))


def init_inputs(app: Flask) -> None:
    """Install the row-id converter (before any route is added), the refusal of NUL in the URL path, the
    per-request body caps with the refusal of a declared length over the cap, and the refusal of unauthorized
    uploads (nothing read). Called before CSRF is set up, so that these hooks run before its form parsing."""
    app.url_map.converters["int"] = RowIdConverter
    app.request_class = MarketplaceRequest

    @app.before_request
    def _refuse_nul_in_path():
        # Checked on the decoded path (view arguments come from it) before any view or hook queries with it.
        if "\x00" in request.path:
            raise BadRequest("The address may not contain NUL characters (\\x00).")

    @app.before_request
    def _refuse_oversized_body():
        cap = request.max_content_length
        if cap is not None and (request.content_length or 0) > cap:
            raise _too_large()

    @app.before_request
    def _refuse_unauthorized_uploads():
        if request.endpoint in UPLOAD_ENDPOINTS and request.method in BODY_METHODS:
            return UPLOAD_ENDPOINTS[request.endpoint]()
        return None


def init_body_checks(app: Flask) -> None:
    """Install the checks that read the body (JSON depth, NUL characters): after the caps and the API's
    authentication, so that nothing oversized, and no anonymous API write, is read."""

    @app.before_request
    def _check_body():
        json_body = None
        if _reads_as_json():
            raw = request.get_data(cache=True)
            cap = request.max_content_length
            # A chunked body is cut at the cap without an error (werkzeug cannot tell that more was coming).
            if cap is not None and request.content_length is None and len(raw) >= cap:
                raise _too_large()
            limit = current_app.config["JSON_MAX_DEPTH"]
            if json_nesting_exceeds(raw, limit):
                raise BadRequest(f"The JSON body nests arrays or objects more than {limit} levels deep.")
            json_body = _parsed_json(raw)
        fields = [*request.args.values(), *request.args.keys()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [*request.form.values(), *request.form.keys()]
        if _has_forbidden(fields, _NUL) or _has_forbidden(json_body, _NUL):
            raise BadRequest("Text may not contain NUL characters (\\x00).")
        if _has_forbidden(json_body, _SURROGATE):
            raise BadRequest("Text may not contain lone UTF-16 surrogates (\\ud800 to \\udfff): they are not "
                             "characters.")
        if not request.path.startswith(WEBHOOK_PATHS) and (
                _has_forbidden(fields, _CONTROL) or _has_forbidden(json_body, _CONTROL)):
            raise BadRequest("Text may not contain control characters other than tabs and line breaks.")
