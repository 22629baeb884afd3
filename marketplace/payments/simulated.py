"""The embedded payment provider: a checkout page in the app where the buyer pays with a test card or cancels.

Card numbers behave like Stripe's test cards (https://docs.stripe.com/testing): 4242 4242 4242 4242 pays, the
decline numbers below fail with the same reasons. Nothing leaves the machine and no card data is stored.
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _

from marketplace.i18n import N_
from marketplace.payments.interface import (
    Checkout,
    CheckoutState,
    Destination,
    PaymentError,
    PaymentOutcome,
)

SUCCESS_CARDS = frozenset({"4242424242424242", "4000056655665556", "5555555555554444"})
# Card number -> (decline code, message), as Stripe's test cards fail.
DECLINED_CARDS = {
    "4000000000000002": ("card_declined", N_("Your card was declined.")),
    "4000000000009995": ("insufficient_funds", N_("Your card has insufficient funds.")),
    "4000000000009987": ("lost_card", N_("Your card was declined.")),
    "4000000000009979": ("stolen_card", N_("Your card was declined.")),
    "4000000000000069": ("expired_card", N_("Your card has expired.")),
    "4000000000000127": ("incorrect_cvc", N_("Your card's security code is incorrect.")),
    "4000000000000119": ("processing_error", N_("An error occurred while processing your card. Try again.")),
    "4242424242424241": ("incorrect_number", N_("Your card number is incorrect.")),
}


def charge_test_card(card_number: str) -> str:
    """The payment reference of a successful charge, or PaymentError with the card's decline reason."""
    digits = "".join(ch for ch in str(card_number or "") if ch.isdigit())
    if digits in SUCCESS_CARDS:
        return f"sim_pay_{secrets.token_hex(8)}"
    code, reason = DECLINED_CARDS.get(digits, DECLINED_CARDS["4242424242424241"])
    message = _(reason)  # in the language of the request at hand; the order records the English
    raise PaymentError(message, {"card_number": [message], "decline_code": [code]}, recorded=reason)


class SimulatedPayments:
    """Checkout is our own page (``/orders/<id>/checkout``); paying there confirms the order at once."""

    name = "simulated"
    checkout_path = "/orders/{order_id}/checkout"

    def start_checkout(self, order, *, success_url: str, cancel_url: str, idempotency_key: str,
                       destination: Destination | None = None) -> Checkout:
        # Simulated payments pay the platform; sellers are paid by the simulated payout run.
        return Checkout(reference=f"sim_cs_{order.id}_{secrets.token_hex(6)}",
                        redirect_url=self.checkout_path.format(order_id=order.id))

    def checkout_state(self, order) -> CheckoutState:
        # Payment happens in-app and confirms the order in the same request: an unpaid order is simply open.
        return CheckoutState(PaymentOutcome.OPEN)

    def refund(self, order, *, idempotency_key: str) -> str:
        return f"sim_re_{secrets.token_hex(8)}"

    def refund_payment(self, payment_reference: str, *, idempotency_key: str, metadata: dict[str, str]) -> str:
        return f"sim_re_{secrets.token_hex(8)}"

    def cancel_checkout(self, order) -> None:
        # The checkout page refuses any order that is no longer awaiting payment: nothing to close.
        return None
