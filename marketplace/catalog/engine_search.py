"""Catalog search on the embedded engine (``SEARCH_ENGINE=tantivy``): the same questions and answers as
``catalog.search.search``, the words matched, ranked and counted by each machine's engine index.

The index is a folder of the machine (``SEARCH_INDEX_DIR``), shared by its processes and kept up with the change
log (``CatalogChange``). Applying a change: under tantivy's writer lock (one writer per machine; the others wait
for it, then reload), the documents of the products changed since the index's last change are rewritten from their
index rows (every document when the index was rebuilt, or when the log does not go on from the index's last
change: rolled back or restored), committed, and the change applied recorded beside the index (``applied.json``).

Who applies it: a process that commits a change applies it at once, before the commit returns, so the machine's
other processes only reload. Each process also runs a follower thread (``SEARCH_FOLLOW_SECONDS``) that reads the
log's newest row on that period, and on PostgreSQL as soon as another machine's change is notified (``LISTEN``);
it applies what is new (another machine's change) or reloads what another process of the machine applied, then
counts again the facets of the searches it was recently asked, so that the first search after a change finds its
answer ready. A search reads the log's newest row first (one read): when the index is behind it (a change the
follower has not reached yet), the search applies the change itself. So a change is searchable at the next search
on any machine, and two machines over one database agree. An index ahead of the search's own database snapshot
(another process applied a change committed after the search began) is searched as it is.

Rebuilding (never built, a log gone back, a whole reindex) reads the catalog in short transactions, so that
writers go on (a million products take minutes). With a follower, neither a search nor a commit rebuilds the index
or waits long for it: the follower rebuilds it, and while it does, or while another process holds the machine's
writer for longer than an apply takes, searches are answered by the database (``IndexBusy``).

A search's total and facet counts depend only on the index state, the words and the filters: each process keeps
those of its recent searches per state (the page itself is searched each time), so a search asked again, or paged
on, counts nothing until the next change, after which the follower counts the most recent again.

Pages in the newest and price orders are ordered by the engine too (fast fields, ties broken by id as the
database's keyset cursor does); without words they are read from the database, whose indexes page them.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import tantivy
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from marketplace.catalog import engine
from marketplace.catalog.models import CHANGED, CatalogChange, CatalogEntry, CatalogText
from marketplace.catalog.search import (
    CURSOR_KEYS,
    FACETS,
    FacetValue,
    SearchQuery,
    SearchResult,
    check_query,
    clean_filters,
    database_search,
    decode_cursor,
    encode_cursor,
    facet_label,
    filter_clause,
    ordered_page,
    parse_terms,
    with_close_matches,
)
from marketplace.errors import DomainError

log = logging.getLogger(__name__)

APPLIED = "applied.json"
REBUILDING = "rebuilding"  # beside the index while a process rebuilds it
CHANGES_CHANNEL = "catalog_changes"  # on PostgreSQL, notified at the commit of each change to the index
LOCK_WAIT_SECONDS = 10.0  # past this, another process's writing is taken as stuck and the index searched as it is
BUSY_WAIT_SECONDS = 0.5  # a search or a commit (with a follower) waits this long for the index, then IndexBusy
BUSY_RETRY_SECONDS = 2.0  # after IndexBusy, searches go straight to the database this long (or till caught up)
FIRST_BUILD_WAIT_SECONDS = 600.0
BATCH = 2000
NO_LOG = (0, "")  # the state of a log with no rows yet
COUNTS_KEPT = 256
FOLLOW_BACKOFF_SECONDS = 60.0  # the longest pause of a follower whose rounds keep failing
COUNTS_WARMED = 8  # the searches whose counts the follower computes again after a change
APPLY_NOW_WAIT_SECONDS = 0.5  # a commit waits this long for the process's catch-up lock, then leaves it to the follower

State = tuple[int, str]  # the newest change applied: (log id, its generation)
T = TypeVar("T")


class IndexBusy(Exception):
    """The index cannot be brought up to the log now: it must be rebuilt, which the follower does (a million
    products take minutes), or another process is rebuilding it or holds its writer. The database answers
    meanwhile."""


def engine_from_config(app) -> None:
    """Give the app a search engine when ``SEARCH_ENGINE`` is "tantivy" (``search()`` then asks it)."""
    name = app.config["SEARCH_ENGINE"]
    if name not in ("database", "tantivy"):
        raise RuntimeError(f'SEARCH_ENGINE is "database" or "tantivy", not {name!r}')
    app.extensions.pop("catalog_engine", None)
    if name == "tantivy":
        app.extensions["catalog_engine"] = CatalogEngine(app.config["SEARCH_INDEX_DIR"],
                                                         follow_seconds=float(app.config["SEARCH_FOLLOW_SECONDS"]),
                                                         app=app)


def newest_change(session: Session | Connection) -> State:
    row = session.execute(select(CatalogChange.id, CatalogChange.generation)
                          .order_by(CatalogChange.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else NO_LOG


def fresh_newest(session: Session) -> State:
    """The log's newest row as committed now, outside the session's transaction (whose snapshot may be older)."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return newest_change(connection)
    return newest_change(session)  # a session on one connection (the tests'): it sees what it committed


