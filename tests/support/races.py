"""What the race tests share: the app served by gunicorn on a module's own database (4 workers of 2 threads, no
rate limits), and work done in the app on that database between the racing requests."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade

from marketplace import create_app
from marketplace.extensions import db
from tests.support.gunicorn import Gunicorn


@contextmanager
def racing_market(database_url: str, folder: Path, build: Callable) -> Iterator[dict]:
    """The app on a module's own database, migrated, with what ``build(app, session)`` made committed; yields its
    values with the ``app`` and its ``folder`` (for ``racing_server``), and closes the app's connections after."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=str(folder / "storage"))
    with app.app_context():
        upgrade()
        values = {"app": app, "folder": folder, **build(app, db.session)}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    try:
        yield values
    finally:
        with app.app_context():
            db.engine.dispose()


@contextmanager
def racing_server(folder: Path, database_url: str) -> Iterator[str]:
    """The app under gunicorn on ``database_url`` with its files in ``folder``; yields its base URL."""
    gunicorn = Gunicorn(folder, {"DATABASE_URL": database_url, "MARKETPLACE_INSTANCE_DIR": str(folder),
                                 "STORAGE_LOCAL_ROOT": str(folder / "storage"), "RATELIMIT_ENABLED": "0"},
                        "--threads", "2", workers=4)
    gunicorn.env["PUBLIC_BASE_URL"] = gunicorn.base
    base = gunicorn.start()
    try:
        yield base
    finally:
        gunicorn.stop()


def in_app(app, build: Callable):
    """Run ``build(session)`` in ``app`` and commit; what it returned."""
    with app.app_context():
        try:
            value = build(db.session)
            db.session.commit()
            return value
        finally:
            db.session.remove()
