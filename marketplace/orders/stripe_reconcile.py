"""``flask payouts reconcile``: the ledger against Stripe's balance transactions, every difference listed.

Stripe's side is its balance transactions (the platform's, and each seller's connected account's), the ledger's
is what it wrote for each order paid through Stripe and each payout. Compared, per payment:

- the money Stripe kept of it (the charge, less refunds and a lost dispute's withdrawal) against the provider cash
  the ledger kept of the order;
- for a destination charge, what went to the seller's account (the transfer, less its reversals) against the
  seller's share the ledger still owes or paid for the order;

and per payout, the amount Stripe paid out of the seller's account against the payout the marketplace recorded.
A payment or a payout on one side only is a difference too. Stripe's own processing fees are not in the ledger
(the platform bears them) and are not compared.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import order_balances
from marketplace.orders.models import Order
from marketplace.orders.money import seller_share
from marketplace.payments.stripe_connect import BalanceTransaction, StripeConnect
from marketplace.payments.stripe_provider import PROVIDER
from marketplace.payouts.models import Payout, PayoutAccount

KEPT_TYPES = frozenset({"charge", "payment", "refund", "payment_refund", "adjustment", "payment_failure_refund"})
TRANSFER_TYPES = frozenset({"transfer", "transfer_refund", "transfer_cancel", "transfer_failure"})
PAYOUT_TYPES = frozenset({"payout", "payout_cancel", "payout_failure"})


@dataclass(frozen=True)
class Difference:
    what: str        # "payment", "transfer", "payout"
    reference: str   # the payment intent, order number or payout
    ledger: int | None
    stripe: int | None
    currency: str
    note: str

    def line(self) -> str:
        def shown(value: int | None) -> str:
            return "-" if value is None else str(value)
        return "\t".join([self.what, self.reference, shown(self.ledger), shown(self.stripe), self.currency,
                          self.note])


def reconcile(session: Session, connect: StripeConnect, since: datetime) -> list[Difference]:
    """Every difference between the ledger and Stripe for payments and payouts since ``since``."""
    platform = list(connect.balance_transactions(since=since))
    orders = list(session.scalars(select(Order).where(Order.payment_provider == PROVIDER, Order.paid_at >= since,
                                                      Order.amount > 0).order_by(Order.id)))
    return [*_payments(session, platform, orders), *_transfers(session, platform, orders),
            *_payouts(session, connect, since)]


def _payments(session: Session, platform: list[BalanceTransaction], orders: list[Order]) -> list[Difference]:
    kept: dict[str, int] = defaultdict(int)
    currency_of: dict[str, str] = {}
    for txn in platform:
        if txn.type in KEPT_TYPES and txn.payment_intent:
            kept[txn.payment_intent] += txn.amount
            currency_of[txn.payment_intent] = txn.currency
    differences = []
    for order in orders:
        ledger = order_balances(session, order.id).get(AccountKind.PROVIDER_CASH, 0)
        intent = order.payment_intent or order.number
        stripe = kept.pop(intent, None)
        if stripe is None:
            differences.append(Difference("payment", intent, ledger, None, str(order.currency),
                                          f"{order.number} is in the ledger, Stripe shows no charge"))
        elif stripe != ledger:
            differences.append(Difference("payment", intent, ledger, stripe, str(order.currency),
                                          f"{order.number}: Stripe kept {stripe}, the ledger {ledger}"))
    for intent, stripe in sorted(kept.items()):
        differences.append(Difference("payment", intent, None, stripe, currency_of[intent],
                                      "Stripe shows this payment, the ledger has no order paid with it"))
    return differences


def _transfers(session: Session, platform: list[BalanceTransaction], orders: list[Order]) -> list[Difference]:
    """Destination charges: the seller's share sent to their account, against the ledger's share for the order
    (what it still owes, in every seller account, and what it paid out is not per order: owed + paid is the
    order's net, which is what the transfer less reversals should be)."""
    sent: dict[str, int] = defaultdict(int)
    group_of = {txn.source: txn.transfer_group for txn in platform if txn.type == "transfer" and txn.source}
    for txn in platform:
        group = txn.transfer_group or group_of.get(txn.transfer)  # a reversal names its transfer, not the group
        if txn.type in TRANSFER_TYPES and group:
            sent[group] -= txn.amount  # a transfer is negative on the platform's balance, its reversal positive
    differences = []
    for order in orders:
        if not order.transfer_destination:
            continue
        share = seller_share(session, order)
        stripe = sent.pop(order.number, None)
        if stripe != share:
            differences.append(Difference("transfer", order.number, share, stripe, str(order.currency),
                                          f"seller's share sent to {order.transfer_destination}"))
    return differences


def _payouts(session: Session, connect: StripeConnect, since: datetime) -> list[Difference]:
    ours = {p.provider_reference: p for p in session.scalars(
        select(Payout).where(Payout.provider == PROVIDER, Payout.created_at >= since))}
    differences = []
    for account in session.scalars(select(PayoutAccount).where(PayoutAccount.provider == PROVIDER)
                                   .order_by(PayoutAccount.id)):
        for txn in connect.balance_transactions(account_id=account.account_id, since=since):
            if txn.type != "payout" or not txn.source:
                continue
            payout = ours.pop(txn.source, None)
            if payout is None:
                differences.append(Difference("payout", txn.source, None, -txn.amount, txn.currency,
                                              f"paid out of {account.account_id}, not by the marketplace"))
            elif payout.amount != -txn.amount or payout.currency != txn.currency:
                differences.append(Difference("payout", payout.number, payout.amount, -txn.amount, txn.currency,
                                              f"Stripe payout {txn.source}"))
    for reference, payout in sorted(ours.items(), key=lambda item: item[1].id):
        differences.append(Difference("payout", payout.number, payout.amount, None, payout.currency,
                                      f"recorded as Stripe payout {reference or 'none'}, Stripe shows none"))
    return differences
