"""Two processes that start signing with the same key at the same moment record it once, without an error, on
SQLite and (TEST_DB=postgresql) PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.db import write_intent
from marketplace.extensions import db
from marketplace.signing.keys import Signer
from marketplace.signing.models import SigningKey
from marketplace.signing.services import record_key

pytestmark = pytest.mark.no_transaction

RACERS = 6


def test_a_key_first_used_by_several_processes_at_once_is_recorded_once(own_database_url, tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path),
                     LICENCE_SIGNING_KEY_FILE=str(tmp_path / "key.pem"))
    with app.app_context():
        upgrade()
    signer = Signer(Ed25519PrivateKey.generate())
    barrier, outcomes = threading.Barrier(RACERS), []

    def racer():
        with app.app_context(), write_intent(), Session(db.engine) as session:
            try:
                barrier.wait()
                row = record_key(session, signer)
                session.commit()
                outcomes.append(row.key_id)
            except Exception as exc:  # the outcome under test: no racer may fail
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SigningKey))
        db.session.remove()
        db.engine.dispose()
    assert outcomes == [signer.key_id] * RACERS and count == 1
