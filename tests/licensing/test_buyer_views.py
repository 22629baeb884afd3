"""The buyer's pages: the licence request with its scenario, orders and receipts, the simulated checkout,
My licences and renewal, driven over HTTP as a browser would."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace import i18n
from marketplace.accounts.models import Membership
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests import factories
from tests.licensing.conftest import SCENARIO

GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000000000000002"


@pytest.fixture
def buyer_client(client, auth, buyer):
    auth.login(buyer.email)
    return client


def license_url(product, plan) -> str:
    return f"/products/{product.slug}/plans/{plan.id}/license"


def request_form(org, **changes) -> dict:
    return {**SCENARIO, "organization_id": str(org.id), "accept_terms": "y", "idempotency_key": "", **changes}


def order_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/orders/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def order_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Order.id)))


def place(client, offer, plan_name, org, **changes) -> int:
    product, plans = offer
    return order_id_of(client.post(license_url(product, plans[plan_name]), data=request_form(org, **changes)))


def pay(client, order_id: int, card: str = GOOD_CARD):
    response = client.post(f"/orders/{order_id}/pay")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order_id}/checkout"
    return client.post(f"/orders/{order_id}/checkout", data={"card_number": card, "pay": "Pay"})


# ---------------------------------------------------------------- the whole purchase


def test_a_buyer_licenses_pays_and_downloads_through_the_pages(session, storage, buyer_client, buyer_org, offer):
    product, plans = offer
    plan = plans["Exclusive"]
    page = buyer_client.get(f"/products/{product.slug}").get_data(as_text=True)
    assert f'href="{license_url(product, plan)}"' in page and "Licensing opens soon" not in page

    form = buyer_client.get(license_url(product, plan))
    text = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "Exclusive" in text and "HK$5,000.00, paid once" in text
    assert "May be used for: research, internal analysis." in text and "At most 2 licences sold." in text
    assert buyer_org.name in text and 'name="idempotency_key"' in text and 'name="accept_terms"' in text

    order_id = order_id_of(buyer_client.post(license_url(product, plan), data=request_form(buyer_org)))
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Awaiting payment" in page and "Pay HK$5,000.00" in page and f'action="/orders/{order_id}/pay"' in page
    assert "Academic study of congestion" in page and "Research" in page and "Receipt" not in page

    response = buyer_client.post(f"/orders/{order_id}/pay")
    assert response.headers["Location"] == f"/orders/{order_id}/checkout"
    checkout = buyer_client.get(f"/orders/{order_id}/checkout").get_data(as_text=True)
    assert "HK$5,000.00" in checkout and "4242 4242 4242 4242" in checkout and "4000000000000002" in checkout
    response = buyer_client.post(f"/orders/{order_id}/checkout", data={"card_number": GOOD_CARD, "pay": "Pay"})
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order_id}"

    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    order = fresh(session, Order, order_id)
    assert order.status == OrderStatus.FULFILLED and order.licence.status == LicenceStatus.ACTIVE
    assert "Payment received, licence issued" in page
    assert 'id="receipt"' in page and "HK$5,000.00" in page and order.payment_intent in page
    assert f"/licences/{order.licence.id}" in page and "Pay HKD" not in page

    listing = buyer_client.get("/licences").get_data(as_text=True)
    serial = order.licence.serial
    assert serial in listing and f'href="/certificates/{serial}"' in listing and "Exclusive" in listing
    deliverable = next(a for a in product.listed_version.assets if a.kind.value == "deliverable")
    download_url = f"/products/{product.slug}/assets/{deliverable.id}"
    assert download_url in listing

    detail = buyer_client.get(f"/licences/{order.licence.id}").get_data(as_text=True)
    assert download_url in detail and "May be used for: research, internal analysis." in detail
    # A one-time licence for a period (365 days here) is renewed from its end, like a subscription.
    assert f'action="/licences/{order.licence.id}/renew"' in detail

    download = buyer_client.get(download_url)
    assert download.status_code == 200
    with storage.open(deliverable.storage_key) as stored:
        assert download.data == stored.read()
    assert 'attachment; filename=detectors.csv' in download.headers["Content-Disposition"]

    orders_page = buyer_client.get("/orders").get_data(as_text=True)
    assert order.number in orders_page and "Fulfilled" in orders_page and "HK$5,000.00" in orders_page


def test_the_navigation_offers_licences_and_orders_when_signed_in(client, buyer_client):
    # A member of an organization that has not traded yet starts as a seller; working as a buyer, the bar offers
    # the buyer's places.
    buyer_client.post("/role", data={"role": "buyer"})
    page = buyer_client.get("/catalog").get_data(as_text=True)
    assert 'href="/licences"' in page and 'href="/orders"' in page


def test_a_free_plan_issues_the_licence_at_once(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    order = fresh(session, Order, order_id)
    assert order.status == OrderStatus.FULFILLED and "Licence issued" in page and order.licence.serial in page
    assert "Pay " not in page and 'id="receipt"' not in page


def test_a_plan_needing_approval_waits_for_the_seller_without_a_pay_button(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "By approval", buyer_org)
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Awaiting approval" in page and "sent to the seller" in page
    assert "Pay HKD" not in page and f"/orders/{order_id}/cancel" in page


def test_the_seller_message_shows_on_the_order(session, buyer_client, buyer_org, seller, offer):
    order_id = place(buyer_client, offer, "By approval", buyer_org)
    orders.approve_order(session, seller, fresh(session, Order, order_id), "Welcome aboard.")
    session.commit()
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Welcome aboard." in page and "Pay HK$900.00" in page


# ---------------------------------------------------------------- payment


def test_a_declined_card_shows_the_reason_and_keeps_the_order_waiting(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    response = pay(buyer_client, order_id, DECLINED_CARD)
    assert response.status_code == 402
    text = response.get_data(as_text=True)
    assert "Your card was declined." in text and DECLINED_CARD in text  # the typed number is kept
    order = fresh(session, Order, order_id)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_error == "Your card was declined."
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "The last payment attempt failed: Your card was declined." in page
    retry = buyer_client.post(f"/orders/{order_id}/checkout", data={"card_number": GOOD_CARD, "pay": "Pay"})
    assert retry.status_code == 302
    assert fresh(session, Order, order_id).status == OrderStatus.FULFILLED


def test_leaving_the_checkout_charges_nothing(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    buyer_client.post(f"/orders/{order_id}/pay")
    response = buyer_client.post(f"/orders/{order_id}/checkout", data={"card_number": "", "cancel": "Cancel"})
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order_id}"
    assert fresh(session, Order, order_id).status == OrderStatus.AWAITING_PAYMENT


def test_the_checkout_is_only_for_an_order_awaiting_a_simulated_payment(session, buyer_client, buyer_org, offer):
    free_id = place(buyer_client, offer, "Open research", buyer_org)
    response = buyer_client.get(f"/orders/{free_id}/checkout")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{free_id}"
    unpaid_id = place(buyer_client, offer, "Exclusive", buyer_org)  # Pay not pressed yet: no checkout opened
    assert buyer_client.get(f"/orders/{unpaid_id}/checkout").status_code == 302
    assert buyer_client.post(f"/orders/{unpaid_id}/checkout", data={"card_number": GOOD_CARD}).status_code == 302
    assert fresh(session, Order, unpaid_id).status == OrderStatus.AWAITING_PAYMENT


def test_paying_an_order_that_no_longer_awaits_payment_is_refused_on_the_order_page(session, buyer_client, buyer_org,
                                                                                    offer):
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    response = buyer_client.post(f"/orders/{order_id}/pay")
    assert response.status_code == 409 and "not awaiting payment" in response.get_data(as_text=True)


def test_the_seller_sees_the_order_but_cannot_pay_or_cancel_it(session, client, auth, buyer, buyer_org, seller,
                                                              offer):
    auth.login(buyer.email)
    order_id = place(client, offer, "Exclusive", buyer_org)
    client.post(f"/orders/{order_id}/pay")
    auth.logout()
    auth.login(seller.email)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Pay HKD" not in page and f"/orders/{order_id}/cancel" not in page
    assert client.post(f"/orders/{order_id}/pay").status_code == 403
    assert client.post(f"/orders/{order_id}/cancel").status_code == 403
    assert client.get(f"/orders/{order_id}/checkout").status_code == 403
    assert client.post(f"/orders/{order_id}/checkout", data={"card_number": GOOD_CARD}).status_code == 403
    assert fresh(session, Order, order_id).status == OrderStatus.AWAITING_PAYMENT


# ---------------------------------------------------------------- the request form


def test_the_request_form_needs_a_login(client, offer):
    product, plans = offer
    url = license_url(product, plans["Exclusive"])
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert client.post(url, data={}).status_code == 302


def test_a_scenario_the_plan_does_not_allow_is_refused_beside_the_field_with_the_input_kept(
        session, buyer_client, buyer_org, offer):
    product, plans = offer
    data = request_form(buyer_org, purpose="commercial_product", territory="worldwide", expected_users="42",
                        description="A routing app sold to logistics firms across Asia.")
    response = buyer_client.post(license_url(product, plans["Exclusive"]), data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "This plan is non-commercial: it does not permit use in a commercial product." in text
    assert "This plan licenses use in Hong Kong only" in text
    assert 'id="purpose-errors"' in text and 'id="territory-errors"' in text
    assert "A routing app sold to logistics firms across Asia." in text and 'value="42"' in text
    # The form offers only what the plan allows: a forbidden choice sent anyway is refused, and not offered back.
    assert 'value="commercial_product"' not in text and '<option selected value="hong_kong">' not in text
    assert order_count(session) == 0


def test_missing_fields_are_named_and_nothing_is_ordered(session, buyer_client, buyer_org, offer):
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Exclusive"]),
                                 data={"organization_id": str(buyer_org.id)})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for field in ("purpose", "sector", "territory", "expected_users", "description", "accept_terms"):
        assert f'id="{field}-errors"' in text, field
    assert "Accept the plan&#39;s licence terms to continue." in text
    assert order_count(session) == 0


def test_the_terms_must_be_accepted(session, buyer_client, buyer_org, offer):
    product, plans = offer
    data = request_form(buyer_org)
    del data["accept_terms"]
    response = buyer_client.post(license_url(product, plans["Open research"]), data=data)
    assert response.status_code == 422 and 'id="accept_terms-errors"' in response.get_data(as_text=True)


def test_submitting_the_same_form_twice_gives_one_order(session, buyer_client, buyer_org, offer):
    product, plans = offer
    form = buyer_client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    data = request_form(buyer_org, idempotency_key=key)
    first = order_id_of(buyer_client.post(license_url(product, plans["Exclusive"]), data=data))
    second = order_id_of(buyer_client.post(license_url(product, plans["Exclusive"]), data=data))
    assert first == second and order_count(session) == 1
    another = buyer_client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    assert key not in another  # each rendered form has its own key


def test_a_second_open_order_for_the_plan_is_refused_on_the_form(session, buyer_client, buyer_org, offer):
    place(buyer_client, offer, "Exclusive", buyer_org)
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Exclusive"]), data=request_form(buyer_org))
    assert response.status_code == 409 and "already has an open order" in response.get_data(as_text=True)
    assert order_count(session) == 1


def test_the_organization_choice_leaves_out_the_seller(session, client, auth, seller, seller_org, buyer_org, offer):
    session.add(Membership(user_id=seller.id, organization_id=buyer_org.id))
    session.commit()
    auth.login(seller.email)
    product, plans = offer
    text = client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    assert f'<option value="{buyer_org.id}"' in text or f'<option selected value="{buyer_org.id}"' in text
    assert f'value="{seller_org.id}">' not in text
    # Posting the seller's own organization anyway is refused beside the field.
    response = client.post(license_url(product, plans["Exclusive"]), data=request_form(seller_org))
    assert response.status_code == 403 and "This organization sells the product." in response.get_data(as_text=True)


def test_a_user_without_an_organization_is_told_to_create_one(session, client, auth, offer):
    loner = factories.user(session)
    session.commit()
    auth.login(loner.email)
    product, plans = offer
    text = client.get(license_url(product, plans["Exclusive"])).get_data(as_text=True)
    assert "You need an organization to license data." in text and 'href="/organizations"' in text


@pytest.mark.parametrize(("changes", "status", "words"), [
    ({"expected_users": "many"}, 422, "whole number"),
    ({"expected_users": "1e9999"}, 422, "whole number"),
    ({"expected_users": "99999999999999999999"}, 422, "Expected users"),
    ({"expected_users": "0"}, 422, "between 1 and"),
    ({"purpose": "spying"}, 422, "Choose a purpose from the list."),
    ({"territory": "mars"}, 422, "Choose a territory of use from the list."),
    ({"organization_id": "abc"}, 403, "Choose one of your organizations."),
    ({"organization_id": "99999999999999999999"}, 403, "Choose one of your organizations."),
    ({"organization_id": ""}, 403, "Choose one of your organizations."),
    ({"description": "x" * 5000}, 422, "characters"),
    ({"idempotency_key": "k" * 300}, 302, ""),
    ({"accept_terms": "definitely"}, 302, ""),
])
def test_bad_input_is_refused_on_the_form_never_500(session, buyer_client, buyer_org, offer, changes, status, words):
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Exclusive"]), data=request_form(buyer_org, **changes))
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert words in response.get_data(as_text=True)


def test_a_stranger_organization_is_refused(session, buyer_client, buyer_org, offer):
    other = factories.user(session, organization="Elsewhere Ltd").memberships[0].organization
    session.commit()
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Exclusive"]), data=request_form(other))
    assert response.status_code == 403 and "Choose one of your organizations." in response.get_data(as_text=True)
    assert order_count(session) == 0


@pytest.mark.parametrize("url", [
    "/products/{slug}/plans/{other_plan}/license",
    "/products/no-such-product/plans/{plan}/license",
    "/products/{slug}/plans/99999999999/license",
    "/products/{slug}/plans/2147483647/license",
    "/products/{slug}/plans/abc/license",
    "/orders/99999999999", "/orders/2147483647", "/licences/99999999999", "/licences/2147483647",
    "/orders/2147483647/checkout",
])
def test_unknown_or_foreign_ids_are_404(session, storage, seller, reviewer, buyer_client, offer, url):
    product, plans = offer
    other = factories.listed_product(session, storage, seller, reviewer, title="Another product")
    session.commit()
    url = url.format(slug=product.slug, plan=plans["Exclusive"].id, other_plan=other.listed_version.plans[0].id)
    assert buyer_client.get(url).status_code == 404


def test_a_plan_of_an_unlisted_version_is_404(session, seller, buyer_client, offer):
    from marketplace.listings import services as listings

    product, plans = offer
    draft = listings.new_version(session, seller, product, "2.0", "Adds 2025 data.")
    session.commit()
    assert buyer_client.get(license_url(product, draft.plans[0])).status_code == 404


# ---------------------------------------------------------------- cancel, privacy, renewal


def test_the_buyer_cancels_an_order_awaiting_payment(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    response = buyer_client.post(f"/orders/{order_id}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order_id}"
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Cancelled" in page and f"/orders/{order_id}/cancel" not in page and "Pay HKD" not in page
    assert fresh(session, Order, order_id).status == OrderStatus.CANCELLED
    again = buyer_client.post(f"/orders/{order_id}/cancel")
    assert again.status_code == 409 and "Cannot cancel" in again.get_data(as_text=True)


def test_other_users_cannot_see_or_touch_the_order_or_licence(session, client, auth, buyer, buyer_org, offer):
    auth.login(buyer.email)
    order_id = place(client, offer, "Open research", buyer_org)
    licence_id = fresh(session, Order, order_id).licence.id
    auth.logout()
    stranger = factories.user(session, organization="Elsewhere Ltd")
    session.commit()
    auth.login(stranger.email)
    for url in (f"/orders/{order_id}", f"/licences/{licence_id}", f"/orders/{order_id}/checkout"):
        assert client.get(url).status_code == 404, url
    for url in (f"/orders/{order_id}/pay", f"/orders/{order_id}/cancel", f"/licences/{licence_id}/renew"):
        assert client.post(url, data={"accept_terms": "y"}).status_code == 404, url
    assert fresh(session, Order, order_id).number not in client.get("/orders").get_data(as_text=True)
    assert "No licences yet." in client.get("/licences").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/orders", "/orders/1", "/licences", "/licences/1", "/orders/1/checkout"])
def test_buyer_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_a_subscription_is_renewed_into_a_new_order(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Monthly", buyer_org)
    pay(buyer_client, order_id)
    licence = fresh(session, Order, order_id).licence
    page = buyer_client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert f'action="/licences/{licence.id}/renew"' in page

    refused = buyer_client.post(f"/licences/{licence.id}/renew", data={"idempotency_key": "renew-1"})
    assert refused.status_code == 422 and 'id="accept_terms-errors"' in refused.get_data(as_text=True)

    response = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y",
                                                                        "idempotency_key": "renew-1"})
    renewal_id = order_id_of(response)
    renewal = fresh(session, Order, renewal_id)
    assert renewal.renews_order_id == order_id and renewal.status == OrderStatus.AWAITING_PAYMENT
    assert order_id_of(buyer_client.post(f"/licences/{licence.id}/renew", data={
        "accept_terms": "y", "idempotency_key": "renew-1"})) == renewal_id  # the same form twice: one order
    pay(buyer_client, renewal_id)
    renewal = fresh(session, Order, renewal_id)
    assert renewal.licence.valid_from == fresh(session, Licence, licence.id).valid_until
    with buyer_client.application.test_request_context("/"):  # the day in the reader's zone and words
        starts = i18n.day(renewal.licence.valid_from)
    assert f"starts {starts}" in buyer_client.get(f"/licences/{renewal.licence.id}").get_data(as_text=True)
    assert f"starts {starts}" in buyer_client.get("/licences").get_data(as_text=True)

    # A new order for the plan held is refused: the buyer is sent to renew instead.
    product, plans = offer
    held = buyer_client.post(license_url(product, plans["Monthly"]), data=request_form(buyer_org))
    assert held.status_code == 409 and "Renew that licence" in held.get_data(as_text=True)

    # A second renewal while another is still being paid is refused with the reason on the licence page.
    third = order_id_of(buyer_client.post(f"/licences/{renewal.licence.id}/renew", data={"accept_terms": "y"}))
    response = buyer_client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})
    assert response.status_code == 409 and "already has an open order" in response.get_data(as_text=True)
    assert fresh(session, Order, third).status == OrderStatus.AWAITING_PAYMENT


def test_a_licence_with_no_expiry_offers_no_renewal(session, buyer_client, buyer_org, offer):
    order_id = place(buyer_client, offer, "Open research", buyer_org)
    licence_id = fresh(session, Order, order_id).licence.id
    assert "/renew" not in buyer_client.get(f"/licences/{licence_id}").get_data(as_text=True)
    response = buyer_client.post(f"/licences/{licence_id}/renew", data={"accept_terms": "y"})
    assert response.status_code == 409 and "Only a licence with an end date" in response.get_data(as_text=True)


def test_a_sold_out_plan_says_so_on_the_form(session, buyer_client, buyer_org, offer):
    product, plans = offer
    for n in range(plans["Exclusive"].licence_cap):
        other = factories.user(session, organization=f"Early buyer {n}")
        orders.request_licence(session, other, orders.LicenceRequest(
            plan_id=plans["Exclusive"].id, organization_id=other.memberships[0].organization.id, scenario=SCENARIO,
            accept_terms=True, idempotency_key=""))
    session.commit()
    response = buyer_client.post(license_url(product, plans["Exclusive"]), data=request_form(buyer_org))
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "All 2 licences of the plan “Exclusive” are taken." in text
    assert "Plan id" not in text and "Academic study of congestion" in text


def test_the_seller_sees_the_licence_without_download_links_or_renewal(session, client, auth, buyer, buyer_org,
                                                                        seller, offer):
    auth.login(buyer.email)
    order_id = place(client, offer, "Monthly", buyer_org)
    pay(client, order_id)
    licence = fresh(session, Order, order_id).licence
    auth.logout()
    auth.login(seller.email)
    page = client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert licence.serial in page and "detectors.csv" in page
    assert f"/products/{offer[0].slug}/assets/" not in page and "/renew" not in page
    response = client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})
    assert response.status_code == 403
    assert "You may only license for an organization you belong to." in response.get_data(as_text=True)
