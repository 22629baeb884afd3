"""Stripe Connect through the official SDK: sellers' connected accounts (Express, onboarded through an account
link), money moved to them (transfers), payouts from them to their banks, and balance transactions to reconcile.

Sellers are paid by destination charges (``StripePayments.start_checkout`` with a ``Destination``): the buyer's
payment goes to the seller's connected account less the platform's application fee. Accounts are opened with a
manual payout schedule, so the money stays there until the marketplace's payout run pays out what its ledger says
is available (after the settlement delay, never money held for a dispute). Calls on a connected account carry its
id (the ``Stripe-Account`` header). This module knows accounts, amounts and references, never organizations.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from flask_babel import gettext as _

from marketplace.payments.interface import PaymentError
from marketplace.payments.stripe_provider import PROVIDER, payment_error


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: Any) -> int | None:
    return value if type(value) is int else None


def _moment(value: Any) -> datetime | None:
    seconds = _integer(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None and seconds >= 0 else None


def _id(value: Any) -> str | None:
    return _text(value.get("id")) if isinstance(value, Mapping) else _text(value)


@dataclass(frozen=True)
class ConnectedAccount:
    """What Stripe says of a connected account: whether it can take charges and be paid out, and what it needs."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: tuple[str, ...]
    disabled_reason: str | None


@dataclass(frozen=True)
class PayoutSnapshot:
    """A payout on a connected account (``payout.*``): its id, money, status and why it failed."""

    id: str
    amount: int | None
    currency: str | None
    status: str | None          # pending | in_transit | paid | failed | canceled
    arrival_at: datetime | None
    failure_code: str | None
    failure_message: str | None
    payout_key: str | None      # metadata["payout_key"]: ours, when the marketplace asked for it


@dataclass(frozen=True)
class TransferSnapshot:
    """A transfer to a connected account (``transfer.*``): a destination charge's, or one a payout needed."""

    id: str
    amount: int | None
    amount_reversed: int | None
    currency: str | None
    destination: str | None
    transfer_group: str | None
    reversed: bool


@dataclass(frozen=True)
class BalanceTransaction:
    """One movement of a Stripe balance: its type, gross amount, Stripe's fee, and what it is about (the charge,
    refund, transfer or payout, and the payment intent behind a charge or refund)."""

    id: str
    type: str
    amount: int
    fee: int
    currency: str
    source: str | None
    payment_intent: str | None
    transfer_group: str | None
    transfer: str | None        # the transfer a reversal reverses
    created: datetime | None


def account_snapshot(obj: Mapping[str, Any]) -> ConnectedAccount:
    requirements = obj.get("requirements") if isinstance(obj.get("requirements"), Mapping) else {}
    due = requirements.get("currently_due") if isinstance(requirements.get("currently_due"), list) else []
    return ConnectedAccount(
        id=_text(obj.get("id")) or "", charges_enabled=obj.get("charges_enabled") is True,
        payouts_enabled=obj.get("payouts_enabled") is True, details_submitted=obj.get("details_submitted") is True,
        requirements_due=tuple(str(item)[:100] for item in due[:50] if isinstance(item, str)),
        disabled_reason=(_text(requirements.get("disabled_reason")) or "")[:200] or None,
    )


def payout_snapshot(obj: Mapping[str, Any]) -> PayoutSnapshot:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    currency = _text(obj.get("currency"))
    return PayoutSnapshot(
        id=_text(obj.get("id")) or "", amount=_integer(obj.get("amount")),
        currency=currency.upper() if currency else None, status=_text(obj.get("status")),
        arrival_at=_moment(obj.get("arrival_date")), failure_code=_text(obj.get("failure_code")),
        failure_message=_text(obj.get("failure_message")), payout_key=_text(metadata.get("payout_key")),
    )


def transfer_snapshot(obj: Mapping[str, Any]) -> TransferSnapshot:
    currency = _text(obj.get("currency"))
    return TransferSnapshot(
        id=_text(obj.get("id")) or "", amount=_integer(obj.get("amount")),
        amount_reversed=_integer(obj.get("amount_reversed")), currency=currency.upper() if currency else None,
        destination=_id(obj.get("destination")), transfer_group=_text(obj.get("transfer_group")),
        reversed=obj.get("reversed") is True,
    )


def balance_transaction(obj: Mapping[str, Any]) -> BalanceTransaction:
    source = obj.get("source")
    details = source if isinstance(source, Mapping) else {}
    currency = _text(obj.get("currency")) or ""
    return BalanceTransaction(
        id=_text(obj.get("id")) or "", type=_text(obj.get("type")) or "", amount=_integer(obj.get("amount")) or 0,
        fee=_integer(obj.get("fee")) or 0, currency=currency.upper(), source=_id(source),
        payment_intent=_id(details.get("payment_intent")), transfer_group=_text(details.get("transfer_group")),
        transfer=_id(details.get("transfer")), created=_moment(obj.get("created")),
    )


class InsufficientBalance(PaymentError):
    """The connected account has less available than the payout asks for."""


