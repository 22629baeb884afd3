"""What a first-time buyer met on the licence pages: a purpose the plan does not permit is refused everywhere and
never offered; a licence renewed already says so and every renewal names the period it buys; a suspended
product's licence offers no renewal and a renewal posted anyway is a 409 with the reason; a renewal bought ahead is
"Scheduled", with its own notice; an open order is said before the form, not after it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace import i18n
from marketplace.errors import Conflict, ValidationFailed
from marketplace.licensing.models import Licence
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.review import services as review
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.licensing.test_buyer_views import GOOD_CARD, fresh, license_url, order_id_of, pay, place, request_form


@pytest.fixture
def buyer_client(client, auth, buyer):
    auth.login(buyer.email)
    return client


def days(client, *moments) -> list[str]:
    with client.application.test_request_context("/"):  # the reader's zone and words
        return [i18n.day(moment) for moment in moments]


def renewed_monthly(session, buyer_client, buyer_org, offer) -> tuple[Licence, Licence]:
    """A paid monthly licence and its paid renewal, which starts when the first ends."""
    order_id = place(buyer_client, offer, "Monthly", buyer_org, purpose="commercial_product")
    pay(buyer_client, order_id)
    first = fresh(session, Order, order_id).licence
    renewal_id = order_id_of(buyer_client.post(f"/licences/{first.id}/renew", data={"accept_terms": "y"}))
    pay(buyer_client, renewal_id)
    return fresh(session, Licence, first.id), fresh(session, Order, renewal_id).licence


# ---------------------------------------------------------------- the purpose is one the plan permits


@pytest.mark.parametrize("purpose", ["public_service", "other", "commercial_product"])
def test_the_licence_form_refuses_a_purpose_the_plan_does_not_permit(session, buyer_client, buyer_org, offer,
                                                                      purpose):
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Open research"]),
                                 data=request_form(buyer_org, purpose=purpose))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "It permits: research, internal analysis." in page
    assert session.scalar(select(Order.id)) is None


def test_the_api_refuses_a_purpose_the_plan_does_not_permit(session, client, buyer, buyer_org, plans):
    token = factories.api_token(session, buyer)
    body = {"plan_id": plans["Monthly"].id, "organization": buyer_org.slug, "accept_terms": True,
            "scenario": {**SCENARIO, "purpose": "public_service"}}
    refused = client.post("/api/v1/orders", json=body, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422
    assert "is not a use a plan's terms can permit" in refused.json["errors"]["purpose"][0]


def test_a_renewal_checks_the_copied_purpose_again(session, buyer, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Monthly", buyer_org)
    pay(buyer_client, order_id)
    licence = fresh(session, Order, order_id).licence
    licence.scenario = {**licence.scenario, "purpose": "public_service"}  # taken before the rule
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        orders.renew_licence(session, buyer, licence, accept_terms=True)
    assert "a renewal keeps the scenario" in refused.value.message and "purpose" in refused.value.errors
    session.rollback()
    response = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})
    assert response.status_code == 422 and "a renewal keeps the scenario" in response.get_data(as_text=True)
    assert session.query(Order).count() == 1


def test_chinese_sentences_of_a_refusal_are_joined_without_a_space(session, buyer, buyer_client, buyer_org, offer):
    product, plans = offer
    buyer.locale = "zh-Hant-HK"
    session.commit()
    page = buyer_client.post(license_url(product, plans["Open research"]),
                             data=request_form(buyer_org, purpose="public_service")).get_data(as_text=True)
    main = re.sub(r"<[^>]+>", "", re.search(r"<main>(.*)</main>", page, re.S).group(1))
    assert "該方案允許" in main and "。 " not in main


# ---------------------------------------------------------------- renewing, and renewing again


def test_a_renewed_licence_says_so_and_the_next_renewal_names_its_period(session, buyer_client, buyer_org, offer):
    first, renewal = renewed_monthly(session, buyer_client, buyer_org, offer)
    assert renewal.valid_from == first.valid_until
    page = buyer_client.get(f"/licences/{first.id}").get_data(as_text=True)
    renewed_to = days(buyer_client, renewal.valid_until)[0]
    assert f"Already renewed to {renewed_to}" in page and renewal.serial in page
    assert "It starts when this period ends" not in page
    start = re.search(r"for the period (.+?) to (.+?)\.", page)
    assert start and start.group(1) == renewed_to  # the next renewal continues the renewal, and says so

    response = buyer_client.post(f"/licences/{first.id}/renew", data={"accept_terms": "y"})
    third = fresh(session, Order, order_id_of(response))
    followed = buyer_client.get(f"/orders/{third.id}").get_data(as_text=True)
    assert f"The renewal covers {renewed_to} to {start.group(2)}." in followed  # the flash
    assert f"{renewed_to} to {start.group(2)}" in followed.split("What you ordered")[1]  # the order
    pay(buyer_client, third.id)
    receipt = buyer_client.get(f"/orders/{third.id}").get_data(as_text=True).split('id="receipt"')[1]
    next_end = fresh(session, Order, third.id).licence.valid_until
    assert f"{renewed_to} to {days(buyer_client, next_end)[0]}" in receipt


# ---------------------------------------------------------------- a suspended product


def test_a_suspended_product_offers_no_renewal_and_a_posted_one_is_409(session, buyer, buyer_client, buyer_org,
                                                                        offer, reviewer):
    product, _ = offer
    order_id = place(buyer_client, offer, "Monthly", buyer_org)
    pay(buyer_client, order_id)
    licence = fresh(session, Order, order_id).licence
    review.suspend_product(session, reviewer, product, "Source licence under review.")
    session.commit()
    page = buyer_client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert "Downloads and renewals are paused" in page and "Source licence under review." in page
    assert f'action="/licences/{licence.id}/renew"' not in page
    response = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "Downloads and renewals are paused" in text
    assert "not offered any more" not in text
    with pytest.raises(Conflict):
        orders.renew_licence(session, buyer, fresh(session, Licence, licence.id), accept_terms=True)
    session.rollback()
    buyer.locale = "zh-Hans"
    session.commit()
    chinese = buyer_client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert "下载已暂停。</strong>Source licence under review." in chinese  # no space after 。
    refused = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"}).get_data(as_text=True)
    assert "续订均已暂停。Source licence under review." in refused


def test_an_order_of_a_product_suspended_before_payment_takes_no_money(session, buyer, buyer_client, buyer_org,
                                                                       offer, reviewer):
    product, _ = offer
    first = place(buyer_client, offer, "Monthly", buyer_org)
    pay(buyer_client, first)
    licence = fresh(session, Order, first).licence
    renewal = order_id_of(buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"}))
    assert buyer_client.post(f"/orders/{renewal}/pay").status_code == 302  # the simulated checkout is open
    review.suspend_product(session, reviewer, product, "Source licence under review.")
    session.commit()

    page = buyer_client.get(f"/orders/{renewal}").get_data(as_text=True)
    assert "Payments for this product are paused while it is suspended." in page
    assert "Source licence under review." in page and f'action="/orders/{renewal}/pay"' not in page
    for url, data in ((f"/orders/{renewal}/pay", {}), (f"/orders/{renewal}/checkout", {"card_number": GOOD_CARD})):
        response = buyer_client.post(url, data=data)
        assert response.status_code == 409, url
        assert "Payments for this product are paused" in response.get_data(as_text=True)
    assert fresh(session, Order, renewal).status == OrderStatus.AWAITING_PAYMENT and not fresh(
        session, Order, renewal).licence


# ---------------------------------------------------------------- a renewal bought ahead


def test_a_renewal_bought_ahead_is_scheduled_with_its_own_notice(session, buyer, buyer_client, buyer_org, offer):
    first, renewal = renewed_monthly(session, buyer_client, buyer_org, offer)
    start, end = days(buyer_client, renewal.valid_from, renewal.valid_until)
    for url in (f"/licences/{renewal.id}", "/licences"):
        page = buyer_client.get(url).get_data(as_text=True)
        assert f'<span class="badge badge-scheduled">Scheduled</span> <span class="muted small">starts {start}' \
            in page, url
    detail = buyer_client.get(f"/licences/{renewal.id}").get_data(as_text=True)
    assert "badge-active" not in detail  # neither in the heading nor under Validity
    order_page = buyer_client.get(f"/orders/{renewal.order_id}").get_data(as_text=True)
    assert "badge-active" not in order_page.split("<h2>Licence</h2>")[1] and "badge-scheduled" in order_page
    notes = session.scalars(select(Notification).where(Notification.user_id == buyer.id)).all()
    scheduled = [n for n in notes if renewal.serial in n.subject]
    assert [n.subject for n in scheduled] == [f"Licence {renewal.serial} scheduled"]
    assert "is scheduled: it starts on" in scheduled[0].body and "is active" not in scheduled[0].body
    certificate = buyer_client.get(f"/certificates/{renewal.serial}").get_data(as_text=True)  # the public page
    assert "This licence is scheduled: it grants use from" in certificate
    assert "This licence is active." not in certificate
    assert "badge-scheduled" in certificate.split("</h1>")[0]


# ---------------------------------------------------------------- open orders, said before the form


def test_an_open_order_is_said_on_the_form_and_the_licence_page(session, buyer_client, buyer_org, offer):
    product, plans = offer
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    number = fresh(session, Order, order_id).number
    page = buyer_client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    assert "You have an open order" in page and f'href="/orders/{order_id}"' in page and number in page

    monthly = place(buyer_client, offer, "Monthly", buyer_org)
    pay(buyer_client, monthly)
    licence = fresh(session, Order, monthly).licence
    renewal_id = order_id_of(buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"}))
    detail = buyer_client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert f'href="/orders/{renewal_id}"' in detail and "You have an open order" in detail
    assert f'action="/licences/{licence.id}/renew"' not in detail
    request_page = buyer_client.get(license_url(product, plans["Monthly"])).get_data(as_text=True)
    assert f'href="/orders/{renewal_id}"' in request_page and "#renew" not in request_page


def test_a_plan_held_with_no_expiry_shows_no_form(session, buyer_client, buyer_org, offer):
    product, plans = offer
    place(buyer_client, offer, "Open research", buyer_org)
    page = buyer_client.get(license_url(product, plans["Open research"])).get_data(as_text=True)
    assert "nothing more to order" in page and 'name="purpose"' not in page and "Request licence" not in page


# ---------------------------------------------------------------- the order page, the scenario's description


def test_a_free_order_reads_free_and_every_time_has_one_format(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "<strong>Free</strong>" in page and "Free (" not in page
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", page)  # no short date beside the long ones
    listing = buyer_client.get("/orders").get_data(as_text=True)
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", listing)


def test_the_description_has_one_limit_and_one_message(session, buyer_client, buyer_org, offer):
    product, plans = offer
    form = buyer_client.get(license_url(product, plans["Open research"])).get_data(as_text=True)
    rule = "Describe the use in your own words, 20 to 2,000 characters."
    assert rule in form and 'maxlength="2000"' in form
    for text in ("too short", "x" * 2001, "y" * 4001):
        page = buyer_client.post(license_url(product, plans["Open research"]),
                                 data=request_form(buyer_org, description=text)).get_data(as_text=True)
        errors = re.search(r'id="description-errors"[^>]*>(.*?)</ul>', page, re.S).group(1)
        assert re.findall(r"<li>(.*?)</li>", errors) == [rule], text


@pytest.mark.parametrize(("plan", "words"), [
    ({"kind": "subscription", "billing_period": "year", "amount": 1200000}, "renews yearly"),
    ({"kind": "subscription", "billing_period": "month", "amount": 68000}, "renews monthly"),
    ({"kind": "one_time", "amount": 500, "duration_days": 30}, "30 days"),
    ({"kind": "free", "amount": 0}, "no expiry"),
])
def test_a_plan_says_how_long_it_runs(app, plan, words):
    from marketplace.listings.models import PricingPlan
    from marketplace.listings.view_helpers import plan_period_words

    with app.test_request_context("/"):
        assert plan_period_words(PricingPlan(name="P", currency="HKD", **plan)) == words
