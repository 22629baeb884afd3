"""One unit of work per request, command and job: services flush, the boundary commits once (``marketplace.uow``).

The request tests run on a database of their own (SQLite, or PostgreSQL with TEST_DB=postgresql) so that commits
and rollbacks are real, and read the outcome through a connection of their own. Their routes are added to the
real app for the test: each signs up a user through the real service, then answers as the case demands.
"""
from __future__ import annotations

import ast
import sqlite3
import threading
from pathlib import Path

import pytest
from flask import flash, redirect
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import marketplace.db
from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.db import UndeclaredWrite, writes_when_read
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.uow import keep_despite_error, unit_of_work

PACKAGE = Path(__file__).resolve().parent.parent / "marketplace"
BOUNDARY = {"uow.py"}
# Commits before the boundary, each for a step that cannot be rolled back (marketplace.uow.commit_before).
COMMITS_BEFORE = {
    ("signing/services.py", "rotate_key_file"):
        "the registry holds the old and the new public key before the key file is replaced",
    # A job's steps that other workers must see before the next one begins (and on SQLite, a read ended so that a
    # write can begin its own transaction): a claim before its side effect, progress during a long scan, a failure
    # kept although the job raises to be retried.
    ("jobs/outbox.py", "_claim"): "a claimed message is seen by every worker before it is sent",
    ("events/delivery.py", "_claim"): "a claimed webhook delivery is seen by every worker before it is sent",
    ("review/prescreen_runs.py", "_claim"): "a claimed pre-screen is seen by every worker before the scan",
    ("review/prescreen_runs.py", "run_round_prescreen"): "the claim, the progress and the report, each in turn",
    ("review/prescreen_runs.py", "progress"): "the rows scanned so far are seen while the scan goes on",
    ("review/prescreen_runs.py", "throttled"): "a scan's renewed claim is seen while it goes on (both scans)",
    ("review/prescreen_runs.py", "_scan_failed"): "the failed attempt is kept although the job raises",
    ("review/listing_checks.py", "_claim"): "a claimed listing check is seen by every worker before the scan",
    ("review/listing_checks.py", "run_check"): "the claim, its renewals and the report, each in turn",
    ("review/listing_checks.py", "_failed"): "the failed attempt is kept although the job raises",
    ("catalog/profile_store.py", "profile_asset"): "a profile computed over a long read is stored in a write "
                                                   "transaction of its own",
}
# Error answers that keep their writes (marketplace.uow.keep_despite_error): the refusal is a fact to record.
KEPT_REFUSALS = {
    ("orders/views.py", "checkout"): "a declined card's failure is shown on the order and audited",
    ("licensing/views.py", "_serve"): "a deliverable's missing file is audited and its seller told, though the "
                                        "buyer's answer is a 404",
    ("payouts/views.py", "start_stripe"): "the connected account Stripe opened before its onboarding link failed is "
                                          "kept, not opened again",
}


# ---------------------------------------------------------------- where commits may happen


def _calls(name: str) -> set[tuple[str, str]]:
    """(module path, enclosing function) of every call of ``<anything>.name(...)`` or ``name(...)`` under
    marketplace/."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]:
            for node in ast.walk(function):
                if isinstance(node, ast.Call):
                    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                    if called == name:
                        found.add((path.relative_to(PACKAGE).as_posix(), getattr(function, "name", "<module>")))
    return found


# Calls named commit() that commit no database transaction: the search engine's index writer (tantivy) commits its
# own files, after the database's change it follows was committed (the walk counts a module's calls once more under
# "<module>").
NOT_THE_DATABASE = {("catalog/engine_search.py", "_write"), ("catalog/engine_search.py", "<module>")}


def test_only_the_boundary_commits():
    outside = {(module, function) for module, function in _calls("commit") if module not in BOUNDARY}
    assert outside - NOT_THE_DATABASE == set(), \
        "commit() outside marketplace/uow.py: services flush, the boundary commits"


def test_early_commits_and_kept_refusals_are_the_documented_ones():
    def callers(name):
        return {(module, function) for module, function in _calls(name)
                if function != "<module>" and module not in BOUNDARY}

    assert callers("commit_before") == set(COMMITS_BEFORE)
    assert callers("keep_despite_error") == set(KEPT_REFUSALS)


# ---------------------------------------------------------------- a request: its answer decides


@pytest.fixture
def boundary_app(own_database_url, tmp_path):
    """The real app on a database of its own, with routes that sign a user up and then answer as named."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "s"))
    with app.app_context():
        upgrade()
        db.session.remove()

    def sign_up(email: str) -> None:
        accounts.register_user(db.session, email=email, password="correct horse battery", display_name="Uow")
        db.session.flush()

    @app.post("/test/uow/<outcome>")
    def answer(outcome: str):
        sign_up(f"{outcome}@example.org")
        if outcome == "ok":
            return {"saved": True}, 201
        if outcome == "redirect":
            flash("Saved.", "success")
            return redirect("/test/uow/flashes")
        if outcome == "refused":
            raise Conflict("Refused after writing.")
        if outcome == "error-page":
            return "bad input", 422
        if outcome == "kept-refusal":
            keep_despite_error()
            return "declined, and recorded", 402
        raise RuntimeError("a bug after writing")

    @app.get("/test/uow/flashes")
    def flashes():
        from flask import get_flashed_messages
        return {"flashes": get_flashed_messages()}

    @app.get("/test/uow/undeclared-get")
    def undeclared_get():
        sign_up("undeclared@example.org")
        return {"wrote": True}

    @app.get("/test/uow/declared-get")
    @writes_when_read
    def declared_get():
        sign_up("declared@example.org")
        return {"wrote": True}

    yield app
    with app.app_context():
        db.engine.dispose()


