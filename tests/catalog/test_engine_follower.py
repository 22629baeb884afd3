"""The search engine's follower: each process applies the change log in the background (at once after its own
commits, and within its period after another machine's), so that searches find the index current and its
recently asked counts ready, and a log gone back (a restored database) rebuilds the index."""
from __future__ import annotations

import json
import time
from collections import namedtuple

import pytest

from marketplace import create_app
from marketplace.accounts.models import PlatformRole, User
from marketplace.catalog.engine_search import APPLIED, newest_change
from marketplace.catalog.search import SearchQuery, search
from marketplace.listings.models import DataProduct
from marketplace.review import services as review
from tests import factories
from tests.support.databases import own_database, own_postgresql_database
from tests.support.races import in_app, racing_market

pytestmark = pytest.mark.no_transaction

PERIOD = 0.1
Answer = namedtuple("Answer", "total ids")


def _build(app, session) -> dict:
    storage = app.extensions["storage"]
    seller = factories.user(session, email="follow-seller@example.org", organization="Follow Seller")
    reviewer = factories.user(session, email="follow-reviewer@example.org", role=PlatformRole.REVIEWER)
    made = {name: factories.listed_product(session, storage, seller, reviewer, title=title, category=category)
            for name, title, category in [("tram", "Tram Velocities", "transport"),
                                          ("ferry", "Ferry Velocities", "transport"),
                                          ("rain", "Rainfall Totals", "weather")]}
    return {"reviewer": reviewer.id, **{name: p.id for name, p in made.items()}}


@pytest.fixture
def market(database_url, tmp_path):
    with own_database(database_url, tmp_path, "follower") as url, racing_market(url, tmp_path, _build) as values:
        yield values


@pytest.fixture
def pg_market(database_url, tmp_path):
    """The market on PostgreSQL: the suite's cluster under TEST_DB=postgresql, else a throwaway one."""
    with own_postgresql_database(database_url, tmp_path, "notify") as url, \
            racing_market(url, tmp_path, _build) as values:
        yield values


@pytest.fixture(autouse=True)
def followers_stopped():
    """Every machine's follower ends with its test (a thread left running would be forked by later tests)."""
    yield
    while MACHINES:
        MACHINES.pop().extensions["catalog_engine"].stop()


MACHINES: list = []