def _rows(session: Session, where, limit: int | None = None) -> list:
    """Index rows (an entry's columns and its texts) in id order."""
    columns = [*CatalogEntry.__table__.columns, CatalogText.title_text, CatalogText.search_text]
    return session.execute(select(*columns).join(CatalogText, CatalogText.id == CatalogEntry.id).where(where)
                           .order_by(CatalogEntry.id).limit(limit)).mappings().all()


OWNED = "catalog_engine_owned"  # in a session's info: the engine's own, whose reads it may end at will


def _let_go(session: Session) -> None:
    """End the read transaction of a session of the engine's own (the follower's, a commit's apply, a rebuild's):
    on SQLite a reader holds off every writer's commit until its transaction ends. A request's session, or one
    on a single connection (the tests'), keeps it."""
    if session.info.get(OWNED) and isinstance(session.get_bind(), Engine):
        session.rollback()


_ENGINES: weakref.WeakSet[CatalogEngine] = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [catalog_engine._after_fork() for catalog_engine in list(_ENGINES)])


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    """On PostgreSQL, a commit that changes the index notifies every machine's follower (delivered at the commit,
    once however many changes), naming this process's machine when the process applies the change at its commit:
    that machine's followers leave it to it rather than race it for the machine's index."""
    if not session.info.get(CHANGED) or session.get_bind().dialect.name != "postgresql":
        return
    from flask import current_app, has_app_context

    catalog_engine = current_app.extensions.get("catalog_engine") if has_app_context() else None
    applies = catalog_engine is not None and catalog_engine.follow_seconds
    session.execute(select(func.pg_notify(CHANGES_CHANNEL, catalog_engine.machine if applies else "")))


@event.listens_for(Session, "after_commit")
def _changed(session: Session) -> None:
    """A commit that changed the index wakes its process's follower (``log_change`` marks the session)."""
    if session.info.pop(CHANGED, False):
        from flask import current_app, has_app_context

        catalog_engine = current_app.extensions.get("catalog_engine") if has_app_context() else None
        if catalog_engine is not None:
            catalog_engine.wake()


