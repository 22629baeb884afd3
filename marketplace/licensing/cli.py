"""``flask orders expire`` and ``flask licences expire``: the system's deadlines, run from cron or a scheduler
(the app keeps no timer)."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.uow import unit_of_work


def init_licensing_cli(app: Flask) -> None:
    @app.cli.group("orders")
    def orders_group() -> None:
        """Orders: expire what waited too long."""

    @orders_group.command("expire")
    def orders_expire() -> None:
        """Expire requests the seller left unanswered (ORDER_APPROVAL_DAYS) and orders whose payment never came
        (ORDER_PAYMENT_HOURS)."""
        from marketplace.orders.requests import expire_orders

        with unit_of_work() as session:
            expired = expire_orders(session)
        for order in expired:
            click.echo(f"{order.number} expired")
        click.echo(f"{len(expired)} order(s) expired.")

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
