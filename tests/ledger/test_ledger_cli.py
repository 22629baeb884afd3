"""``flask ledger check`` prints each account's balance and fails on a transaction that does not balance (one
written behind ``post``'s back); ``flask ledger release`` and ``flask ledger backfill`` are safe to run again."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.ledger.models import LedgerPosting, LedgerTransaction, TransactionKind
from tests.licensing.test_seller_views import buy


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_check_prints_balances_and_fails_on_an_imbalance(app, session, buyer, buyer_org, plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    result = run(app, "ledger", "check")
    assert result.exit_code == 0, result.output
    seller = order.seller_organization_id
    assert "platform:provider_cash:HKD\t500000" in result.output
    assert "platform:platform_fee:HKD\t50000" in result.output
    assert f"org-{seller}:seller_pending:HKD\t450000" in result.output
    sale = session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == TransactionKind.SALE))
    line = session.scalar(select(LedgerPosting).where(LedgerPosting.transaction_id == sale.id).limit(1))
    line.amount += 1  # a posting changed behind post()'s back
    session.commit()
    broken = run(app, "ledger", "check")
    assert broken.exit_code == 1 and f"UNBALANCED {sale.key}: 1 HKD" in broken.output


def test_backfill_and_release_can_run_again(app, session, buyer, buyer_org, plans):
    buy(session, buyer, buyer_org, plans["Exclusive"])
    for _ in range(2):
        result = run(app, "ledger", "backfill")
        assert result.exit_code == 0 and "1 paid order(s) in the ledger." in result.output
        assert session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.kind == TransactionKind.SALE))
        released = run(app, "ledger", "release")
        assert released.exit_code == 0 and "0 sale(s) released." in released.output
    assert len(session.scalars(select(LedgerTransaction)).all()) == 1
