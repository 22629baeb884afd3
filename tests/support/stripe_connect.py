"""Stripe Connect for the Stripe stub (tests/support/stripe_stub.py): connected accounts and their onboarding,
destination charges and transfers, balances and balance transactions per account, and payouts.

It answers, the way Stripe documents them, ``POST /v1/accounts``, ``GET /v1/accounts/{id}``,
``POST /v1/account_links``, ``POST /v1/transfers``, ``GET /v1/transfers/{id}``, ``GET /v1/balance``,
``GET /v1/balance_transactions[/{id}]``, ``POST /v1/payouts`` and ``GET /v1/payouts/{id}``; the last four for the
platform, or for the connected account named by the ``Stripe-Account`` header. Every money movement writes a
balance transaction on each account it touches, available at once (test mode). Tests finish a seller's onboarding
with ``onboard()`` and decide a payout with ``settle_payout()``.
"""
from __future__ import annotations

import copy
import re
import secrets
import time

from tests.support.stripe_wire import StripeStubError, bool_param, currency_param, int_param, invalid, url_param

CAPABILITIES = ("card_payments", "transfers")
ONBOARDING_DUE = ["business_profile.url", "business_type", "external_account", "representative.first_name",
                  "representative.last_name", "tos_acceptance.date", "tos_acceptance.ip"]
CURRENCIES = {"HK": "hkd", "US": "usd", "GB": "gbp", "SG": "sgd", "AU": "aud", "JP": "jpy", "CN": "cny"}
REPORTING_CATEGORY = {
    "charge": "charge", "refund": "refund", "transfer": "transfer", "payment": "charge",
    "transfer_refund": "transfer_reversal", "payment_refund": "refund", "payout": "payout",
    "payout_failure": "payout_reversal", "payout_cancel": "payout_reversal",
}
PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "no_account": "The bank account details on file are probably incorrect. No bank account could be located "
                  "with those details.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
}
NO_CAPABILITY = ("Your destination account needs to have at least one of the following capabilities enabled: "
                 "transfers, crypto_transfers, legacy_payments")


def stripe_fee(gross: int) -> int:
    """Stripe's processing fee on a card charge in the stub: 2.9% of the gross (rounded half up) plus 30."""
    return (gross * 29 + 500) // 1000 + 30


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


