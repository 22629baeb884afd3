"""Stripe Connect end to end, through the real SDK against the stub: a seller's owner onboards through an account
link, Stripe's ``account.updated`` makes the account ready, the next sale is a destination charge keeping the
platform's fee as the application fee, the payout run pays out of the seller's account, and ``payout.*`` settles it
once; refusals and outages start nothing, and the reconcile lists every difference with Stripe."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import seller_balances, unbalanced_transactions
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.money import release_due
from marketplace.orders.stripe_reconcile import reconcile
from marketplace.payments.stripe_connect import connect_of
from marketplace.payouts.models import Payout, PayoutAccount, PayoutStatus
from marketplace.payouts.services import run_payouts, start_onboarding
from tests.conftest import AuthActions
from tests.payments.conftest import CANCEL_URL, SUCCESS_URL, request_order
from tests.payments.test_webhooks import completed, post_event
from tests.review.test_languages import in_locale, main_text
from tests.support.stripe_stub import event_payload

GROSS, FEE = 500000, 50000  # the "Exclusive" plan, HKD 5,000.00, at the default 10 %
NET = GROSS - FEE


def _onboard(session, client, stub, payments, owner, org) -> str:
    url = start_onboarding(session, owner, org, connect_of(payments), country="HK",
                           refresh_url="http://127.0.0.1:5000/r", return_url="http://127.0.0.1:5000/back")
    account_id = session.scalar(select(PayoutAccount.account_id).where(PayoutAccount.organization_id == org.id))
    assert url.startswith(stub.url) and account_id in url
    session.commit()
    event = event_payload("account.updated", stub.onboard(account_id), account=account_id)
    assert post_event(client, event).get_json()["outcome"] == f"account {account_id}: charges on, payouts on"
    return account_id


def _buy(session, client, stub, payments, buyer, buyer_org, plan):
    order = request_order(session, buyer, buyer_org, plan)
    orders.start_checkout(session, buyer, order, payments, success_url=SUCCESS_URL.format(order_id=order.id),
                          cancel_url=CANCEL_URL.format(order_id=order.id))
    session.commit()
    assert post_event(client, completed(stub, order)).get_json()["outcome"] == "fulfilled"
    session.expire_all()
    return order


def _run(session, payments, **kwargs):
    return run_payouts(session, payments, minimum=1, transit_days=2, **kwargs)


@pytest.fixture
def seller_org(plans):
    return plans["Exclusive"].version.product.organization


@pytest.fixture
def connected(session, client, stripe_stub, stripe_payments, seller, seller_org):
    return _onboard(session, client, stripe_stub, stripe_payments, seller, seller_org)


def test_only_an_owner_onboards_and_one_account_is_opened(session, stripe_stub, stripe_payments, seller, seller_org,
                                                         buyer):
    with pytest.raises(NotFound):  # an outsider is not told the organization exists
        start_onboarding(session, buyer, seller_org, connect_of(stripe_payments), country="HK",
                         refresh_url="http://x/r", return_url="http://x/b")
    for _ in range(2):
        start_onboarding(session, seller, seller_org, connect_of(stripe_payments), country="HK",
                         refresh_url="http://x/r", return_url="http://x/b")
    assert len(stripe_stub.accounts) == 1
    [opened] = stripe_stub.requests_to("POST", "/v1/accounts")
    assert opened.params["type"] == "express" and opened.params["settings"]["payouts"]["schedule"]["interval"] == \
        "manual"
    account = session.scalar(select(PayoutAccount))
    assert not account.ready and "external_account" in account.requirements_due


def test_a_connect_sale_is_paid_out_from_the_sellers_account_once(session, client, stripe_stub, stripe_payments,
                                                                  connected, seller_org, buyer, buyer_org, plans):
    assert any("Payouts are set up" in n.subject for n in session.scalars(
        select(Notification).where(Notification.organization_id == seller_org.id)))
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    assert order.transfer_destination == connected
    [created] = stripe_stub.requests_to("POST", "/v1/checkout/sessions")[-1:]
    data = created.params["payment_intent_data"]
    assert data["application_fee_amount"] == str(FEE) and data["transfer_data"]["destination"] == connected
    assert stripe_stub.balance(connected) == NET
    # Within the settlement delay nothing is paid out; after it, the seller's share, from their account.
    assert _run(session, stripe_payments) == []
    release_due(session, 0)
    [line] = _run(session, stripe_payments)
    assert line.outcome.startswith("started") and line.amount == NET
    payout = session.scalar(select(Payout))
    assert payout.provider == "stripe" and payout.transfer_reference is None
    assert stripe_stub.payouts[payout.provider_reference]["amount"] == NET and stripe_stub.balance(connected) == 0
    session.commit()
    event = event_payload("payout.paid", stripe_stub.settle_payout(payout.provider_reference), account=connected)
    assert post_event(client, event).get_json()["outcome"] == f"payout {payout.number} paid"
    assert post_event(client, event).get_json()["outcome"] == "already processed"
    session.expire_all()
    assert session.get(Payout, payout.id).status == PayoutStatus.PAID
    balances = seller_balances(session, seller_org.id)["HKD"]
    assert balances[AccountKind.SELLER_IN_PAYOUT] == balances[AccountKind.SELLER_AVAILABLE] == 0
    assert unbalanced_transactions(session) == []
    assert reconcile(session, connect_of(stripe_payments), utcnow() - timedelta(days=1)) == []


def test_a_refund_of_a_destination_charge_takes_the_sellers_share_back(session, client, stripe_stub,
                                                                        stripe_payments, connected, seller, buyer,
                                                                        buyer_org, plans):
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    orders.refund_order(session, seller, order, "Wrong file delivered", stripe_payments)
    [refund] = stripe_stub.requests_to("POST", "/v1/refunds")
    assert refund.params["reverse_transfer"] == "true" and refund.params["refund_application_fee"] == "true"
    assert stripe_stub.balance(connected) == 0
    assert reconcile(session, connect_of(stripe_payments), utcnow() - timedelta(days=1)) == []


def test_money_of_sales_before_onboarding_is_moved_to_the_seller_first(session, client, stripe_stub,
                                                                        stripe_payments, seller, seller_org, buyer,
                                                                        buyer_org, plans):
    before = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    assert before.transfer_destination is None  # the platform's charge
    connected = _onboard(session, client, stripe_stub, stripe_payments, seller, seller_org)
    release_due(session, 0)
    [line] = _run(session, stripe_payments)
    payout = session.scalar(select(Payout))
    assert line.amount == NET and payout.transfer_reference in stripe_stub.transfers
    assert stripe_stub.transfers[payout.transfer_reference]["amount"] == NET
    assert stripe_stub.payouts[payout.provider_reference]["amount"] == NET
    # A transfer.created for it is recorded against the payout.
    event = event_payload("transfer.created", stripe_stub.transfers[payout.transfer_reference])
    session.commit()
    assert post_event(client, event).get_json()["outcome"].endswith(f"for payout {payout.number}")
    assert stripe_stub.balance(connected) == 0


def test_a_failed_payout_makes_the_money_available_again(session, client, stripe_stub, stripe_payments, connected,
                                                         seller_org, buyer, buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    _run(session, stripe_payments)
    payout = session.scalar(select(Payout))
    session.commit()
    failed = stripe_stub.settle_payout(payout.provider_reference, "failed", "account_closed")
    outcome = post_event(client, event_payload("payout.failed", failed, account=connected)).get_json()["outcome"]
    assert outcome == f"payout {payout.number} failed"
    session.expire_all()
    payout = session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.FAILED and payout.failure == "The bank account has been closed."
    assert seller_balances(session, seller_org.id)["HKD"][AccountKind.SELLER_AVAILABLE] == NET
    assert stripe_stub.balance(connected) == NET  # Stripe gave it back to the account, too
    [again] = _run(session, stripe_payments)  # the next run pays it out again
    assert again.outcome.startswith("started") and again.amount == NET


def test_a_refused_payout_starts_nothing_and_tells_the_seller_once(session, client, stripe_stub, stripe_payments,
                                                                    connected, seller_org, buyer, buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    for _ in range(2):
        stripe_stub.fail_next(400, type="invalid_request_error", code="payouts_not_allowed",
                              message="Payouts have been disabled on this account.", path="/v1/payouts")
        [line] = _run(session, stripe_payments)
        assert line.outcome.startswith("refused: ") and "disabled on this account" in line.outcome
    assert session.scalar(select(Payout.id)) is None
    assert seller_balances(session, seller_org.id)["HKD"][AccountKind.SELLER_AVAILABLE] == NET
    told = [n for n in session.scalars(select(Notification).where(Notification.organization_id == seller_org.id))
            if n.subject == "A payout could not be made"]
    assert len(told) == 1
    stripe_stub.fail_next(500, type="api_error", code=None, message="Stripe broke.", path="/v1/payouts")
    [line] = _run(session, stripe_payments)
    assert line.outcome.startswith("error: ") and session.scalar(select(Payout.id)) is None
    [line] = _run(session, stripe_payments)  # Stripe is back
    assert line.outcome.startswith("started")


def test_a_run_repeated_after_a_lost_commit_gets_the_same_payout(session, client, stripe_stub, stripe_payments,
                                                                 connected, buyer, buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    session.commit()
    _run(session, stripe_payments)
    first = session.scalar(select(Payout.provider_reference))
    session.rollback()  # the run's commit never happened
    _run(session, stripe_payments)
    assert session.scalar(select(Payout.provider_reference)) == first
    assert list(stripe_stub.payouts) == [first]


def test_an_unready_account_gets_no_sales_and_no_payouts(session, client, stripe_stub, stripe_payments, seller,
                                                         seller_org, buyer, buyer_org, plans):
    start_onboarding(session, seller, seller_org, connect_of(stripe_payments), country="HK",
                     refresh_url="http://x/r", return_url="http://x/b")
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    assert order.transfer_destination is None
    release_due(session, 0)
    [line] = _run(session, stripe_payments)
    assert line.outcome == "skipped: no payout account ready at Stripe"


def test_an_older_account_event_does_not_undo_a_newer_one(session, client, stripe_stub, stripe_payments, connected):
    stale = dict(stripe_stub.accounts[connected], charges_enabled=False, payouts_enabled=False)
    event = event_payload("account.updated", stale, account=connected, created=int(utcnow().timestamp()) - 3600)
    post_event(client, event)
    session.expire_all()
    assert session.scalar(select(PayoutAccount)).ready


def test_the_reconcile_lists_what_the_ledger_does_not_know(session, client, stripe_stub, stripe_payments, connected,
                                                           buyer, buyer_org, plans):
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    stripe_stub.dashboard_refund(order.payment_intent, amount=1000)  # its charge.refunded never arrived
    differences = reconcile(session, connect_of(stripe_payments), utcnow() - timedelta(days=1))
    assert [(d.what, d.reference, d.ledger, d.stripe) for d in differences] == [
        ("payment", order.payment_intent, GROSS, GROSS - 1000)]


def test_a_lost_dispute_of_a_destination_charge_takes_the_sellers_share_back(session, client, stripe_stub,
                                                                              stripe_payments, connected, buyer,
                                                                              buyer_org, plans):
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    dispute = stripe_stub.open_dispute(order.payment_intent)
    assert post_event(client, event_payload("charge.dispute.created", dispute)).status_code == 200
    closed = event_payload("charge.dispute.closed", stripe_stub.close_dispute(dispute["id"], "lost"))
    stripe_stub.fail_next(503, type="api_error", code=None, message="Stripe is down.", path="/v1/charges")
    assert post_event(client, closed).status_code == 503  # not applied: Stripe sends it again
    session.expire_all()
    assert session.get(type(order), order.id).status.value == "fulfilled"
    outcome = post_event(client, closed).get_json()["outcome"]
    assert outcome.startswith("dispute closed: lost; the seller's share taken back (trr_")
    assert stripe_stub.balance(connected) == 0
    assert post_event(client, closed).get_json()["outcome"] == "already processed"
    assert len(stripe_stub.transfer_reversals) == 1


def test_a_payout_returned_after_it_was_paid_is_available_again(session, client, stripe_stub, stripe_payments,
                                                                connected, seller_org, buyer, buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    _run(session, stripe_payments)
    payout = session.scalar(select(Payout))
    session.commit()
    paid = event_payload("payout.paid", stripe_stub.settle_payout(payout.provider_reference), account=connected)
    returned = stripe_stub.settle_payout(payout.provider_reference, "failed", "no_account")
    assert post_event(client, paid).get_json()["outcome"] == f"payout {payout.number} paid"
    failed = event_payload("payout.failed", returned, account=connected)
    assert post_event(client, failed).get_json()["outcome"] == f"payout {payout.number} failed"
    again = event_payload("payout.failed", returned, account=connected)  # a new event id saying the same
    assert post_event(client, again).get_json()["outcome"] == f"ignored: payout {payout.number} is already failed"
    session.expire_all()
    balances = seller_balances(session, seller_org.id)["HKD"]
    assert balances[AccountKind.SELLER_AVAILABLE] == NET and balances[AccountKind.SELLER_IN_PAYOUT] == 0
    assert unbalanced_transactions(session) == []
    assert reconcile(session, connect_of(stripe_payments), utcnow() - timedelta(days=1)) == []


def test_a_payout_event_from_another_account_settles_nothing(session, client, stripe_stub, stripe_payments,
                                                             connected, buyer, buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    _run(session, stripe_payments)
    payout = session.scalar(select(Payout))
    session.commit()
    paid = stripe_stub.settle_payout(payout.provider_reference)
    for account in ("acct_someone_else", None):
        outcome = post_event(client, event_payload("payout.paid", paid, account=account)).get_json()["outcome"]
        assert outcome == f"ignored: payout {payout.provider_reference} is not on {account or 'no account'}"
    session.expire_all()
    assert session.get(Payout, payout.id).status == PayoutStatus.IN_TRANSIT


@pytest.mark.parametrize("refunded", [GROSS, 30000])
def test_a_dashboard_refund_of_a_destination_charge_takes_the_sellers_share_back(session, client, stripe_stub,
                                                                                 stripe_payments, connected, buyer,
                                                                                 buyer_org, plans, refunded):
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    charge = stripe_stub.dashboard_refund(order.payment_intent, amount=refunded)  # the transfer left alone
    outcome = post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"]
    assert "the seller's share taken back (trr_" in outcome
    share = NET - NET * refunded // GROSS
    assert stripe_stub.balance(connected) == share
    assert reconcile(session, connect_of(stripe_payments), utcnow() - timedelta(days=1)) == []
    again = post_event(client, event_payload("charge.refunded", charge)).get_json()["outcome"]
    assert "taken back" not in again and len(stripe_stub.transfer_reversals) == 1  # once


def test_a_payout_the_platform_cannot_fund_is_not_blamed_on_the_seller(session, client, stripe_stub,
                                                                       stripe_payments, seller, seller_org, buyer,
                                                                       buyer_org, plans):
    _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])  # before onboarding
    _onboard(session, client, stripe_stub, stripe_payments, seller, seller_org)
    release_due(session, 0)
    stripe_stub.fail_next(400, type="invalid_request_error", code="balance_insufficient",
                          message="You have insufficient available funds in your Stripe account.",
                          path="/v1/transfers")
    [line] = _run(session, stripe_payments)
    assert line.outcome.startswith("refused: the platform's balance cannot fund it")
    account = session.scalar(select(PayoutAccount))
    assert account.last_error.startswith("The marketplace could not yet move your money")
    session.commit()
    for tag, words in (("en", "could not yet move your money"), ("zh-Hans", None)):
        page = in_locale(client, AuthActions(client), session, seller, tag).get(f"/seller/{seller_org.slug}/payouts")
        text = main_text(page)
        assert page.status_code == 200 and "insufficient available funds" not in text
        assert (words in text) if words else "could not yet move" not in text


def test_a_stale_account_event_says_it_was_ignored(session, client, stripe_stub, stripe_payments, connected):
    stale = dict(stripe_stub.accounts[connected], payouts_enabled=False)
    event = event_payload("account.updated", stale, account=connected, created=int(utcnow().timestamp()) - 3600)
    assert post_event(client, event).get_json()["outcome"] == f"ignored: Stripe said newer of {connected} already"
