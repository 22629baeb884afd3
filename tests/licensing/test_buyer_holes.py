"""What the buyer meets on the pages: the product page knows the plans their organization holds (period, files,
downloads) and offers renewal instead of a second order; the scenario form offers only what the plan allows; a
suspended product's licence says downloads are paused, with the reason and no dead link; a free licence's order page
has its download buttons; the receipt names the plan once; notifications name products by title."""
from __future__ import annotations

import re

import pytest

from marketplace.listings.states import ProductStatus
from marketplace.notifications.models import Notification
from marketplace.orders.models import Order
from marketplace.review import services as review
from tests.licensing.test_buyer_views import fresh, license_url, order_id_of, pay, place


@pytest.fixture
def buyer_client(client, auth, buyer):
    auth.login(buyer.email)
    return client


def main(page: str) -> str:
    return re.search(r"<main>(.*)</main>", page, re.S).group(1)


def deliverable_url(product) -> str:
    asset = next(a for a in product.listed_version.assets if a.kind.value == "deliverable")
    return f"/products/{product.slug}/assets/{asset.id}"


def test_the_product_page_shows_a_plan_held_with_no_expiry_and_its_downloads(session, buyer_client, buyer_org,
                                                                            offer):
    product, plans = offer
    before = buyer_client.get(f"/products/{product.slug}").get_data(as_text=True)
    assert 'id="your-licences"' not in before and license_url(product, plans["Open research"]) in before

    order_id = place(buyer_client, offer, "Open research", buyer_org)
    licence = fresh(session, Order, order_id).licence
    page = main(buyer_client.get(f"/products/{product.slug}").get_data(as_text=True))
    assert 'id="your-licences"' in page and licence.serial in page and "no expiry" in page
    assert f'href="{deliverable_url(product)}"' in page and "Download " in page
    assert license_url(product, plans["Open research"]) not in page  # held: nothing more to order
    assert "holds this plan with no expiry: there is nothing more to order" in page
    assert license_url(product, plans["Exclusive"]) in page  # the others are still offered

    request_page = buyer_client.get(license_url(product, plans["Open research"])).get_data(as_text=True)
    assert "already holds this plan with no expiry" in request_page
    again = buyer_client.post(license_url(product, plans["Open research"]), data={
        "purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": "2",
        "description": "Academic study of congestion on Hong Kong strategic roads.",
        "organization_id": str(buyer_org.id), "accept_terms": "y"})
    assert again.status_code == 409 and "nothing more to order" in again.get_data(as_text=True)
    assert session.query(Order).filter_by(plan_id=plans["Open research"].id).count() == 1


def test_a_plan_held_with_an_expiry_is_offered_for_renewal(session, buyer_client, buyer_org, offer):
    product, plans = offer
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    pay(buyer_client, order_id)
    licence = fresh(session, Order, order_id).licence
    page = main(buyer_client.get(f"/products/{product.slug}").get_data(as_text=True))
    assert f'href="/licences/{licence.id}#renew"' in page and "Renew from" in page
    assert license_url(product, plans["Exclusive"]) not in page
    request_page = buyer_client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    assert "already holds this plan until" in request_page and f'/licences/{licence.id}#renew' in request_page
    detail = buyer_client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert f'action="/licences/{licence.id}/renew"' in detail


def test_a_renewal_already_ordered_is_named_on_the_product_page_in_place_of_renew(session, buyer_client, buyer_org,
                                                                                 offer):
    product, plans = offer
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    pay(buyer_client, order_id)
    licence = fresh(session, Order, order_id).licence
    response = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})
    renewal = fresh(session, Order, order_id_of(response))  # ordered, not yet paid
    page = main(buyer_client.get(f"/products/{product.slug}").get_data(as_text=True))
    assert f"Your open order {renewal.number} renews it." in page and f'href="/orders/{renewal.id}"' in page
    assert "Renew from" not in page and f'href="/licences/{licence.id}#renew"' not in page


