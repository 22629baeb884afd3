"""``flask licences expire``: licences whose period ended, run from cron or the task queue's schedule."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.uow import unit_of_work


def init_licensing_cli(app: Flask) -> None:
    @app.cli.group("licences")
    def licences_group() -> None:
        """Licences: expire what lapsed, verify certificates."""

    @licences_group.command("expire")
    def licences_expire() -> None:
        """Expire active licences whose period has ended (subscriptions and time-limited licences)."""
        from marketplace.licensing.services import expire_licences

        with unit_of_work() as session:
            lapsed = expire_licences(session)
        for licence in lapsed:
            click.echo(f"{licence.serial} expired")
        click.echo(f"{len(lapsed)} licence(s) expired.")
