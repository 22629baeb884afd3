"""Declarative base, constraint naming convention, enum storage and the timestamp mixin."""
from __future__ import annotations

import contextlib
import contextvars
import enum
import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(enum_cls: type[enum.StrEnum], length: int = 32) -> Enum:
    """Store a StrEnum by its value in a VARCHAR (no native enum: adding a state needs no type migration)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; use marketplace.db.utcnow()")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Milliseconds an SQLite connection waits for the write lock: far longer than any one transaction holds it, well
# under gunicorn's 30 s worker timeout.
SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - driver specific
    # pysqlite: enforce foreign keys, and let SQLAlchemy issue BEGIN itself so SAVEPOINTs work.
    if dbapi_connection.__class__.__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        # A writer waits this long for another's lock (BEGIN IMMEDIATE queues here) before "database is locked".
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()


# Whether SQLite transactions begun now take the write lock at once (BEGIN IMMEDIATE). A deferred transaction
# that reads and then writes cannot wait for another writer (SQLite answers "database is locked" at once, to avoid
# a deadlock), so work that writes (unsafe HTTP methods, commands, the order moves) begins immediate: writers
# queue for the lock, up to the connection's timeout, and readers are never blocked.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@contextlib.contextmanager
def write_intent():
    """Transactions begun inside this block take SQLite's write lock first (no effect on PostgreSQL)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):  # pragma: no cover - driver specific
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_when_read(view):
    """Mark a view whose GET writes (a licensed download records its audit event): its request begins with the
    write intent like a POST. Put it directly under the route decorator."""
    view.writes_when_read = True
    return view


class UndeclaredWrite(RuntimeError):
    """A request wrote without declaring it (a GET whose view is not marked ``writes_when_read``)."""


def init_write_intent(app) -> None:
    """Requests with an unsafe method (POST, PUT, PATCH, DELETE), and GETs of views marked ``writes_when_read``,
    are write work: see ``write_intent``. The hook runs before every other, so no earlier hook begins the
    transaction deferred (an upload's permission check, the API token lookup and rate-limit keys read the
    database)."""
    from flask import request

    def _begin_writes_immediately():
        view = app.view_functions.get(request.endpoint or "")
        if request.method not in SAFE_METHODS or getattr(view, "writes_when_read", False):
            _write_intent.set(True)

    app.before_request_funcs.setdefault(None, []).insert(0, _begin_writes_immediately)

    @app.teardown_request
    def _end_write_intent(exc):
        _write_intent.set(False)


@event.listens_for(Engine, "before_cursor_execute")
def _check_write_declared(conn, cursor, statement, parameters, context, executemany):
    """A request that writes without having declared it is logged; under TESTING it fails, so the suite finds any
    GET that writes undeclared (on SQLite it would fail under load with "database is locked")."""
    if _write_intent.get() or not _WRITES.match(statement):
        return
    from flask import current_app, has_request_context, request

    if not has_request_context() or request.method not in SAFE_METHODS:
        return
    message = f"{request.method} {request.path} ({request.endpoint}) wrote without declaring it: {statement[:60]}"
    if current_app.testing:
        raise UndeclaredWrite(message)
    current_app.logger.warning(message)


def insert_ignoring_duplicate(session, model, values: dict, key: list[str]) -> bool:
    """Insert one row of ``model`` unless a row with the same ``key`` columns exists (or is being inserted by a
    concurrent transaction, which wins): True if this call inserted it. One statement, so two workers inserting
    the same row at once never fail on the unique constraint (SQLite and PostgreSQL's ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__
    statement = (insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
                 .returning(*(table.c[name] for name in key)))
    return session.execute(statement).first() is not None  # a row comes back only when this call inserted
