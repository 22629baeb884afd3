"""Stripe Connect in the Stripe stub, driven through the real SDK over HTTP as the marketplace will drive it:
sellers' accounts and onboarding, destination charges, transfers, refunds that take the seller's share back,
balances and balance transactions per account, payouts, and idempotency keys scoped to the account."""
from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_connect import stripe_fee
from tests.support.stripe_stub import API_KEY, event_payload

TOTAL, FEE = 500000, 50000  # HKD 5,000.00, of which the platform keeps HKD 500.00


@pytest.fixture
def sdk(stripe_stub):
    return stripe.StripeClient(API_KEY, base_addresses={"api": stripe_stub.url}, max_network_retries=0)


def acting_for(account: str | None) -> dict:
    return {"stripe_account": account} if account else {}


def new_seller(sdk, stripe_stub, *, onboarded: bool = True, **params) -> str:
    account = sdk.v1.accounts.create({
        "type": "express", "country": "HK", "email": "seller@example.com",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}}, **params})
    if onboarded:
        stripe_stub.onboard(account.id)
    return account.id


def open_checkout(sdk, total: int = TOTAL, **payment_intent_data):
    return sdk.v1.checkout.sessions.create({
        "mode": "payment", "success_url": "https://market.example/ok", "cancel_url": "https://market.example/no",
        "line_items": [{"quantity": 1, "price_data": {"currency": "hkd", "unit_amount": total,
                                                       "product_data": {"name": "Rainfall 1990-2020"}}}],
        "metadata": {"order_id": "7"}, "payment_intent_data": payment_intent_data})


def destination_sale(sdk, stripe_stub, seller: str, fee: int = FEE) -> dict:
    """A buyer paid a destination checkout for ``seller``; the completed session."""
    opened = open_checkout(sdk, application_fee_amount=fee, transfer_data={"destination": seller},
                           metadata={"order_number": "ORD-7"})
    return stripe_stub.complete(opened.id)


def refused(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as caught:
        call(*args, **kwargs)
    return caught.value


# ---------------------------------------------------------------- accounts and onboarding


def test_a_new_seller_account_takes_no_money_until_onboarded(sdk, stripe_stub):
    account = sdk.v1.accounts.create({
        "type": "express", "country": "HK", "email": "seller@example.com", "metadata": {"organization_id": "3"},
        "capabilities": {"transfers": {"requested": True}}, "settings": {"payouts": {"schedule": {"interval":
                                                                                                  "manual"}}}})
    assert account.id.startswith("acct_") and account.object == "account" and account.type == "express"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert account.capabilities.to_dict() == {"transfers": "inactive"}
    assert account.requirements.currently_due and account.requirements.disabled_reason == "requirements.past_due"
    assert account.settings.payouts.schedule.interval == "manual"
    assert account.metadata.to_dict() == {"organization_id": "3"}
    assert sdk.v1.accounts.retrieve(account.id).to_dict() == account.to_dict()

    onboarded = stripe_stub.onboard(account.id)
    assert onboarded["charges_enabled"] and onboarded["payouts_enabled"] and onboarded["details_submitted"]
    assert onboarded["capabilities"] == {"transfers": "active"}
    assert onboarded["requirements"]["currently_due"] == [] and onboarded["requirements"]["disabled_reason"] is None
    event = event_payload("account.updated", onboarded, account=account.id)
    assert event["account"] == account.id and event["data"]["object"]["id"] == account.id
    assert "account" not in event_payload("charge.refunded", {"id": "ch_1"})


def test_an_unfinished_onboarding_leaves_the_account_disabled(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub, onboarded=False)
    account = stripe_stub.onboard(seller, complete=False)
    assert account["details_submitted"] and not account["charges_enabled"] and not account["payouts_enabled"]
    assert account["requirements"]["currently_due"] and account["capabilities"]["transfers"] == "inactive"


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"country": "HK"}, "type", "parameter_missing"),
    ({"type": "premium"}, "type", "parameter_invalid"),
    ({"type": "express", "email": "not-an-address"}, "email", "email_invalid"),
    ({"type": "express"}, "capabilities", "parameter_missing"),
    ({"type": "express", "capabilities": {"mining": {"requested": True}}}, "capabilities[mining]",
     "parameter_unknown"),
    ({"type": "standard", "settings": {"payouts": {"schedule": {"interval": "hourly"}}}},
     "settings[payouts][schedule][interval]", "parameter_invalid"),
])
def test_account_creation_refuses_what_stripe_refuses(sdk, params, param, code):
    error = refused(sdk.v1.accounts.create, params)
    assert isinstance(error, stripe.InvalidRequestError) and error.http_status == 400
    assert (error.param, error.code) == (param, code)


