"""A database of a test's (or a test module's) own, on the backend the suite runs on, for tests whose threads or
processes must commit for real: a fresh SQLite file, or a fresh database in the PostgreSQL cluster, dropped
afterwards."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def own_database(database_url: str, folder: Path, name: str) -> Iterator[str]:
    """The URL of a new database named after ``name``: ``folder/<name>.db`` on SQLite, a PostgreSQL database
    ``<name>_<random>`` in the suite's cluster otherwise (dropped, with its connections, when the block ends)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    database = f"{name}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def own_postgresql_database(database_url: str, folder: Path, name: str) -> Iterator[str]:
    """The URL of a PostgreSQL database of the caller's own, whatever the suite runs on: a new database in the
    suite's cluster under TEST_DB=postgresql (``own_database``), else a throwaway cluster."""
    from tests.support.postgres import PostgresCluster

    if make_url(database_url).get_backend_name() == "postgresql":
        with own_database(database_url, folder, name) as url:
            yield url
        return
    with PostgresCluster() as url:
        yield url
