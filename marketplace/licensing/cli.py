"""``flask orders expire`` and ``flask licences expire``: the system's deadlines, run from cron or a scheduler
(the app keeps no timer)."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.db import write_intent
from marketplace.extensions import db


def init_licensing_cli(app: Flask) -> None:
    @app.cli.group("orders")
    def orders_group() -> None:
        """Orders: expire what waited too long."""

    @orders_group.command("expire")
    def orders_expire() -> None:
        """Expire requests the seller left unanswered (ORDER_APPROVAL_DAYS) and orders whose payment never came
        (ORDER_PAYMENT_HOURS)."""
        from marketplace.orders.requests import expire_orders

        with write_intent():
            expired = expire_orders(db.session)
            db.session.commit()
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

        with write_intent():
            lapsed = expire_licences(db.session)
            db.session.commit()
        for licence in lapsed:
            click.echo(f"{licence.serial} expired")
        click.echo(f"{len(lapsed)} licence(s) expired.")
