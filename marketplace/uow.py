"""One unit of work per request, command and job: services flush and never commit; the boundary commits once.

- A request (``init_unit_of_work``): the view's answer decides. A success or a redirect (status below 400)
  commits; an exception or an error answer (4xx, 5xx) rolls back, unless the view declared its refusal a fact to
  keep (``keep_despite_error``). A commit that fails is answered as an error instead of the success the view
  built: 409 when it collided with a concurrent write, 503 when the database could not take it; the session
  cookie stays as the request brought it (no "saved" flash, no log-in).
- A command or a job: ``with unit_of_work():`` commits when the block ends and rolls back if it raises. Work of a
  job run inside a request (or a unit inside another) joins the enclosing unit, which commits it.

This module is the only one that calls ``commit()`` (tests/test_unit_of_work.py checks it). The one documented
exception is ``commit_before``, for a step that cannot be rolled back and must only happen after a commit.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from flask import Flask, Response, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from marketplace.db import write_intent
from marketplace.errors import Conflict
from marketplace.extensions import db

log = logging.getLogger(__name__)

# Seconds a client is asked to wait after the database could not take a commit.
RETRY_AFTER_SECONDS = 5

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("unit_of_work", default=False)


class NotSaved(ServiceUnavailable):
    """The database did not take the commit (locked too long, connection lost): nothing was saved; try again."""

    description = _l("The change could not be saved just now, and nothing was changed. Please try again.")


class CommitConflict(Conflict):
    """The commit collided with a change made at the same moment: nothing was saved."""


def commit(session: Session) -> None:
    """Commit ``session``: the boundary's one commit. A failure is rolled back and raised as an answer a client
    understands (``CommitConflict`` 409, ``NotSaved`` 503); any other failure is rolled back and re-raised."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        log.warning("Commit refused, nothing saved: %s", exc.orig)
        raise CommitConflict("This conflicts with a change made at the same moment; nothing was saved.") \
            from exc
    except DBAPIError as exc:
        session.rollback()
        log.error("Commit failed, nothing saved: %s", exc.orig)
        raise NotSaved(retry_after=RETRY_AFTER_SECONDS) from exc
    except SQLAlchemyError:
        session.rollback()
        raise


@contextlib.contextmanager
def _own_unit(session: Session, *, write_first: bool) -> Iterator[Session]:
    """A unit of work of its own: commits when the block ends, rolls back if it raises; units entered inside it
    join it. ``write_first`` takes SQLite's write lock at its start (``write_intent``)."""
    token = _inside.set(True)
    try:
        with write_intent() if write_first else contextlib.nullcontext():
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            commit(session)
    finally:
        _inside.reset(token)


@contextlib.contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """The unit of work of a command or a job: yields the session, commits when the block ends (``commit``), rolls
    back if it raises. Its transaction takes SQLite's write lock first (``write_intent``), so enter it before the
    session reads anything. Inside a request or another unit it joins that one, whose boundary commits."""
    session = session if session is not None else db.session
    if _inside.get():
        yield session
        return
    with _own_unit(session, write_first=True):
        yield session


@contextlib.contextmanager
def job_unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """The unit of work of one background job: commits when the block ends, rolls back if it raises. Unlike
    ``unit_of_work`` it never joins an enclosing unit (a job runs in an app context and session of its own, also
    when the queue runs it at once, after a request's commit) and takes no write lock up front: a job that reads
    for long (the pre-screen) must not hold SQLite's write lock meanwhile; its writes declare ``write_intent``."""
    with _own_unit(session if session is not None else db.session, write_first=False) as own:
        yield own


def commit_before(session: Session, step: str) -> None:
    """Commit the unit of work so far, before ``step``: something that cannot be rolled back and must only happen
    once the rows describing it are saved (a signing key file replaced after the registry recorded both keys).

    The one exception to "the boundary commits once"; each caller is listed, with its reason, in
    tests/test_unit_of_work.py."""
    log.info("Committing before %s", step)
    commit(session)


# ---------------------------------------------------------------- the request boundary

_KEEP = "marketplace.uow.keep_despite_error"


def keep_despite_error() -> None:
    """Declare that the current request's writes are to be saved although it answers an error (returned, or raised
    as a DomainError): a refusal that is itself a fact to record (a declined card's failure and its audit event,
    shown on the order afterwards; a missing file's audit event and its seller's notice)."""
    request.environ[_KEEP] = True



def _forget_request_session_changes(app: Flask) -> None:
    """After a failed commit: the cookie session as the request brought it (no flash of a success, no log-in
    started by a change that was not saved), and Flask-Login's cached user read again from it."""
    from flask import session

    brought = app.session_interface.open_session(app, request)
    session.clear()
    session.update(brought or {})
    g.pop("_login_user", None)


def end_request(app: Flask, response: Response) -> Response:
    """Commit what the request did if its answer is a success or a redirect, else roll it back."""
    if response.status_code >= 400 and not request.environ.get(_KEEP):
        db.session.rollback()
        return response
    try:
        commit(db.session)
    except Exception:
        _forget_request_session_changes(app)
        raise
    return response


def init_unit_of_work(app: Flask) -> None:
    """Make every request one unit of work: the view runs, then its answer is committed or rolled back
    (``end_request``) before the answer goes out. An exception from the view rolls back at once, so the error
    handlers render from a clean session."""
    dispatch = app.dispatch_request

    def dispatch_request():
        token = _inside.set(True)
        try:
            try:
                rv = dispatch()
            except Exception:
                if request.environ.get(_KEEP):  # a refusal raised after declaring its writes a fact to keep
                    commit(db.session)
                else:
                    db.session.rollback()
                raise
            except BaseException:
                db.session.rollback()
                raise
            return end_request(app, app.make_response(rv))
        finally:
            _inside.reset(token)

    app.dispatch_request = dispatch_request
