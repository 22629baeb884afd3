"""What Stripe reports writes the settlement ledger in the same transaction as the order's change: the sale with
the fee fixed on the order, partial and full refunds made in the Dashboard, a dispute held, won and lost; an event
delivered again writes nothing more."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.ledger.sales import fee_for
from marketplace.ledger.services import order_balances, unbalanced_transactions
from marketplace.licensing.states import LicenceStatus
from marketplace.orders.states import OrderStatus
from tests.payments.test_after_the_sale import fresh, sold  # noqa: F401 - the paid order fixture
from tests.payments.test_webhooks import post_event
from tests.support.stripe_stub import event_payload

AMOUNT = 500000  # the "Exclusive" plan, HKD 5,000.00


def kinds(session, order_id) -> list[TransactionKind]:
    return list(session.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.order_id == order_id)
                                .order_by(LedgerTransaction.id)))


def test_a_paid_checkout_writes_the_sale_once_with_the_fee_fixed_on_the_order(client, session, checkout, sold):  # noqa: F811
    order = fresh(session, checkout)
    assert order.fee_bps == 1000
    fee = fee_for(AMOUNT, 1000)
    assert order_balances(session, order.id) == {
        AccountKind.PROVIDER_CASH: AMOUNT, AccountKind.PLATFORM_FEE: fee, AccountKind.SELLER_PENDING: AMOUNT - fee}
    again = post_event(client, event_payload("checkout.session.completed", sold)).get_json()
    assert again["outcome"].startswith("ignored")
    assert kinds(session, order.id) == [TransactionKind.SALE]
    assert unbalanced_transactions(session) == []


def test_partial_dashboard_refunds_then_the_rest_reverse_exactly_the_sale(client, session, checkout, sold,  # noqa: F811
                                                                         stripe_stub):
    for amount in (100001, 33333):
        charge = stripe_stub.dashboard_refund(sold["payment_intent"], amount=amount)
        event = event_payload("charge.refunded", charge)
        assert post_event(client, event).get_json()["outcome"].startswith("partially refunded")
        assert post_event(client, event).get_json()["duplicate"] is True
    balances = order_balances(session, checkout.id)
    assert balances[AccountKind.PROVIDER_CASH] == AMOUNT - 133334
    assert balances[AccountKind.PLATFORM_FEE] + balances[AccountKind.SELLER_PENDING] == AMOUNT - 133334
    charge = stripe_stub.dashboard_refund(sold["payment_intent"])
    assert post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"] == "refunded"
    assert set(order_balances(session, checkout.id).values()) == {0}
    assert kinds(session, checkout.id) == [TransactionKind.SALE] + [TransactionKind.REFUND] * 3


def test_a_dispute_holds_the_sellers_money_and_a_won_dispute_gives_it_back(client, session, checkout, sold,  # noqa: F811
                                                                           stripe_stub):
    dispute = stripe_stub.open_dispute(sold["payment_intent"])
    assert post_event(client, event_payload("charge.dispute.created", dispute)).get_json()["outcome"].startswith(
        "disputed")
    net = AMOUNT - fee_for(AMOUNT, 1000)
    held = order_balances(session, checkout.id)
    assert held[AccountKind.SELLER_HELD] == net and held[AccountKind.SELLER_PENDING] == 0
    closed = stripe_stub.close_dispute(dispute["id"], "won")
    assert post_event(client, event_payload("charge.dispute.closed", closed)).get_json()["outcome"] == (
        "dispute closed: won")
    back = order_balances(session, checkout.id)
    assert back[AccountKind.SELLER_HELD] == 0 and back[AccountKind.SELLER_PENDING] == net
    again = post_event(client, event_payload("charge.dispute.closed", closed)).get_json()
    assert again["outcome"] == f"ignored: dispute {dispute['id']} is not the order's open dispute"
    assert kinds(session, checkout.id) == [TransactionKind.SALE, TransactionKind.DISPUTE_HOLD,
                                           TransactionKind.DISPUTE_WON]


def test_a_lost_dispute_reverses_the_sale(client, session, checkout, sold, stripe_stub):  # noqa: F811
    dispute = stripe_stub.open_dispute(sold["payment_intent"])
    post_event(client, event_payload("charge.dispute.created", dispute))
    closed = stripe_stub.close_dispute(dispute["id"], "lost")
    assert post_event(client, event_payload("charge.dispute.closed", closed)).get_json()["outcome"] == (
        "dispute closed: lost")
    assert set(order_balances(session, checkout.id).values()) == {0}
    order = fresh(session, checkout)  # the bank gave the money back: the order is refunded, its licence revoked
    assert order.status == OrderStatus.REFUNDED and order.licence.status == LicenceStatus.REVOKED
    assert order.licence.status_reason == "The buyer's bank decided the payment's dispute for the buyer."
    assert session.scalar(select(func.count(LedgerTransaction.id))
                          .where(LedgerTransaction.kind == TransactionKind.DISPUTE_LOST)) == 1
    assert unbalanced_transactions(session) == []
