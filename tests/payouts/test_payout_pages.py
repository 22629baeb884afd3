"""The seller's payouts page (balances, where payouts go, the payouts made), its API twin, the statement's payout
lines, the admin's list of payouts not yet paid, and the Stripe onboarding routes while payments are simulated;
strangers see nothing, and the pages read in both Chinese locales."""
from __future__ import annotations

import csv
import html
import io
import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from marketplace.accounts.models import MemberRole, Membership
from marketplace.db import utcnow
from marketplace.orders.money import release_due
from marketplace.payments import SimulatedPayments
from marketplace.payments.stripe_provider import StripePayments
from marketplace.payouts.models import Payout, PayoutAccount, PayoutStatus
from marketplace.payouts.services import run_payouts, settle
from tests import factories
from tests.licensing.test_seller_views import SELLER_ORG, buy, text
from tests.review.test_languages import in_locale, main_text
from tests.support.pages import lang_of
from tests.support.stripe_stub import API_KEY, WEBHOOK_SECRET

PAYOUTS = f"{SELLER_ORG}/payouts"
API = "/api/v1/organizations/harbour-analytics/payouts"
MONTH = f"{datetime.now(ZoneInfo('Asia/Hong_Kong')):%Y-%m}"


def pay_out(session, **when) -> list:
    lines = run_payouts(session, SimulatedPayments(), minimum=1, transit_days=2, **when)
    session.commit()
    return lines


@pytest.fixture
def paid_out(session, buyer, buyer_org, plans) -> Payout:
    """An "Exclusive" sale (HKD 5,000.00 less the 10 % fee: 4,500.00 to the seller) made available and paid out,
    simulated: the payout is in transit."""
    buy(session, buyer, buyer_org, plans["Exclusive"])
    assert len(release_due(session, 0)) == 1
    [line] = pay_out(session)
    assert line.outcome.startswith("started PO-") and line.amount == 450000
    return session.scalars(select(Payout)).one()


@pytest.fixture
def colleague(session, seller_org):
    """A member of the seller organization who is not an owner."""
    user = factories.user(session, email="colleague@example.org", name="Cole League")
    session.add(Membership(user_id=user.id, organization_id=seller_org.id, role=MemberRole.MEMBER))
    session.commit()
    return user


def test_members_see_the_payouts_page_and_nobody_else(client, auth, session, seller):
    assert client.get(PAYOUTS).status_code in (302, 401)
    factories.user(session, email="other@example.org", organization="Other Org")
    session.commit()
    auth.login("other@example.org")
    for url in (PAYOUTS, "/seller/no-such-org/payouts"):
        assert client.get(url).status_code == 404, url
    auth.logout()
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert "<h1>Payouts</h1>" in page and "No payouts yet." in page and "No money owed to you yet." in page


def test_with_simulated_payments_the_page_says_how_payouts_are_made(client, auth, seller, app):
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    days = app.config["PAYOUT_TRANSIT_DAYS"]
    assert f"Payouts are simulated: what is available is paid out daily and arrives {days} days later." in page
    assert "Set up payouts with Stripe" not in page and "Continue with Stripe" not in page


def test_a_payout_run_shows_on_the_page_until_it_arrives(client, auth, session, seller, paid_out):
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert paid_out.number in page and "In transit" in page and "Expected " in page
    # Balances: nothing available or pending any more, the whole 4,500.00 in payout.
    row = page.split('scope="row">HKD</th>', 1)[1].split("</tr>", 1)[0]
    assert row.count("HK$0.00") == 3 and "HK$4,500.00" in row
    assert "A balance is paid out once it is at least HK$1.00." in page
    pay_out(session, now=utcnow() + timedelta(days=3))  # the simulated payout arrives
    session.refresh(paid_out)
    assert paid_out.status == PayoutStatus.PAID
    page = text(client.get(PAYOUTS))
    assert "In transit" not in page and ">Paid<" in page and "Paid " in page
    row = page.split('scope="row">HKD</th>', 1)[1].split("</tr>", 1)[0]
    assert row.count("HK$0.00") == 4  # paid out: the platform owes nothing more


def test_the_dashboard_and_statement_link_to_payouts_and_show_what_is_in_payout(client, auth, seller, paid_out):
    auth.login(seller.email)
    dashboard = text(client.get(f"{SELLER_ORG}/sales"))
    assert f'href="{PAYOUTS}"' in dashboard and "In payout" in dashboard and "HK$4,500.00" in dashboard
    assert f'href="{PAYOUTS}"' in text(client.get("/seller/"))
    statement = text(client.get(f"{SELLER_ORG}/statements/{MONTH}"))
    assert f'href="{PAYOUTS}"' in statement


