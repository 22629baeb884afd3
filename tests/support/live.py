"""A live server: the app in a thread on a free loopback port, with its own migrated SQLite file."""
from __future__ import annotations

import threading
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import make_server

from marketplace import create_app


class LiveServer:
    def __init__(self, tmp: Path, **config):
        self.app = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'live.db'}",
            STORAGE_LOCAL_ROOT=str(tmp / "storage"), WTF_CSRF_ENABLED=True, SERVER_NAME=None, **config,
        )
        with self.app.app_context():
            upgrade()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
