"""Domain errors and the one JSON error shape of the API.

Services raise these; the web layer turns them into a flashed message and the
API into ``{"status": int, "code": str, "message": str, "errors": {field: [..]}}``.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.library_messages import translated


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def to_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message, "errors": self.errors}


def error_headers(error: Exception) -> dict[str, str]:
    """The headers an error's answer carries: ``Retry-After`` (seconds) for one that passes with time (a payment
    provider's or the database's outage, a rate limit), whether the error says it as ``retry_after`` or as a
    werkzeug HTTP error's own header."""
    get_headers = getattr(error, "get_headers", None)
    if callable(get_headers):
        return {name: value for name, value in get_headers() if name == "Retry-After"}
    retry_after = getattr(error, "retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after else {}


# What an error page and the API call each kind of error, in the reader's words (the ``code`` stays English).
TITLES = {
    "bad_request": _l("Bad request"), "not_found": _l("Not found"), "unauthorized": _l("Not signed in"),
    "forbidden": _l("Not allowed"), "conflict": _l("Conflict"), "invalid_transition": _l("Not possible now"),
    "validation_failed": _l("Invalid input"), "invalid_input": _l("Invalid input"),
    "upload_too_large": _l("File too large"), "unsupported_file": _l("Unsupported file"),
    "service_unavailable": _l("Temporarily unavailable"), "method_not_allowed": _l("Method not allowed"),
    "too_many_requests": _l("Too many requests"), "internal_server_error": _l("Something went wrong"),
    "gone": _l("Gone"), "request_entity_too_large": _l("Too large"), "not_acceptable": _l("Not acceptable"),
    "unsupported_media_type": _l("Unsupported media type"), "request_timeout": _l("Request timeout"),
    "precondition_failed": _l("Precondition failed"), "unprocessable_entity": _l("Invalid input"),
}
# The generic explanation of an HTTP error, for one raised without words of its own (werkzeug's are English).
HTTP_DESCRIPTIONS = {
    400: _l("The request could not be understood."),
    401: _l("Please log in, or send a valid API token, to continue."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing at this address. Check the link, or start again from the catalog."),
    405: _l("This address does not accept that method."),
    406: _l("This address cannot answer in a form your client accepts."),
    408: _l("The request took too long. Please try again."),
    409: _l("The request conflicts with the current state of the resource."),
    410: _l("What was here is gone for good."),
    412: _l("A precondition of the request was not met."),
    413: _l("The request is too large."),
    415: _l("The request's format is not supported."),
    422: _l("The request has invalid fields."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again; if it keeps happening, tell us."),
    502: _l("A service we depend on did not answer properly. Please try again in a minute."),
    503: _l("Part of our service is not answering for a moment. Please try again in a minute."),
    504: _l("A service we depend on took too long to answer. Please try again in a minute."),
}


def error_title(code: str) -> str:
    """The reader's words for an error ``code`` ("not_found" -> "Not found")."""
    title = TITLES.get(code)
    return str(title) if title is not None else code.replace("_", " ").capitalize()


def http_error_words(error) -> tuple[str, str]:
    """The title and explanation of a werkzeug HTTP error in the reader's language: werkzeug's own English
    description gives way to ours; one written for this error (already translated where it was raised) stays."""
    code = (error.name or "error").lower().replace(" ", "_")
    title = error_title(code) if code in TITLES else (error.name or _("Error"))
    # werkzeug's own description of the class, not one a subclass of ours gave (uow.NotSaved's)
    default = next((c.__dict__["description"] for c in type(error).__mro__
                    if c.__module__ == "werkzeug.exceptions" and "description" in c.__dict__), None)
    generic = HTTP_DESCRIPTIONS.get(error.code or 500)
    if generic is not None and (not error.description or error.description == default):
        return title, str(generic)
    # A library's own words (Flask-WTF's CSRF refusal) by our catalogs; any other as it was raised.
    return title, translated(error.description) if error.description else title


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule: per-field messages in ``errors``."""

    status = 422
    code = "validation_failed"


class UploadTooLarge(DomainError):
    status = 413
    code = "upload_too_large"


class UnsupportedFile(ValidationFailed):
    code = "unsupported_file"


class Unavailable(Exception):
    """A backend the request needs (the database, file storage) does not answer. Not the client's fault nor a bug:
    the request is answered 503 with ``Retry-After`` (marketplace/health/outages.py) and may simply be repeated."""

    status = 503
    code = "service_unavailable"
    #: Seconds a client should wait before trying again.
    retry_after = 30

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        if retry_after is not None:
            self.retry_after = retry_after


class DatabaseUnavailable(Unavailable):
    pass


class StorageUnavailable(Unavailable):
    pass