def test_the_statement_shows_the_payout_started_and_the_money_back_when_it_fails(client, auth, session, seller,
                                                                               paid_out):
    auth.login(seller.email)
    page = text(client.get(f"{SELLER_ORG}/statements/{MONTH}"))
    assert "Payout started" in page and "-HK$4,500.00" in page and "Payout failed" not in page
    assert settle(session, paid_out, PayoutStatus.FAILED, "The bank account was closed.", utcnow())
    session.commit()
    page = text(client.get(f"{SELLER_ORG}/statements/{MONTH}"))
    assert "Payout started" in page and "Payout failed: money back" in page
    rows = list(csv.DictReader(io.StringIO(client.get(f"{SELLER_ORG}/statements/{MONTH}/csv")
                                           .get_data(as_text=True))))
    assert [(r["kind"], r["net"]) for r in rows] == [
        ("opening_balance", "0"), ("sale", "450000"), ("payout", "-450000"), ("payout_failed", "450000"),
        ("closing_balance", "450000")]
    payouts = text(client.get(PAYOUTS))
    assert ">Failed<" in payouts and "The bank account was closed." in payouts


def test_an_arrived_payout_makes_no_statement_line(client, auth, session, seller, paid_out):
    pay_out(session, now=utcnow() + timedelta(days=3))
    auth.login(seller.email)
    rows = list(csv.DictReader(io.StringIO(client.get(f"{SELLER_ORG}/statements/{MONTH}/csv")
                                           .get_data(as_text=True))))
    assert [r["kind"] for r in rows] == ["opening_balance", "sale", "payout", "closing_balance"]
    assert rows[-1]["net"] == "0"


def test_a_payout_the_bank_returned_after_it_arrived_shows_as_failed_with_its_money_back(client, auth, session,
                                                                                        seller, paid_out):
    pay_out(session, now=utcnow() + timedelta(days=3))
    assert settle(session, paid_out, PayoutStatus.FAILED, "The bank returned the payout.", utcnow())
    session.commit()
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert ">Failed<" in page and "The bank returned the payout." in page and "Paid " not in page
    row = page.split('scope="row">HKD</th>', 1)[1].split("</tr>", 1)[0]
    assert row.count("HK$0.00") == 3 and "HK$4,500.00" in row  # available again
    statement = text(client.get(f"{SELLER_ORG}/statements/{MONTH}"))
    assert "Payout started" in statement and "Payout failed: money back" in statement


def test_the_admin_sees_payouts_in_transit_and_failed(client, auth, session, admin, paid_out):
    auth.login(admin.email)
    page = text(client.get("/admin/finance"))
    section = page.split('id="payouts-heading"', 1)[1].split("</section>", 1)[0]
    assert paid_out.number in section and "Harbour Analytics" in section and "HK$4,500.00" in section
    assert "In transit" in section and "Simulated" in section
    settle(session, paid_out, PayoutStatus.FAILED, "The bank account was closed.", utcnow())
    session.commit()
    section = text(client.get("/admin/finance")).split('id="payouts-heading"', 1)[1].split("</section>", 1)[0]
    assert paid_out.number in section and "Failed" in section and "The bank account was closed." in section


def test_the_admin_list_leaves_out_paid_payouts(client, auth, session, admin, paid_out):
    pay_out(session, now=utcnow() + timedelta(days=3))
    auth.login(admin.email)
    section = text(client.get("/admin/finance")).split('id="payouts-heading"', 1)[1].split("</section>", 1)[0]
    assert paid_out.number not in section and "No payout is in transit or failed." in section


def test_the_api_lists_the_payout_account_and_payouts(api, session, paid_out):
    response = api.get(API)
    assert response.status_code == 200
    body = response.get_json()
    assert body["payout_account"] is None
    [payout] = body["payouts"]
    assert set(payout) == {"number", "currency", "amount", "status", "provider", "provider_reference",
                           "arrival_at", "paid_at", "failed_at", "failure", "created_at"}
    assert (payout["number"], payout["currency"], payout["amount"], payout["status"], payout["provider"]) == (
        paid_out.number, "HKD", 450000, "in_transit", "simulated")
    assert payout["arrival_at"] and payout["paid_at"] is None and payout["failure"] is None
    pay_out(session, now=utcnow() + timedelta(days=3))
    [payout] = api.get(API).get_json()["payouts"]
    assert payout["status"] == "paid" and payout["paid_at"]
    assert api.get("/api/v1/organizations/harbour-analytics/balances").get_json()[0]["in_payout"] == 0


