"""Outages answered as outages: a database or file store that does not answer is 503 with ``Retry-After``.

A lost or refused database connection, a pool with no free connection, SQLite's busy timeout ("database is
locked"), or a storage backend that does not answer (``StorageUnavailable``) is not the client's fault and not a
bug in the request: it is answered 503 with ``Retry-After``, in the JSON error shape under /api/, CKAN's envelope
under its Action API, and a page of its own elsewhere (the usual layout reads the signed-in user from the
database). Every other database error (an integrity error, a missing table, bad SQL, a deadlock we should have
retried) stays what it is: a 500 and a traceback in the log.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import ServiceUnavailable

from marketplace.errors import DatabaseUnavailable, Unavailable
from marketplace.i18n import in_locale_of, visitor_locale_tag

#: SQLite's primary result codes that mean the file cannot be used now, not that the SQL is wrong: BUSY (the
#: busy timeout ran out: "database is locked"), LOCKED, NOMEM, READONLY (the file or folder is not writable),
#: IOERR, FULL, CANTOPEN, PROTOCOL. SQLITE_ERROR (1: no such table, syntax error) is a bug and not listed.
SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})

#: PostgreSQL SQLSTATE classes that mean the server cannot serve us now: 08 connection exception, 53 insufficient
#: resources (too many connections, disk full), 57 operator intervention (shutdown, cannot connect now,
#: statement timeout), 58 system error. Class 40 (deadlock, serialization failure) is a retry we owe, not theirs.
POSTGRES_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})


def is_database_outage(error: BaseException) -> bool:
    """Tell whether a SQLAlchemy error means the database cannot be reached or used now (see the module doc)."""
    if isinstance(error, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):  # a dead pooled connection, no free one
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if type(orig).__module__.startswith("sqlite3"):
        # sqlite3's InterfaceError is a binding mistake of ours; only some operational errors are outages.
        return isinstance(error, sa_exc.OperationalError) and sqlite_code is not None \
            and sqlite_code & 0xFF in SQLITE_UNAVAILABLE
    if isinstance(error, sa_exc.InterfaceError):  # the driver's connection is closed or broken
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    if not sqlstate:  # no answer from a server at all: refused, lost, timed out
        return True
    return sqlstate[:2] in POSTGRES_UNAVAILABLE_CLASSES


def as_unavailable(error: BaseException) -> Unavailable | None:
    """The outage an exception stands for, or ``None`` when it is something else."""
    if isinstance(error, Unavailable):
        return error
    if is_database_outage(error):
        return DatabaseUnavailable(_("The database is not answering; please try again shortly."))
    return None


def _discard_unit_of_work() -> None:
    """Roll the request's session back now: nothing it wrote before the outage (a download event before the file
    could be reached, an asset row before its object was stored) may be committed by anything after."""
    from marketplace.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dead connection may refuse even that; the pool discards it
        current_app.logger.warning("Rolling back after an outage failed", exc_info=True)


def init_outages(app: Flask) -> None:
    """Answer outages 503 with ``Retry-After`` wherever they are raised during a request."""

    def answer(error: Exception):
        # In the visitor's language as the cookie or browser tell it: the saved preference is in the database,
        # which may be what is down.
        with in_locale_of(visitor_locale_tag()):
            outage = as_unavailable(error)
            if outage is None:
                raise error  # not an outage: Flask's usual 500 with its traceback
            current_app.logger.error("%s: %s", type(outage).__name__, error)
            _discard_unit_of_work()
            # Through Flask's HTTP error handling, so each area answers in its own shape (JSON, CKAN, page).
            return current_app.handle_user_exception(
                ServiceUnavailable(outage.message, retry_after=outage.retry_after))

    app.register_error_handler(Unavailable, answer)
    app.register_error_handler(sa_exc.SQLAlchemyError, answer)
