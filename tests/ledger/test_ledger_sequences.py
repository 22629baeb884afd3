"""Random sequences of pay / partial refund / full refund / dispute opened, won, lost / release over several orders
and currencies: after every step each transaction balances, each order's accounts hold what a plain model of its
money says, no seller or platform balance goes below zero, and refunds adding up to the amount leave exactly
zero."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from marketplace.db import utcnow
from marketplace.ledger import sales
from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import account_balances, order_balances, unbalanced_transactions
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests.licensing.conftest import SCENARIO

ORDERS = 4
CURRENCIES = ("CNY", "HKD", "USD")

def NO_ORDERS(order_id: int) -> None:  # noqa: N802  the ledger's own tests lock no order rows
    return None


@pytest.fixture
def order_ids(session, buyer, buyer_org, plans):
    """Order rows for the ledger's entries to name (the ledger is handed each trade's money, not the row's)."""
    first = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["Exclusive"].id, organization_id=buyer_org.id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    columns = {c.key: getattr(first, c.key) for c in inspect(Order).column_attrs if c.key not in ("id",)}
    copies = [Order(**{**columns, "idempotency_key": f"copy-{n}", "payment_token": None}) for n in range(ORDERS - 1)]
    session.add_all(copies)
    session.flush()
    return [first.id, *(order.id for order in copies)], first.seller_organization_id


trades = st.tuples(st.integers(1, 10**7), st.integers(0, 10_000), st.sampled_from(CURRENCIES), st.booleans())
steps = st.lists(st.tuples(st.sampled_from(["pay", "partial", "full", "dispute", "won", "lost", "release"]),
                           st.integers(0, ORDERS - 1), st.integers(1, 10**7)), min_size=8, max_size=30)


class Model:
    """What an order's money should be, worked out without the ledger."""

    def __init__(self, amount: int, bps: int) -> None:
        self.amount, self.fee = amount, sales.fee_for(amount, bps)
        self.paid = self.disputed = self.lost = False
        self.reversed = 0

    def expected(self) -> tuple[int, int]:
        if not self.paid:
            return 0, 0
        fee_reversed = (2 * self.fee * self.reversed + self.amount) // (2 * self.amount)
        return self.amount - self.reversed, self.fee - fee_reversed


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(money=st.lists(trades, min_size=ORDERS, max_size=ORDERS), script=steps)
def test_any_sequence_of_money_events_keeps_the_ledger_true_to_the_orders(session, order_ids, money, script):
    ids, seller = order_ids
    example = session.begin_nested()
    try:
        _run(session, ids, seller, money, script)
    finally:
        example.rollback()
        session.expunge_all()  # the example's rows are gone; so are their objects


def _run(session, ids, seller, money, script):
    models = [Model(amount, bps) for amount, bps, _currency, _paid in money]
    trade = [sales.Trade(ids[n], seller, currency, amount, bps) for n, (amount, bps, currency, _) in enumerate(money)]
    for m, t, (*_, paid_first) in zip(models, trade, money, strict=True):
        if paid_first:
            sales.record_sale(session, t)
            m.paid = True
    later = utcnow()
    for step, (action, n, value) in enumerate(script):
        m, t = models[n], trade[n]
        dispute = f"dp_{n}"
        if action == "pay" and not m.paid:
            sales.record_sale(session, t)
            m.paid = True
        elif action == "partial" and m.paid and not m.lost:
            m.reversed = min(m.amount, m.reversed + value % m.amount + 1)
            sales.record_refund(session, t, m.reversed)
        elif action == "full" and m.paid and not m.lost:
            m.reversed = m.amount
            sales.record_refund(session, t, m.amount)
        elif action == "dispute" and m.paid and not m.disputed and not m.lost:
            sales.hold_for_dispute(session, t, dispute)
            m.disputed = True
        elif action in ("won", "lost") and m.disputed:
            sales.close_dispute(session, t, dispute, won=action == "won")
            m.disputed = False
            if action == "lost":
                m.lost, m.reversed = True, m.amount
        elif action == "release":
            later += timedelta(days=8)
            sales.release_due(session, 7, lock=NO_ORDERS, now=later)
        _check(session, models, trade, step)


def _check(session, models, trade, step):
    assert unbalanced_transactions(session) == [], step
    for m, t in zip(models, trade, strict=True):
        balances = order_balances(session, t.order_id)
        cash, fee = m.expected()
        assert balances.get(AccountKind.PROVIDER_CASH, 0) == cash, (step, t)
        assert balances.get(AccountKind.PLATFORM_FEE, 0) == fee, (step, t)
        payable = {kind: balances.get(kind, 0) for kind in
                   (AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE, AccountKind.SELLER_HELD)}
        assert sum(payable.values()) == cash - fee, (step, t, payable)
        assert min(payable.values()) >= 0, (step, t, payable)
        assert (payable[AccountKind.SELLER_HELD] > 0) <= m.disputed, (step, t, payable)
        if m.reversed == m.amount:
            assert set(balances.values()) <= {0}, (step, t, balances)
    for acct, balance in account_balances(session):
        if acct.kind != AccountKind.PROVIDER_CASH or balance:
            assert balance >= 0, (step, acct.code, balance)
