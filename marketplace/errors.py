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
    """The headers an error's answer carries: ``Retry-After`` (seconds) for one that passes with time, such as a
    payment provider's outage."""
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