class Listener:
    """On PostgreSQL, a connection of the follower's own LISTENing to the change log's notifications, so that
    another machine's change is applied as soon as it is committed rather than at the follower's next period.
    Elsewhere, or while it cannot connect (tried again once a minute), the follower keeps to its period."""

    def __init__(self, bind: Engine, ignore: str = "") -> None:
        self._url = bind.url if bind.dialect.name == "postgresql" else None
        self._ignore = ignore  # this machine's changes: applied by the process that committed them
        self._connection = None
        self._next_try = 0.0

    def wait(self, woken: threading.Event, seconds: float) -> None:
        """Until ``woken`` is set, another machine's change is notified, or ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        while self._connected() and not woken.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:  # a second at most, so that a set ``woken`` (stop) is seen
                notified = self._connection.notifies(timeout=min(left, 1.0), stop_after=1)
                if any(note.payload != self._ignore for note in notified):
                    return
            except Exception:
                log.warning("The catalog follower lost its connection for change notifications", exc_info=True)
                self.close()
        woken.wait(max(0.0, deadline - time.monotonic()))

    def _connected(self) -> bool:
        if self._connection is not None or self._url is None or time.monotonic() < self._next_try:
            return self._connection is not None
        import psycopg

        try:
            self._connection = psycopg.connect(
                self._url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)
            self._connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        except Exception:
            log.warning("The catalog follower cannot listen for change notifications; it keeps to its period",
                        exc_info=True)
            self.close()
            self._next_try = time.monotonic() + FOLLOW_BACKOFF_SECONDS
        return self._connection is not None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken: nothing to let go of
                pass


@dataclass
class View:
    """A searcher over the index at one state of the log, and the totals and facet counts of the searches asked
    at that state (most recent last)."""

    searcher: tantivy.Searcher
    applied: State | None  # None: never built
    counts: dict = field(default_factory=dict)


class CatalogEngine:
    """This process's handle on the machine's engine index at ``path``; with ``follow_seconds`` and ``app``, a
    follower thread keeps it up with the log."""

    def __init__(self, path: str, follow_seconds: float = 0.0, app=None) -> None:
        self.path = Path(path)
        self.machine = hashlib.sha256(f"{socket.gethostname()}\0{self.path.resolve()}".encode()).hexdigest()[:16]
        self.follow_seconds = follow_seconds if app is not None else 0.0
        self._app = app
        self._index: tantivy.Index | None
        self._view: View | None
        self._stopped = False
        self._after_fork()
        _ENGINES.add(self)

    def _after_fork(self) -> None:
        """Locks, the follower and the index handle of this process (a forked child starts with its own: a lock
        its parent's follower or tantivy's threads held at the fork would never be let go in the child)."""
        self._index, self._view = None, None
        self._to_warm: tuple[View, list] | None = None  # the follower's, counted once its lock is let go
        self._busy_until = 0.0  # till then, searches behind the log are answered by the database (IndexBusy)
        self._held_logged = float("-inf")  # when another process's hold on the index was last logged
        self._lock = threading.Lock()  # one catch-up at a time in this process
        self._wake = threading.Event()
        self._follower: threading.Thread | None = None

    def stop(self) -> None:
        """End the follower (the app's last request, or a test, is done with it)."""
        self._stopped = True
        self._wake.set()
        if self._follower is not None and self._follower is not threading.current_thread():
            self._follower.join(timeout=10)

    # ------------------------------------------------------------ keeping up

    def view(self, session: Session) -> View:
        """The index as the log now is (catching up first when it is behind)."""
        newest = newest_change(session)
        self._follow()
        view = self._view
        if view is not None and view.applied == newest:
            return view
        inline = not self.follow_seconds  # with a follower, a search never rebuilds: it does, the database answers
        if not inline and time.monotonic() < self._busy_until:
            raise IndexBusy  # found busy just now: no search waits again until the follower catches up
        try:
            deadline = time.monotonic() + BUSY_WAIT_SECONDS
            while not self._lock.acquire(timeout=0.05):
                if not inline and ((self.path / REBUILDING).exists() or time.monotonic() > deadline):
                    raise IndexBusy
            try:
                return self._catch_up(session, newest, inline=inline)
            finally:
                self._lock.release()
        except IndexBusy:
            self._busy_until = time.monotonic() + BUSY_RETRY_SECONDS
            raise

    def rebuild(self, session: Session, progress: Callable[[int], None] | None = None) -> int:
        """Rewrite every document from the index rows; returns how many there are. The session's reads are
        ended as it goes (a command's or a script's session, with nothing of its own pending). IndexBusy when
        another process held the machine's index past ``LOCK_WAIT_SECONDS`` (as long as building takes when it
        is rebuilding)."""
        session.info[OWNED] = True
        try:
            with self._lock:
                self._ensure_open()
                written = self._write(session, newest_change(session), rebuild=True, progress=progress)
        finally:
            session.info.pop(OWNED, None)
        if written is None:
            raise IndexBusy
        return written

    def wake(self) -> None:
        """This process committed a change: apply it at once, so that it is in the machine's index before the
        commit returns (the request that made the change pays the index's commit, not the next search of the
        machine's processes, which only reload). The follower applies it instead when that cannot be done at once
        (this process is catching up already, or the index failed)."""
        self._follow()
        if not (self.follow_seconds and self._apply_now()):
            self._wake.set()

    def _apply_now(self) -> bool:
        from marketplace.extensions import db

        if not self._lock.acquire(timeout=APPLY_NOW_WAIT_SECONDS):
            return False
        try:
            with self._app.app_context(), Session(db.engine, info={OWNED: True}) as session:
                self._catch_up(session, newest_change(session), inline=False)
            return True
        except IndexBusy:  # the follower applies it (or rebuilds the index, then applies what came meanwhile)
            self._wake.set()
            return True
        except Exception:  # the commit is done: a failed index must not fail it (the follower tries again)
            log.exception("The catalog's search engine index could not apply a change at its commit")
        finally:
            self._lock.release()
        self._forget()
        return False

    def _catch_up(self, session: Session, newest: State, warm: bool = False, inline: bool = True) -> View:
        """The index at ``newest`` (the log's newest row as ``session`` reads it), under this process's lock:
        reloaded when another process applied it, written when not. An index ahead of the session is either
        ahead of its snapshot (searched as it is) or of a log gone back (a restored database: rebuilt), as a read
        outside the snapshot tells. ``warm``: the follower's, which counts recent searches again. Not ``inline``
        (a search or a commit, with a follower running): IndexBusy rather than rebuild, or wait long for the lock."""
        self._ensure_open()
        if self._view.applied != newest:
            self._reload(warm=warm)  # another process may have applied it
        applied = self._view.applied
        if applied == newest:
            return self._view
        if applied is not None and applied[0] > newest[0]:
            if fresh_newest(session)[0] >= applied[0]:
                return self._view
            self._write(session, newest, rebuild=True, warm=warm, inline=inline)
        else:
            self._write(session, newest, rebuild=False, warm=warm, inline=inline)
        return self._view

    def _forget(self) -> None:
        """Drop the index handle after a failure: the next search or round opens it again (or rebuilds it)."""
        with self._lock:
            self._index, self._view = None, None

    def _ensure_open(self) -> None:
        if self._index is not None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = engine.open_index(str(self.path))
            self._reload()
        except (ValueError, OSError):  # another schema's, or damaged: start over (the log rebuilds it)
            log.warning("The catalog's search engine index at %s could not be opened: rebuilding it", self.path)
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True, exist_ok=True)
            self._index, self._view = engine.open_index(str(self.path)), None
            self._reload()

    def _marker(self) -> State | None:
        try:
            found = json.loads((self.path / APPLIED).read_text())
            state = found["id"], found["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        valid = type(state[0]) is int and state[0] >= 0 and isinstance(state[1], str)
        return state if valid else None  # written by hand, or damaged: rebuilt as never built

    def _reload(self, warm: bool = False) -> None:
        """Search the index's last commit from now on; with ``warm`` (the follower's), the recently asked
        searches are left to count again once the lock is let go (``_warm``), so that no search waits for them."""
        applied = self._marker()
        self._index.reload()
        searcher = self._index.searcher()
        old = self._view
        if old is not None and old.applied == applied:
            self._view = View(searcher, applied, old.counts)
            return
        self._view = View(searcher, applied, {})
        if warm and old is not None:
            self._to_warm = (self._view, list(old.counts)[-COUNTS_WARMED:])

    def _warm(self) -> None:
        """Count again the recently asked searches on the view the follower reloaded, outside the lock (a search
        that comes meanwhile counts its own), while that view is current."""
        pending, self._to_warm = self._to_warm, None
        if pending is None:
            return
        view, keys = pending
        for key in keys:
            if self._view is not view:
                return
            if key not in view.counts:
                terms, filters, fuzzy = key
                view.counts[key] = engine.counted(view.searcher, list(terms), dict(filters), FACETS, fuzzy)

    def _writer(self, inline: bool = True, patient: bool = False) -> tantivy.IndexWriter | None:
        """The machine's writer lock; None when another process has held it too long (an index never built
        waits for as long as building takes, rather than answer from nothing). Not ``inline`` (a search or a
        commit, with a follower running): IndexBusy at once when another process is rebuilding, and after
        ``BUSY_WAIT_SECONDS`` when another process holds the lock (an apply takes milliseconds)."""
        never_built = self._view.applied is None or (patient and (self.path / REBUILDING).exists())
        wait = (FIRST_BUILD_WAIT_SECONDS if never_built else LOCK_WAIT_SECONDS) if inline else BUSY_WAIT_SECONDS
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._index.writer(heap_size=50_000_000, num_threads=1)
            except ValueError as busy:
                if "LockBusy" not in str(busy):  # not another process's lock: the folder is gone or damaged
                    raise
                # While this process waits for another's lock, its searches do not wait too: the database answers.
                self._busy_until = max(self._busy_until, time.monotonic() + BUSY_RETRY_SECONDS)
                if not inline and (self.path / REBUILDING).exists():
                    raise IndexBusy from None
                if time.monotonic() > deadline:
                    if not inline:
                        raise IndexBusy from None
                    if time.monotonic() > self._held_logged + FOLLOW_BACKOFF_SECONDS:
                        self._held_logged = time.monotonic()
                        log.warning("The catalog's search engine index at %s is held by another process (%.0f s "
                                    "so far); searches are answered by the database meanwhile", self.path, wait)
                    return None
                time.sleep(0.01)

    def _write(self, session: Session, newest: State, rebuild: bool,
               progress: Callable[[int], None] | None = None, warm: bool = False, inline: bool = True) -> int | None:
        """The documents changed since the index's last change (all of them when ``rebuild``) written, committed
        and searched from now on; how many, or None when another process held the writer too long."""
        _let_go(session)  # no snapshot held while waiting for the writer
        writer = self._writer(inline, patient=rebuild)
        if writer is None:
            return None
        written = 0
        try:
            applied = self._marker()  # again, under the lock: the last writer may have got there
            if rebuild or not (applied is not None and (applied == newest or applied[0] > newest[0])):
                changed = None if rebuild else self._changed_since(session, applied)
                if changed is None:
                    if not inline:
                        self._wake.set()
                        raise IndexBusy
                    written = self._add_all(session, writer, progress)
                else:
                    if changed:
                        writer.delete_documents_by_query(tantivy.Query.term_set_query(engine.SCHEMA, "id", changed))
                    for row in _rows(session, CatalogEntry.id.in_(changed)) if changed else ():
                        writer.add_document(engine.document(row, row))
                        written += 1
                writer.commit()
                (self.path / (APPLIED + ".new")).write_text(json.dumps({"id": newest[0], "generation": newest[1]}))
                os.replace(self.path / (APPLIED + ".new"), self.path / APPLIED)
        finally:
            writer.wait_merging_threads()  # and lets go of the lock
        self._reload(warm=warm)
        return written

    @staticmethod
    def _changed_since(session: Session, applied: State | None) -> list[int] | None:
        """The products changed since ``applied``, or None when only a rebuild will do: never built, the index
        rebuilt since, or the log not going on from ``applied`` (rolled back, restored, or another database)."""
        if applied is None:
            return None
        if applied != NO_LOG:
            ours = session.scalar(select(CatalogChange.generation).where(CatalogChange.id == applied[0]))
            if ours != applied[1]:
                return None
        changed = session.scalars(select(CatalogChange.product_id).where(CatalogChange.id > applied[0])).all()
        return None if None in changed else sorted(set(changed))

    def _add_all(self, session: Session, writer: tantivy.IndexWriter,
                 progress: Callable[[int], None] | None) -> int:
        """Every document anew, the entries read in batches, each in a short read transaction of its own: on
        SQLite a reader holds off every writer's commit until its transaction ends, and a million entries take
        minutes. Changes committed meanwhile are in the log after the change the rebuild records, so they are
        applied next, whichever batch read them. Searches of the machine's other processes are answered by the
        database meanwhile (``REBUILDING``)."""
        marker = self.path / REBUILDING
        marker.write_text(str(os.getpid()))
        try:
            _let_go(session)
            writer.delete_all_documents()
            written, last = 0, 0
            while rows := _rows(session, CatalogEntry.id > last, limit=BATCH):
                _let_go(session)
                for row in rows:
                    writer.add_document(engine.document(row, row))
                written += len(rows)
                last = rows[-1]["id"]
                if progress:
                    progress(len(rows))
            return written
        finally:
            marker.unlink(missing_ok=True)

    # ------------------------------------------------------------ following the log

    def _follow(self) -> None:
        """Start this process's follower when it has none (the first search of a forked worker starts its own)."""
        if not self.follow_seconds or self._stopped:
            return
        if self._follower is not None and self._follower.is_alive():
            return
        with self._lock:
            if self._follower is None or not self._follower.is_alive():
                self._follower = threading.Thread(target=self._follow_log, name="catalog-follower", daemon=True)
                self._follower.start()

    def _follow_log(self) -> None:
        from marketplace.extensions import db

        with self._app.app_context():
            bind = db.engine
        pause, listener = self.follow_seconds, Listener(bind, ignore=self.machine)
        while True:
            listener.wait(self._wake, pause)
            self._wake.clear()
            if self._stopped:
                listener.close()
                return
            try:
                self.follow_once(bind)
                pause = self.follow_seconds
            except Exception:  # the next round opens the index again; a search catches up by itself meanwhile
                log.exception("The catalog follower could not apply the change log")
                self._forget()
                pause = min(2 * pause, FOLLOW_BACKOFF_SECONDS)  # not a log line four times a second

    def follow_once(self, bind) -> None:
        """One round of the follower: the index reloaded when another process wrote it, the log read in a session
        of its own, and what is new applied."""
        with self._lock, Session(bind, info={OWNED: True}) as session:
            self._ensure_open()
            if self._marker() != self._view.applied:
                self._reload(warm=True)
            newest = newest_change(session)
            if self._catch_up(session, newest, warm=True).applied == newest:
                self._busy_until = 0.0  # caught up: searches use the index again
        self._warm()

    # ------------------------------------------------------------ searching

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        """As ``catalog.search.search``: listed products matching the words and filters, one page of them in the
        chosen order, with facet counts; close matches when the words alone match nothing. The database answers
        when the index fails (``guarded``)."""
        check_query(query)
        terms, notes = parse_terms(query.q)
        filters = clean_filters(query.filters)

        def on_engine() -> SearchResult:
            view = self.view(session)
            return with_close_matches(query, terms, notes,
                                      lambda fuzzy: self._run(session, view, query, terms, filters, fuzzy=fuzzy))
        return self.guarded(on_engine, lambda: database_search(session, query))

    def guarded(self, asked: Callable[[], T], otherwise: Callable[[], T]) -> T:
        """``asked()``, or ``otherwise()`` when the index fails (its folder deleted or damaged, a panic in the
        engine): the failure is logged and the index opened again at the next search, rebuilt if it cannot be.
        The database's own errors are not the index's: they go on up."""
        try:
            return asked()
        except IndexBusy:
            return otherwise()
        except (SQLAlchemyError, DomainError):
            raise
        except BaseException as failure:
            if isinstance(failure, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            log.exception("The catalog's search engine index failed; the database answers meanwhile")
            self._forget()
            return otherwise()

    def _run(self, session: Session, view: View, query: SearchQuery, terms: list[str], filters: dict,
             fuzzy: bool) -> tuple[SearchResult, bool]:
        key = CURSOR_KEYS.get(query.sort)
        found = self._counted(view, terms, filters, fuzzy)
        items, next_cursor = [], None
        if found.total and terms:
            after = decode_cursor(query.cursor, key[0]) if query.cursor and key else None
            offset = 0 if after else (query.page - 1) * query.per_page  # a cursor is the page's start
            ids, more = engine.page(view.searcher, terms, filters, offset, query.per_page, found.total, fuzzy,
                                    order=key, after=after)
            entries = {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(ids)))}
            items = [entries[i] for i in ids if i in entries]
            if key and more and items:
                next_cursor = encode_cursor(key, items[-1])
        elif found.total:  # no words: the page in the chosen order, from the database
            where = tuple(filter_clause(f, values) for f, values in filters.items())
            items, next_cursor = ordered_page(session, query, where, None)
        facets = {facet: facet_values(facet, found.counts.get(facet, {}), filters.get(facet, ())) for facet in FACETS}
        return SearchResult(list(items), found.total, facets, query, terms, fuzzy, next_cursor, []), \
            found.words_matched or (not terms)

    @staticmethod
    def _counted(view: View, terms: list[str], filters: dict, fuzzy: bool) -> engine.EngineResult:
        """The total and counts of a search, kept per view (they depend on nothing else): the facets of a
        search asked again, or paged on, are counted once per index state."""
        key = (tuple(terms), tuple(sorted(filters.items())), fuzzy)
        found = view.counts.pop(key, None)
        if found is None:
            found = engine.counted(view.searcher, terms, filters, FACETS, fuzzy)
            if len(view.counts) >= COUNTS_KEPT:
                view.counts.clear()
        view.counts[key] = found  # most recent last
        return found


def facet_values(facet: str, counts: dict[str, int], selected: tuple[str, ...]) -> list[FacetValue]:
    """A facet's values with their counts, the most frequent first; a chosen value with no matches stays visible,
    so it can be unchosen."""
    sellers = {}
    if facet == "seller":
        counts, sellers = engine.by_seller(counts)
    counts = {**{v: 0 for v in selected}, **counts}
    return sorted((FacetValue(v, facet_label(facet, v, sellers), n, v in selected) for v, n in counts.items()),
                  key=lambda fv: (-fv.count, fv.label.lower()))
