"""The order and licence lifecycle tables, written out here independently of the code: every state x action x
actor."""
from __future__ import annotations

import itertools

import pytest

from marketplace.licensing.states import LICENCE_LIFECYCLE, LicenceAction, LicenceActor, LicenceStatus
from marketplace.orders.states import ORDER_LIFECYCLE, OrderAction, OrderActor, OrderStatus
from tests.support.lifecycle import check_move

O, A, L = OrderStatus, OrderAction, LicenceStatus
BUYER, SELLER, ADMIN, SYSTEM = OrderActor.BUYER, OrderActor.SELLER, OrderActor.ADMIN, OrderActor.SYSTEM

# (state, action) -> (next state, the actors allowed). Everything not here is a 409.
EXPECTED_ORDER = {
    (O.REQUESTED, A.AWAIT_APPROVAL): (O.AWAITING_APPROVAL, {SYSTEM}),
    (O.REQUESTED, A.AWAIT_PAYMENT): (O.AWAITING_PAYMENT, {SYSTEM}),
    (O.REQUESTED, A.FULFIL): (O.FULFILLED, {SYSTEM}),
    (O.AWAITING_APPROVAL, A.APPROVE): (O.APPROVED, {SELLER}),
    (O.AWAITING_APPROVAL, A.DECLINE): (O.DECLINED, {SELLER}),
    (O.AWAITING_APPROVAL, A.CANCEL): (O.CANCELLED, {BUYER}),
    # a free trade waiting for its cross-boundary evidence
    (O.REQUESTED, A.CANCEL): (O.CANCELLED, {BUYER}),
    (O.APPROVED, A.CANCEL): (O.CANCELLED, {BUYER}),
    # ... which the seller may decline and which expires at its evidence deadline (a paid one waits in awaiting
    # payment; ``decline_order`` checks that evidence is awaited)
    (O.REQUESTED, A.DECLINE): (O.DECLINED, {SELLER}),
    (O.APPROVED, A.DECLINE): (O.DECLINED, {SELLER}),
    (O.AWAITING_PAYMENT, A.DECLINE): (O.DECLINED, {SELLER}),
    (O.REQUESTED, A.EXPIRE): (O.EXPIRED, {SYSTEM}),
    (O.APPROVED, A.EXPIRE): (O.EXPIRED, {SYSTEM}),
    (O.AWAITING_APPROVAL, A.EXPIRE): (O.EXPIRED, {SYSTEM}),
    (O.APPROVED, A.AWAIT_PAYMENT): (O.AWAITING_PAYMENT, {SYSTEM}),
    (O.APPROVED, A.FULFIL): (O.FULFILLED, {SYSTEM}),
    (O.AWAITING_PAYMENT, A.PAY): (O.PAID, {SYSTEM}),
    (O.AWAITING_PAYMENT, A.CANCEL): (O.CANCELLED, {BUYER, SYSTEM}),
    (O.AWAITING_PAYMENT, A.EXPIRE): (O.EXPIRED, {SYSTEM}),
    (O.PAID, A.FULFIL): (O.FULFILLED, {SYSTEM}),
    (O.FULFILLED, A.REFUND): (O.REFUNDED, {SELLER, ADMIN, SYSTEM}),  # SYSTEM: refunded at the provider
}
EXPECTED_LICENCE = {
    (L.ACTIVE, LicenceAction.EXPIRE): (L.EXPIRED, {LicenceActor.SYSTEM}),
    (L.ACTIVE, LicenceAction.REVOKE): (L.REVOKED, {LicenceActor.SYSTEM}),
}


@pytest.mark.parametrize(("state", "action", "actor"), list(itertools.product(OrderStatus, OrderAction, OrderActor)))
def test_order_moves(state, action, actor):
    check_move(ORDER_LIFECYCLE, EXPECTED_ORDER, state, action, actor)


@pytest.mark.parametrize(("state", "action", "actor"),
                         list(itertools.product(LicenceStatus, LicenceAction, LicenceActor)))
def test_licence_moves(state, action, actor):
    check_move(LICENCE_LIFECYCLE, EXPECTED_LICENCE, state, action, actor)


def test_final_states_have_no_way_out():
    finals = {O.DECLINED, O.CANCELLED, O.EXPIRED, O.REFUNDED}
    assert not [key for key in ORDER_LIFECYCLE.table if key[0] in finals]
