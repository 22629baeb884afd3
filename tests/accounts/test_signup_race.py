"""Sign-ups racing for one new address: one account, and every other racer gets the same quiet answer as a taken
address (never an error), on SQLite and (TEST_DB=postgresql) PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.identity import sign_up
from marketplace.accounts.models import User
from marketplace.db import write_intent
from marketplace.extensions import db
from tests import factories

pytestmark = pytest.mark.no_transaction

RACERS = 8


def test_racing_sign_ups_for_one_address_make_one_account_and_no_error(own_database_url, tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "s"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def racer(n: int) -> None:
        with app.app_context(), write_intent():
            start.wait()
            try:
                result = sign_up(db.session, email="Same.Person@Example.org", password=factories.PASSWORD,
                                 display_name=f"Racer {n}")
                db.session.commit()
                outcomes.append("created" if result.user is not None else "taken")
            except Exception as exc:  # noqa: BLE001 - any other outcome is reported by name
                db.session.rollback()
                outcomes.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with app.app_context():
        accounts = db.session.scalar(select(func.count(User.id)).where(User.email == "same.person@example.org"))
        db.engine.dispose()
    assert sorted(outcomes) == ["created"] + ["taken"] * (RACERS - 1), outcomes
    assert accounts == 1