class StripeConnect:
    """Connected accounts, transfers, payouts and balance transactions through the Stripe client of
    ``StripePayments``. Every failure is a PaymentError (PaymentUnavailable for an outage)."""

    name = PROVIDER

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def open_account(self, *, email: str | None, country: str, metadata: dict[str, str],
                     idempotency_key: str) -> ConnectedAccount:
        """Open an Express account whose payouts the platform makes (manual schedule)."""
        params: dict[str, Any] = {
            "type": "express", "country": country, "metadata": metadata,
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "settings": {"payouts": {"schedule": {"interval": "manual"}}},
        }
        if email:
            params["email"] = email
        return self._call(_("opening a Stripe account for payouts"), lambda: account_snapshot(
            self.client.v1.accounts.create(params, options={"idempotency_key": idempotency_key}).to_dict()))

    def account(self, account_id: str) -> ConnectedAccount:
        return self._call(_("reading Stripe account %(account)s", account=account_id),
                          lambda: account_snapshot(self.client.v1.accounts.retrieve(account_id).to_dict()))

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """Where the seller fills in Stripe's onboarding form (a link valid for minutes, used once)."""
        link = self._call(_("opening Stripe's onboarding for %(account)s", account=account_id),
                          lambda: self.client.v1.account_links.create({
                              "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                              "type": "account_onboarding"}))
        return link.url

    def available(self, account_id: str, currency: str) -> int:
        """The connected account's available balance in ``currency`` (0 if it has none)."""
        balance = self._call(_("reading the balance of %(account)s", account=account_id),
                             lambda: self.client.v1.balance.retrieve(options={"stripe_account": account_id}))
        wanted = currency.lower()
        return sum(int(item.get("amount") or 0) for item in balance.to_dict().get("available") or []
                   if str(item.get("currency", "")).lower() == wanted)

    def transfer(self, account_id: str, amount: int, currency: str, *, group: str,
                 idempotency_key: str) -> str | None:
        """Move ``amount`` of the platform's balance to the connected account; the transfer's id. None if a transfer
        was made under this key before for another amount (a run repeated after its commit was lost, when the
        account's balance has changed since): that transfer stands, and nothing is moved twice."""
        try:
            transfer = self.client.v1.transfers.create(
                {"amount": amount, "currency": currency.lower(), "destination": account_id, "transfer_group": group,
                 "metadata": {"payout_key": group}}, options={"idempotency_key": idempotency_key})
        except stripe.IdempotencyError:
            return None
        except stripe.StripeError as exc:
            raise payment_error(exc, _("moving money to %(account)s", account=account_id)) from exc
        return transfer.id

    def take_back(self, charge_id: str, *, keep: int, idempotency_key: str) -> str | None:
        """Reverse a destination charge's transfer down to ``keep`` (the seller's share the ledger still gives them:
        0 after a lost dispute, less after a refund made in the Dashboard without reversing the transfer); the
        reversal's id, None if the transfer already leaves them no more than that."""
        charge = self._call(_("reading charge %(charge)s", charge=charge_id),
                            lambda: self.client.v1.charges.retrieve(charge_id))
        transfer_id = _id(charge.to_dict().get("transfer"))
        if transfer_id is None:
            return None
        transfer = self._call(_("reading transfer %(transfer)s", transfer=transfer_id),
                              lambda: self.client.v1.transfers.retrieve(transfer_id))
        excess = transfer.amount - transfer.amount_reversed - max(keep, 0)
        if excess <= 0:
            return None
        reversal = self._call(_("taking back transfer %(transfer)s", transfer=transfer_id),
                              lambda: self.client.v1.transfers.reversals.create(
                                  transfer_id, {"amount": excess, "metadata": {"charge": charge_id}},
                                  options={"idempotency_key": idempotency_key}))
        return reversal.id

    def payout(self, account_id: str, amount: int, currency: str, *, key: str, description: str) -> PayoutSnapshot:
        """Pay ``amount`` out of the connected account to the seller's bank (the same key gives the same payout).
        InsufficientBalance when the account has less than that available."""
        try:
            payout = self.client.v1.payouts.create(
                {"amount": amount, "currency": currency.lower(), "description": description[:200],
                 "metadata": {"payout_key": key}}, options={"idempotency_key": key, "stripe_account": account_id})
        except stripe.InvalidRequestError as exc:
            if exc.code == "balance_insufficient":
                raise InsufficientBalance(exc.user_message or "insufficient funds") from exc
            raise payment_error(exc, _("paying out to %(account)s", account=account_id)) from exc
        except stripe.StripeError as exc:
            raise payment_error(exc, _("paying out to %(account)s", account=account_id)) from exc
        return payout_snapshot(payout.to_dict())

    def balance_transactions(self, *, account_id: str | None = None,
                             since: datetime | None = None) -> Iterator[BalanceTransaction]:
        """Every balance transaction of the platform (or of a connected account) since ``since``, newest first,
        with its source expanded (to name the payment intent behind a charge or refund)."""
        params: dict[str, Any] = {"limit": 100, "expand": ["data.source"]}
        if since is not None:
            params["created"] = {"gte": int(since.timestamp())}
        options = {"stripe_account": account_id} if account_id else {}
        page = self._call(_("listing Stripe's balance transactions"),
                          lambda: self.client.v1.balance_transactions.list(params, options=options))
        try:
            for item in page.auto_paging_iter():
                yield balance_transaction(item.to_dict())
        except stripe.StripeError as exc:
            raise payment_error(exc, _("listing Stripe's balance transactions")) from exc

    @staticmethod
    def _call(doing: str, call):
        try:
            return call()
        except stripe.StripeError as exc:
            raise payment_error(exc, doing) from exc


def connect_of(payments) -> StripeConnect | None:
    """Stripe Connect when payments go through Stripe; None for the simulated provider (payouts simulated too)."""
    client = getattr(payments, "client", None)
    return StripeConnect(client) if getattr(payments, "name", None) == PROVIDER and client is not None else None

