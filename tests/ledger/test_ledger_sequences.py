"""Random sequences of pay / partial refund / full refund / dispute opened, won, lost / release / payout started,
arrived, failed or returned over several orders and currencies: after every step each transaction balances, each
order's accounts hold what a plain model of its money says, refunds adding up to the amount leave exactly zero,
what the seller is owed, has on its way and was paid out adds up to its orders' share, and no balance goes below
zero but money available (a refund after a payout leaves the seller owing it)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from marketplace.db import utcnow
from marketplace.ledger import payouts, sales
from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import account_balances, order_balances, seller_balances, unbalanced_transactions
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
ACTIONS = ["pay", "partial", "full", "dispute", "won", "lost", "release", "payout", "arrive", "bounce", "return"]
steps = st.lists(st.tuples(st.sampled_from(ACTIONS),
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
    payouts = Payouts(session, seller)
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
        elif action in ("payout", "arrive", "bounce", "return"):
            getattr(payouts, "back" if action == "return" else action)(value)
        _check(session, models, trade, step)
        payouts.check(models, trade, step)


class Payouts:
    """Payouts of the seller's available money, and what became of them, beside the ledger."""

    def __init__(self, session, seller: int) -> None:
        self.session, self.seller = session, seller
        self.transit: list[tuple[str, str, int]] = []
        self.paid: list[tuple[str, str, int]] = []
        self.paid_out: dict[str, int] = dict.fromkeys(CURRENCIES, 0)

    def payout(self, value: int) -> None:
        currency = CURRENCIES[value % len(CURRENCIES)]
        amount, newest = payouts.lock_available(self.session, self.seller, currency)
        if amount > 0:
            key = f"payout-{currency}-after-{newest}"
            payouts.start_payout(self.session, key, self.seller, currency, amount)
            self.transit.append((key, currency, amount))

    def arrive(self, value: int) -> None:
        if self.transit:
            key, currency, amount = self.transit.pop(value % len(self.transit))
            payouts.payout_paid(self.session, key, self.seller, currency, amount)
            self.paid.append((key, currency, amount))
            self.paid_out[currency] += amount

    def bounce(self, value: int) -> None:
        if self.transit:
            key, currency, amount = self.transit.pop(value % len(self.transit))
            payouts.payout_failed(self.session, key, self.seller, currency, amount)

    def back(self, value: int) -> None:
        if self.paid:
            key, currency, amount = self.paid.pop(value % len(self.paid))
            payouts.payout_returned(self.session, key, self.seller, currency, amount)
            self.paid_out[currency] -= amount

    def check(self, models, trade, step) -> None:
        owed = seller_balances(self.session, self.seller)
        for currency in CURRENCIES:
            share = sum(m.expected()[0] - m.expected()[1] for m, t in zip(models, trade, strict=True)
                        if t.currency == currency)
            kinds = owed.get(currency, {})
            in_transit = sum(amount for _key, c, amount in self.transit if c == currency)
            assert kinds.get(AccountKind.SELLER_IN_PAYOUT, 0) == in_transit, (step, currency)
            held = sum(kinds.get(kind, 0) for kind in (AccountKind.SELLER_PENDING, AccountKind.SELLER_AVAILABLE,
                                                        AccountKind.SELLER_HELD, AccountKind.SELLER_IN_PAYOUT))
            assert held + self.paid_out[currency] == share, (step, currency, kinds, self.paid_out)


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
        if acct.kind not in (AccountKind.PROVIDER_CASH, AccountKind.SELLER_AVAILABLE):
            assert balance >= 0, (step, acct.code, balance)
