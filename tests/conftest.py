"""Test setup: the real migrations applied once, each test in a transaction rolled back at its end,
every backend (storage, mail) set to a per-test instance in one place.

TEST_DB=postgresql runs the same suite against a throwaway PostgreSQL cluster started here;
TEST_DATABASE_URL points it at an existing empty database instead.
"""
from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.extensions import db
from marketplace.mail import MemoryMailer
from marketplace.storage import LocalStorage
from tests import factories
from tests.support.clients import FreshUserClient


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
    elif os.environ.get("TEST_DB") == "postgresql":
        from tests.support.postgres import PostgresCluster

        with PostgresCluster() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def own_database_url(database_url, tmp_path):
    """A database of the test's own on the backend the suite runs on (a fresh SQLite file, or a fresh database in
    the PostgreSQL cluster, dropped afterwards), for tests whose threads or processes must commit for real."""
    from tests.support.databases import own_database

    with own_database(database_url, tmp_path, "own") as url:
        yield url


@pytest.fixture(scope="session")
def moto_endpoint():
    """Endpoint URL of a moto S3 server on loopback for the whole session; the environment restored afterwards."""
    from tests.support.moto import start_moto_server

    saved_env = dict(os.environ)
    server, endpoint_url = start_moto_server()
    try:
        yield endpoint_url
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved_env)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # The suite's own certificate signing key, never the developer's instance/ key.
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url,
        STORAGE_LOCAL_ROOT=str(tmp_path_factory.mktemp("storage")),
        LICENCE_SIGNING_KEY_FILE=str(tmp_path_factory.mktemp("keys") / "licence-signing-key.pem"),
        SEARCH_INDEX_DIR=str(tmp_path_factory.mktemp("search-index")),
    )
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _transaction(request, app, tmp_path):
    """Each test runs inside a transaction that is rolled back; commits become savepoints."""
    if "no_transaction" in request.keywords:
        yield None
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain SQLAlchemy Session: Flask-SQLAlchemy's own ignores ``bind`` and picks the engine.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
        )
        app.extensions["storage"] = LocalStorage(tmp_path / "storage")
        app.extensions["mailer"] = MemoryMailer()
        for kept in ("product_pages", "ckan_packages"):  # what a process keeps of a database rolled back since
            if kept in app.extensions:
                app.extensions[kept].clear()
        try:
            yield connection
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def storage(app):
    return app.extensions["storage"]


@pytest.fixture
def outbox(app):
    return app.extensions["mailer"].outbox


@pytest.fixture
def smtp(app, monkeypatch):
    """The app's mailer talking real SMTP to a server on loopback (one that, like many, does not offer SMTPUTF8);
    the server's received messages."""
    from marketplace.mail import SMTPMailer
    from tests.support.smtp import SMTPServer

    server = SMTPServer().start()
    monkeypatch.setitem(app.extensions, "mailer", SMTPMailer("127.0.0.1", server.port, "marketplace@localhost"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(app):
    return FreshUserClient(app, app.response_class, use_cookies=True)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = factories.PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def seller(session):
    """A user owning an organization (the seller), committed."""
    user = factories.user(session, email="seller@example.org", organization="Harbour Analytics")
    session.commit()
    return user


@pytest.fixture
def seller_org(seller):
    return seller.memberships[0].organization


@pytest.fixture
def api_token(session, seller):
    return factories.api_token(session, seller)


@pytest.fixture
def api(client, api_token):
    """A test client that sends the seller's API token."""
    return factories.TokenClient(client, api_token)


@pytest.fixture
def reviewer(session):
    user = factories.user(session, email="reviewer@example.org", role=PlatformRole.REVIEWER, name="Grace Reviewer")
    session.commit()
    return user


@pytest.fixture
def admin(session):
    user = factories.user(session, email="admin@example.org", role=PlatformRole.ADMIN, name="Ada Admin")
    session.commit()
    return user


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the lines tests recorded with tests.support.report.report() under a "results" heading."""
    from tests.support.report import LINES

    if LINES:
        terminalreporter.section("results")
        for line in LINES:
            terminalreporter.write_line(line)