class ConnectStub:
    """The Connect half of ``StripeStub`` (mixed into it): its state, test controls and routes. It uses the
    stub's lock, charges, refunds and url."""

    def _init_connect(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.transfers: dict[str, dict] = {}
        self.payouts: dict[str, dict] = {}
        self.balance_transactions: dict[str, dict] = {}
        self.transfer_reversals: dict[str, dict] = {}
        self.connected_payments: dict[str, dict] = {}  # py_... and pyr_...: the money as the seller's account sees it
        self._ledgers: dict[str | None, list[str]] = {None: []}  # account (None: the platform) -> its txn ids
        self._payout_accounts: dict[str, str | None] = {}
        self._destinations: dict[str, dict] = {}  # checkout session id -> its validated payment_intent_data

    # ------------------------------------------------------------ test controls

    def onboard(self, account_id: str, *, complete: bool = True) -> dict:
        """The seller finished Stripe's onboarding form. ``complete``: everything Stripe asked for was given, so
        charges, payouts and every requested capability are enabled; otherwise details are submitted but some
        requirements stay due and the account stays disabled. The account afterwards (``account.updated``)."""
        with self._lock:
            account = self._account(account_id, "account", status=404)
            due = [] if complete else ["external_account", "representative.verification.document"]
            account.update(details_submitted=True, charges_enabled=complete, payouts_enabled=complete)
            account["capabilities"] = {name: "active" if complete else "inactive" for name in account["capabilities"]}
            account["requirements"].update(currently_due=due, eventually_due=list(due), past_due=list(due),
                                           disabled_reason=None if complete else "requirements.past_due")
            return copy.deepcopy(account)

    def settle_payout(self, payout_id: str, status: str = "paid", failure_code: str = "account_closed") -> dict:
        """The bank answered: the payout is ``paid``, ``failed`` (its money back on the account's balance) or
        ``canceled`` (likewise). The payout afterwards (``payout.paid`` / ``payout.failed`` / ``payout.canceled``)."""
        with self._lock:
            payout = self._object(self.payouts, payout_id, "payout")
            # A paid payout can still fail later (the bank returns it), as Stripe documents for payout.failed.
            if payout["status"] not in ("pending", "in_transit") and (payout["status"], status) != ("paid", "failed"):
                raise ValueError(f"payout {payout_id} is {payout['status']}, not pending")
            if status not in ("paid", "failed", "canceled"):
                raise ValueError(f"a payout settles as paid, failed or canceled, not {status}")
            payout["status"] = status
            account = self._payout_accounts[payout_id]
            if status == "failed":
                payout.update(failure_code=failure_code, failure_message=PAYOUT_FAILURES.get(
                    failure_code, "The payout failed."))
                payout["failure_balance_transaction"] = self._move(
                    account, payout["amount"], payout["currency"], "payout_failure", payout_id)
            elif status == "canceled":
                self._move(account, payout["amount"], payout["currency"], "payout_cancel", payout_id)
            return copy.deepcopy(payout)

    def balance(self, account: str | None = None, currency: str = "hkd") -> int:
        """The available balance of the platform (or of a connected account) in ``currency``."""
        with self._lock:
            return sum(txn["net"] for txn in self._ledger(account) if txn["currency"] == currency)

    def ledger(self, account: str | None = None) -> list[dict]:
        """The balance transactions of the platform (or of a connected account), newest first, as Stripe lists
        them."""
        with self._lock:
            return copy.deepcopy(list(reversed(self._ledger(account))))

    # ------------------------------------------------------------ hooks for the stub

    def _check_stripe_account(self, account: str | None) -> None:
        if account is not None and account not in self.accounts:
            key = self.api_key
            raise StripeStubError(403, "invalid_request_error",
                                  f"The provided key '{key[:8]}{'*' * 20}{key[-4:]}' does not have access to "
                                  f"account '{account}' (or that account does not exist). Application access may "
                                  "have been revoked.", "account_invalid")

    def _destination_data(self, params: dict, total: int) -> dict:
        """The Connect part of a Checkout Session's ``payment_intent_data``, validated as Stripe does."""
        data = params.get("payment_intent_data") or {}
        where = "payment_intent_data"
        destination = (data.get("transfer_data") or {}).get("destination")
        if destination is not None:
            self._destination(destination, f"{where}[transfer_data][destination]")
        fee = None
        if "application_fee_amount" in data:
            fee = int_param(data["application_fee_amount"], f"{where}[application_fee_amount]")
            if destination is None:
                raise invalid("Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                              "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
                              "(using `transfer_data[destination]`).", f"{where}[application_fee_amount]")
            if fee > total:
                raise invalid(f"The application fee ({fee}) cannot be greater than the amount of the payment "
                              f"({total}).", f"{where}[application_fee_amount]", "amount_too_large")
        return {"application_fee_amount": fee, "destination": destination,
                "transfer_group": data.get("transfer_group"), "metadata": data.get("metadata") or {}}

    def _payment_connect(self, session_id: str, intent_id: str) -> dict:
        """What a session's payment intent and charge carry of Connect; a destination charge is given a transfer
        group when the checkout named none, as Stripe does."""
        data = self._destinations[session_id]
        transfer_data = {"destination": data["destination"]} if data["destination"] else None
        return {"application_fee_amount": data["application_fee_amount"], "transfer_data": transfer_data,
                "transfer_group": data["transfer_group"] or (f"group_{intent_id}" if transfer_data else None)}

    def _collect(self, charge: dict) -> None:
        """A charge was paid: the platform's balance grows by it less Stripe's fee; a destination charge then
        transfers all but the application fee to the connected account."""
        charge["balance_transaction"] = self._move(None, charge["amount"], charge["currency"], "charge",
                                                   charge["id"], fee=stripe_fee(charge["amount"]))
        destination = charge["destination"]
        if destination is None:
            return
        transfer = self._transfer(charge["amount"] - (charge["application_fee_amount"] or 0), charge["currency"],
                                  destination, transfer_group=charge["transfer_group"], source=charge["id"])
        charge["transfer"] = transfer["id"]

    @staticmethod
    def _reverses_transfer(params: dict) -> bool:
        """A refund's Connect options, checked before anything moves: whether it reverses the transfer."""
        bool_param(params, "refund_application_fee")
        return bool_param(params, "reverse_transfer")

    def _refund_moves(self, refund: dict, charge: dict, reverse: bool) -> None:
        """A refund's money: out of the platform's balance; with ``reverse`` the seller's share of it is taken
        back from the connected account, in proportion to what was transferred."""
        refund["balance_transaction"] = self._move(None, -refund["amount"], refund["currency"], "refund",
                                                   refund["id"])
        refund["transfer_reversal"] = None
        if not (reverse and charge.get("transfer")):
            return
        transfer = self.transfers[charge["transfer"]]
        left = transfer["amount"] - transfer["amount_reversed"]
        share = left if charge["refunded"] else min(left, _half_up(refund["amount"] * transfer["amount"],
                                                                    charge["amount"]))
        if share:
            refund["transfer_reversal"] = self._reverse(transfer, share, refund["id"])

    def _route_connect(self, method: str, path: str, params: dict, account: str | None) -> dict | None:
        """The Connect endpoints; None when the path is not one of them."""
        if path == "/v1/balance" and method == "GET":
            return self._balance_object(account)
        if path == "/v1/balance_transactions" and method == "GET":
            return self._list_balance_transactions(params, account)
        if path == "/v1/payouts" and method == "POST":
            return self._create_payout(params, account)
        match = re.fullmatch(r"/v1/(balance_transactions|payouts)/([^/]+)", path)
        if match and method == "GET":
            return self._owned(match.group(1), match.group(2), account, params)
        if account is not None:
            raise invalid(f"The stub answers {method} {path} only for the platform, not with a Stripe-Account "
                          "header.", status=400)
        if path == "/v1/accounts" and method == "POST":
            return self._create_account(params)
        if path == "/v1/account_links" and method == "POST":
            return self._create_account_link(params)
        if path == "/v1/transfers" and method == "POST":
            return self._create_transfer(params)
        match = re.fullmatch(r"/v1/transfers/([^/]+)/reversals", path)
        if match and method == "POST":
            return self._create_reversal(match.group(1), params)
        match = re.fullmatch(r"/v1/(accounts|transfers)/([^/]+)", path)
        if match and method == "GET":
            store, kind = (self.accounts, "account") if match.group(1) == "accounts" else (self.transfers, "transfer")
            return copy.deepcopy(self._object(store, match.group(2), kind))
        return None

    # ------------------------------------------------------------ accounts

    def _create_account(self, params: dict) -> dict:
        kind = params.get("type")
        if not kind:
            raise invalid("Missing required param: type.", "type", "parameter_missing")
        if kind not in ("express", "standard", "custom"):
            raise invalid("Invalid type: must be one of custom, express, or standard", "type")
        country = params.get("country", "HK")
        if country not in CURRENCIES:
            raise invalid(f"Country '{country}' is unknown. Try using a 2-character alphanumeric country code "
                          "instead, such as 'US', 'EG', or 'GB'.", "country", "country_unsupported")
        email = params.get("email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise invalid(f"Invalid email address: {email}", "email", "email_invalid")
        requested = {}
        for name, wanted in (params.get("capabilities") or {}).items():
            if name not in CAPABILITIES:
                raise invalid(f"Received unknown parameter: capabilities[{name}]", f"capabilities[{name}]",
                              "parameter_unknown")
            if bool_param(wanted if isinstance(wanted, dict) else {}, "requested"):
                requested[name] = "inactive"
        if kind == "standard":
            requested = {name: "inactive" for name in CAPABILITIES}
        elif not requested:
            raise invalid("Missing required param: capabilities.", "capabilities", "parameter_missing")
        interval = (((params.get("settings") or {}).get("payouts") or {}).get("schedule") or {}).get(
            "interval", "daily")
        if interval not in ("manual", "daily", "weekly", "monthly"):
            raise invalid(f"Invalid interval: {interval}", "settings[payouts][schedule][interval]")
        account_id = f"acct_1{secrets.token_hex(8)}"
        self.accounts[account_id] = account = {
            "id": account_id, "object": "account", "type": kind, "country": country, "email": email,
            "default_currency": CURRENCIES[country], "metadata": params.get("metadata") or {},
            "business_profile": {"mcc": None, "name": None, "product_description": None, "support_email": None,
                                 "url": None, **(params.get("business_profile") or {})},
            "charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
            "capabilities": requested,
            "requirements": {"currently_due": list(ONBOARDING_DUE), "eventually_due": list(ONBOARDING_DUE),
                             "past_due": list(ONBOARDING_DUE), "pending_verification": [], "errors": [],
                             "current_deadline": None, "disabled_reason": "requirements.past_due"},
            "settings": {"payouts": {"schedule": {"interval": interval}}},
            "created": int(time.time()), "livemode": False,
        }
        self._ledgers[account_id] = []
        return copy.deepcopy(account)

    def _create_account_link(self, params: dict) -> dict:
        account_id = params.get("account")
        if not account_id:
            raise invalid("Missing required param: account.", "account", "parameter_missing")
        self._account(account_id, "account")
        for name in ("refresh_url", "return_url"):
            url_param(params, name)
        if params.get("type") not in ("account_onboarding", "account_update"):
            raise invalid("Missing required param: type." if not params.get("type") else
                          f"Invalid type: {params['type']}", "type",
                          "parameter_missing" if not params.get("type") else "parameter_invalid")
        now = int(time.time())  # the stub's onboarding page sends nobody back: tests call onboard()
        return {"object": "account_link", "created": now, "expires_at": now + 300,
                "url": f"{self.url}/setup/e/{account_id}/{secrets.token_urlsafe(12)}"}

    def _account(self, account_id: str, param: str, status: int = 400) -> dict:
        found = self.accounts.get(account_id)
        if found is None:
            raise invalid(f"No such account: '{account_id}'", param, "resource_missing", status)
        return found

    def _destination(self, account_id: str, param: str) -> dict:
        account = self.accounts.get(account_id)
        if account is None:
            raise invalid(f"No such destination: '{account_id}'", param, "resource_missing")
        if account["capabilities"].get("transfers") != "active":
            raise invalid(NO_CAPABILITY, param, "insufficient_capabilities_for_transfer")
        return account

    # ------------------------------------------------------------ transfers

    def _create_transfer(self, params: dict) -> dict:
        if "amount" not in params:
            raise invalid("Missing required param: amount.", "amount", "parameter_missing")
        amount = int_param(params["amount"], "amount", 1)
        currency = currency_param(params)
        if not params.get("destination"):
            raise invalid("Missing required param: destination.", "destination", "parameter_missing")
        self._destination(params["destination"], "destination")
        source = params.get("source_transaction")
        if source is not None:
            charge = self._object(self.charges, source, "charge", "source_transaction")
            if amount > charge["amount"] - charge["amount_refunded"]:
                raise invalid("The transfer amount exceeds the amount left on the source transaction.",
                              "amount", "amount_too_large")
        elif self.balance(None, currency) < amount:
            raise invalid("You have insufficient available funds in your Stripe account. Try adding funds "
                          "directly to your available balance by creating Charges using the 4000000000000077 test "
                          "card. See: https://stripe.com/docs/testing#available-balance", code="balance_insufficient")
        return copy.deepcopy(self._transfer(amount, currency, params["destination"], params.get("transfer_group"),
                                            source, params.get("metadata"), params.get("description")))

    def _transfer(self, amount: int, currency: str, destination: str, transfer_group: str | None,
                  source: str | None, metadata: dict | None = None, description: str | None = None) -> dict:
        transfer_id, payment_id = f"tr_{secrets.token_hex(12)}", f"py_{secrets.token_hex(12)}"
        now = int(time.time())
        self.transfers[transfer_id] = transfer = {
            "id": transfer_id, "object": "transfer", "amount": amount, "amount_reversed": 0, "currency": currency,
            "created": now, "description": description, "destination": destination,
            "destination_payment": payment_id, "livemode": False, "metadata": metadata or {},
            "reversals": {"object": "list", "data": [], "has_more": False,
                          "url": f"/v1/transfers/{transfer_id}/reversals"},
            "reversed": False, "source_transaction": source, "source_type": "card", "transfer_group": transfer_group,
            "balance_transaction": self._move(None, -amount, currency, "transfer", transfer_id),
        }
        self.connected_payments[payment_id] = {
            "id": payment_id, "object": "charge", "amount": amount, "amount_refunded": 0, "currency": currency,
            "created": now, "livemode": False, "metadata": {}, "paid": True, "refunded": False,
            "source_transfer": transfer_id, "status": "succeeded",
            "balance_transaction": self._move(destination, amount, currency, "payment", payment_id),
        }
        return transfer

    def _create_reversal(self, transfer_id: str, params: dict) -> dict:
        """``POST /v1/transfers/{id}/reversals``: take back ``amount`` (all that is left, if not given)."""
        transfer = self._object(self.transfers, transfer_id, "transfer")
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = int_param(params["amount"], "amount", 1) if "amount" in params else left
        if left <= 0 or amount > left:
            raise invalid(f"You have already reversed this transfer: you can reverse at most {left} more.",
                          "amount", "transfer_reversal_amount_exceeds_transfer")
        return copy.deepcopy(self.transfer_reversals[self._reverse(transfer, amount, None)])

    def _reverse(self, transfer: dict, amount: int, refund_id: str | None) -> str:
        reversal_id, payment_refund_id = f"trr_{secrets.token_hex(12)}", f"pyr_{secrets.token_hex(12)}"
        currency = transfer["currency"]
        self.transfer_reversals[reversal_id] = reversal = {
            "id": reversal_id, "object": "transfer_reversal", "amount": amount, "currency": currency,
            "created": int(time.time()), "destination_payment_refund": payment_refund_id, "metadata": {},
            "source_refund": refund_id, "transfer": transfer["id"],
            "balance_transaction": self._move(None, amount, currency, "transfer_refund", reversal_id),
        }
        payment = self.connected_payments[transfer["destination_payment"]]
        payment["amount_refunded"] += amount
        payment["refunded"] = payment["amount_refunded"] >= payment["amount"]
        self.connected_payments[payment_refund_id] = {
            "id": payment_refund_id, "object": "refund", "amount": amount, "charge": payment["id"],
            "currency": currency, "created": reversal["created"], "metadata": {}, "status": "succeeded",
            "balance_transaction": self._move(transfer["destination"], -amount, currency, "payment_refund",
                                              payment_refund_id),
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
        return reversal_id

    # ------------------------------------------------------------ payouts

    def _create_payout(self, params: dict, account: str | None) -> dict:
        if "amount" not in params:
            raise invalid("Missing required param: amount.", "amount", "parameter_missing")
        amount = int_param(params["amount"], "amount", 1)
        currency = currency_param(params)
        if account is not None and not self.accounts[account]["payouts_enabled"]:
            raise invalid("Payouts have been disabled on the connected account. Check the connected account's "
                          "status to see if any additional information needs to be provided, or if payouts have "
                          "been disabled for another reason.", code="payouts_not_allowed")
        if self.balance(account, currency) < amount:
            raise invalid("You have insufficient funds in your Stripe account for this transfer. Your card balance "
                          "is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more "
                          "details, see stripe.com/docs/api#balance).", "amount", "balance_insufficient")
        payout_id, now = f"po_{secrets.token_hex(12)}", int(time.time())
        self.payouts[payout_id] = payout = {
            "id": payout_id, "object": "payout", "amount": amount, "currency": currency,
            "arrival_date": now + 2 * 86400, "automatic": False, "created": now,
            "description": params.get("description"), "destination": f"ba_{(account or 'platform')[-12:]}",
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None, "livemode": False,
            "metadata": params.get("metadata") or {}, "method": "standard", "source_type": "card",
            "statement_descriptor": params.get("statement_descriptor"), "status": "pending",
            "type": "bank_account", "balance_transaction": self._move(account, -amount, currency, "payout", payout_id),
        }
        self._payout_accounts[payout_id] = account
        return copy.deepcopy(payout)

    # ------------------------------------------------------------ balances

    def _move(self, account: str | None, amount: int, currency: str, type_: str, source: str, fee: int = 0) -> str:
        """One balance transaction on ``account`` (None: the platform); its id."""
        txn_id, now = f"txn_{secrets.token_hex(12)}", int(time.time())
        fee_details = [{"amount": fee, "application": None, "currency": currency,
                        "description": "Stripe processing fees", "type": "stripe_fee"}] if fee else []
        self.balance_transactions[txn_id] = {
            "id": txn_id, "object": "balance_transaction", "amount": amount, "available_on": now, "created": now,
            "currency": currency, "description": None, "exchange_rate": None, "fee": fee, "fee_details": fee_details,
            "net": amount - fee, "reporting_category": REPORTING_CATEGORY[type_], "source": source,
            "status": "available", "type": type_,
        }
        self._ledgers.setdefault(account, []).append(txn_id)
        return txn_id

    def _ledger(self, account: str | None) -> list[dict]:
        """The account's balance transactions, oldest first."""
        return [self.balance_transactions[txn_id] for txn_id in self._ledgers.get(account, [])]

    def _balance_object(self, account: str | None) -> dict:
        default = self.accounts[account]["default_currency"] if account else "hkd"
        totals = {default: 0}
        for txn in self._ledger(account):
            totals[txn["currency"]] = totals.get(txn["currency"], 0) + txn["net"]
        return {
            "object": "balance", "livemode": False,
            "available": [{"amount": n, "currency": c, "source_types": {"card": n}} for c, n in totals.items()],
            "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in totals],
        }

    def _list_balance_transactions(self, params: dict, account: str | None) -> dict:
        limit = int_param(params.get("limit", "10"), "limit", 1)
        if limit > 100:
            raise invalid("This value must be less than or equal to 100.", "limit")
        rows = list(reversed(self._ledger(account)))  # newest first
        for name in ("type", "currency", "source"):
            if name in params:
                rows = [txn for txn in rows if txn[name] == params[name]]
        created = params.get("created")
        bounds = created if isinstance(created, dict) else {} if created is None else {"eq": created}
        tests = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__, "eq": int.__eq__}
        for op, value in bounds.items():
            if op not in tests:
                raise invalid(f"Received unknown parameter: created[{op}]", f"created[{op}]", "parameter_unknown")
            bound = int_param(value, f"created[{op}]")
            rows = [txn for txn in rows if tests[op](txn["created"], bound)]
        if params.get("starting_after") is not None:
            rows = rows[self._cursor(rows, params["starting_after"], "starting_after") + 1:]
            page, has_more = rows[:limit], len(rows) > limit
        elif params.get("ending_before") is not None:
            rows = rows[:self._cursor(rows, params["ending_before"], "ending_before")]
            page, has_more = rows[-limit:], len(rows) > limit
        else:
            page, has_more = rows[:limit], len(rows) > limit
        page = [self._expanded(txn, "data.source", params) for txn in page]
        return {"object": "list", "data": page, "has_more": has_more, "url": "/v1/balance_transactions"}

    def _cursor(self, rows: list[dict], txn_id: str, param: str) -> int:
        for n, txn in enumerate(rows):
            if txn["id"] == txn_id:
                return n
        raise invalid(f"No such balance_transaction: '{txn_id}'", param, "resource_missing")

    def _expanded(self, txn: dict, path: str, params: dict) -> dict:
        txn = copy.deepcopy(txn)
        if path in (params.get("expand") or []):
            for store in (self.charges, self.refunds, self.transfers, self.payouts, self.transfer_reversals,
                          self.connected_payments):
                if txn["source"] in store:
                    txn["source"] = copy.deepcopy(store[txn["source"]])
                    break
        return txn

    def _owned(self, collection: str, object_id: str, account: str | None, params: dict) -> dict:
        """A balance transaction or payout, found only on the account that owns it."""
        if collection == "payouts":
            if self._payout_accounts.get(object_id, "") != account:
                raise invalid(f"No such payout: '{object_id}'", "id", "resource_missing", 404)
            return copy.deepcopy(self.payouts[object_id])
        if object_id not in self._ledgers.get(account, []):
            raise invalid(f"No such balance_transaction: '{object_id}'", "id", "resource_missing", 404)
        return self._expanded(self.balance_transactions[object_id], "source", params)
