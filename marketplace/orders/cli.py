"""``flask payments reconcile``: settle orders stuck awaiting payment by asking the provider about their checkout.

For a webhook that never came (an outage, a misconfigured endpoint): a checkout the provider reports paid fulfils
its order, one it reports expired expires it, an open one is left alone, one it does not know is reported and the
run goes on. Safe to run repeatedly (from cron).
"""
from __future__ import annotations

import click
from flask import Flask, current_app

from marketplace.errors import DomainError
from marketplace.uow import unit_of_work


def init_payments_cli(app: Flask) -> None:
    @app.cli.group("payments")
    def payments() -> None:
        """Payments through the configured provider."""

    @payments.command("reconcile")
    def reconcile() -> None:
        """Ask the payment provider about every order awaiting payment through it; pay or expire what it says."""
        from marketplace.orders.checkout import reconcile_orders

        provider = current_app.extensions["payments"]
        try:
            with unit_of_work() as session:
                results = reconcile_orders(session, provider)
                lines = [f"{order.number}\t{outcome}\t{order.status}" for order, outcome in results]
        except DomainError as exc:
            raise click.ClickException(f"Reconciliation stopped, nothing changed: {exc.message}") from None
        for line in lines:
            click.echo(line)
        click.echo(f"{len(lines)} order(s) awaiting payment checked with {provider.name}.")
        unknown = sum(1 for _, outcome in results if outcome == "missing")
        if unknown:
            click.echo(f"{unknown} checkout(s) unknown to {provider.name}: those orders expire at their deadline "
                       "unless the buyer pays again.")
        failed = sum(1 for _, outcome in results if outcome.startswith("error: "))
        if failed:
            click.echo(f"{failed} order(s) could not be settled: see the lines marked error.")


def init_orders_cli(app: Flask) -> None:
    """``flask orders expire``: requests and orders past their deadline, run from cron or the task queue's
    schedule."""
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


def init_ledger_cli(app: Flask) -> None:
    """The ledger's commands, and ``flask ledger release`` and ``backfill`` that read orders (the ledger knows
    none)."""
    from marketplace.ledger.cli import ledger_group

    ledger = ledger_group(app)

    @ledger.command("release")
    def release() -> None:
        """Make available the sellers' money of sales older than SETTLEMENT_DELAY_DAYS."""
        from marketplace.orders.money import release_due

        with unit_of_work() as session:
            count = len(release_due(session, current_app.config["SETTLEMENT_DELAY_DAYS"]))
        click.echo(f"{count} sale(s) released.")

    @ledger.command("backfill")
    def backfill() -> None:
        """Write the ledger entries of paid, refunded and disputed orders that have none, and the transaction
        vouchers of paid orders that have none (idempotent)."""
        from marketplace.orders.money import backfill as write_missing

        with unit_of_work() as session:
            count = write_missing(session)
        click.echo(f"{count} paid order(s) in the ledger.")


def init_payouts_cli(app: Flask) -> None:
    """``flask payouts run``, and ``flask payouts reconcile`` that reads orders (the payouts package knows none)."""
    from marketplace.payouts.cli import payouts_group

    payouts = payouts_group(app)

    @payouts.command("reconcile")
    @click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650),
                  help="Compare what happened in this many days.")
    def reconcile_stripe(days: int) -> None:
        """List every difference between the ledger and Stripe's balance transactions (exit 1 if any)."""
        from datetime import timedelta

        from marketplace.db import utcnow
        from marketplace.orders.stripe_reconcile import reconcile
        from marketplace.payments.stripe_connect import connect_of

        connect = connect_of(current_app.extensions["payments"])
        if connect is None:
            raise click.ClickException("Payments are simulated: there is no Stripe account to reconcile with.")
        try:
            with unit_of_work() as session:
                differences = reconcile(session, connect, utcnow() - timedelta(days=days))
        except DomainError as exc:
            raise click.ClickException(f"Could not reconcile: {exc.message}") from None
        for difference in differences:
            click.echo(difference.line())
        if differences:
            click.echo(f"{len(differences)} difference(s) between the ledger and Stripe.", err=True)
            raise SystemExit(1)
        click.echo(f"ok: the ledger and Stripe agree for the last {days} day(s).")
