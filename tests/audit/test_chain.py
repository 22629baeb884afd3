"""The audit trail is a hash chain: altering or removing a row is caught, and the CLI reports where."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record, verify_chain


def _events(session, n=4):
    return [record(session, actor_id=None, action=f"test.{i}", subject_type="thing", subject_id=i,
                   payload={"i": i, "name": "交通"}) for i in range(n)]


def test_intact_chain_verifies(session):
    events = _events(session)
    assert events[1].prev_hash == events[0].hash
    report = verify_chain(session)
    assert report.ok and report.checked == 4


def test_altered_payload_is_caught_at_that_event(session):
    events = _events(session)
    session.execute(update(AuditEvent).where(AuditEvent.id == events[2].id).values(payload={"i": 99}))
    session.expire_all()
    report = verify_chain(session)
    assert not report.ok and report.broken_at == events[2].id and "altered" in report.reason


def test_altered_actor_is_caught(session):
    events = _events(session)
    session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id).values(action="test.forged"))
    session.expire_all()
    assert verify_chain(session).broken_at == events[1].id


def test_removed_event_is_caught_at_the_next_one(session):
    events = _events(session)
    session.execute(delete(AuditEvent).where(AuditEvent.id == events[1].id))
    session.expire_all()
    report = verify_chain(session)
    assert not report.ok and report.broken_at == events[2].id and "missing" in report.reason


def test_rehashing_an_altered_row_still_breaks_the_next_link(session):
    from marketplace.audit.services import _event_hash

    events = _events(session)
    target = session.scalar(select(AuditEvent).where(AuditEvent.id == events[1].id))
    target.payload = {"i": 42}
    target.hash = _event_hash(target.prev_hash, target)
    session.flush()
    assert verify_chain(session).broken_at == events[2].id


def test_cli_reports_intact_and_broken_chains(app, session):
    events = _events(session)
    session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "4 events verified" in ok.output
    session.execute(update(AuditEvent).where(AuditEvent.id == events[3].id).values(subject_id=7))
    session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"broken at event {events[3].id}" in broken.output
