"""``flask payouts run``: pay out sellers' available balances now (the daily job does the same). The command that
reads orders (``reconcile``) is added by ``orders.cli``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from marketplace.uow import NotSaved, unit_of_work


def payouts_group(app: Flask) -> click.Group:
    @app.cli.group("payouts")
    def payouts() -> None:
        """Payouts to sellers."""

    @payouts.command("run")
    def run() -> None:
        """Settle simulated payouts that arrived and pay out every available balance of at least PAYOUT_MINIMUM."""
        from marketplace.payouts.services import run_payouts

        config = current_app.config
        try:
            with unit_of_work() as session:
                lines = run_payouts(session, current_app.extensions["payments"], minimum=config["PAYOUT_MINIMUM"],
                                    transit_days=config["PAYOUT_TRANSIT_DAYS"])
        except (OperationalError, NotSaved) as exc:  # another run held the database too long: it pays them
            raise click.ClickException(f"The database is busy (another payout run?); nothing was paid out by this "
                                       f"run. Try again. ({type(exc).__name__})") from None
        for line in lines:
            click.echo(f"org-{line.organization_id}\t{line.currency}\t{line.amount}\t{line.outcome}")
        started = sum(1 for line in lines if line.outcome.startswith("started"))
        click.echo(f"{started} payout(s) started, {len(lines) - started} other line(s).")

    return payouts