def machine(market, name: str, follow: float = PERIOD, built: bool = True):
    """A machine's process; ``built``: once its index is (its first search is answered by the database while its
    follower builds it)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=str(market["app"].config["SQLALCHEMY_DATABASE_URI"]),
                     STORAGE_LOCAL_ROOT=str(market["folder"] / "storage"), SEARCH_ENGINE="tantivy",
                     SEARCH_INDEX_DIR=str(market["folder"] / name), SEARCH_FOLLOW_SECONDS=follow)
    MACHINES.append(app)
    if built:
        in_app(app, lambda session: search(session, SearchQuery()))
        assert applied_within(app, 10.0) is not None
    return app


def ask(app, query: SearchQuery) -> Answer:
    def asked(session) -> Answer:
        result = search(session, query)
        return Answer(result.total, [entry.id for entry in result.items])
    return in_app(app, asked)


def suspend(app, market, name: str) -> None:
    in_app(app, lambda session: review.suspend_product(session, session.get(User, market["reviewer"]),
                                                       session.get(DataProduct, market[name]), "Under query."))


def applied_within(app, seconds: float) -> float | None:
    """Seconds until the app's engine had applied the log's newest change without being asked, or None."""
    catalog_engine = app.extensions["catalog_engine"]
    newest = in_app(app, newest_change)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        view = catalog_engine._view
        if view is not None and view.applied == newest:
            return time.monotonic() - started
        time.sleep(0.01)
    return None


def test_a_change_committed_here_is_applied_at_once_without_a_search(market):
    app = machine(market, "here", follow=30.0)  # the period alone would be too late: the commit wakes it
    assert ask(app, SearchQuery(q="velocities")).total == 2
    suspend(app, market, "tram")
    assert applied_within(app, 2.0) is not None
    before = app.extensions["catalog_engine"]._view
    assert ask(app, SearchQuery(q="velocities")).ids == [market["ferry"]]
    assert app.extensions["catalog_engine"]._view is before  # the search found it current: nothing to apply


def test_a_change_is_in_the_machines_index_before_its_commit_returns(market):
    here = machine(market, "here", follow=30.0)
    worker = machine(market, "here", follow=30.0)  # another process of the same machine: the same index folder
    velocities = SearchQuery(q="velocities")
    assert ask(here, velocities).total == 2 and ask(worker, velocities).total == 2
    suspend(here, market, "tram")
    newest = in_app(here, newest_change)
    assert here.extensions["catalog_engine"]._view.applied == newest  # no waiting: applied by the commit
    marker = json.loads((market["folder"] / "here" / APPLIED).read_text())
    assert (marker["id"], marker["generation"]) == newest
    assert ask(worker, velocities).ids == [market["ferry"]]  # the machine's other process reloads it


def test_a_fresh_machines_first_search_is_answered_while_its_follower_builds_the_index(market):
    app = machine(market, "fresh", built=False)
    assert app.extensions["catalog_engine"]._view is None
    assert ask(app, SearchQuery(q="velocities")).total == 2  # by the database: the index is not built yet
    assert applied_within(app, 10.0) is not None  # built by the follower
    assert ask(app, SearchQuery(q="velocities")).total == 2


@pytest.mark.parametrize("rebuilding", [True, False], ids=["rebuilding", "stuck"])
def test_while_another_process_holds_the_index_the_database_answers_and_changes_commit(market, rebuilding):
    """Another process of the machine rebuilds the index, or holds its writer stuck: searches are answered by the
    database, right, and at once; a listing change made here commits promptly and is searchable at once."""
    from marketplace.catalog import engine
    from marketplace.catalog.engine_search import REBUILDING

    here, there = machine(market, "here"), machine(market, "there", follow=0)
    folder = market["folder"] / "here"
    writer = engine.open_index(str(folder)).writer(heap_size=15_000_000, num_threads=1)  # the other process
    if rebuilding:
        (folder / REBUILDING).write_text("4242")
    try:
        suspend(there, market, "tram")  # another machine's change: this machine cannot apply it meanwhile
        took = []
        for _ in range(6):
            started = time.monotonic()
            assert ask(here, SearchQuery(q="velocities")).ids == [market["ferry"]]
            took.append(time.monotonic() - started)
        assert took[0] < 2.0  # not the ten seconds a stuck writer is waited for
        assert max(took[1:]) < 0.25, took  # found busy: the next searches do not wait again
        time.sleep(2.5)  # past the window a search's IndexBusy opens: the follower still waits for the writer
        started = time.monotonic()
        assert ask(here, SearchQuery(q="velocities")).ids == [market["ferry"]]
        assert time.monotonic() - started < 0.25
        started = time.monotonic()
        suspend(here, market, "ferry")
        assert time.monotonic() - started < 3.0
        assert ask(here, SearchQuery(q="velocities")).total == 0
    finally:
        writer.rollback()
        writer.wait_merging_threads()
        (folder / REBUILDING).unlink(missing_ok=True)
    assert applied_within(here, 15.0) is not None  # once let go, the follower applies both
    view = here.extensions["catalog_engine"]._view
    assert ask(here, SearchQuery(q="velocities")).total == 0
    assert here.extensions["catalog_engine"]._view is view  # answered by the index, current


def test_a_rebuild_reads_in_short_transactions_so_writers_go_on(market):
    """On SQLite a reader holds off every writer's commit until its transaction ends: a rebuild of a million
    entries must not hold one for minutes."""
    import threading

    app = machine(market, "here", follow=0)
    catalog_engine = app.extensions["catalog_engine"]
    midway, go_on = threading.Event(), threading.Event()

    def progress(_):  # after the first batch
        midway.set()
        go_on.wait(30)

    rebuild = threading.Thread(target=lambda: in_app(app, lambda s: catalog_engine.rebuild(s, progress)))
    rebuild.start()
    try:
        assert midway.wait(10)
        started = time.monotonic()
        suspend(app, market, "tram")  # a writer while the rebuild is midway
        assert time.monotonic() - started < 5.0
    finally:
        go_on.set()
        rebuild.join(30)
    assert ask(app, SearchQuery(q="velocities")).ids == [market["ferry"]]


def test_another_machines_change_is_applied_within_the_period(market):
    here, there = machine(market, "here"), machine(market, "there", follow=0)
    assert ask(here, SearchQuery(q="velocities")).total == 2
    assert ask(there, SearchQuery(q="velocities")).total == 2
    suspend(there, market, "ferry")  # committed on the other machine: nothing wakes this one's follower
    waited = applied_within(here, 1.0)
    assert waited is not None, "not applied within a second"
    assert ask(here, SearchQuery(q="velocities")).ids == [market["tram"]]


def test_on_postgresql_another_machines_change_is_applied_as_soon_as_it_is_notified(pg_market):
    here, there = machine(pg_market, "here", follow=30.0), machine(pg_market, "there", follow=0)
    velocities = SearchQuery(q="velocities")
    assert ask(here, velocities).total == 2 and ask(there, velocities).total == 2
    for name in ("ferry", "tram"):  # committed on the other machine; this one's period is 30 s
        suspend(there, pg_market, name)
        waited = applied_within(here, 5.0)
        assert waited is not None and waited < 3.0, waited  # notified, not the 30 s period
    assert ask(here, velocities).total == 0
    follower = here.extensions["catalog_engine"]._follower
    here.extensions["catalog_engine"].stop()  # a follower waiting for notifications still stops within a second
    follower.join(timeout=2)
    assert not follower.is_alive()


def test_the_counts_recently_asked_are_counted_again_before_the_next_search(market):
    here, there = machine(market, "here"), machine(market, "there", follow=0)
    transport = SearchQuery(filters={"category": ("transport",)})
    assert ask(here, transport).total == 2
    suspend(there, market, "tram")
    assert applied_within(here, 1.0) is not None
    view = here.extensions["catalog_engine"]._view
    key = ((), (("category", ("transport",)),), False)  # no words, the filter, exact
    deadline = time.monotonic() + 2.0
    while key not in view.counts and time.monotonic() < deadline:
        time.sleep(0.01)
    assert view.counts[key].total == 1  # ready before anyone asks
    assert ask(here, transport).total == 1


def test_a_log_gone_back_rebuilds_the_index(market):
    """A database restored from a backup: the index's last change is past the log's newest."""
    app = machine(market, "here")
    assert ask(app, SearchQuery()).total == 3
    folder = market["folder"] / "here"
    (folder / APPLIED).write_text(json.dumps({"id": 10**9, "generation": "after-the-backup"}))
    catalog_engine = app.extensions["catalog_engine"]
    catalog_engine._wake.set()
    newest = in_app(app, newest_change)
    deadline = time.monotonic() + 5
    while json.loads((folder / APPLIED).read_text())["id"] != newest[0] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert json.loads((folder / APPLIED).read_text()) == {"id": newest[0], "generation": newest[1]}
    assert ask(app, SearchQuery()).total == 3


def test_a_stopped_follower_ends_and_a_forked_child_has_its_own(market):
    import os
    import signal

    app = machine(market, "here")
    assert ask(app, SearchQuery(q="velocities")).total == 2
    catalog_engine = app.extensions["catalog_engine"]
    follower = catalog_engine._follower
    assert follower.is_alive()
    catalog_engine._lock.acquire()  # held at the fork, as the follower holds it while it applies a change
    try:
        suspend(app, market, "tram")  # so that the child's search must catch up, under the lock
        child = os.fork()
        if child == 0:  # the child catches up with a lock of its own; on the parent's it would wait forever
            signal.alarm(30)
            os._exit(0 if ask(app, SearchQuery(q="velocities")).ids == [market["ferry"]] else 1)
        _, status = os.waitpid(child, 0)
    finally:
        catalog_engine._lock.release()
    assert os.waitstatus_to_exitcode(status) == 0
    catalog_engine.stop()
    assert not follower.is_alive()


def test_on_postgresql_a_change_names_the_machine_that_applies_it_and_its_followers_leave_it(pg_market):
    import threading

    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from marketplace.catalog.engine_search import CHANGES_CHANNEL, Listener

    url = make_url(str(pg_market["app"].config["SQLALCHEMY_DATABASE_URI"]))
    here, there = machine(pg_market, "here"), machine(pg_market, "there", follow=0)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANGES_CHANNEL}")
        suspend(here, pg_market, "tram")  # applied by its commit: its machine is named
        suspend(there, pg_market, "ferry")  # no follower, nothing applied at its commit: every machine applies it
        payloads = [note.payload for note in listening.notifies(timeout=5, stop_after=2)]
    assert payloads == [here.extensions["catalog_engine"].machine, ""]

    listener = Listener(create_engine(url), ignore="this-machine")
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as notifying:
        for payload, waited in [("this-machine", 0.8), ("another-machine", 0.0)]:
            timer = threading.Timer(0.2, lambda p=payload: notifying.execute(
                "SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, p)))
            timer.start()
            started = time.monotonic()
            listener.wait(threading.Event(), 0.8)
            assert abs(time.monotonic() - started - max(waited, 0.2)) < 0.15, payload
            timer.join()
    listener.close()


def test_a_follower_that_cannot_listen_keeps_to_its_period():
    import threading

    from sqlalchemy import create_engine

    from marketplace.catalog.engine_search import Listener
    from tests.support.ports import free_port

    listener = Listener(create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing"))
    for _ in range(2):  # the second wait does not try to connect again (once a minute)
        started = time.monotonic()
        listener.wait(threading.Event(), 0.3)
        assert 0.29 < time.monotonic() - started < 2.0
    assert listener._next_try > time.monotonic() + 50  # tried once, and again in a minute
    woken = threading.Event()
    woken.set()
    started = time.monotonic()
    listener.wait(woken, 30.0)
    assert time.monotonic() - started < 0.5