def _saved(app, email: str) -> bool:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count(User.id)).where(User.email == email)) == 1
    finally:
        engine.dispose()


@pytest.mark.no_transaction
def test_a_successful_request_commits_its_writes(boundary_app):
    assert boundary_app.test_client().post("/test/uow/ok").status_code == 201
    assert _saved(boundary_app, "ok@example.org")


@pytest.mark.no_transaction
def test_a_redirect_after_a_post_commits_and_flashes(boundary_app):
    client = boundary_app.test_client()
    response = client.post("/test/uow/redirect")
    assert response.status_code == 302 and _saved(boundary_app, "redirect@example.org")
    assert client.get("/test/uow/flashes").get_json() == {"flashes": ["Saved."]}


@pytest.mark.no_transaction
@pytest.mark.parametrize("outcome,status", [("refused", 409), ("error-page", 422)])
def test_a_refused_request_leaves_nothing_written(boundary_app, outcome, status):
    response = boundary_app.test_client().post(f"/test/uow/{outcome}")
    assert response.status_code == status
    assert not _saved(boundary_app, f"{outcome}@example.org")


@pytest.mark.no_transaction
def test_a_request_failing_unexpectedly_leaves_nothing_written(boundary_app):
    boundary_app.config["PROPAGATE_EXCEPTIONS"] = False  # answered like production, not raised into the test
    response = boundary_app.test_client().post("/test/uow/bug")
    assert response.status_code == 500
    assert not _saved(boundary_app, "bug@example.org")


@pytest.mark.no_transaction
def test_a_refusal_declared_a_fact_keeps_its_writes(boundary_app):
    assert boundary_app.test_client().post("/test/uow/kept-refusal").status_code == 402
    assert _saved(boundary_app, "kept-refusal@example.org")


@pytest.mark.no_transaction
def test_a_get_that_writes_must_declare_it(boundary_app):
    client = boundary_app.test_client()
    with pytest.raises(UndeclaredWrite):
        client.get("/test/uow/undeclared-get")
    assert not _saved(boundary_app, "undeclared@example.org")
    assert client.get("/test/uow/declared-get").status_code == 200
    assert _saved(boundary_app, "declared@example.org")


# ---------------------------------------------------------------- a commit that fails


