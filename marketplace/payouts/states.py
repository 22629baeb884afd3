"""A payout's moves: in transit until the provider says it arrived or failed; one said arrived may still fail (the
bank returns it, as Stripe documents for payout.failed after payout.paid). Only the provider's word moves it."""
from __future__ import annotations

import enum

from marketplace.lifecycle import Lifecycle, Subject, move
from marketplace.payouts.models import PayoutStatus


class PayoutActor(enum.StrEnum):
    PROVIDER = "provider"  # the payment provider (or the simulated run), never a person


class PayoutAction(enum.StrEnum):
    ARRIVE = "arrive"
    FAIL = "fail"


P, PROVIDER = PayoutStatus, PayoutActor.PROVIDER
PAYOUT_LIFECYCLE: Lifecycle[PayoutStatus, PayoutAction] = Lifecycle("payout", {
    (P.IN_TRANSIT, PayoutAction.ARRIVE): move(P.PAID, PROVIDER),
    (P.IN_TRANSIT, PayoutAction.FAIL): move(P.FAILED, PROVIDER),
    (P.PAID, PayoutAction.FAIL): move(P.FAILED, PROVIDER),
}, Subject("payout", facts=lambda p: {"organization_id": p.organization_id, "amount": p.amount,
                                      "currency": p.currency}))
del P, PROVIDER
