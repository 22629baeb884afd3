"""An assessment fee paid racing: RACERS threads, each with a session and unit of work of its own, on a database of
the module's own (SQLite, or PostgreSQL with TEST_DB=postgresql), pay one fee order by card at one moment, or pay it
while the provider declines the request. The fee is paid once (one ledger sale, one voucher), and a decline racing
the payments either cancels the unpaid order (every payment refused) or refunds the paid one, never both; a
platform admin's refund racing the provider's decline gives the fee back once."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.assessments import fees, services
from marketplace.assessments.models import Assessment, ServiceProvider
from marketplace.extensions import db
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.ledger.services import unbalanced_transactions
from marketplace.licensing.certificates import check_certificate, voucher_document
from marketplace.licensing.models import Voucher
from marketplace.listings.models import ProductVersion
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments.simulated import SimulatedPayments
from tests.assessments.test_races import RACERS, race, race_app, world  # noqa: F401  (the racing app and its world)
from tests.support.races import in_app

pytestmark = pytest.mark.no_transaction

FEE = 250000  # HKD 2,500.00
CARD = "4242424242424242"


def _accepted_with_fee(app, ids: dict) -> tuple[str, int]:
    """A new request accepted with a fee, its simulated checkout opened: its number and its fee order's id."""
    def build(session):
        seller = session.get(User, ids["seller"])
        asked = services.request_assessment(session, seller, session.get(ProductVersion, ids["version"]),
                                            session.get(ServiceProvider, ids["provider"]), "compliance")
        services.decide_request(session, session.get(User, ids["assessors"][0]), asked, accept=True, fee=FEE,
                                currency="HKD")
        order = session.scalar(select(Order).where(Order.assessment_id == asked.id))
        orders.start_checkout(session, seller, order, SimulatedPayments(), success_url="/ok", cancel_url="/no")
        return asked.number, order.id

    return in_app(app, build)


def _pay(ids: dict, order_id: int):
    def call(session):
        orders.pay_with_test_card(session, session.get(User, ids["seller"]), session.get(Order, order_id), CARD)
    return call


def _decline(ids: dict, number: str):
    def call(session):
        assessment = session.scalar(select(Assessment).where(Assessment.number == number))
        services.decide_request(session, session.get(User, ids["assessors"][1]), assessment, accept=False,
                                reason="We cannot staff it.", after_accepting=True)
    return call


def _ledger(app, order_id) -> dict[TransactionKind, int]:
    def read(session):
        assert unbalanced_transactions(session) == []
        rows = session.execute(select(LedgerTransaction.kind, func.count(LedgerTransaction.id))
                               .where(LedgerTransaction.order_id == order_id).group_by(LedgerTransaction.kind)).all()
        return {TransactionKind(kind): count for kind, count in rows}
    return in_app(app, read)


def test_many_payments_of_one_fee_at_once_pay_it_once(race_app, world):  # noqa: F811
    number, order_id = _accepted_with_fee(race_app, world)
    outcomes = race(race_app, [_pay(world, order_id)] * RACERS)
    assert outcomes == {"ok": 1, "Conflict": RACERS - 1}, outcomes
    assert in_app(race_app, lambda s: s.get(Order, order_id).status) == OrderStatus.FULFILLED
    assert _ledger(race_app, order_id) == {TransactionKind.SALE: 1}
    with race_app.app_context():
        [voucher] = db.session.scalars(select(Voucher).where(Voucher.order_id == order_id)).all()
        result, found = check_certificate(db.session, json.dumps(voucher_document(voucher)))
        assert result.valid and found is voucher
        db.session.remove()
    # the provider then declines it: the fee goes back once
    assert race(race_app, [_decline(world, number)] * 2) == {"ok": 1, "InvalidTransition": 1}
    assert in_app(race_app, lambda s: s.get(Order, order_id).status) == OrderStatus.REFUNDED
    assert _ledger(race_app, order_id) == {TransactionKind.SALE: 1, TransactionKind.REFUND: 1}


def test_a_decline_racing_the_payments_cancels_or_refunds_never_both(race_app, world):  # noqa: F811
    number, order_id = _accepted_with_fee(race_app, world)
    outcomes = race(race_app, [_decline(world, number)] + [_pay(world, order_id)] * (RACERS - 1))
    assert outcomes["ok"] in (1, 2) and sum(outcomes.values()) == RACERS, outcomes
    status = in_app(race_app, lambda s: s.get(Order, order_id).status)
    ledger = _ledger(race_app, order_id)
    if outcomes["ok"] == 2:  # one payment won before the decline: paid, then refunded
        assert status == OrderStatus.REFUNDED and ledger == {TransactionKind.SALE: 1, TransactionKind.REFUND: 1}
    else:  # the decline won: the order was cancelled and every payment refused
        assert status == OrderStatus.CANCELLED and ledger == {}
    assert in_app(race_app, lambda s: str(s.scalar(select(Assessment.status).where(
        Assessment.number == number)))) == "declined"


def _platform_refund(number: str):
    def call(session):
        assessment = session.scalar(select(Assessment).where(Assessment.number == number))
        admin = session.scalar(select(User).where(User.email == "admin@race.example"))
        fees.decline_by_platform(session, admin, assessment, "The provider stopped answering.")
    return call


def test_the_platform_refunding_a_fee_while_the_provider_declines_gives_it_back_once(race_app, world):  # noqa: F811
    number, order_id = _accepted_with_fee(race_app, world)
    assert race(race_app, [_pay(world, order_id)]) == {"ok": 1}
    outcomes = race(race_app, [_platform_refund(number)] * (RACERS // 2)
                    + [_decline(world, number)] * (RACERS - RACERS // 2))
    assert outcomes == {"ok": 1, "InvalidTransition": RACERS - 1}, outcomes
    assert in_app(race_app, lambda s: s.get(Order, order_id).status) == OrderStatus.REFUNDED
    assert _ledger(race_app, order_id) == {TransactionKind.SALE: 1, TransactionKind.REFUND: 1}
    assert in_app(race_app, lambda s: str(s.scalar(select(Assessment.status).where(
        Assessment.number == number)))) == "declined"
