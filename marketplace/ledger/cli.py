"""``flask ledger check`` (every transaction balances; per-account balances; exit 1 if not). The commands that
read orders (``release``, ``backfill``) are added by ``orders.cli``: the ledger knows no orders."""
from __future__ import annotations

import click
from flask import Flask

from marketplace.uow import unit_of_work


def ledger_group(app: Flask) -> click.Group:
    @app.cli.group("ledger")
    def ledger() -> None:
        """The settlement ledger."""

    @ledger.command("check")
    def check() -> None:
        """Verify that every transaction balances in each currency and print every account's balance."""
        from marketplace.ledger.services import account_balances, unbalanced_transactions

        with unit_of_work() as session:
            broken = [(txn.key, currency, total) for txn, currency, total in unbalanced_transactions(session)]
            balances = [(acct.code, balance) for acct, balance in account_balances(session)]
        for code, balance in balances:
            click.echo(f"{code}\t{balance}")
        for key, currency, total in broken:
            click.echo(f"UNBALANCED {key}: {total} {currency}", err=True)
        if broken:
            raise SystemExit(1)
        click.echo(f"ok: every transaction balances ({len(balances)} account(s)).")

    return ledger
