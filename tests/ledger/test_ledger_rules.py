"""The ledger's rules: the fee rounded half up, transactions that balance or are refused, postings written by
``post`` alone, free orders writing nothing, the fee fixed on the order when placed, and release after the delay."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.errors import Forbidden, ValidationFailed
from marketplace.ledger import sales
from marketplace.ledger.fees import set_fee_override
from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.ledger.services import UnbalancedTransaction, account, order_balances, post, seller_balances
from marketplace.orders import services as orders
from marketplace.payments.simulated import SimulatedPayments
from tests.licensing.conftest import SCENARIO

MARKETPLACE = Path(__file__).resolve().parents[2] / "marketplace"

def NO_ORDERS(order_id: int) -> None:  # noqa: N802  the ledger's own tests lock no order rows
    return None


@pytest.mark.parametrize(("amount", "bps", "fee"), [
    (500000, 1000, 50000), (5, 1000, 1), (4, 1000, 0), (15, 1000, 2), (25, 1000, 3), (1, 5000, 1), (3, 5000, 2),
    (999, 0, 0), (999, 10000, 999), (0, 1000, 0),
])
def test_the_fee_is_rounded_half_up_to_the_minor_unit(amount, bps, fee):
    assert sales.fee_for(amount, bps) == fee


@pytest.mark.parametrize(("amount", "bps"), [(-1, 1000), (100, -1), (100, 10001)])
def test_no_fee_outside_the_rules(amount, bps):
    with pytest.raises(ValueError):
        sales.fee_for(amount, bps)


def test_postings_that_do_not_sum_to_zero_are_refused(session):
    cash, fee = account(session, AccountKind.PROVIDER_CASH, "USD"), account(session, AccountKind.PLATFORM_FEE, "USD")
    with pytest.raises(UnbalancedTransaction):
        post(session, key="broken", kind=TransactionKind.SALE, currency="USD", postings=[(cash, 100), (fee, -99)])
    hkd = account(session, AccountKind.PLATFORM_FEE, "HKD")
    with pytest.raises(UnbalancedTransaction):  # balanced in sum, not per currency
        post(session, key="mixed", kind=TransactionKind.SALE, currency="USD", postings=[(cash, 100), (hkd, -100)])
    assert session.scalar(select(LedgerTransaction.id)) is None


def test_a_seller_account_is_never_the_platforms():
    with pytest.raises(ValueError):
        account(None, AccountKind.SELLER_PENDING, "USD")
    with pytest.raises(ValueError):
        account(None, AccountKind.PLATFORM_FEE, "USD", 5)


def test_only_post_writes_postings():
    writers = [path.relative_to(MARKETPLACE).as_posix() for path in MARKETPLACE.rglob("*.py")
               if re.search(r"LedgerPosting\(|insert\(LedgerPosting|ledger_postings", path.read_text())]
    assert sorted(writers) == ["ledger/models.py", "ledger/services.py"], writers
    services = (MARKETPLACE / "ledger" / "services.py").read_text()
    assert services.count("LedgerPosting(") == 1


def _paid(session, buyer, org, plan):
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))
    return _pay(session, buyer, order)


def _pay(session, buyer, order):
    orders.start_checkout(session, buyer, order, SimulatedPayments(), success_url="/ok", cancel_url="/cancel")
    return orders.pay_with_test_card(session, buyer, order, "4242424242424242")


def test_a_free_order_writes_nothing(session, buyer, buyer_org, plans):
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["Open research"].id, organization_id=buyer_org.id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    assert order.is_free and order_balances(session, order.id) == {}


def test_the_fee_is_fixed_on_the_order_when_it_is_placed(session, admin, seller, buyer, buyer_org, plans):
    seller_org = plans["Exclusive"].version.product.organization
    set_fee_override(session, admin, seller_org, 250)
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["Exclusive"].id, organization_id=buyer_org.id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    assert order.fee_bps == 250
    set_fee_override(session, admin, seller_org, 3000)  # later changes leave the placed order alone
    _pay(session, buyer, order)
    assert order_balances(session, order.id)[AccountKind.PLATFORM_FEE] == sales.fee_for(500000, 250) == 12500
    set_fee_override(session, admin, seller_org, None)
    assert seller_org.fee_bps is None


def test_only_a_platform_admin_sets_a_fee_and_only_a_rate(session, admin, seller, seller_org):
    with pytest.raises(Forbidden):
        set_fee_override(session, seller, seller_org, 0)
    for bad in (-1, 10001, True, "5"):
        with pytest.raises(ValidationFailed):
            set_fee_override(session, admin, seller_org, bad)
    from marketplace.audit.models import AuditEvent

    set_fee_override(session, admin, seller_org, 1500)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.fee_set"))
    assert event.actor_id == admin.id and event.payload["before"] is None and event.payload["after"] == 1500


def test_a_sale_becomes_available_after_the_settlement_delay(session, buyer, buyer_org, plans):
    order = _paid(session, buyer, buyer_org, plans["Exclusive"])
    net = 500000 - 50000
    assert sales.release_due(session, 7, lock=NO_ORDERS) == []
    assert seller_balances(session, order.seller_organization_id)["HKD"][AccountKind.SELLER_PENDING] == net
    [released] = sales.release_due(session, 7, lock=NO_ORDERS,
                                   now=utcnow() + timedelta(days=7, seconds=1))
    assert released.kind == TransactionKind.RELEASE
    balances = seller_balances(session, order.seller_organization_id)["HKD"]
    assert balances[AccountKind.SELLER_PENDING] == 0 and balances[AccountKind.SELLER_AVAILABLE] == net
    # Nothing left to release.
    assert sales.release_due(session, 7, lock=NO_ORDERS, now=utcnow() + timedelta(days=30)) == []
    # A refund after release takes the money back from what is available.
    sales.record_refund(session, sales.Trade(order.id, order.seller_organization_id, "HKD", 500000, 1000), 500000)
    assert set(order_balances(session, order.id).values()) == {0}
