"""The order lifecycle: the one table of allowed moves, with who may make them.

requested -> (awaiting_approval -> approved | declined) -> awaiting_payment -> paid -> fulfilled; a free plan goes
from requested or approved straight to fulfilled (it skips payment, never the scenario). A trade waiting for its
cross-boundary evidence may be declined by the seller and expires at its evidence deadline. The buyer may cancel
before paying; the system expires a request the seller never answered and an order whose payment never came; the
seller or a platform admin refunds a fulfilled order (or the system, when the payment provider reports a refund made
there or a dispute lost), which revokes its licence.
"""
from __future__ import annotations

import enum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.listings.vocab import LabelledEnum


class OrderStatus(LabelledEnum):
    REQUESTED = "requested"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    DECLINED = "declined"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {
            "requested": _("Requested"), "awaiting_approval": _("Awaiting approval"),
            "approved": pgettext("order status", "Approved"),
            "declined": _("Declined"), "awaiting_payment": _("Awaiting payment"),
            "paid": pgettext("order status", "Paid"),
            "fulfilled": _("Fulfilled"), "cancelled": _("Cancelled"), "expired": _("Expired"),
            "refunded": _("Refunded"),
        }[self.value]


class OrderActor(enum.StrEnum):
    BUYER = "buyer"    # a member of the buyer organization
    SELLER = "seller"  # a member of the seller organization
    ADMIN = "admin"    # a platform admin
    SYSTEM = "system"  # the platform itself: routing, payment confirmation, expiry


class OrderAction(enum.StrEnum):
    AWAIT_APPROVAL = "await_approval"
    APPROVE = "approve"
    DECLINE = "decline"
    AWAIT_PAYMENT = "await_payment"
    PAY = "pay"
    FULFIL = "fulfil"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REFUND = "refund"


# What the order lifecycle's refusals call its actions and actors (its states: ``OrderStatus.label``).
ORDER_ACTION_WORDS = {
    OrderAction.AWAIT_APPROVAL: _l("send for approval"), OrderAction.APPROVE: _l("approve"),
    OrderAction.DECLINE: _l("decline"), OrderAction.AWAIT_PAYMENT: _l("send for payment"),
    OrderAction.PAY: _l("pay"), OrderAction.FULFIL: _l("fulfil"), OrderAction.CANCEL: _l("cancel"),
    OrderAction.EXPIRE: _l("expire"), OrderAction.REFUND: _l("refund"),
}
ORDER_ACTOR_WORDS = {OrderActor.BUYER: _l("a buyer"), OrderActor.SELLER: _l("a seller"),
                     OrderActor.ADMIN: _l("an admin"), OrderActor.SYSTEM: _l("the platform")}

O, B, S, A, SYS = OrderStatus, OrderActor.BUYER, OrderActor.SELLER, OrderActor.ADMIN, OrderActor.SYSTEM
ORDER_LIFECYCLE: Lifecycle[OrderStatus, OrderAction] = Lifecycle("order", {
    (O.REQUESTED, OrderAction.AWAIT_APPROVAL): move(O.AWAITING_APPROVAL, SYS),
    (O.AWAITING_APPROVAL, OrderAction.APPROVE): move(O.APPROVED, S),
    (O.AWAITING_APPROVAL, OrderAction.DECLINE): move(O.DECLINED, S),
    (O.AWAITING_APPROVAL, OrderAction.EXPIRE): move(O.EXPIRED, SYS),
    (O.AWAITING_APPROVAL, OrderAction.CANCEL): move(O.CANCELLED, B),
    # A free trade waiting for its cross-boundary evidence stays requested (or approved) until it is confirmed; the
    # buyer may cancel it, the seller decline it, and it expires at its evidence deadline. A paid one waits for its
    # evidence in awaiting_payment, where the seller may decline it too (``decline_order`` checks that it waits).
    (O.REQUESTED, OrderAction.CANCEL): move(O.CANCELLED, B),
    (O.APPROVED, OrderAction.CANCEL): move(O.CANCELLED, B),
    (O.REQUESTED, OrderAction.DECLINE): move(O.DECLINED, S),
    (O.APPROVED, OrderAction.DECLINE): move(O.DECLINED, S),
    (O.AWAITING_PAYMENT, OrderAction.DECLINE): move(O.DECLINED, S),
    (O.REQUESTED, OrderAction.EXPIRE): move(O.EXPIRED, SYS),
    (O.APPROVED, OrderAction.EXPIRE): move(O.EXPIRED, SYS),
    (O.REQUESTED, OrderAction.AWAIT_PAYMENT): move(O.AWAITING_PAYMENT, SYS),
    (O.APPROVED, OrderAction.AWAIT_PAYMENT): move(O.AWAITING_PAYMENT, SYS),
    (O.AWAITING_PAYMENT, OrderAction.PAY): move(O.PAID, SYS),
    # The system cancels an assessment fee whose request was declined before it was paid.
    (O.AWAITING_PAYMENT, OrderAction.CANCEL): move(O.CANCELLED, B, SYS),
    (O.AWAITING_PAYMENT, OrderAction.EXPIRE): move(O.EXPIRED, SYS),
    (O.REQUESTED, OrderAction.FULFIL): move(O.FULFILLED, SYS),
    (O.APPROVED, OrderAction.FULFIL): move(O.FULFILLED, SYS),
    (O.PAID, OrderAction.FULFIL): move(O.FULFILLED, SYS),
    # The system refunds on the provider's word (a refund made in the provider's dashboard).
    (O.FULFILLED, OrderAction.REFUND): move(O.REFUNDED, S, A, SYS),
}, words=Words(_l("an order"), ORDER_ACTION_WORDS, ORDER_ACTOR_WORDS))
del O, B, S, A, SYS

# Orders that hold one of a capped plan's licences: sold, or on their way to being sold. A request waiting for
# the seller holds none (the seller's approval takes one); cancelled, declined, expired and refunded ones free it.
HOLDS_LICENCE = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.FULFILLED})

# Orders still in progress: the buyer may have only one of these per plan at a time.
OPEN_ORDER_STATES = frozenset({
    OrderStatus.REQUESTED, OrderStatus.AWAITING_APPROVAL, OrderStatus.APPROVED, OrderStatus.AWAITING_PAYMENT,
    OrderStatus.PAID,
})

# How an order maps onto its row and audit events: decisions stamp ``decided_at``, a move into a final state
# ``closed_at``; every event names the order's product and plan.
ORDER_LIFECYCLE.maps = Subject(
    "order",
    stamps_into={"decided_at": frozenset({OrderStatus.APPROVED, OrderStatus.DECLINED}),
                 "closed_at": frozenset({OrderStatus.DECLINED, OrderStatus.CANCELLED, OrderStatus.EXPIRED,
                                         OrderStatus.REFUNDED, OrderStatus.FULFILLED})},
    facts=lambda order: {"product_id": order.product_id, "plan_id": order.plan_id,
                         **({"assessment_id": order.assessment_id} if order.assessment_id else {})},
)
