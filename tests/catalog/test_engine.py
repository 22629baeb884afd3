"""The embedded search engine: kept up with the change log, shared by the processes of a machine, agreeing
across machines, rebuilt when the log does not go on from where its index stopped, and by `flask catalog reindex`."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.catalog.engine_search import APPLIED, CatalogEngine
from marketplace.catalog.models import CatalogChange
from marketplace.catalog.search import SearchQuery, search
from marketplace.db import utcnow
from marketplace.review import services as review
from tests import factories


def ids(result):
    return {e.id for e in result.items}


def found(engine, session, q="", **filters):
    return engine.search(session, SearchQuery(q=q, filters=filters))


def test_an_index_change_is_logged_in_its_own_transaction(session, catalog, reviewer):
    newest = session.scalar(select(CatalogChange.id).order_by(CatalogChange.id.desc()).limit(1))
    nested = session.begin_nested()
    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    logged = session.scalars(select(CatalogChange.product_id).where(CatalogChange.id > newest)).all()
    assert logged == [catalog["air"].id]
    nested.rollback()
    assert not session.scalars(select(CatalogChange.id).where(CatalogChange.id > newest)).all()


def test_a_listing_change_is_searchable_at_the_next_search(session, storage, seller, reviewer, catalog, search_engine):
    assert ids(search(session, SearchQuery(q="pm2.5"))) == {catalog["air"].id}
    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    session.commit()
    assert search(session, SearchQuery(q="pm2.5")).total == 0
    counts = {v.value: v.count for v in search(session, SearchQuery()).facets["category"]}
    assert counts == {"transport": 2, "weather": 1}

    new = factories.listed_product(session, storage, seller, reviewer, title="Star Ferry Timetables",
                                   title_zh="天星小輪時間表", category="transport", regions=["hong_kong"])
    session.commit()
    assert ids(search(session, SearchQuery(q="ferry"))) == {new.id}
    assert ids(search(session, SearchQuery(q="小轮"))) == {new.id}  # Simplified finds the Traditional title
    assert search(session, SearchQuery(filters={"category": ("transport",)})).total == 3


def test_two_machines_over_one_database_agree(session, storage, seller, reviewer, catalog, tmp_path):
    one, other = CatalogEngine(str(tmp_path / "one")), CatalogEngine(str(tmp_path / "other"))
    assert found(one, session, "speeds").total == found(other, session, "speeds").total == 1
    new = factories.listed_product(session, storage, seller, reviewer, title="Tram Speeds", category="transport")
    review.suspend_product(session, reviewer, catalog["traffic"], "Under query.")
    session.commit()
    for machine in (one, other):
        result = found(machine, session, "speeds")
        assert ids(result) == {new.id}
        assert {v.value: v.count for v in result.facets["category"]} == {"transport": 1}


def test_the_processes_of_a_machine_share_its_index(session, catalog, reviewer, tmp_path):
    """The first process to search after a change applies it; the others reload it without writing (they
    could not: another process holds the writer lock here)."""
    first, second = CatalogEngine(str(tmp_path / "index")), CatalogEngine(str(tmp_path / "index"))
    found(first, session)
    found(second, session)
    review.suspend_product(session, reviewer, catalog["weather"], "Under query.")
    session.commit()
    assert found(first, session, "gusts").total == 0
    writer = first._index.writer(heap_size=15_000_000, num_threads=1)  # the lock, held
    try:
        assert found(second, session, "gusts").total == 0
        assert found(second, session).total == 3
    finally:
        writer.rollback()
        writer.wait_merging_threads()


@pytest.mark.parametrize("marker", [{"id": 1, "generation": "from-another-log"}, {"id": 10**9, "generation": "x"},
                                    "not json"])
def test_an_index_whose_last_change_is_not_in_the_log_is_rebuilt(session, catalog, tmp_path, marker):
    """A rolled-back or restored database, or an index copied from elsewhere: the log does not go on from the
    index's last change, so the index is rebuilt from the database instead of patched."""
    engine = CatalogEngine(str(tmp_path / "index"))
    assert found(engine, session).total == 4
    writer = engine._index.writer(heap_size=15_000_000, num_threads=1)
    writer.delete_all_documents()
    writer.commit()
    writer.wait_merging_threads()
    (tmp_path / "index" / APPLIED).write_text(marker if isinstance(marker, str) else json.dumps(marker))
    fresh = CatalogEngine(str(tmp_path / "index"))
    assert found(fresh, session).total == 4
    assert ids(found(fresh, session, "台风")) == {catalog["weather"].id}


