"""``flask audit verify`` and ``flask audit checkpoint``.

``checkpoint`` signs the chain's head now; run it from cron (say hourly) so that a quiet trail's latest events are
anchored too (``record`` already signs one when the newest is older than ``AUDIT_CHECKPOINT_SECONDS``):

    0 * * * *  cd /srv/marketplace && flask audit checkpoint

``verify`` exits 0 when the chain and every checkpoint hold, 1 naming each problem, 2 when a file it was given
cannot be read.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app

from marketplace.audit.checkpoints import make_checkpoint, verify_audit
from marketplace.extensions import db
from marketplace.signing.keys import read_jwks, trusted_keys
from marketplace.signing.services import known_keys
from marketplace.uow import unit_of_work

MAX_SAVED_BYTES = 64 * 1024 * 1024


class UnreadableInput(click.ClickException):
    exit_code = 2


def _read_saved(path: str) -> object:
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_SAVED_BYTES + 1)
        if len(raw) > MAX_SAVED_BYTES:
            raise UnreadableInput(f"{path} is larger than {MAX_SAVED_BYTES // (1024 * 1024)} MiB.")
        return json.loads(raw)
    except (OSError, ValueError, RecursionError) as exc:
        raise UnreadableInput(f"Could not read the saved checkpoints {path}: {exc}") from None


def init_audit_cli(app: Flask) -> None:
    @app.cli.group("audit")
    def audit() -> None:
        """The hash-chained audit trail and its signed checkpoints."""

    @audit.command("verify")
    @click.option("--checkpoints", "saved_path", metavar="FILE", type=click.Path(dir_okay=False),
                  help="A saved copy of /.well-known/audit-checkpoints.json: its checkpoints must hold and still "
                       "be in the database.")
    @click.option("--keys", "keys_source", metavar="PATH_OR_URL",
                  help="Trust only this JWKS (a saved /.well-known/licence-keys.json) rather than the keys the "
                       "database records.")
    def audit_verify(saved_path: str | None, keys_source: str | None) -> None:
        """Walk the audit chain and check every signed checkpoint against it; exit 1 naming each problem, so that
        removed events are caught even when the chain was recomputed."""
        saved = _read_saved(saved_path) if saved_path else None
        if keys_source:
            try:
                keys = trusted_keys(read_jwks(keys_source))  # with each key's retired_at
            except ValueError as exc:
                raise UnreadableInput(str(exc)) from None
        else:
            keys = known_keys(db.session, current_app)
        try:
            report = verify_audit(db.session, keys, saved)
        except ValueError as exc:
            raise UnreadableInput(f"{saved_path}: {exc}") from None
        if report.chain_ok:
            click.echo(f"Audit chain intact: {report.checked} events verified.")
        else:
            click.echo(f"Audit chain broken at event {report.broken_at} ({report.chain_reason}); "
                       f"{report.checked} events checked.", err=True)
        for problem in report.problems:
            click.echo(f"Checkpoint problem: {problem}", err=True)
        if not report.ok:
            raise click.ClickException(f"Audit trail NOT intact: {len(report.problems)} checkpoint problem(s)"
                                       f"{'' if report.chain_ok else ' and a broken chain'}.")
        click.echo(f"{report.checkpoints} signed checkpoint(s) verified.")

    @audit.command("checkpoint")
    def audit_checkpoint() -> None:
        """Sign a checkpoint of the chain's head now (for cron)."""
        with unit_of_work() as session:
            checkpoint = make_checkpoint(session)
        click.echo(f"Checkpoint {checkpoint.id}: {checkpoint.event_count} events, head event "
                   f"{checkpoint.head_event_id}, signed with key {checkpoint.key_id}.")
