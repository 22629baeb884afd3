"""Account rules that can race, raced: threads act at the same moment, each through a session of its own that
commits for real, on SQLite and (TEST_DB=postgresql) PostgreSQL. Each test counts the outcomes."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts import identity, members, services
from marketplace.accounts.models import AccountTokenPurpose, MemberRole, Membership, Organization, User
from marketplace.audit.models import AuditEvent
from marketplace.db import write_intent
from marketplace.errors import DomainError
from marketplace.extensions import db
from tests import factories

pytestmark = pytest.mark.no_transaction

RACERS = 8


@pytest.fixture
def race_app(own_database_url, tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "s"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def race(app, actions: list[Callable]) -> Counter:
    """Run each action in its own thread at the same moment, as a request would (its own session, writes begun
    at once); count "ok", the refusal's class name, or any other failure by name."""
    start = threading.Barrier(len(actions))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(action: Callable) -> None:
        with app.app_context(), write_intent():
            start.wait()
            try:
                action(db.session)
                db.session.commit()
                outcome = "ok"
            except DomainError as exc:
                db.session.commit()  # refusals keep their audit events, as the pages do
                outcome = type(exc).__name__
            except Exception as exc:  # noqa: BLE001 - reported by name, and fails the test
                db.session.rollback()
                outcome = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _setup(app, build: Callable) -> dict:
    with app.app_context():
        values = build(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return values


def test_concurrent_wrong_passwords_each_count_and_lock_the_account(race_app):
    ids = _setup(race_app, lambda s: {"user": factories.user(s, email="target@example.org").id})
    outcomes = race(race_app, [lambda s: services.authenticate(s, "target@example.org", "wrong guess")] * RACERS)
    assert sum(outcomes.values()) == RACERS and set(outcomes) == {"LoginRefused"}, outcomes  # one answer, locked or not
    with race_app.app_context():
        user = db.session.get(User, ids["user"])
        failures = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "account.login_failed", AuditEvent.subject_id == user.id))
        # Guesses that arrive once the account is locked are refused without counting; none is lost to
        # another's write on the way to the lock.
        assert services.MAX_FAILED_LOGINS <= user.failed_login_count <= RACERS
        assert user.locked_until is not None
        assert failures == RACERS  # every guess is in the audit trail


def test_two_owners_demoting_each_other_at_once_leave_one_owner(race_app):
    def build(s):
        first = factories.user(s, email="first@example.org", organization="Twin Owners")
        second = factories.user(s, email="second@example.org")
        org = first.memberships[0].organization
        s.add(Membership(user_id=second.id, organization_id=org.id, role=MemberRole.OWNER))
        return {"first": first.id, "second": second.id, "org": org.id}

    ids = _setup(race_app, build)

    def demote(actor: str, target: str) -> Callable:
        return lambda s: members.change_member_role(
            s, s.get(User, ids[actor]), s.get(Organization, ids["org"]), ids[target], MemberRole.MEMBER)

    outcomes = race(race_app, [demote("first", "second"), demote("second", "first")])
    # The loser is refused either way: the last owner stays (Conflict), or it is no longer an owner (Forbidden).
    assert outcomes["ok"] == 1 and sum(outcomes.values()) == 2, outcomes
    assert set(outcomes) - {"ok"} <= {"Conflict", "Forbidden"}, outcomes
    with race_app.app_context():
        owners = db.session.scalar(select(func.count(Membership.id)).where(
            Membership.organization_id == ids["org"], Membership.role == MemberRole.OWNER))
    assert owners == 1


def test_an_invitation_accepted_by_many_clicks_at_once_makes_one_membership(race_app):
    def build(s):
        owner = factories.user(s, email="owner@example.org", organization="Clicked Org")
        invitee = factories.user(s, email="invitee@example.org")
        org = owner.memberships[0].organization
        _, token = services.invite_member(s, owner, org, invitee.email)
        return {"invitee": invitee.id, "org": org.id, "token": token}

    ids = _setup(race_app, build)
    outcomes = race(race_app, [lambda s: services.accept_invitation(s, s.get(User, ids["invitee"]), ids["token"])]
                    * RACERS)
    assert outcomes == Counter({"ok": 1, "Conflict": RACERS - 1}), outcomes
    with race_app.app_context():
        joined = db.session.scalar(select(func.count(Membership.id)).where(
            Membership.organization_id == ids["org"], Membership.user_id == ids["invitee"]))
        accepted = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "invitation.accepted"))
    assert joined == 1 and accepted == 1


def test_a_reset_link_used_many_times_at_once_sets_one_password(race_app):
    def build(s):
        user = factories.user(s, email="forgetful@example.org")
        return {"user": user.id, "secret": identity.issue_token(s, user, AccountTokenPurpose.RESET_PASSWORD)}

    ids = _setup(race_app, build)
    outcomes = race(race_app, [
        (lambda k: lambda s: identity.reset_password(s, ids["secret"], f"new passphrase number {k}"))(n)
        for n in range(RACERS)])
    assert outcomes == Counter({"ok": 1, "Conflict": RACERS - 1}), outcomes