def test_the_api_hides_the_payouts_from_strangers(client, session, seller):
    stranger = factories.user(session, email="other@example.org", organization="Other Org")
    token = factories.api_token(session, stranger)
    for url in (API, "/api/v1/organizations/no-such-org/payouts"):
        response = factories.TokenClient(client, token).get(url)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found", url
    response = client.get(API)
    assert response.status_code == 401 and set(response.get_json()) == {"status", "code", "message", "errors"}


def test_setting_up_stripe_while_payments_are_simulated_is_a_conflict_shown_on_the_page(client, auth, seller):
    auth.login(seller.email)
    response = client.post(f"{PAYOUTS}/stripe")
    assert response.status_code == 409
    page = text(response)
    assert "Payouts are simulated here: there is no payout account to set up." in page and "<h1>Payouts</h1>" in page


def test_stripe_sending_the_seller_back_while_payments_are_simulated_goes_to_the_page(client, auth, seller,
                                                                                    colleague):
    auth.login(seller.email)
    for url in (f"{PAYOUTS}/stripe/return", f"{PAYOUTS}/stripe/refresh"):
        response = client.get(url)
        assert response.status_code == 303 and response.location.endswith(PAYOUTS), url
    assert "Payouts are simulated here: there is no payout account to set up." in text(client.get(PAYOUTS))
    auth.logout()
    auth.login(colleague.email)
    response = client.get(f"{PAYOUTS}/stripe/refresh")
    assert response.status_code == 303 and response.location.endswith(PAYOUTS)
    page = text(client.get(PAYOUTS))  # only an owner continues at Stripe
    assert "The link to Stripe expired. An owner of Harbour Analytics can continue setting up payouts here." in page


# ---------------------------------------------------------------- payments through Stripe, Stripe not answering


@pytest.fixture
def stripe_down(app, monkeypatch):
    """Payments through Stripe, whose API is a loopback port nobody listens on: every call fails as an outage."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    payments = StripePayments(API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{port}",
                              max_network_retries=0)
    monkeypatch.setitem(app.extensions, "payments", payments)
    return payments


def account_of(session, org, **state) -> PayoutAccount:
    """The organization's connected account as Stripe last described it."""
    found = PayoutAccount(organization_id=org.id, provider="stripe", account_id="acct_1PagesTest", **state)
    session.add(found)
    session.commit()
    return found


def test_with_stripe_an_owner_is_offered_onboarding_and_a_member_is_told_who_does_it(client, auth, seller,
                                                                                    colleague, stripe_down):
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert "Set up payouts with Stripe" in page and f'action="{PAYOUTS}/stripe"' in page
    assert "Payouts are simulated" not in page
    auth.logout()
    auth.login(colleague.email)
    page = text(client.get(PAYOUTS))
    assert "Set up payouts with Stripe" not in page
    assert "An owner of Harbour Analytics sets up where payouts go." in page
    assert client.post(f"{PAYOUTS}/stripe").status_code == 403  # refused before Stripe is asked


def test_stripe_down_while_setting_up_shows_the_page_again_with_503(client, auth, session, seller, stripe_down):
    auth.login(seller.email)
    response = client.post(f"{PAYOUTS}/stripe")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    page = text(response)
    assert "Could not reach Stripe" in page and "Set up payouts with Stripe" in page and "<h1>Payouts</h1>" in page
    assert session.scalars(select(PayoutAccount)).all() == []


def test_an_account_stripe_still_needs_details_for_is_continued(client, auth, session, seller, seller_org,
                                                                stripe_down):
    account_of(session, seller_org, requirements_due=["external_account", "tos_acceptance.date"],
               disabled_reason="requirements.past_due")
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert "Stripe needs more details before it can pay you out." in page and "Continue with Stripe" in page
    assert "external_account" in page and "tos_acceptance.date" in page and "requirements.past_due" in page
    assert "Set up payouts with Stripe" not in page


def test_a_ready_account_is_named_with_stripes_last_refusal(client, auth, session, seller, seller_org, api,
                                                            stripe_down):
    account_of(session, seller_org, charges_enabled=True, payouts_enabled=True, details_submitted=True,
               last_error="Insufficient funds in Stripe account.")
    auth.login(seller.email)
    page = text(client.get(PAYOUTS))
    assert "Payouts go to your Stripe account acct_1PagesTest." in page
    assert "Stripe refused the last payout: Insufficient funds in Stripe account." in page
    assert "Continue with Stripe" not in page and "Set up payouts with Stripe" not in page
    assert api.get(API).get_json()["payout_account"] == {
        "provider": "stripe", "account_id": "acct_1PagesTest", "charges_enabled": True, "payouts_enabled": True,
        "requirements_due": []}