def test_reindex_command_rebuilds_both_indexes_with_progress(app, session, catalog, search_engine):
    result = app.test_cli_runner().invoke(args=["catalog", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 listed product(s)." in result.output
    assert "Search engine" in result.output
    assert search_engine._view.searcher.num_docs == 4
    assert ids(search(session, SearchQuery(q="kowloon"))) == {catalog["journeys"].id}


def test_reindex_command_says_when_another_process_holds_the_engine_index(app, session, catalog, search_engine,
                                                                           monkeypatch):
    from marketplace.catalog import engine, engine_search

    monkeypatch.setattr(engine_search, "LOCK_WAIT_SECONDS", 0.3)
    search(session, SearchQuery())  # built
    writer = engine.open_index(str(search_engine.path)).writer(heap_size=15_000_000, num_threads=1)
    try:
        result = app.test_cli_runner().invoke(args=["catalog", "reindex"])
    finally:
        writer.rollback()
        writer.wait_merging_threads()
    assert result.exit_code == 1, result.output
    assert "Indexed 4 listed product(s) in the database, but not in this machine's search engine index" \
        in result.output
    assert "another process holds it" in result.output
    result = app.test_cli_runner().invoke(args=["catalog", "reindex"])
    assert result.exit_code == 0 and "Indexed 4 listed product(s)." in result.output, result.output


def test_the_change_log_is_pruned_daily_and_an_index_behind_the_pruned_rows_is_rebuilt(session, catalog, reviewer,
                                                                                      tmp_path):
    """Rows older than CATALOG_CHANGES_KEEP_DAYS go (never the newest); a machine away since before them finds
    its last change gone and rebuilds its index rather than apply only the rows left."""
    from marketplace.jobs.queue import huey
    from marketplace.worker.tasks import prune_catalog_changes_job

    engine = CatalogEngine(str(tmp_path / "index"))
    assert found(engine, session).total == 4  # then the machine is away
    review.suspend_product(session, reviewer, catalog["air"], "Under query.")
    session.commit()
    session.execute(update(CatalogChange).values(changed_at=utcnow() - timedelta(days=8)))
    session.commit()
    review.suspend_product(session, reviewer, catalog["weather"], "Under query.")
    review.suspend_product(session, reviewer, catalog["traffic"], "Under query.")
    session.commit()
    recent = session.scalars(select(CatalogChange.id).where(CatalogChange.changed_at > utcnow() - timedelta(days=1))
                             .order_by(CatalogChange.id)).all()
    huey.execute(prune_catalog_changes_job.s())
    assert session.scalars(select(CatalogChange.id).order_by(CatalogChange.id)).all() == recent
    assert len(recent) == 2
    result = found(engine, session)
    assert result.total == 1 and ids(result) == {catalog["journeys"].id}  # the air quality change too


def test_pruning_keeps_the_newest_row_however_old(session, catalog):
    from marketplace.catalog.models import prune_changes

    newest = session.scalar(select(CatalogChange.id).order_by(CatalogChange.id.desc()).limit(1))
    assert prune_changes(session, utcnow() + timedelta(days=1)) >= 1
    assert session.scalars(select(CatalogChange.id)).all() == [newest]
    assert prune_changes(session, utcnow() + timedelta(days=1)) == 0


@pytest.mark.parametrize("damage", ["marker of the wrong types", "folder deleted", "meta.json garbage"])
def test_a_damaged_index_answers_from_the_database_and_is_rebuilt(session, catalog, reviewer, tmp_path, damage):
    """Damage to a machine's index while it runs never answers 500: the search falls back to the database at
    once, and the index is opened again (rebuilt when it cannot be) for the next. (A segment file cut short under
    a running process is another matter: tantivy maps its files into memory, and reading past the end of a
    mapped file kills the process; the restarted process finds the index damaged and rebuilds it.)"""
    import shutil

    folder = tmp_path / "index"
    engine = CatalogEngine(str(folder))
    assert found(engine, session, "gusts").total == 1
    if damage == "marker of the wrong types":
        (folder / APPLIED).write_text(json.dumps({"id": "a", "generation": None}))
    elif damage == "folder deleted":
        shutil.rmtree(folder)
    else:
        (folder / "meta.json").write_text("not json")
    review.suspend_product(session, reviewer, catalog["weather"], "Under query.")
    session.commit()
    for _ in range(3):  # the first answer may be the database's; every one is right
        assert found(engine, session, "gusts").total == 0
        assert found(engine, session).total == 3
        assert ids(found(engine, session, "kowloon")) == {catalog["journeys"].id}
    assert engine._view is not None and engine._view.searcher.num_docs == 3  # the index is back


def test_a_cursor_is_the_pages_start_whatever_page_says(session, catalog, search_engine):
    first = search(session, SearchQuery(sort="newest", per_page=1, q="hong kong"))
    assert first.next_cursor
    cursor = SearchQuery(sort="newest", per_page=1, q="hong kong", cursor=first.next_cursor)
    assert ids(search(session, cursor)) == ids(search(session, replace(cursor, page=3)))
    assert ids(search(session, cursor)) != ids(first)
