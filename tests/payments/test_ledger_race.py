"""Stripe delivers one event several times at once, or several events saying the same thing: the ledger gets the
sale, the dispute's hold and a refund once each, on SQLite and (TEST_DB=postgresql) PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.ledger.services import unbalanced_transactions
from marketplace.licensing.certificates import check_certificate, voucher_document
from marketplace.licensing.models import Voucher
from tests.payments.test_webhook_race import RACERS, _race, shop  # noqa: F401 - the racing app and its order
from tests.support.stripe_stub import WEBHOOK_SECRET, event_payload, signed_event

pytestmark = pytest.mark.no_transaction


def _ledger(app, order_id) -> dict[TransactionKind, int]:
    with app.app_context():
        rows = db.session.execute(
            select(LedgerTransaction.kind, func.count(LedgerTransaction.id))
            .where(LedgerTransaction.order_id == order_id).group_by(LedgerTransaction.kind)).all()
        assert unbalanced_transactions(db.session) == []
        db.session.remove()
    return {TransactionKind(kind): count for kind, count in rows}


def _deliver_each(app, events: list[dict]) -> None:
    results = _race(app, [signed_event(event, WEBHOOK_SECRET) for event in events])
    assert [status for status, _ in results] == [200] * len(events), results


def test_a_payment_delivered_many_times_at_once_writes_one_sale(shop):  # noqa: F811
    app, order_id, paid = shop
    _deliver_each(app, [event_payload("checkout.session.completed", paid, event_id="evt_same")] * RACERS)
    assert _ledger(app, order_id) == {TransactionKind.SALE: 1}
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
    _deliver_each(app, [event_payload(kinds[n % 2], paid) for n in range(RACERS)])  # new ids, same payment
    assert _ledger(app, order_id) == {TransactionKind.SALE: 1}
    _one_voucher(app, order_id)


def _one_voucher(app, order_id) -> None:
    """The order has exactly one voucher, and it is the voucher on record for its signed document."""
    with app.app_context():
        vouchers = db.session.scalars(select(Voucher).where(Voucher.order_id == order_id)).all()
        assert len(vouchers) == 1
        sale = db.session.scalars(select(LedgerTransaction).where(
            LedgerTransaction.order_id == order_id, LedgerTransaction.kind == TransactionKind.SALE)).one()
        assert vouchers[0].ledger_transaction_id == sale.id
        result, record = check_certificate(db.session, json.dumps(voucher_document(vouchers[0])))
        assert result.valid and record is vouchers[0]
        db.session.remove()


def test_a_dispute_and_a_partial_refund_told_many_times_at_once_are_written_once(shop, stripe_stub):  # noqa: F811
    app, order_id, paid = shop
    _deliver_each(app, [event_payload("checkout.session.completed", paid)])
    dispute = stripe_stub.open_dispute(paid["payment_intent"])
    _deliver_each(app, [event_payload("charge.dispute.created", dispute) for _ in range(RACERS)])
    assert _ledger(app, order_id) == {TransactionKind.SALE: 1, TransactionKind.DISPUTE_HOLD: 1}
    charge = stripe_stub.dashboard_refund(paid["payment_intent"], amount=1001)
    _deliver_each(app, [event_payload("charge.refunded", charge) for _ in range(RACERS)])
    closed = stripe_stub.close_dispute(dispute["id"], "won")
    _deliver_each(app, [event_payload("charge.dispute.closed", closed) for _ in range(RACERS)])
    assert _ledger(app, order_id) == {TransactionKind.SALE: 1, TransactionKind.DISPUTE_HOLD: 1,
                                      TransactionKind.REFUND: 1, TransactionKind.DISPUTE_WON: 1}
