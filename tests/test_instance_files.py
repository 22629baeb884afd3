"""The instance folder and the SQLite database the app creates are its owner's alone: the file holds password
hashes, tokens' hashes and orders."""
from __future__ import annotations

import io
import os
import stat

import pytest
from flask_migrate import upgrade

from marketplace import create_app


@pytest.fixture
def open_umask():
    """The most permissive umask, so that modes come from the app and not from the environment."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path, open_umask):
    database = tmp_path / "instance" / "marketplace.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
                     LICENCE_SIGNING_KEY_FILE=str(tmp_path / "keys" / "licence-signing-key.pem"))
    assert _mode(database.parent) == 0o700
    assert _mode(database) == 0o600
    with app.app_context():
        upgrade()  # SQLite writes the schema into the file it was given, keeping its mode
    assert _mode(database) == 0o600 and database.stat().st_size > 0


def test_an_existing_database_is_left_as_it_is(tmp_path):
    database = tmp_path / "marketplace.db"
    database.write_bytes(b"")
    database.chmod(0o640)
    create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
               STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
               LICENCE_SIGNING_KEY_FILE=str(tmp_path / "keys" / "licence-signing-key.pem"))
    assert _mode(database) == 0o640


def test_development_creates_the_instance_and_storage_folders_private(tmp_path, open_umask, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STORAGE_LOCAL_ROOT", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(instance))
    app = create_app("development")
    assert _mode(instance) == 0o700
    with app.app_context():
        app.extensions["storage"].save("assets/1/data.csv", io.BytesIO(b"a,b\n"), content_type="text/csv",
                                                   max_bytes=100)
    assert _mode(instance / "storage") == 0o700  # its subfolders are then closed to others too