def test_an_order_in_progress_is_named_on_the_product_page_beside_the_plan(session, buyer_client, buyer_org, offer):
    product, plans = offer
    order = fresh(session, Order, place(buyer_client, offer, "Exclusive", buyer_org))  # placed, not paid
    page = main(buyer_client.get(f"/products/{product.slug}").get_data(as_text=True))
    assert f"You have an open order {order.number} for this plan (awaiting payment)." in page
    assert f'href="/orders/{order.id}"' in page
    assert page.count(f"open order {order.number}") == 2  # the plans grid and the licence card; no other plan


def test_the_scenario_form_offers_only_what_the_plan_allows(buyer_client, offer):
    product, plans = offer
    page = buyer_client.get(license_url(product, plans["Open research"])).get_data(as_text=True)
    purposes = re.search(r'<select[^>]*name="purpose".*?</select>', page, re.S).group(0)
    territories = re.search(r'<select[^>]*name="territory".*?</select>', page, re.S).group(0)
    assert 'value="research"' in purposes and 'value="internal_analysis"' in purposes
    assert 'value="commercial_product"' not in purposes and 'value="ai_training"' not in purposes
    assert 'value="other"' not in purposes and 'value="public_service"' not in purposes
    assert '<option selected value="hong_kong">' in territories
    assert 'value="mainland_china"' not in territories and 'value="worldwide"' not in territories
    worldwide = buyer_client.get(license_url(product, plans["Monthly"])).get_data(as_text=True)
    assert 'value="commercial_product"' in worldwide and 'value="mainland_china"' in worldwide


def test_a_suspended_product_pauses_downloads_with_the_reason_and_no_link(session, buyer_client, buyer_org, offer,
                                                                        reviewer):
    product, _ = offer
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    licence_id = fresh(session, Order, order_id).licence.id
    review.suspend_product(session, reviewer, product, "Source licence under review.")
    session.commit()
    assert product.status == ProductStatus.SUSPENDED
    for url in ("/licences", f"/licences/{licence_id}", f"/orders/{order_id}"):
        page = main(buyer_client.get(url).get_data(as_text=True))
        assert "Downloads paused." in page and "Source licence under review." in page, url
        assert deliverable_url(product) not in page, url
    assert "Downloads paused</span>" in buyer_client.get("/licences").get_data(as_text=True)

    # The product page: for the holder, the licences held and why their downloads are paused; for others, no product.
    response = buyer_client.get(f"/products/{product.slug}")
    page = main(response.get_data(as_text=True))
    assert response.status_code == 200 and "Downloads paused." in page and "Source licence under review." in page
    assert 'id="your-licences"' in page and deliverable_url(product) not in page
    buyer_client.post("/logout")
    assert buyer_client.get(f"/products/{product.slug}").status_code == 404


def test_a_free_licence_order_page_has_download_buttons(session, buyer_client, buyer_org, offer):
    product, _ = offer
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    page = main(buyer_client.get(f"/orders/{order_id}").get_data(as_text=True))
    assert 'id="downloads"' in page
    assert re.search(rf'<a href="{re.escape(deliverable_url(product))}" class="btn btn-primary btn-small" download>',
                     page)


def test_the_receipt_names_the_plan_once(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    pay(buyer_client, order_id)
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "plan “Exclusive”" in page and "Exclusive licence" not in page


def test_notifications_name_the_product_by_title(session, buyer_client, buyer_org, offer, seller):
    product, _ = offer
    place(buyer_client, offer, "Open research", buyer_org)
    notes = session.query(Notification).all()
    texts = " ".join(f"{n.subject} {n.body}" for n in notes)
    assert "Strategic road speeds" in texts and product.slug not in texts
    sold = next(n for n in notes if n.organization_id == product.organization_id)
    assert "Strategic road speeds" in sold.body


def test_a_request_for_a_suspended_product_says_it_is_suspended_and_why(session, buyer_client, buyer_org, offer,
                                                                       reviewer):
    """Suspended is not withdrawn: the request form's answer says the product is suspended, with the reason, rather
    than "not offered any more" (the product may come back)."""
    product, plans = offer
    review.suspend_product(session, reviewer, product, "Source licence under review.")
    session.commit()
    page = buyer_client.get(license_url(product, plans["Open research"])).get_data(as_text=True)
    assert "is suspended" in page and "Source licence under review." in page
    assert "not offered any more" not in page