def test_an_unknown_account_is_missing(sdk):
    error = refused(sdk.v1.accounts.retrieve, "acct_1nobody")
    assert isinstance(error, stripe.InvalidRequestError) and error.http_status == 404
    assert error.code == "resource_missing" and "acct_1nobody" in error.user_message


def test_an_account_link_sends_the_seller_to_onboarding_for_five_minutes(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub, onboarded=False)
    link = sdk.v1.account_links.create({"account": seller, "refresh_url": "https://market.example/again",
                                        "return_url": "https://market.example/back", "type": "account_onboarding"})
    assert link.object == "account_link" and link.expires_at == link.created + 300
    assert link.url.startswith(f"{stripe_stub.url}/setup/e/{seller}/")


@pytest.mark.parametrize(("change", "param", "code"), [
    ({"account": "acct_1nobody"}, "account", "resource_missing"),
    ({"refresh_url": "javascript:alert(1)"}, "refresh_url", "url_invalid"),
    ({"return_url": None}, "return_url", "parameter_missing"),
    ({"type": "account_takeover"}, "type", "parameter_invalid"),
])
def test_an_account_link_refuses_what_stripe_refuses(sdk, stripe_stub, change, param, code):
    params = {"account": new_seller(sdk, stripe_stub), "refresh_url": "https://market.example/again",
              "return_url": "https://market.example/back", "type": "account_onboarding", **change}
    error = refused(sdk.v1.account_links.create, {k: v for k, v in params.items() if v is not None})
    assert (error.http_status, error.param, error.code) == (400, param, code)


# ---------------------------------------------------------------- destination charges