def test_coming_back_from_stripe_while_it_is_down_goes_to_the_page_with_the_error(client, auth, session, seller,
                                                                                  seller_org, stripe_down):
    account_of(session, seller_org, requirements_due=["external_account"])
    auth.login(seller.email)
    for url in (f"{PAYOUTS}/stripe/return", f"{PAYOUTS}/stripe/refresh"):
        response = client.get(url)
        assert response.status_code == 303 and response.location.endswith(PAYOUTS), url
        assert "Could not reach Stripe" in text(client.get(PAYOUTS)), url


# ---------------------------------------------------------------- onboarding at Stripe (the stub)


def test_an_owner_onboards_through_the_pages(client, auth, session, seller, stripe_stub, stripe_payments):
    auth.login(seller.email)
    response = client.post(f"{PAYOUTS}/stripe")
    assert response.status_code == 303 and response.location.startswith(f"{stripe_stub.url}/setup/")
    account = session.scalar(select(PayoutAccount))
    assert account.account_id in response.location and not account.ready
    [link] = stripe_stub.requests_to("POST", "/v1/account_links")
    assert link.params["return_url"] == f"http://localhost{PAYOUTS}/stripe/return"
    assert link.params["refresh_url"] == f"http://localhost{PAYOUTS}/stripe/refresh"
    # Back before finishing: what Stripe still needs, and the way back to it.
    response = client.get(f"{PAYOUTS}/stripe/return")
    assert response.status_code == 303 and response.location.endswith(PAYOUTS)
    page = text(client.get(PAYOUTS))
    assert "Stripe still needs some details before it can pay you" in page and "Continue with Stripe" in page
    assert "external_account" in page
    # The link expired: a new one for the same account.
    response = client.get(f"{PAYOUTS}/stripe/refresh")
    assert response.status_code == 303 and account.account_id in response.location
    assert len(stripe_stub.accounts) == 1 and len(stripe_stub.requests_to("POST", "/v1/account_links")) == 2
    stripe_stub.onboard(account.account_id)
    assert client.get(f"{PAYOUTS}/stripe/return").status_code == 303
    page = text(client.get(PAYOUTS))
    assert "Stripe accepted your payout account" in page
    assert f"Payouts go to your Stripe account {account.account_id}." in page and "Continue with Stripe" not in page
    session.refresh(account)
    assert account.ready


def test_stripe_refusing_to_open_the_account_shows_the_page_again_with_402(client, auth, session, seller, app,
                                                                           stripe_stub, stripe_payments, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_CONNECT_COUNTRY", "ZZ")
    auth.login(seller.email)
    response = client.post(f"{PAYOUTS}/stripe")
    assert response.status_code == 402
    page = text(response)
    assert "Country 'ZZ' is unknown" in page and "Set up payouts with Stripe" in page
    assert session.scalars(select(PayoutAccount)).all() == [] and stripe_stub.accounts == {}


# ---------------------------------------------------------------- in Chinese

WORDS = {"zh-Hans": ["结算付款", "余额", "付款中", "在途", "收款方式", "可结算"],
         "zh-Hant-HK": ["結算付款", "餘額", "付款中", "在途", "收款方式", "可結算"]}
ENGLISH = ["Payouts", "Payout", "Balances", "In payout", "In transit", "Payout method", "simulated", "Started",
           "Reference", "Expected", "Amount", "Status", "Pending", "Available", "Held for disputes", "Currency",
           "Monthly statements", "Sales dashboard", "Seller console", "newest first", "daily"]


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_payout_pages_read_in_chinese(client, auth, session, seller, admin, paid_out, tag):
    response = in_locale(client, auth, session, seller, tag).get(PAYOUTS)
    assert response.status_code == 200 and lang_of(response) == tag
    page = main_text(response)
    assert [w for w in WORDS[tag] if w not in page] == []
    assert [w for w in ENGLISH if w in page] == []
    admin_page = main_text(in_locale(client, auth, session, admin, tag).get("/admin/finance"))
    section = admin_page.split(WORDS[tag][0], 1)[1]
    assert "In transit" not in section and "Payouts" not in admin_page
    assert html.unescape(paid_out.number) in section


def test_a_seller_owing_money_after_a_refund_is_told_why(client, auth, session, seller, paid_out):
    order = session.scalar(select(Payout)).organization  # the seller's organization, paid out
    from marketplace.ledger import sales
    from marketplace.orders.models import Order

    sold = session.scalar(select(Order).where(Order.seller_organization_id == order.id))
    sales.record_refund(session, sales.Trade(sold.id, order.id, str(sold.currency), sold.amount, sold.fee_bps),
                        sold.amount)  # a refund after the payout: the seller owes it
    session.commit()
    page = main_text(in_locale(client, auth, session, seller, "en").get(PAYOUTS))
    assert "You owe" in page and "taken from your next sales" in page
