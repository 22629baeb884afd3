"""Signed checkpoints: deleting events and recomputing the whole chain passes the chain check, but not the
checkpoints; altering a checkpoint breaks its signature; a saved published copy catches deleted checkpoints."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, update

from marketplace.audit.checkpoints import CHECKPOINTS_PATH, make_checkpoint, statement_of
from marketplace.audit.models import AuditCheckpoint, AuditEvent
from marketplace.audit.services import GENESIS, _event_hash, record, verify_chain
from marketplace.db import utcnow
from marketplace.signing.keys import Signer, b64url, canonical_bytes, raw_public_key, signature_holds, signer_for
from marketplace.signing.models import SigningKey
from tests.licensing.test_certificates import key_file  # noqa: F401 - a fixture: this test's own key file


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _events(session, actions):
    return [record(session, actor_id=None, action=action, subject_type="asset", subject_id=i,
                   payload={"i": i, "file": "speeds.csv"}) for i, action in enumerate(actions)]


DOWNLOADS = ["listing.create", "asset.download", "order.paid", "asset.download", "licence.issue", "asset.download"]


@pytest.fixture
def trail(app, session):
    """Six events and a checkpoint over them, committed."""
    events = _events(session, DOWNLOADS)
    session.commit()
    result = run(app, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    return events


def _rewrite_chain(session) -> None:
    """What an attacker with the database does after deleting rows: recompute every link and hash in id order."""
    prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        event.prev_hash = prev
        event.hash = _event_hash(prev, event)
        session.flush()
        prev = event.hash
    session.commit()


def _delete_two_downloads(session, events) -> list[int]:
    gone = [e.id for e in events if e.action == "asset.download"][:2]
    session.execute(delete(AuditEvent).where(AuditEvent.id.in_(gone)))
    session.commit()
    session.expire_all()
    return gone


# ---------------------------------------------------------------- making checkpoints


def test_the_checkpoint_command_signs_the_chain_head_with_the_current_key(app, session, trail):
    checkpoint = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    assert checkpoint.event_count == 6 and checkpoint.head_event_id == trail[-1].id
    assert checkpoint.head_hash == trail[-1].hash
    signer = signer_for(app)
    assert checkpoint.key_id == signer.key_id
    assert signature_holds(signer.public_key, checkpoint.signature, canonical_bytes(statement_of(checkpoint)))
    assert session.scalar(select(SigningKey).where(SigningKey.key_id == signer.key_id)).retired_at is None


def test_recording_signs_a_checkpoint_when_the_newest_is_older_than_the_interval(app, session):
    first = _events(session, ["a.first"])[0]
    (checkpoint,) = session.scalars(select(AuditCheckpoint)).all()  # none existed: the first event is anchored
    assert checkpoint.head_event_id == first.id and checkpoint.event_count == 1
    _events(session, ["a.second", "a.third"])
    assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1  # the newest is recent
    session.execute(update(AuditCheckpoint).values(created_at=utcnow() - timedelta(seconds=3601)))
    latest = _events(session, ["a.fourth"])[0]
    newest = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    assert newest.id != checkpoint.id and newest.head_event_id == latest.id and newest.event_count == 4


def test_automatic_checkpoints_follow_the_configured_interval(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_SECONDS", 0)  # off: cron only
    _events(session, ["b.one", "b.two"])
    assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_SECONDS", 60)
    _events(session, ["b.three"])
    session.execute(update(AuditCheckpoint).values(created_at=utcnow() - timedelta(seconds=30)))
    _events(session, ["b.four"])
    assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def test_an_empty_trail_can_be_checkpointed_and_verifies(app, session):
    checkpoint = make_checkpoint(session)
    session.commit()
    assert (checkpoint.event_count, checkpoint.head_event_id, checkpoint.head_hash) == (0, None, GENESIS)
    result = run(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "0 events verified" in result.output and "1 signed checkpoint(s) verified" in result.output


# ---------------------------------------------------------------- the attack


def test_an_intact_trail_and_its_checkpoints_verify(app, trail):
    result = run(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "6 events verified" in result.output and "2 signed checkpoint(s) verified" in result.output


def test_deleting_downloads_and_recomputing_the_chain_passes_the_chain_but_not_the_checkpoints(app, session, trail):
    gone = _delete_two_downloads(session, trail)
    assert not verify_chain(session).ok  # deleting alone breaks the chain...
    _rewrite_chain(session)
    report = verify_chain(session)
    assert report.ok and report.checked == 4  # ...recomputing it hides the deletion from the chain check

    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert "Audit chain intact: 4 events verified" in result.output
    assert f"Event {trail[-1].id} no longer has the hash the checkpoint" in result.output
    assert "NOT intact" in result.output
    assert all(session.get(AuditEvent, event_id) is None for event_id in gone)


def test_a_deleted_event_changes_the_count_the_checkpoint_signed(app, session, trail):
    session.execute(delete(AuditEvent).where(AuditEvent.id == trail[1].id))
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"5 events lead to event {trail[-1].id}, but the checkpoint" in result.output
    assert "signed 6: events were removed" in result.output


def test_altering_a_checkpoint_to_match_the_rewritten_chain_breaks_its_signature(app, session, trail):
    _delete_two_downloads(session, trail)
    _rewrite_chain(session)
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    session.execute(update(AuditCheckpoint).where(AuditCheckpoint.head_event_id == head.id)
                    .values(event_count=4, head_hash=head.hash))
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert "(4 events) does not match its signature: it was altered after it was signed" in result.output


@pytest.mark.parametrize("column, value", [("event_count", 7), ("head_event_id", 1), ("head_hash", "f" * 64),
                                           ("created_at", None)])
def test_changing_any_field_of_a_checkpoint_breaks_its_signature(app, session, trail, column, value):
    checkpoint = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    if column == "created_at":
        value = checkpoint.created_at - timedelta(days=1)
    session.execute(update(AuditCheckpoint).where(AuditCheckpoint.id == checkpoint.id).values({column: value}))
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1 and "does not match its signature" in result.output


def test_a_checkpoint_signed_with_an_unknown_key_is_refused(app, session, trail):
    impostor = Signer(Ed25519PrivateKey.generate())
    forged = AuditCheckpoint(created_at=utcnow().replace(microsecond=0), event_count=6,
                             head_event_id=trail[-1].id, head_hash=trail[-1].hash, key_id=impostor.key_id,
                             signature="")
    forged.signature = impostor.sign(canonical_bytes(statement_of(forged)))
    session.add(forged)
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1 and f"signed with an unknown key '{impostor.key_id}'" in result.output


# ---------------------------------------------------------------- the published copy


def _save_published(client, tmp_path, name="checkpoints.json"):
    response = client.get(CHECKPOINTS_PATH)
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def test_a_saved_copy_catches_deleted_checkpoints(app, session, client, trail, tmp_path):
    saved = _save_published(client, tmp_path)
    _delete_two_downloads(session, trail)
    _rewrite_chain(session)
    session.execute(delete(AuditCheckpoint))
    session.commit()

    alone = run(app, "audit", "verify")
    assert alone.exit_code == 0, alone.output  # with its checkpoints gone, the database agrees with itself

    result = run(app, "audit", "verify", "--checkpoints", str(saved))
    assert result.exit_code == 1
    assert "in the saved copy is missing from the database" in result.output
    assert f"Event {trail[-1].id} no longer has the hash the checkpoint" in result.output


def test_a_saved_copy_of_an_intact_trail_verifies(app, client, trail, tmp_path):
    saved = _save_published(client, tmp_path)
    result = run(app, "audit", "verify", "--checkpoints", str(saved))
    assert result.exit_code == 0, result.output


def test_a_saved_copy_that_is_not_one_is_reported(app, trail, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"checkpoints": [{"statement": {"count": "six"}}]}))
    result = run(app, "audit", "verify", "--checkpoints", str(bad))
    assert result.exit_code == 2 and "Not a published checkpoint" in result.output
    result = run(app, "audit", "verify", "--checkpoints", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "Could not read the saved checkpoints" in result.output


def test_a_key_added_to_the_database_is_not_trusted_under_saved_keys(app, session, client, trail, tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_bytes(client.get("/.well-known/licence-keys.json").data)
    _delete_two_downloads(session, trail)
    _rewrite_chain(session)
    session.execute(delete(AuditCheckpoint))
    impostor = Signer(Ed25519PrivateKey.generate())  # the attacker's own key, recorded as if the platform's
    session.add(SigningKey(key_id=impostor.key_id, public_key=b64url(raw_public_key(impostor.public_key))))
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    forged = AuditCheckpoint(created_at=utcnow().replace(microsecond=0), event_count=4, head_event_id=head.id,
                             head_hash=head.hash, key_id=impostor.key_id, signature="")
    forged.signature = impostor.sign(canonical_bytes(statement_of(forged)))
    session.add(forged)
    session.commit()

    assert run(app, "audit", "verify").exit_code == 0  # the database vouches for its own forgery
    result = run(app, "audit", "verify", "--keys", str(keys))
    assert result.exit_code == 1 and f"unknown key '{impostor.key_id}'" in result.output


def test_published_checkpoints_are_newest_first_and_page_back(app, session, client, trail, monkeypatch):
    import marketplace.audit.checkpoints as checkpoints

    for _ in range(3):
        make_checkpoint(session)
    session.commit()
    monkeypatch.setattr(checkpoints, "PUBLISHED_PER_PAGE", 2)
    first = client.get(CHECKPOINTS_PATH)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    body = first.get_json()
    ids = [entry["id"] for entry in body["checkpoints"]]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)
    entry = body["checkpoints"][0]
    assert set(entry["statement"]) == {"type", "count", "head_event_id", "head_hash", "at"}
    assert entry["signature"]["kid"] == signer_for(app).key_id and body["keys"] == "/.well-known/licence-keys.json"
    older = client.get(body["next"]).get_json()
    assert [e["id"] for e in older["checkpoints"]] and max(e["id"] for e in older["checkpoints"]) < min(ids)


@pytest.mark.parametrize("before", ["abc", "0", "-1", "99999999999", "1e3"])
def test_published_checkpoints_refuse_a_bad_page_with_the_error_shape(client, before):
    response = client.get(f"{CHECKPOINTS_PATH}?before={before}")
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


# ---------------------------------------------------------------- a rotated key


@pytest.mark.usefixtures("key_file")
def test_a_checkpoint_signed_with_a_retired_key_after_its_retirement_is_refused(app, session, client, tmp_path):
    _events(session, DOWNLOADS)
    session.commit()
    assert run(app, "audit", "checkpoint").exit_code == 0  # signed before the rotation: still trusted after it
    leaked = signer_for(app)
    assert run(app, "licences", "rotate-key").exit_code == 0
    retired_at = session.scalar(select(SigningKey.retired_at).where(SigningKey.key_id == leaked.key_id))
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    forged = AuditCheckpoint(created_at=(retired_at + timedelta(hours=1)).replace(microsecond=0),
                             event_count=session.scalar(select(func.count()).select_from(AuditEvent)),
                             head_event_id=head.id, head_hash=head.hash, key_id=leaked.key_id, signature="")
    forged.signature = leaked.sign(canonical_bytes(statement_of(forged)))
    session.add(forged)
    session.commit()
    keys = tmp_path / "keys.json"
    keys.write_bytes(client.get("/.well-known/licence-keys.json").data)

    for trusted in ([], ["--keys", str(keys)]):  # the database's keys, and a saved copy of the published ones
        result = run(app, "audit", "verify", *trusted)
        assert result.exit_code == 1, result.output
        assert result.output.count("Checkpoint problem") == 1  # the checkpoint from before the rotation holds
        assert "retired on" in result.output and "after its retirement" in result.output