def test_a_destination_sale_pays_the_seller_all_but_the_platform_fee(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    paid = destination_sale(sdk, stripe_stub, seller)

    intent = sdk.v1.payment_intents.retrieve(paid["payment_intent"])
    assert intent.application_fee_amount == FEE and intent.transfer_data.destination == seller
    assert intent.transfer_group and intent.metadata.to_dict() == {"order_id": "7", "order_number": "ORD-7"}
    charge = sdk.v1.charges.retrieve(intent.latest_charge)
    assert (charge.application_fee_amount, charge.destination, charge.transfer_group) == \
        (FEE, seller, intent.transfer_group)
    transfer = sdk.v1.transfers.retrieve(charge.transfer)
    assert transfer.to_dict() | {"reversals": None} == stripe_stub.transfers[transfer.id] | {"reversals": None}
    assert (transfer.amount, transfer.amount_reversed, transfer.currency, transfer.destination) == \
        (TOTAL - FEE, 0, "hkd", seller)
    assert transfer.destination_payment.startswith("py_") and transfer.source_transaction == charge.id
    assert transfer.transfer_group == charge.transfer_group and transfer.reversed is False

    assert stripe_stub.balance(seller) == TOTAL - FEE
    assert stripe_stub.balance() == FEE - stripe_fee(TOTAL)  # the platform keeps its fee less Stripe's
    seen = sdk.v1.balance.retrieve(options=acting_for(seller))
    assert seen.object == "balance" and seen.livemode is False
    assert [(b.amount, b.currency, b.source_types.card) for b in seen.available] == [(TOTAL - FEE, "hkd",
                                                                                      TOTAL - FEE)]
    assert sdk.v1.balance.retrieve().available[0].amount == FEE - stripe_fee(TOTAL)


def test_a_delayed_payment_reaches_the_seller_once_it_settles(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    opened = open_checkout(sdk, application_fee_amount=FEE, transfer_data={"destination": seller},
                           transfer_group="order-7")
    stripe_stub.complete(opened.id, paid=False)
    assert stripe_stub.balance(seller) == 0 and not stripe_stub.transfers
    stripe_stub.settle_async(opened.id, succeeded=True)
    [transfer] = stripe_stub.transfers.values()
    assert transfer["transfer_group"] == "order-7" and stripe_stub.balance(seller) == TOTAL - FEE


@pytest.mark.parametrize(("data", "param", "code"), [
    ({"transfer_data": {"destination": "acct_1nobody"}}, "payment_intent_data[transfer_data][destination]",
     "resource_missing"),
    ({"transfer_data": {"destination": "NEW"}}, "payment_intent_data[transfer_data][destination]",
     "insufficient_capabilities_for_transfer"),
    ({"application_fee_amount": FEE}, "payment_intent_data[application_fee_amount]", "parameter_invalid"),
    ({"application_fee_amount": TOTAL + 1, "transfer_data": {"destination": "SELLER"}},
     "payment_intent_data[application_fee_amount]", "amount_too_large"),
    ({"application_fee_amount": -1, "transfer_data": {"destination": "SELLER"}},
     "payment_intent_data[application_fee_amount]", "parameter_invalid"),
])
def test_a_destination_checkout_refuses_what_stripe_refuses(sdk, stripe_stub, data, param, code):
    names = {"NEW": new_seller(sdk, stripe_stub, onboarded=False), "SELLER": new_seller(sdk, stripe_stub)}
    if "transfer_data" in data:
        data["transfer_data"] = {"destination": names.get(data["transfer_data"]["destination"],
                                                          data["transfer_data"]["destination"])}
    error = refused(open_checkout, sdk, **data)
    assert isinstance(error, stripe.InvalidRequestError)
    assert (error.http_status, error.param, error.code) == (400, param, code)
    assert not stripe_stub.sessions


# ---------------------------------------------------------------- refunds


def test_a_refund_reversing_the_transfer_takes_back_the_sellers_share_in_proportion(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    paid = destination_sale(sdk, stripe_stub, seller)
    transfer_id = stripe_stub.charge(stripe_stub.payment_intents[paid["payment_intent"]]["latest_charge"])["transfer"]

    first = sdk.v1.refunds.create({"payment_intent": paid["payment_intent"], "amount": 100001,
                                   "reverse_transfer": True, "refund_application_fee": True})
    share = round(100001 * (TOTAL - FEE) / TOTAL)  # 90000.9 -> 90001
    reversal = stripe_stub.transfer_reversals[first.transfer_reversal]
    assert (reversal["amount"], reversal["source_refund"], reversal["transfer"]) == (share, first.id, transfer_id)
    transfer = sdk.v1.transfers.retrieve(transfer_id)
    assert (transfer.amount_reversed, transfer.reversed) == (share, False)
    assert stripe_stub.balance(seller) == TOTAL - FEE - share

    stripe_stub.dashboard_refund(paid["payment_intent"], reverse_transfer=True)  # the rest, from the Dashboard
    transfer = sdk.v1.transfers.retrieve(transfer_id)
    assert (transfer.amount_reversed, transfer.reversed) == (TOTAL - FEE, True)
    assert stripe_stub.balance(seller) == 0
    assert stripe_stub.balance() == -stripe_fee(TOTAL)  # Stripe keeps its fee on a refunded charge
    kinds = [t.type for t in sdk.v1.balance_transactions.list({"limit": 100}, options=acting_for(seller))]
    assert kinds == ["payment_refund", "payment_refund", "payment"]


def test_a_refund_without_reversing_the_transfer_is_the_platforms_loss(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    paid = destination_sale(sdk, stripe_stub, seller)
    refund = sdk.v1.refunds.create({"payment_intent": paid["payment_intent"], "amount": 1000})
    assert refund.transfer_reversal is None and stripe_stub.balance(seller) == TOTAL - FEE
    assert stripe_stub.balance() == FEE - stripe_fee(TOTAL) - 1000
    error = refused(sdk.v1.refunds.create, {"payment_intent": paid["payment_intent"], "reverse_transfer": "maybe"})
    assert (error.param, error.code) == ("reverse_transfer", "parameter_invalid")
    assert len(stripe_stub.refunds) == 1  # the refused refund moved nothing


def test_a_seller_who_was_paid_out_goes_negative_when_a_refund_reverses_the_transfer(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    paid = destination_sale(sdk, stripe_stub, seller)
    sdk.v1.payouts.create({"amount": TOTAL - FEE, "currency": "hkd"}, options=acting_for(seller))
    sdk.v1.refunds.create({"payment_intent": paid["payment_intent"], "reverse_transfer": True})
    assert stripe_stub.balance(seller) == -(TOTAL - FEE)
    assert sdk.v1.balance.retrieve(options=acting_for(seller)).available[0].amount == -(TOTAL - FEE)


# ---------------------------------------------------------------- transfers


def test_a_transfer_needs_the_money_on_the_platforms_balance(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    error = refused(sdk.v1.transfers.create, {"amount": 1000, "currency": "hkd", "destination": seller})
    assert isinstance(error, stripe.InvalidRequestError) and error.code == "balance_insufficient"
    assert "insufficient available funds" in error.user_message and not stripe_stub.transfers

    stripe_stub.complete(open_checkout(sdk, total=2000).id)  # an ordinary sale: HKD 20.00 less Stripe's fee
    available = 2000 - stripe_fee(2000)
    assert stripe_stub.balance() == available
    assert refused(sdk.v1.transfers.create, {"amount": available + 1, "currency": "hkd",
                                             "destination": seller}).code == "balance_insufficient"
    transfer = sdk.v1.transfers.create({"amount": available, "currency": "hkd", "destination": seller,
                                        "transfer_group": "settlement-3", "metadata": {"statement": "3"}})
    assert sdk.v1.transfers.retrieve(transfer.id).to_dict()["metadata"] == {"statement": "3"}
    assert (transfer.amount, transfer.source_transaction, transfer.transfer_group) == (available, None,
                                                                                       "settlement-3")
    assert stripe_stub.balance() == 0 and stripe_stub.balance(seller) == available


@pytest.mark.parametrize(("destination", "code"), [
    ("acct_1nobody", "resource_missing"), ("NEW", "insufficient_capabilities_for_transfer")])
def test_a_transfer_goes_only_to_an_onboarded_seller(sdk, stripe_stub, destination, code):
    destination = new_seller(sdk, stripe_stub, onboarded=False) if destination == "NEW" else destination
    error = refused(sdk.v1.transfers.create, {"amount": 1, "currency": "hkd", "destination": destination})
    assert (error.http_status, error.param, error.code) == (400, "destination", code)


# ---------------------------------------------------------------- payouts


def test_a_seller_is_paid_out_and_the_bank_confirms_it(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    destination_sale(sdk, stripe_stub, seller)
    payout = sdk.v1.payouts.create({"amount": 400000, "currency": "hkd", "description": "Statement 3",
                                    "metadata": {"statement": "3"}}, options=acting_for(seller))
    assert (payout.status, payout.method, payout.type, payout.automatic) == ("pending", "standard", "bank_account",
                                                                             False)
    assert payout.arrival_date == payout.created + 2 * 86400 and payout.destination.startswith("ba_")
    assert stripe_stub.balance(seller) == TOTAL - FEE - 400000
    assert sdk.v1.payouts.retrieve(payout.id, options=acting_for(seller)).to_dict() == payout.to_dict()
    for other in (None, new_seller(sdk, stripe_stub)):  # the platform, another seller: no such payout
        assert refused(sdk.v1.payouts.retrieve, payout.id, options=acting_for(other)).http_status == 404
    txn = sdk.v1.balance_transactions.retrieve(payout.balance_transaction, options=acting_for(seller))
    assert (txn.type, txn.amount, txn.net, txn.source) == ("payout", -400000, -400000, payout.id)

    settled = stripe_stub.settle_payout(payout.id)
    assert settled["status"] == "paid" and sdk.v1.payouts.retrieve(payout.id, options=acting_for(seller)).status \
        == "paid"
    with pytest.raises(ValueError):  # a paid payout is not cancelled; it may still fail (the bank returns it)
        stripe_stub.settle_payout(payout.id, "canceled")
    returned = stripe_stub.settle_payout(payout.id, "failed")
    assert returned["status"] == "failed" and returned["failure_code"] == "account_closed"


@pytest.mark.parametrize(("status", "kind"), [("failed", "payout_failure"), ("canceled", "payout_cancel")])
def test_a_payout_that_fails_returns_the_money_to_the_balance(sdk, stripe_stub, status, kind):
    seller = new_seller(sdk, stripe_stub)
    destination_sale(sdk, stripe_stub, seller)
    payout = sdk.v1.payouts.create({"amount": TOTAL - FEE, "currency": "hkd"}, options=acting_for(seller))
    assert stripe_stub.balance(seller) == 0
    settled = stripe_stub.settle_payout(payout.id, status, failure_code="account_closed")
    assert settled["status"] == status and stripe_stub.balance(seller) == TOTAL - FEE
    latest = sdk.v1.balance_transactions.list({"limit": 1}, options=acting_for(seller)).data[0]
    assert (latest.type, latest.amount, latest.source) == (kind, TOTAL - FEE, payout.id)
    if status == "failed":
        assert settled["failure_code"] == "account_closed" and settled["failure_message"]
        assert settled["failure_balance_transaction"] == latest.id


def test_a_payout_is_refused_to_a_disabled_account_and_beyond_the_balance(sdk, stripe_stub):
    disabled = new_seller(sdk, stripe_stub, onboarded=False)
    error = refused(sdk.v1.payouts.create, {"amount": 100, "currency": "hkd"}, options=acting_for(disabled))
    assert (error.http_status, error.code) == (400, "payouts_not_allowed")
    seller = new_seller(sdk, stripe_stub)
    error = refused(sdk.v1.payouts.create, {"amount": 100, "currency": "hkd"}, options=acting_for(seller))
    assert (error.http_status, error.code) == (400, "balance_insufficient")
    assert not stripe_stub.payouts


def test_a_request_for_an_account_that_is_not_connected_is_forbidden(sdk):
    error = refused(sdk.v1.balance.retrieve, options=acting_for("acct_1nobody"))
    assert isinstance(error, stripe.PermissionError) and error.http_status == 403
    assert error.json_body["error"]["code"] == "account_invalid" and "acct_1nobody" in error.user_message


# ---------------------------------------------------------------- balance transactions


def test_balance_transactions_page_newest_first_with_their_sources(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    for _ in range(3):
        paid = destination_sale(sdk, stripe_stub, seller)
    sdk.v1.refunds.create({"payment_intent": paid["payment_intent"], "amount": 5000})
    platform = stripe_stub.ledger()
    assert [t["type"] for t in platform] == ["refund"] + ["transfer", "charge"] * 3

    pages = sdk.v1.balance_transactions.list({"limit": 2, "expand": ["data.source"]})
    assert len(pages.data) == 2 and pages.has_more and pages.url == "/v1/balance_transactions"
    walked = list(pages.auto_paging_iter())
    assert [t.id for t in walked] == [t["id"] for t in platform]
    charge = next(t for t in walked if t.type == "charge")
    assert charge.source.object == "charge" and charge.source.balance_transaction == charge.id
    assert (charge.fee, charge.net, charge.fee_details[0].type) == (stripe_fee(TOTAL), TOTAL - stripe_fee(TOTAL),
                                                                    "stripe_fee")
    assert next(t for t in walked if t.type == "transfer").source.object == "transfer"

    charges = sdk.v1.balance_transactions.list({"type": "charge", "limit": 100})
    assert len(charges.data) == 3 and not charges.has_more
    newer = sdk.v1.balance_transactions.list({"ending_before": platform[3]["id"], "limit": 2})
    assert [t.id for t in newer] == [t["id"] for t in platform[1:3]] and newer.has_more
    since = platform[0]["created"]
    assert len(sdk.v1.balance_transactions.list({"created": {"gt": since}}).data) == 0
    assert len(sdk.v1.balance_transactions.list({"created": {"gte": since - 60}, "limit": 100}).data) == 7

    seller_view = list(sdk.v1.balance_transactions.list({"limit": 1, "expand": ["data.source"]},
                                                        options=acting_for(seller)).auto_paging_iter())
    assert [t.type for t in seller_view] == ["payment"] * 3
    assert {t.source.id for t in seller_view} == {t["destination_payment"] for t in stripe_stub.transfers.values()}
    assert all(t.reporting_category == "charge" and t.status == "available" for t in seller_view)


@pytest.mark.parametrize(("params", "param"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"starting_after": "txn_nobody"}, "starting_after"),
    ({"created": {"gte": "yesterday"}}, "created[gte]")])
def test_balance_transactions_refuse_bad_paging(sdk, params, param):
    error = refused(sdk.v1.balance_transactions.list, params)
    assert (error.http_status, error.param) == (400, param)


# ---------------------------------------------------------------- idempotency


def test_an_idempotency_key_is_scoped_to_the_account_it_acts_for(sdk, stripe_stub):
    first, second = new_seller(sdk, stripe_stub), new_seller(sdk, stripe_stub)
    for seller in (first, second):
        destination_sale(sdk, stripe_stub, seller)
    params = {"amount": 1000, "currency": "hkd"}
    one = sdk.v1.payouts.create(params, options={**acting_for(first), "idempotency_key": "payout-statement-3"})
    again = sdk.v1.payouts.create(params, options={**acting_for(first), "idempotency_key": "payout-statement-3"})
    other = sdk.v1.payouts.create(params, options={**acting_for(second), "idempotency_key": "payout-statement-3"})
    assert again.id == one.id and other.id != one.id and len(stripe_stub.payouts) == 2
    assert stripe_stub.balance(first) == stripe_stub.balance(second) == TOTAL - FEE - 1000


def test_a_refused_request_is_replayed_as_refused_for_its_key(sdk, stripe_stub):
    seller = new_seller(sdk, stripe_stub)
    params, options = {"amount": 1000, "currency": "hkd"}, {**acting_for(seller), "idempotency_key": "too-early"}
    assert refused(sdk.v1.payouts.create, params, options=options).code == "balance_insufficient"
    destination_sale(sdk, stripe_stub, seller)  # the money arrives, but the key keeps its first answer
    assert refused(sdk.v1.payouts.create, params, options=options).code == "balance_insufficient"
    assert sdk.v1.payouts.create(params, options={**options, "idempotency_key": "in-time"}).status == "pending"
