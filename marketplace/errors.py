"""Domain errors and the one JSON error shape of the API.

Services raise these; the web layer turns them into a flashed message and the
API into ``{"status": int, "code": str, "message": str, "errors": {field: [..]}}``.
"""
from __future__ import annotations


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
