"""Keeping the benchmark's catalog between runs: a PostgreSQL catalog as a ``pg_dump`` restored into the next
run's throwaway cluster (a SQLite catalog is its kept file), and the search engine's index built beside it, or
brought up to date when kept."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from marketplace.extensions import db


def ready_engine(app, rebuild: bool) -> float:
    """The search engine's index built from the catalog entries (``rebuild``, as ``flask catalog reindex`` does
    after writing them), or a kept one brought up to the change log (built in full when it cannot follow on);
    seconds taken."""
    started = time.perf_counter()
    with app.app_context():
        engine = app.extensions["catalog_engine"]
        if rebuild:
            engine.rebuild(db.session)
        else:
            engine.view(db.session)
        db.session.commit()
        db.engine.dispose()
    return time.perf_counter() - started


def _pg_tool(cluster, tool: str, *args: str) -> None:
    from tests.support.postgres import _bin

    subprocess.run([_bin(tool), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", *args], check=True)


def dump(cluster, path: Path) -> None:
    """The cluster's catalog database kept in ``path`` (pg_dump's custom format)."""
    _pg_tool(cluster, "pg_dump", "-Fc", "-Z1", "-f", f"{path}.new", "marketplace_test")
    os.replace(f"{path}.new", path)


def restore(cluster, path: Path) -> None:
    _pg_tool(cluster, "pg_restore", "--no-owner", "-j", "2", "-d", "marketplace_test", str(path))