class _CommitBlocker:
    """Makes the request's COMMIT fail for real, from outside the app: on SQLite another connection holds a read
    transaction (a writer's COMMIT must wait for readers, here past a short busy timeout: "database is locked");
    on PostgreSQL the request's own server process is terminated (the connection is gone at COMMIT)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.reader: sqlite3.Connection | None = None

    def block(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self.reader = sqlite3.connect(self.url.database, isolation_level=None)
            self.reader.execute("BEGIN")
            self.reader.execute("SELECT count(*) FROM users").fetchone()
            return
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()

    def release(self) -> None:
        if self.reader is not None:
            self.reader.execute("ROLLBACK")
            self.reader.close()


@pytest.fixture
def failing_commit_app(boundary_app, own_database_url, monkeypatch):
    monkeypatch.setattr(marketplace.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    with boundary_app.app_context():
        db.engine.dispose()  # new connections get the short busy timeout
    blocker = _CommitBlocker(own_database_url)

    def sign_up_then_block(email: str) -> None:
        accounts.register_user(db.session, email=email, password="correct horse battery", display_name="Uow")
        db.session.flush()
        blocker.block()

    @boundary_app.get("/api/v1/test-uow/blocked")  # API writes need a token; a GET that declares its write does not
    @writes_when_read
    def api_blocked():
        sign_up_then_block("api-blocked@example.org")
        return {"saved": True}, 201

    @boundary_app.post("/test/uow/blocked")
    def page_blocked():
        sign_up_then_block("page-blocked@example.org")
        flash("Saved.", "success")
        return redirect("/test/uow/flashes")

    yield boundary_app
    blocker.release()


@pytest.mark.no_transaction
def test_a_failed_commit_answers_an_error_in_the_api_shape_not_the_success(failing_commit_app):
    response = failing_commit_app.test_client().get("/api/v1/test-uow/blocked")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == 503 and isinstance(body["code"], str) and "nothing was changed" in body["message"]
    assert not _saved(failing_commit_app, "api-blocked@example.org")


@pytest.mark.no_transaction
def test_a_failed_commit_on_a_page_shows_no_success(failing_commit_app):
    client = failing_commit_app.test_client()
    response = client.post("/test/uow/blocked")
    assert response.status_code == 503 and "nothing was changed" in response.get_data(as_text=True)
    assert client.get("/test/uow/flashes").get_json() == {"flashes": []}  # no "Saved." on the next page
    assert not _saved(failing_commit_app, "page-blocked@example.org")


# ---------------------------------------------------------------- commands and jobs


@pytest.mark.no_transaction
def test_a_unit_of_work_commits_at_its_end_and_rolls_back_when_it_raises(boundary_app):
    with boundary_app.app_context():
        with unit_of_work() as session:
            accounts.register_user(session, email="job@example.org", password="correct horse battery",
                                   display_name="Job")
        with pytest.raises(RuntimeError), unit_of_work() as session:
            accounts.register_user(session, email="failed-job@example.org", password="correct horse battery",
                                   display_name="Job")
            session.flush()
            raise RuntimeError("the job failed")
        db.session.remove()
    assert _saved(boundary_app, "job@example.org") and not _saved(boundary_app, "failed-job@example.org")


@pytest.mark.no_transaction
def test_a_unit_inside_another_joins_it(boundary_app):
    with boundary_app.app_context():
        with pytest.raises(RuntimeError), unit_of_work():
            with unit_of_work() as session:  # a job run inside a request or command
                accounts.register_user(session, email="inner@example.org", password="correct horse battery",
                                       display_name="Inner")
            raise RuntimeError("the outer work failed after the inner one ended")
        db.session.remove()
    assert not _saved(boundary_app, "inner@example.org")


@pytest.mark.no_transaction
def test_units_of_work_in_threads_queue_for_the_write_lock(boundary_app):
    """Jobs writing at once (threads of a consumer): each begins with the write intent and none fails."""
    errors: list[str] = []
    start = threading.Barrier(6)

    def job(n: int) -> None:
        with boundary_app.app_context():
            start.wait()
            try:
                with unit_of_work() as session:
                    session.scalar(select(func.count(User.id)))  # reads first, then writes
                    accounts.register_user(session, email=f"thread{n}@example.org",
                                           password="correct horse battery", display_name="Thread")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=job, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(_saved(boundary_app, f"thread{n}@example.org") for n in range(6))


@pytest.mark.no_transaction
def test_a_command_commits_once_and_a_refused_one_writes_nothing(boundary_app):
    runner = boundary_app.test_cli_runner()
    done = runner.invoke(args=["create-reviewer", "--email", "cli-reviewer@example.org",
                               "--password", "correct horse battery"])
    assert done.exit_code == 0, done.output
    refused = runner.invoke(args=["create-admin", "--email", "not an address", "--password", "correct horse battery"])
    assert refused.exit_code != 0 and "Created" not in refused.output
    with boundary_app.app_context():
        db.session.remove()
    assert _saved(boundary_app, "cli-reviewer@example.org")
    engine = create_engine(boundary_app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(User.id))) == 1
    engine.dispose()
