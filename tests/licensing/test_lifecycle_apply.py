"""``Lifecycle.apply``, the one locked transition: it re-reads the row under its lock, refuses what the table refuses
(409) or the actor may not do (403) without changing or recording anything, runs the service's check before any
change, stamps the subject's time columns and writes one audit event with from, to, the facts and the payload."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from marketplace.audit.models import AuditEvent
from marketplace.errors import Conflict, Forbidden, InvalidTransition
from marketplace.licensing.models import Licence
from marketplace.licensing.states import (
    LICENCE_LIFECYCLE,
    LicenceAction,
    LicenceActor,
    LicenceStatus,
)
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import (
    ORDER_LIFECYCLE,
    OrderAction,
    OrderActor,
    OrderStatus,
)
from tests.licensing.conftest import SCENARIO


@pytest.fixture
def waiting(session, buyer, buyer_org, plans) -> Order:
    """An order for a plan that needs the seller's approval, waiting for them."""
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["By approval"].id, organization_id=buyer_org.id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    session.commit()
    assert order.status == OrderStatus.AWAITING_APPROVAL
    return order


def _events(session, order: Order, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "order", AuditEvent.subject_id == order.id, AuditEvent.action == action)))


def _event_count(session) -> int:
    return session.scalar(select(func.count(AuditEvent.id)))


def test_a_move_sets_the_state_stamps_the_decision_and_writes_one_event(session, seller, waiting):
    moved = ORDER_LIFECYCLE.apply(session, waiting, OrderAction.DECLINE, OrderActor.SELLER, user=seller,
                                  payload={"message": "Not this year."})
    assert waiting.status == moved.state == OrderStatus.DECLINED and moved.previous == OrderStatus.AWAITING_APPROVAL
    assert waiting.decided_at == waiting.closed_at == moved.at  # a decline decides and closes
    [event] = _events(session, waiting, "order.decline")
    assert event is moved.event and event.actor_id == seller.id
    assert event.payload == {"product_id": waiting.product_id, "plan_id": waiting.plan_id,
                             "from": "awaiting_approval", "to": "declined", "message": "Not this year."}


def test_an_approval_stamps_the_decision_but_does_not_close_the_order(session, seller, waiting):
    ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.SELLER, user=seller)
    assert waiting.decided_at is not None and waiting.closed_at is None


def test_the_table_refuses_with_409_and_nothing_changes_or_is_recorded(session, seller, waiting):
    before = _event_count(session)
    with pytest.raises(InvalidTransition) as err:
        ORDER_LIFECYCLE.apply(session, waiting, OrderAction.REFUND, OrderActor.SELLER, user=seller)
    assert err.value.status == 409 and "awaiting approval" in err.value.message
    assert waiting.status == OrderStatus.AWAITING_APPROVAL and waiting.closed_at is None
    assert _event_count(session) == before


def test_an_actor_the_table_does_not_name_is_forbidden_and_nothing_changes(session, buyer, waiting):
    before = _event_count(session)
    with pytest.raises(Forbidden) as err:
        ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.BUYER, user=buyer)
    assert err.value.status == 403 and "seller" in err.value.message
    assert waiting.status == OrderStatus.AWAITING_APPROVAL and waiting.decided_at is None
    assert _event_count(session) == before


def test_the_state_is_read_again_under_the_lock_not_taken_from_the_copy_in_memory(session, seller, waiting):
    # A concurrent decline committed after this copy was read: the copy still says "awaiting approval".
    session.execute(update(Order).where(Order.id == waiting.id).values(status=OrderStatus.DECLINED)
                    .execution_options(synchronize_session=False))
    assert waiting.status == OrderStatus.AWAITING_APPROVAL
    with pytest.raises(InvalidTransition, match="declined"):
        ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.SELLER, user=seller)
    assert waiting.status == OrderStatus.DECLINED and not _events(session, waiting, "order.approve")


def test_the_check_runs_under_the_lock_after_the_table_and_may_refuse_or_add_to_the_event(session, seller, waiting):
    seen = []

    def sold_out(state):
        seen.append(state)
        raise Conflict("Sold out.")

    with pytest.raises(Conflict):
        ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.SELLER, user=seller, check=sold_out)
    assert seen == [OrderStatus.AWAITING_APPROVAL] and waiting.status == OrderStatus.AWAITING_APPROVAL
    assert not _events(session, waiting, "order.approve")

    with pytest.raises(InvalidTransition):  # refused by the table: the check (a provider call, say) never runs
        ORDER_LIFECYCLE.apply(session, waiting, OrderAction.REFUND, OrderActor.SELLER, check=seen.append)
    assert len(seen) == 1

    moved = ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.SELLER, user=seller,
                                  check=lambda state: {"licences_left": 3})
    assert moved.event.payload["licences_left"] == 3


def test_changes_not_yet_flushed_survive_the_read_under_the_lock(session, seller, waiting):
    waiting.decision_message = "Written before the move."
    ORDER_LIFECYCLE.apply(session, waiting, OrderAction.APPROVE, OrderActor.SELLER, user=seller)
    session.commit()
    session.expire_all()
    assert waiting.decision_message == "Written before the move." and waiting.status == OrderStatus.APPROVED


def test_a_licence_move_stamps_when_its_status_changed_and_names_its_serial(session, buyer, buyer_org, plans):
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plans["Open research"].id, organization_id=buyer_org.id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    licence = session.scalar(select(Licence).where(Licence.order_id == order.id))
    moved = LICENCE_LIFECYCLE.apply(session, licence, LicenceAction.REVOKE, LicenceActor.SYSTEM,
                                    payload={"reason": "Test."})
    assert licence.status == LicenceStatus.REVOKED and licence.status_changed_at == moved.at
    assert moved.event.action == "licence.revoke" and moved.event.actor_id is None
    assert moved.event.payload == {"serial": licence.serial, "from": "active", "to": "revoked", "reason": "Test."}
    with pytest.raises(InvalidTransition):
        LICENCE_LIFECYCLE.apply(session, licence, LicenceAction.EXPIRE, LicenceActor.SYSTEM)


def test_taking_the_lock_changes_nothing_in_the_row(session, waiting):
    session.expire_all()
    before = {c.key: getattr(waiting, c.key) for c in Order.__table__.columns}
    assert ORDER_LIFECYCLE.lock(session, waiting) == OrderStatus.AWAITING_APPROVAL
    session.expire_all()
    assert {c.key: getattr(waiting, c.key) for c in Order.__table__.columns} == before
