"""The edges of a trade's evidence: past its deadline nothing carries the trade on, even before the expiry job runs
(submitting, confirming, paying are each refused with 409); a reviewer decides evidence through the API as on the
pages; the evidence lifecycle's refusals read as plain sentences; a closed order shows no evidence to do."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.crossborder.states import EvidenceStatus
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.payments.simulated import SimulatedPayments
from tests import factories
from tests.crossborder.conftest import with_profile
from tests.crossborder.test_trades import _request, make_buyer


@pytest.fixture
def waiting(session, plans, shanghai_product):
    """A paid trade needing a standard contract, its evidence not given yet."""
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    return _request(session, make_buyer(session), plans["Paid research"])


def _past_deadline(session, order):
    """The evidence deadline passed a second ago (the order waited for it until then); the job has not run."""
    order.deadline = orders.position_of(session, order).evidence_due = utcnow() - timedelta(seconds=1)
    session.commit()


def test_evidence_is_not_submitted_after_its_deadline_though_the_order_is_not_expired_yet(session, waiting):
    _past_deadline(session, waiting)
    with pytest.raises(Conflict) as refused:
        orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9")
    assert refused.value.status == 409 and "evidence deadline" in refused.value.message
    session.rollback()
    assert orders.position_of(session, waiting).evidence_status == EvidenceStatus.NEEDED
    assert orders.evidence_moves(waiting, "buyer", "seller", "reviewer") == []
    assert orders.expire_orders(session, utcnow()) == [waiting]  # the job still expires it


def test_evidence_is_not_confirmed_after_its_deadline(session, waiting, seller):
    orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9")
    session.commit()
    _past_deadline(session, waiting)
    with pytest.raises(Conflict) as refused:
        orders.decide_evidence(session, seller, waiting, "confirm")
    assert "evidence deadline" in refused.value.message
    session.rollback()
    assert orders.position_of(session, waiting).evidence_status == EvidenceStatus.SUBMITTED


def test_a_trade_is_not_paid_after_its_evidence_deadline(session, waiting):
    _past_deadline(session, waiting)
    with pytest.raises(Conflict) as refused:
        orders.start_checkout(session, waiting.buyer, waiting, SimulatedPayments(), success_url="/", cancel_url="/")
    assert "evidence deadline" in refused.value.message
    session.rollback()
    assert waiting.status == OrderStatus.AWAITING_PAYMENT and waiting.payment_attempts == 0


def test_the_api_answers_409_past_the_evidence_deadline(session, client, waiting):
    api = factories.TokenClient(client, factories.api_token(session, waiting.buyer))
    _past_deadline(session, waiting)
    late = api.post(f"/api/v1/orders/{waiting.id}/cross-boundary/evidence", json={"filing_number": "SC-1"})
    assert late.status_code == 409 and "evidence deadline" in late.json["message"]


def test_a_reviewer_decides_the_evidence_through_the_api(session, client, waiting, reviewer):
    orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9")
    session.commit()
    api = factories.TokenClient(client, factories.api_token(session, reviewer))
    session.commit()
    read = api.get(f"/api/v1/orders/{waiting.id}")
    assert read.status_code == 200 and read.json["cross_boundary"]["evidence_status"] == "submitted"
    decided = api.post(f"/api/v1/orders/{waiting.id}/cross-boundary/decision", json={"decision": "confirm"})
    assert decided.status_code == 200 and decided.json["evidence_status"] == "confirmed"
    assert api.post(f"/api/v1/orders/{waiting.id}/cancel").status_code == 404  # reading is all the reviewer does
    assert api.post(f"/api/v1/orders/{waiting.id}/cross-boundary/evidence",
                    json={"filing_number": "SC-2"}).status_code == 404


def test_evidence_refusals_say_what_happened_in_plain_words(session, waiting, seller):
    with pytest.raises(InvalidTransition) as early:
        orders.decide_evidence(session, seller, waiting, "confirm")
    assert early.value.message == "No evidence was submitted yet, so there is none to decide."
    session.rollback()
    orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9")
    session.commit()
    with pytest.raises(InvalidTransition) as again:
        orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-10")
    assert again.value.message == ("The evidence was already submitted and waits for the seller's or a reviewer's "
                                   "decision.")


def test_a_declined_order_shows_no_evidence_to_give(session, client, auth, waiting, seller):
    orders.decline_order(session, seller, waiting, "We cannot sign a standard contract for this use.")
    session.commit()
    auth.login(waiting.buyer.email)
    page = client.get(f"/orders/{waiting.id}").get_data(as_text=True)
    assert "No longer needed: the order is closed." in page
    assert "badge-needed" not in page and "Send the evidence" not in page
    session.expire_all()
    assert session.get(Order, waiting.id).status == OrderStatus.DECLINED


def test_the_api_says_whether_evidence_is_still_awaited(session, client, waiting, seller):
    """``evidence_status`` keeps the evidence's own state; ``evidence_awaited`` says whether the trade still waits
    for it: not once the deadline passed, nor once the order is closed."""
    api = factories.TokenClient(client, factories.api_token(session, waiting.buyer))
    assert api.get(f"/api/v1/orders/{waiting.id}").json["evidence_awaited"] is True
    _past_deadline(session, waiting)
    late = api.get(f"/api/v1/orders/{waiting.id}").json
    assert late["evidence_awaited"] is False and late["cross_boundary"]["evidence_status"] == "needed"
    order = session.get(Order, waiting.id)
    order.deadline = orders.position_of(session, order).evidence_due = utcnow() + timedelta(days=1)
    session.commit()
    orders.decline_order(session, seller, order, "We cannot sign a standard contract for this use.")
    session.commit()
    assert api.get(f"/api/v1/orders/{waiting.id}").json["evidence_awaited"] is False
