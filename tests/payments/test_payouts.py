"""The payout run with simulated payments: a seller's available balance is paid out once, arrives after the transit
days, or fails and becomes available again; the ledger balances after each step and the statement shows it."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.ledger.services import account_balances, seller_balances, unbalanced_transactions
from marketplace.ledger.statements import seller_sales, statements
from marketplace.notifications.models import Notification
from marketplace.orders.money import release_due
from marketplace.payments.simulated import SimulatedPayments
from marketplace.payouts.models import Payout, PayoutStatus
from marketplace.payouts.services import run_payouts, settle
from tests.ledger.test_ledger_rules import _paid

NET = 500000 - 50000  # the "Exclusive" plan (HKD 5,000.00) less the default 10 % fee


def _run(session, *, minimum=1, now=None):
    return run_payouts(session, SimulatedPayments(), minimum=minimum, transit_days=2, now=now)


def _balances(session, org_id) -> dict[AccountKind, int]:
    return seller_balances(session, org_id)["HKD"]


def _balanced(session) -> None:
    assert unbalanced_transactions(session) == []
    totals = {}
    for acct, balance in account_balances(session):
        totals[acct.currency] = totals.get(acct.currency, 0) + acct.kind.normal_sign * balance
    assert set(totals.values()) <= {0}, totals


@pytest.fixture
def available(session, buyer, buyer_org, plans):
    """A sale of the seller's, released: its net is available to be paid out."""
    order = _paid(session, buyer, buyer_org, plans["Exclusive"])
    assert release_due(session, 0) and _balances(session, order.seller_organization_id)[
        AccountKind.SELLER_AVAILABLE] == NET
    return order


def test_a_payout_run_pays_out_the_available_balance_once(session, available):
    org_id = available.seller_organization_id
    [line] = _run(session)
    assert line.outcome.startswith("started PO-") and line.amount == NET
    payout = session.scalar(select(Payout))
    assert (payout.organization_id, payout.currency, payout.amount) == (org_id, "HKD", NET)
    assert payout.status == PayoutStatus.IN_TRANSIT and payout.provider == "simulated"
    assert payout.arrival_at > utcnow() + timedelta(days=1)
    balances = _balances(session, org_id)
    assert balances[AccountKind.SELLER_AVAILABLE] == 0 and balances[AccountKind.SELLER_IN_PAYOUT] == NET
    _balanced(session)
    # Run again before it arrives: nothing is available, nothing is paid twice.
    assert _run(session) == []
    assert session.scalar(select(Payout.id).where(Payout.id != payout.id)) is None


def test_a_simulated_payout_arrives_after_its_transit_days(session, available):
    org_id = available.seller_organization_id
    _run(session)
    payout = session.scalar(select(Payout))
    [arrived] = _run(session, now=utcnow() + timedelta(days=2, seconds=1))
    assert arrived.outcome == f"paid {payout.number}"
    assert payout.status == PayoutStatus.PAID and payout.paid_at is not None
    balances = _balances(session, org_id)
    assert balances[AccountKind.SELLER_IN_PAYOUT] == 0 and balances[AccountKind.SELLER_AVAILABLE] == 0
    cash = {acct.code: balance for acct, balance in account_balances(session)}["platform:provider_cash:HKD"]
    assert cash == 500000 - NET  # the platform keeps its fee; the seller's share left
    assert seller_sales(session, org_id) == {"HKD": 500000}  # paying out is not a sale undone
    _balanced(session)
    notes = session.scalars(select(Notification.subject).where(Notification.organization_id == org_id)).all()
    assert f"Payout {payout.number} arrived" in notes
    assert _run(session, now=utcnow() + timedelta(days=9)) == []  # settled once


def test_a_failed_payout_makes_the_money_available_again(session, available):
    org_id = available.seller_organization_id
    _run(session)
    payout = session.scalar(select(Payout))
    assert settle(session, payout, PayoutStatus.FAILED, "account_closed", utcnow())
    assert not settle(session, payout, PayoutStatus.PAID, None, utcnow())  # one outcome per payout
    assert payout.status == PayoutStatus.FAILED and payout.failure == "account_closed"
    balances = _balances(session, org_id)
    assert balances[AccountKind.SELLER_AVAILABLE] == NET and balances[AccountKind.SELLER_IN_PAYOUT] == 0
    _balanced(session)
    # The next run pays it out again, as a new payout.
    [line] = _run(session)
    assert line.outcome.startswith("started") and line.amount == NET
    assert session.scalar(select(Payout).where(Payout.id != payout.id)).amount == NET


def test_a_balance_below_the_minimum_waits(session, available):
    [line] = _run(session, minimum=NET + 1)
    assert line.outcome == "skipped: below the minimum payout"
    assert session.scalar(select(Payout.id)) is None


def test_pending_and_held_money_is_never_paid_out(session, buyer, buyer_org, plans):
    _paid(session, buyer, buyer_org, plans["Exclusive"])  # pending: within the settlement delay
    assert _run(session) == []
    assert session.scalar(select(Payout.id)) is None


def test_the_statement_shows_the_payout_and_its_failure_but_not_its_arrival(session, available):
    org_id = available.seller_organization_id
    _run(session)
    payout = session.scalar(select(Payout))
    settle(session, payout, PayoutStatus.FAILED, "account_closed", utcnow())
    _run(session)
    later = session.scalar(select(Payout).where(Payout.id != payout.id))
    settle(session, later, PayoutStatus.PAID, None, utcnow())
    now = utcnow()
    [sheet] = statements(session, org_id, now.date().replace(day=1), ZoneInfo("UTC"))
    kinds = [(line.kind, line.net) for line in sheet.lines]
    assert (TransactionKind.PAYOUT, -NET) in kinds and (TransactionKind.PAYOUT_FAILED, NET) in kinds
    assert TransactionKind.PAYOUT_PAID not in [kind for kind, _net in kinds]
    assert sheet.closing == 0  # sold, paid out, failed, paid out again: nothing more owed
    keys = session.scalars(select(LedgerTransaction.key).where(
        LedgerTransaction.kind.in_([TransactionKind.PAYOUT, TransactionKind.PAYOUT_PAID]))).all()
    assert sorted(keys) == sorted([f"{payout.key}-start", f"{later.key}-start", f"{later.key}-paid"])
