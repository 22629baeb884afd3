"""A provider's assessment fee, charged through the order machinery: the commissioning seller pays it by simulated
card or through Stripe (the loopback stub), the ledger writes the sale with the platform fee and the provider's
payable, the voucher, the provider's statement and payout follow; until it is paid the provider may neither read
the version's files nor sign; declining closes the fee order (cancelled unpaid, refunded paid); and no fee order
shows up where product sales are listed."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from marketplace.assessments import reports, services
from marketplace.crossborder.models import CrossBoundaryPosition
from marketplace.errors import Forbidden, InvalidTransition, ValidationFailed
from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.ledger.services import account_balances, order_balances, seller_balances, unbalanced_transactions
from marketplace.ledger.statements import statements
from marketplace.licensing.models import Licence, Voucher
from marketplace.licensing.vouchers import voucher_since
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.money import release_due
from marketplace.orders.states import OrderStatus
from marketplace.payments.simulated import SimulatedPayments
from marketplace.payouts.models import Payout
from marketplace.payouts.services import run_payouts
from tests import factories
from tests.assessments.conftest import QUALITY_REPORT
from tests.payments import conftest as stripe_fixtures
from tests.support.pages import main
from tests.support.stripe_stub import WEBHOOK_SECRET, event_payload, signed_event

# The Stripe stub and the app's payments pointed at it, as the payment tests use them.
stripe_stub, stripe_payments = stripe_fixtures.stripe_stub, stripe_fixtures.stripe_payments

FEE = 880000  # CNY 8,800.00
NET = FEE - FEE // 10  # less the default 10 % platform fee
CARD = "4242424242424242"


def accepted_with_fee(session, seller, submitted, provider, assessor, fee=FEE, currency="CNY"):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    services.decide_request(session, assessor, asked, accept=True, fee=fee, currency=currency)
    session.commit()
    return asked


def fee_order(session, assessment) -> Order:
    session.expire_all()
    return session.scalar(select(Order).where(Order.assessment_id == assessment.id))


def pay_by_card(session, user, order) -> Order:
    orders.start_checkout(session, user, order, SimulatedPayments(), success_url="/ok", cancel_url="/cancel")
    orders.pay_with_test_card(session, user, order, CARD)
    session.commit()
    return order


def balanced(session) -> None:
    assert unbalanced_transactions(session) == []
    totals: dict[str, int] = {}
    for acct, balance in account_balances(session):
        totals[acct.currency] = totals.get(acct.currency, 0) + acct.kind.normal_sign * balance
    assert set(totals.values()) <= {0}, totals


@pytest.fixture
def asked(session, seller, submitted, provider, assessor):
    return accepted_with_fee(session, seller, submitted, provider, assessor)


# ---------------------------------------------------------------- accepting


def test_accepting_with_a_fee_opens_its_order_for_the_commissioning_seller(session, seller, seller_org,
                                                                        provider_org, asked):
    order = fee_order(session, asked)
    assert (order.buyer_organization_id, order.seller_organization_id) == (seller_org.id, provider_org.id)
    assert (order.amount, str(order.currency), order.fee_bps) == (FEE, "CNY", 1000)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.deadline is None
    assert (order.plan_id, order.product_id, order.version_id, order.purpose) == (None, None, None, None)
    told = session.scalars(select(Notification.subject).where(Notification.user_id == seller.id)).all()
    assert f"Pay the fee of {asked.number}" in told


def test_accepting_without_a_fee_opens_no_order_and_the_version_at_once(session, seller, submitted, provider,
                                                                        assessor):
    for fee in (None, 0):
        asked = services.request_assessment(session, seller, submitted, provider,
                                            "quality" if fee is None else "compliance")
        services.decide_request(session, assessor, asked, accept=True, fee=fee, currency="HKD")
        assert fee_order(session, asked) is None
        assert services.assessed_asset(asked, submitted.assets[0].id) is not None


def test_a_refused_fee_names_the_amount_as_the_form_takes_it(session, seller, submitted, provider, assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    for fee, currency in ((-1, "HKD"), (10**20, "HKD"), (100, "EUR")):
        with pytest.raises(ValidationFailed) as refused:
            services.decide_request(session, assessor, asked, accept=True, fee=fee, currency=currency)
        assert "minor" not in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        services.decide_request(session, assessor, asked, accept=True, fee=-1, currency="HKD")
    assert "1200.00" in refused.value.message and "HKD" in refused.value.message
    assert session.scalar(select(func.count(Order.id))) == 0


# ---------------------------------------------------------------- unpaid, paid


def test_while_unpaid_the_provider_reads_no_file_and_cannot_sign(session, assessor, asked, submitted):
    with pytest.raises(Forbidden):
        services.assessed_asset(asked, submitted.assets[0].id)
    with pytest.raises(Forbidden):
        reports.sign_report(session, assessor, asked, QUALITY_REPORT)


def test_a_seller_pays_by_simulated_card_through_the_pages(client, auth, session, seller, seller_org, provider_org,
                                                           assessor, asked, submitted):
    work = f"/provider/{provider_org.slug}/assessments/{asked.number}"
    file_url = f"{work}/files/{submitted.assets[0].id}"
    auth.login(assessor.email)
    assert "Fee unpaid" in main(client.get(f"/provider/{provider_org.slug}/assessments"))
    page = main(client.get(work))
    assert "Fee unpaid" in page and file_url not in page and 'id="report"' not in page
    assert client.get(file_url).status_code == 403
    auth.logout()

    auth.login(seller.email)
    mine = f"/seller/{seller_org.slug}/assessments"
    assert "Pay the fee" in main(client.get(mine))
    order = fee_order(session, asked)
    started = client.post(f"{mine}/{asked.number}/fee")
    assert started.status_code == 303 and started.headers["Location"] == f"/orders/{order.id}/checkout"
    whole = client.get(f"/orders/{order.id}/checkout").get_data(as_text=True)
    checkout = main(client.get(f"/orders/{order.id}/checkout"))
    assert asked.number in checkout and provider_org.name in checkout and "Data service provider" in checkout
    assert order.number not in whole  # the seller cannot open the order behind the fee: the page never names it
    declined = client.post(f"/orders/{order.id}/checkout", data={"card_number": "4000000000000002"})
    assert declined.status_code == 402 and fee_order(session, asked).status == OrderStatus.AWAITING_PAYMENT
    paid = client.post(f"/orders/{order.id}/checkout", data={"card_number": CARD})
    assert paid.status_code == 302 and paid.headers["Location"] == mine
    page = main(client.get(mine))
    assert "Pay the fee" not in page and "Fee paid" in page and "Transaction voucher" in page
    # the fee order is no product order: the buyer's order pages do not know it
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert order.number not in main(client.get("/orders"))
    auth.logout()

    auth.login(assessor.email)
    assert "Fee paid" in main(client.get(work))
    assert client.get(file_url).status_code == 200
    reports.sign_report(session, assessor, asked, QUALITY_REPORT)


def test_a_paid_fee_is_a_sale_in_the_ledger_with_its_voucher_statement_and_payout(client, auth, session, seller,
                                                                                  provider_owner, provider_org,
                                                                                  asked):
    order = pay_by_card(session, seller, fee_order(session, asked))
    assert order.status == OrderStatus.FULFILLED and order.licence is None
    assert session.scalar(select(func.count(Licence.id))) == 0
    assert order_balances(session, order.id) == {AccountKind.PROVIDER_CASH: FEE, AccountKind.PLATFORM_FEE: FEE - NET,
                                                 AccountKind.SELLER_PENDING: NET}
    assert seller_balances(session, provider_org.id)["CNY"][AccountKind.SELLER_PENDING] == NET
    balanced(session)
    voucher = session.scalar(select(Voucher).where(Voucher.order_id == order.id))
    assert voucher.licence_id is None and voucher.statement["assessment"]["number"] == asked.number
    assert (voucher.statement["amount"], voucher.statement["platform_fee"], voucher.statement["seller_net"]) == (
        FEE, FEE - NET, NET)
    assert voucher.statement["seller"]["id"] == provider_org.id

    today = order.paid_at.date()
    [sheet] = statements(session, provider_org.id, date(today.year, today.month, 1), ZoneInfo("UTC"))
    [line] = sheet.lines
    assert (line.order_id, line.gross, line.net) == (order.id, FEE, NET)

    auth.login(provider_owner.email)
    month = f"{today:%Y-%m}"
    page = main(client.get(f"/seller/{provider_org.slug}/statements/{month}"))
    assert f"Assessment fee {asked.number}" in page
    csv = client.get(f"/seller/{provider_org.slug}/statements/{month}/csv").get_data(as_text=True)
    assert asked.number in csv and str(NET) in csv
    assert asked.number in main(client.get(f"/vouchers/{voucher.number}"))
    auth.logout()
    auth.login(seller.email)  # the paying organization reads its voucher too
    assert client.get(f"/vouchers/{voucher.number}").status_code == 200

    assert release_due(session, 0)
    [line] = run_payouts(session, SimulatedPayments(), minimum=1, transit_days=2)
    payout = session.scalar(select(Payout))
    assert (payout.organization_id, payout.currency, payout.amount) == (provider_org.id, "CNY", NET)
    session.commit()
    auth.logout()
    auth.login(provider_owner.email)
    assert payout.number in main(client.get(f"/seller/{provider_org.slug}/payouts"))
    balanced(session)


def test_a_seller_pays_through_stripe(client, auth, session, seller, seller_org, assessor, asked, submitted,
                                      stripe_payments, stripe_stub):
    order = fee_order(session, asked)
    auth.login(seller.email)
    started = client.post(f"/seller/{seller_org.slug}/assessments/{asked.number}/fee")
    session_id = fee_order(session, asked).payment_reference
    assert started.status_code == 303 and started.headers["Location"] == stripe_stub.session(session_id)["url"]
    [created] = stripe_stub.requests_to("POST", "/v1/checkout/sessions")
    [item] = created.params["line_items"]
    assert item["price_data"]["product_data"]["name"] == f"Assessment fee {asked.number}"
    assert int(item["price_data"]["unit_amount"]) == FEE and item["price_data"]["currency"] == "cny"
    assert fee_order(session, asked).status == OrderStatus.AWAITING_PAYMENT  # coming back from Stripe pays nothing
    stripe_stub.complete(session_id)
    body, signature = signed_event(event_payload("checkout.session.completed", stripe_stub.session(session_id)),
                                   WEBHOOK_SECRET)
    response = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature},
                           content_type="application/json")
    assert response.status_code == 200, response.get_json()
    order = fee_order(session, asked)
    assert order.status == OrderStatus.FULFILLED and order.payment_provider == "stripe"
    assert order_balances(session, order.id)[AccountKind.SELLER_PENDING] == NET
    assert services.assessed_asset(asked, submitted.assets[0].id) is not None
    balanced(session)


def test_a_stripe_checkout_that_expires_leaves_the_fee_to_pay_again(client, session, seller, asked, stripe_payments,
                                                                    stripe_stub):
    order = fee_order(session, asked)
    orders.start_checkout(session, seller, order, stripe_payments, success_url="http://x/ok",
                          cancel_url="http://x/cancel")
    session.commit()
    first = order.payment_reference
    body, signature = signed_event(event_payload("checkout.session.expired", stripe_stub.expire(first)),
                                   WEBHOOK_SECRET)
    assert client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature},
                       content_type="application/json").status_code == 200
    order = fee_order(session, asked)
    assert order.status == OrderStatus.AWAITING_PAYMENT
    orders.start_checkout(session, seller, order, stripe_payments, success_url="http://x/ok",
                          cancel_url="http://x/cancel")
    assert order.payment_reference != first


# ---------------------------------------------------------------- declining closes the fee order


def test_declining_an_unpaid_fee_cancels_its_order(client, auth, session, seller, seller_org, assessor, asked):
    with pytest.raises(InvalidTransition):  # a plain decision on a request accepted meanwhile is refused
        services.decide_request(session, assessor, asked, accept=False, reason="Busy.")
    session.rollback()
    services.decide_request(session, assessor, asked, accept=False, reason="We cannot staff it.",
                            after_accepting=True)
    session.commit()
    order = fee_order(session, asked)
    assert order.status == OrderStatus.CANCELLED and order.closed_at is not None
    assert order_balances(session, order.id) == {}
    auth.login(seller.email)
    mine = f"/seller/{seller_org.slug}/assessments"
    assert "Pay the fee" not in main(client.get(mine))
    refused = client.post(f"{mine}/{asked.number}/fee", follow_redirects=True)
    assert "not awaiting payment" in main(refused)
    assert fee_order(session, asked).payment_reference is None


def test_declining_a_paid_request_refunds_the_fee(client, auth, session, seller, seller_org, provider_org, assessor,
                                                  asked):
    order = pay_by_card(session, seller, fee_order(session, asked))
    auth.login(assessor.email)
    work = f"/provider/{provider_org.slug}/assessments/{asked.number}"
    assert client.post(f"{work}/decline", data={"reason": "A conflict of interest."}).status_code == 303
    order = fee_order(session, asked)
    assert order.status == OrderStatus.REFUNDED and order.refund_reference.startswith("sim_re_")
    assert str(asked.status) == "declined"
    assert seller_balances(session, provider_org.id)["CNY"].get(AccountKind.SELLER_PENDING, 0) == 0
    assert order_balances(session, order.id).get(AccountKind.PROVIDER_CASH) == 0
    assert voucher_since(session, order.voucher).code == "refunded"
    balanced(session)
    auth.logout()
    auth.login(seller.email)
    assert "Fee refunded" in main(client.get(f"/seller/{seller_org.slug}/assessments"))


def test_declining_a_request_paid_through_stripe_refunds_it_at_stripe(session, seller, assessor, asked,
                                                                      stripe_payments, stripe_stub):
    order = fee_order(session, asked)
    orders.start_checkout(session, seller, order, stripe_payments, success_url="http://x/ok",
                          cancel_url="http://x/cancel")
    completed = stripe_stub.complete(order.payment_reference)
    orders.confirm_payment(session, order, provider="stripe", payment_reference=completed["payment_intent"])
    session.commit()
    services.decide_request(session, assessor, asked, accept=False, reason="Withdrawn.", after_accepting=True)
    session.commit()
    [refund] = stripe_stub.refunds.values()
    assert refund["payment_intent"] == completed["payment_intent"] and refund["amount"] == FEE
    assert fee_order(session, asked).status == OrderStatus.REFUNDED
    balanced(session)


def test_a_signed_request_is_not_declined_nor_its_fee_refunded(session, seller, assessor, asked):
    order = pay_by_card(session, seller, fee_order(session, asked))
    reports.sign_report(session, assessor, asked, QUALITY_REPORT)
    session.commit()
    with pytest.raises(InvalidTransition):
        services.decide_request(session, assessor, asked, accept=False, reason="Late.", after_accepting=True)
    session.rollback()
    assert fee_order(session, asked).status == OrderStatus.FULFILLED and order.refund_reference is None


# ---------------------------------------------------------------- nothing leaks into product sales


def test_fee_orders_stay_out_of_product_sale_places(client, auth, session, api, seller, seller_org, admin,
                                                    reviewer, provider_owner, provider_org, asked):
    order = pay_by_card(session, seller, fee_order(session, asked))
    assert orders.buyer_orders(session, seller) == []
    assert orders.seller_orders(session, provider_owner, provider_org) == []
    assert orders.all_orders(session, admin, 50, 0) == ([order], 1)  # the platform admin sees it, marked a fee
    assert session.scalar(select(func.count(Licence.id))) == 0
    assert session.scalar(select(func.count(CrossBoundaryPosition.id))) == 0
    assert api.get(f"/api/v1/orders/{order.id}").status_code == 404
    assert api.post(f"/api/v1/orders/{order.id}/cancel").status_code == 404
    auth.login(provider_owner.email)
    assert client.get(f"/seller/{provider_org.slug}/orders/{order.id}").status_code == 404
    dashboard = client.get(f"/seller/{provider_org.slug}/sales")
    assert dashboard.status_code == 200 and order.number not in main(dashboard)
    auth.logout()
    auth.login(reviewer.email)  # no trade of data: nothing for the cross-boundary reviewers
    assert client.get(f"/review/orders/{order.id}").status_code == 404
    assert order.number not in main(client.get("/review/orders/"))
    # the ledger still has it: it is money the provider is owed
    assert session.scalar(select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.order_id == order.id, LedgerTransaction.kind == TransactionKind.SALE)) == 1


def test_another_organization_cannot_pay_or_see_the_fee(client, auth, session, asked):
    stranger = factories.user(session, email="nosy@example.org", organization="Nosy Ltd")
    session.commit()
    auth.login(stranger.email)
    own = stranger.memberships[0].organization.slug
    assert client.post(f"/seller/{own}/assessments/{asked.number}/fee").status_code == 404
    order = fee_order(session, asked)
    assert client.get(f"/orders/{order.id}/checkout").status_code == 404


# ---------------------------------------------------------------- the seller withdraws instead of paying


def test_withdrawing_a_request_with_an_unpaid_fee_cancels_its_order(client, auth, session, seller, seller_org,
                                                                    provider_org, assessor, asked, submitted):
    auth.login(seller.email)
    mine = f"/seller/{seller_org.slug}/assessments"
    assert "Withdraw the request" in main(client.get(mine))
    assert client.post(f"{mine}/{asked.number}/withdraw").status_code == 303
    order = fee_order(session, asked)
    assert order.status == OrderStatus.CANCELLED and str(asked.status) == "cancelled"
    assert "Pay the fee" not in main(client.get(mine))
    auth.logout()
    auth.login(assessor.email)
    work = f"/provider/{provider_org.slug}/assessments/{asked.number}"
    assert client.get(f"{work}/files/{submitted.assets[0].id}").status_code == 403
    told = session.scalars(select(Notification.subject).where(Notification.user_id == assessor.id)).all()
    assert f"Harbour Analytics withdrew assessment request {asked.number}" in told


def test_a_paid_or_free_accepted_request_is_not_withdrawn(client, auth, session, seller, seller_org, submitted,
                                                          provider, assessor, asked):
    pay_by_card(session, seller, fee_order(session, asked))
    free = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, free, accept=True)
    session.commit()
    auth.login(seller.email)
    for request in (asked, free):
        refused = client.post(f"/seller/{seller_org.slug}/assessments/{request.number}/withdraw",
                              follow_redirects=True)
        assert "ask it to decline the request" in main(refused)
        session.expire_all()
        assert str(request.status) == "accepted"
    assert fee_order(session, asked).status == OrderStatus.FULFILLED
    stranger = factories.user(session, email="other@example.org", organization="Other Ltd")
    session.commit()
    auth.logout()
    auth.login(stranger.email)
    own = stranger.memberships[0].organization.slug
    assert client.post(f"/seller/{own}/assessments/{asked.number}/withdraw").status_code == 404
