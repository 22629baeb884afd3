"""The instance folder and the SQLite database the app creates are its owner's alone: the file holds password
hashes, tokens' hashes and orders."""
from __future__ import annotations

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
