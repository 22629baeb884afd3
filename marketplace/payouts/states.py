"""A payout's moves: in transit until the provider says it arrived or failed; one said arrived may still fail (the
bank returns it, as Stripe documents for payout.failed after payout.paid). Only the provider's word moves it."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from marketplace.lifecycle import Lifecycle, Subject, Words, in_sentence, move
from marketplace.payouts.models import PayoutStatus


class PayoutActor(enum.StrEnum):
    PROVIDER = "provider"  # the payment provider (or the simulated run), never a person


class PayoutAction(enum.StrEnum):
    ARRIVE = "arrive"
    FAIL = "fail"


def status_words() -> dict[PayoutStatus, str]:
    """A payout's status in the reader's words."""
    return {PayoutStatus.IN_TRANSIT: pgettext("payout status", "In transit"),
            PayoutStatus.PAID: pgettext("payout status", "Paid"),
            PayoutStatus.FAILED: pgettext("payout status", "Failed")}


P, PROVIDER = PayoutStatus, PayoutActor.PROVIDER
PAYOUT_LIFECYCLE: Lifecycle[PayoutStatus, PayoutAction] = Lifecycle("payout", {
    (P.IN_TRANSIT, PayoutAction.ARRIVE): move(P.PAID, PROVIDER),
    (P.IN_TRANSIT, PayoutAction.FAIL): move(P.FAILED, PROVIDER),
    (P.PAID, PayoutAction.FAIL): move(P.FAILED, PROVIDER),
}, Subject("payout", facts=lambda p: {"organization_id": p.organization_id, "amount": p.amount,
                                      "currency": p.currency}),
    words=Words(_l("a payout"), {PayoutAction.ARRIVE: _l("mark as arrived"), PayoutAction.FAIL: _l("mark as failed")},
                {PROVIDER: _l("the payment provider")}, lambda state: in_sentence(status_words()[state])))
del P, PROVIDER
