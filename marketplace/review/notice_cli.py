"""``flask notices end`` (end due public notices now, as the periodic job does) and ``flask registrations
backfill`` (certificates for products listed before public notices existed)."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.uow import unit_of_work


def init_notice_cli(app: Flask) -> None:
    @app.cli.group("notices")
    def notices_group() -> None:
        """Public notices."""

    @notices_group.command("end")
    def notices_end() -> None:
        """End every public notice past its closing time with no objection waiting, issuing its registration
        certificate (what the ``notices.end`` job does every ten minutes)."""
        from marketplace.review.public_notice import end_due_notices

        with unit_of_work() as session:
            ended = end_due_notices(session)
        for notice_id in ended:
            click.echo(f"notice {notice_id} ended")
        click.echo(f"{len(ended)} notice(s) ended.")

    @app.cli.group("registrations")
    def registrations_group() -> None:
        """Registration certificates."""

    @registrations_group.command("backfill")
    def registrations_backfill() -> None:
        """Issue a registration certificate to each listed product that was listed before public notices existed
        (valid from its listing, for the usual period). Idempotent."""
        from marketplace.review.registration import backfill_certificates

        with unit_of_work() as session:
            issued = backfill_certificates(session)
            lines = [f"{c.serial} issued, valid until {c.statement['valid_until']}" for c in issued]
        for line in lines:
            click.echo(line)
        click.echo(f"{len(lines)} registration certificate(s) issued.")
