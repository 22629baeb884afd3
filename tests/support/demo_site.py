"""A site of a test module's own: a migrated SQLite file with the demo catalog, in a folder of its own, that the
module seeds further and serves from a live gunicorn (the CKAN API tests)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_migrate import upgrade

from marketplace import create_app
from marketplace.demo import load_demo
from marketplace.extensions import db
from tests.support.gunicorn import Gunicorn

T = TypeVar("T")


class DemoSite:
    def __init__(self, tmp_path_factory, name: str) -> None:
        self.tmp = tmp_path_factory.mktemp(name)
        self.url = f"sqlite:///{self.tmp / f'{name}.db'}"
        self.env = {"DATABASE_URL": self.url, "STORAGE_LOCAL_ROOT": str(self.tmp / "storage")}
        self.app = create_app("testing", SQLALCHEMY_DATABASE_URI=self.url, STORAGE_LOCAL_ROOT=self.env[
            "STORAGE_LOCAL_ROOT"])
        with self.app.app_context():
            upgrade()
        self.run(load_demo)

    def run(self, function: Callable[..., T]) -> T:
        """``function(session, storage)`` in an app context on the site's database, committed; its result."""
        with self.app.app_context():
            try:
                result = function(db.session, self.app.extensions["storage"])
                db.session.commit()
                return result
            finally:
                db.session.remove()

    def gunicorn(self) -> Gunicorn:
        """gunicorn serving the site (not started), ready once the CKAN API answers, its links to itself."""
        server = Gunicorn(self.tmp, self.env, ready_path="/api/3/action/site_read")
        server.env["PUBLIC_BASE_URL"] = server.base
        return server
