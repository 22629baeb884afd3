"""A unit of work that loses to a concurrent one at the database runs again, and answers 409 "try again" (never 500)
when it keeps losing: a real deadlock between two sessions locking two rows in opposite orders, and the driver's
own errors for the cases a test cannot provoke on demand."""
from __future__ import annotations

import threading

import psycopg.errors
import pytest
from flask_migrate import upgrade
from sqlalchemy.exc import IntegrityError, OperationalError

from marketplace import create_app
from marketplace.accounts.models import Organization
from marketplace.extensions import db
from marketplace.lifecycle import lock_row
from marketplace.retry import TryAgain, retryable, run_again_on_conflict
from tests import factories


def _driver_error(orig: Exception) -> OperationalError:
    return OperationalError("UPDATE ...", {}, orig)


def test_deadlocks_and_serialization_failures_are_run_again_until_they_pass():
    failures = [_driver_error(psycopg.errors.DeadlockDetected("deadlock detected")),
                _driver_error(psycopg.errors.SerializationFailure("could not serialize access"))]
    rollbacks = []

    def work():
        if failures:
            raise failures.pop(0)
        return "done"

    assert run_again_on_conflict(work, lambda: rollbacks.append(1)) == "done"
    assert len(rollbacks) == 2


def test_a_unit_of_work_that_keeps_losing_answers_409_try_again():
    def work():
        raise _driver_error(psycopg.errors.DeadlockDetected("deadlock detected"))

    rollbacks = []
    with pytest.raises(TryAgain) as err:
        run_again_on_conflict(work, lambda: rollbacks.append(1), attempts=3)
    assert len(rollbacks) == 3
    assert err.value.to_dict() == {"status": 409, "code": "try_again", "errors": {},
                                   "message": "Someone else changed this at the same moment; please try again."}


def test_other_database_errors_are_not_run_again():
    calls = []

    def work():
        calls.append(1)
        raise IntegrityError("INSERT ...", {}, psycopg.errors.UniqueViolation("duplicate key"))

    with pytest.raises(IntegrityError):
        run_again_on_conflict(work, lambda: None)
    assert len(calls) == 1
    assert not retryable(_driver_error(psycopg.errors.QueryCanceled("canceling statement")))
    assert not retryable(ValueError("not a database error"))


@pytest.mark.no_transaction
def test_a_real_deadlock_between_two_units_of_work_is_run_again_and_both_complete(own_database_url, tmp_path):
    """Two sessions lock two rows in opposite orders at the same moment: the database aborts one (PostgreSQL's
    40P01, SQLite's "database is locked"); it runs again after the other commits, and both complete."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "s"))
    with app.app_context():
        upgrade()
        ids = [factories.user(db.session, email=f"lock{n}@example.org", organization=f"Lock {n}")
               .memberships[0].organization_id for n in range(2)]
        db.session.commit()
        db.session.remove()
    both_hold_one = threading.Barrier(2)
    attempts, outcomes, lock = [], [], threading.Lock()

    def unit(first: int, second: int) -> None:
        with app.app_context():
            tries = []

            def work():
                tries.append(1)
                lock_row(db.session, db.session.get(Organization, first))
                if len(tries) == 1:
                    try:
                        both_hold_one.wait(timeout=3)
                    except threading.BrokenBarrierError:  # SQLite made the other wait for the first lock
                        pass
                lock_row(db.session, db.session.get(Organization, second))
                db.session.commit()
                return "ok"

            try:
                outcome = run_again_on_conflict(work, db.session.rollback, attempts=5)
            except Exception as exc:  # noqa: BLE001 - reported by name, and fails the test
                outcome = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                attempts.append(len(tries))
                outcomes.append(outcome)

    threads = [threading.Thread(target=unit, args=(ids[0], ids[1])),
               threading.Thread(target=unit, args=(ids[1], ids[0]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with app.app_context():
        db.engine.dispose()
    assert outcomes == ["ok", "ok"], outcomes
    assert sum(attempts) >= 3, attempts  # one of them lost and ran again
