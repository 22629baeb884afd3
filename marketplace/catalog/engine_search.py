"""Catalog search on the embedded engine (``SEARCH_ENGINE=tantivy``): the same questions and answers as
``catalog.search.search``, the words matched, ranked and counted by each machine's engine index.

The index is a folder of the machine (``SEARCH_INDEX_DIR``), shared by its processes and kept up with the change
log (``CatalogChange``). Before a search a process reads the log's newest row (one read); when its index is behind,
it takes tantivy's writer lock (one writer per machine; the others wait for it, then reload), applies the changes
since the index's last one (each product's document rewritten from its index row, or every document when the index
was rebuilt, or when the log does not go on from the index's last change: rolled back or restored), commits, and
records the change applied beside the index (``applied.json``). So a change is searchable at the next search on
any machine, and two machines over one database agree.

Pages in the newest and price orders, and their cursors, are read from the database as before; the engine
answers the words' matches in relevance order, the total and the facet counts. The counts of a search without
words depend only on the index and the filters, and are kept per index state in each process.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import tantivy
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog import engine
from marketplace.catalog.models import CatalogChange, CatalogEntry, CatalogText
from marketplace.catalog.search import (
    FACETS,
    FacetValue,
    SearchQuery,
    SearchResult,
    check_query,
    clean_filters,
    database_search,
    facet_label,
    filter_clause,
    ordered_page,
    parse_terms,
    with_close_matches,
)

APPLIED = "applied.json"
LOCK_WAIT_SECONDS = 10.0  # past this, another process's writing is taken as stuck and the index searched as it is
FIRST_BUILD_WAIT_SECONDS = 600.0
BATCH = 2000
NO_LOG = (0, "")  # the state of a log with no rows yet
COUNTS_KEPT = 256

State = tuple[int, str]  # the newest change applied: (log id, its generation)


def engine_from_config(app) -> None:
    """Give the app a search engine when ``SEARCH_ENGINE`` is "tantivy" (``search()`` then asks it)."""
    name = app.config["SEARCH_ENGINE"]
    if name not in ("database", "tantivy"):
        raise RuntimeError(f'SEARCH_ENGINE is "database" or "tantivy", not {name!r}')
    app.extensions.pop("catalog_engine", None)
    if name == "tantivy":
        app.extensions["catalog_engine"] = CatalogEngine(app.config["SEARCH_INDEX_DIR"])


def newest_change(session: Session) -> State:
    row = session.execute(select(CatalogChange.id, CatalogChange.generation)
                          .order_by(CatalogChange.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else NO_LOG


def _rows(session: Session, where, limit: int | None = None) -> list:
    """Index rows (an entry's columns and its texts) in id order."""
    columns = [*CatalogEntry.__table__.columns, CatalogText.title_text, CatalogText.search_text]
    return session.execute(select(*columns).join(CatalogText, CatalogText.id == CatalogEntry.id).where(where)
                           .order_by(CatalogEntry.id).limit(limit)).mappings().all()


class CatalogEngine:
    """This process's handle on the machine's engine index at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # one catch-up at a time in this process
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None
        self._applied: State | None = None  # None: never built
        self._counts: dict = {}

    # ------------------------------------------------------------ keeping up

    def searcher(self, session: Session) -> tantivy.Searcher:
        """A searcher over the index as the log now is (catching up first when it is behind)."""
        newest = newest_change(session)
        with self._lock:
            if self._index is None:
                self._open()
            if newest != self._applied:
                self._reload()  # another process may have applied it
            if newest != self._applied:
                self._write(session, newest, rebuild=False)
            return self._searcher

    def rebuild(self, session: Session, progress: Callable[[int], None] | None = None) -> int:
        """Rewrite every document from the index rows; returns how many there are."""
        with self._lock:
            if self._index is None:
                self._open()
            return self._write(session, newest_change(session), rebuild=True, progress=progress)

    def _open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = engine.open_index(str(self.path))
        except ValueError:  # written by another schema: start over (the log rebuilds it)
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
            self._index = engine.open_index(str(self.path))
        self._reload()

    def _marker(self) -> State | None:
        try:
            found = json.loads((self.path / APPLIED).read_text())
            return found["id"], found["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _reload(self) -> None:
        self._index.reload()
        self._searcher = self._index.searcher()
        applied = self._marker()
        if applied != self._applied:
            self._counts.clear()
        self._applied = applied

    def _writer(self) -> tantivy.IndexWriter | None:
        """The machine's writer lock; None when another process has held it too long (an index never built
        waits for as long as building takes, rather than answer from nothing)."""
        wait = LOCK_WAIT_SECONDS if self._applied is not None else FIRST_BUILD_WAIT_SECONDS
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._index.writer(heap_size=50_000_000, num_threads=1)
            except ValueError:  # another process of this machine holds the lock
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.01)

    def _write(self, session: Session, newest: State, rebuild: bool,
               progress: Callable[[int], None] | None = None) -> int:
        writer = self._writer()
        if writer is None:
            return 0
        written = 0
        try:
            applied = self._marker()  # again, under the lock: the last writer may have got there
            if rebuild or applied != newest:
                changed = None if rebuild else self._changed_since(session, applied)
                if changed is None:
                    writer.delete_all_documents()
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
        self._reload()
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

    @staticmethod
    def _add_all(session: Session, writer: tantivy.IndexWriter, progress: Callable[[int], None] | None) -> int:
        written, last = 0, 0
        while rows := _rows(session, CatalogEntry.id > last, limit=BATCH):
            for row in rows:
                writer.add_document(engine.document(row, row))
            written += len(rows)
            last = rows[-1]["id"]
            if progress:
                progress(len(rows))
        return written

    # ------------------------------------------------------------ searching

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        """As ``catalog.search.search``: listed products matching the words and filters, one page of them in the
        chosen order, with facet counts; close matches when the words alone match nothing."""
        check_query(query)
        terms, notes = parse_terms(query.q)
        if terms and query.sort != "relevance":  # words in another order: the database pages them
            return database_search(session, query)
        filters = clean_filters(query.filters)
        searcher = self.searcher(session)
        return with_close_matches(query, terms, notes,
                                  lambda fuzzy: self._run(session, searcher, query, terms, filters, fuzzy=fuzzy))

    def _run(self, session: Session, searcher: tantivy.Searcher, query: SearchQuery, terms: list[str],
             filters: dict, fuzzy: bool) -> tuple[SearchResult, bool]:
        if terms:
            offset = (query.page - 1) * query.per_page
            found = engine.run(searcher, terms, filters, FACETS, offset, query.per_page, fuzzy)
        else:
            key = tuple(sorted(filters.items()))
            found = self._counts.get(key)
            if found is None:
                found = engine.run(searcher, terms, filters, FACETS, 0, 0)
                if len(self._counts) >= COUNTS_KEPT:
                    self._counts.clear()
                self._counts[key] = found
        items, next_cursor = [], None
        if found.total and terms:
            entries = {e.id: e for e in session.scalars(select(CatalogEntry).where(CatalogEntry.id.in_(found.ids)))}
            items = [entries[i] for i in found.ids if i in entries]
        elif found.total:  # no words: the page in the chosen order, from the database
            where = tuple(filter_clause(f, values) for f, values in filters.items())
            items, next_cursor = ordered_page(session, query, where, None)
        facets = {facet: facet_values(facet, found.counts.get(facet, {}), filters.get(facet, ())) for facet in FACETS}
        return SearchResult(list(items), found.total, facets, query, terms, fuzzy, next_cursor, []), \
            found.words_matched or (not terms)


def facet_values(facet: str, counts: dict[str, int], selected: tuple[str, ...]) -> list[FacetValue]:
    """A facet's values with their counts, the most frequent first; a chosen value with no matches stays visible,
    so it can be unchosen."""
    sellers = {}
    if facet == "seller":
        sellers = dict(key.split(engine.LABEL_SEPARATOR, 1) for key in counts)
        counts = {key.split(engine.LABEL_SEPARATOR, 1)[0]: n for key, n in counts.items()}
    counts = {**{v: 0 for v in selected}, **counts}
    return sorted((FacetValue(v, facet_label(facet, v, sellers), n, v in selected) for v, n in counts.items()),
                  key=lambda fv: (-fv.count, fv.label.lower()))
