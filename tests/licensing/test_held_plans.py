"""A plan the buyer's organization holds is not sold to it again: with no expiry there is nothing to order, with an
expiry only a renewal is taken, and it continues from the current end. Services, the JSON API and the pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Membership
from marketplace.errors import Conflict
from marketplace.licensing import services as licences
from marketplace.licensing.states import LicenceStatus
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.licensing.test_orders import pay, request


def order_count(session, org, plan) -> int:
    return session.scalar(select(func.count(Order.id)).where(Order.buyer_organization_id == org.id,
                                                             Order.plan_id == plan.id))


def test_a_plan_held_with_no_expiry_is_not_ordered_again(session, buyer, buyer_org, plans):
    first = request(session, buyer, buyer_org, plans["Open research"])
    assert first.licence.valid_until is None
    with pytest.raises(Conflict) as refused:
        request(session, buyer, buyer_org, plans["Open research"])
    assert "with no expiry" in refused.value.message and first.licence.serial in refused.value.message
    assert refused.value.errors == {"plan_id": ["Your organization already holds this plan."]}
    assert order_count(session, buyer_org, plans["Open research"]) == 1


def test_a_paid_plan_held_with_no_expiry_takes_no_second_payment(session, buyer, buyer_org, plans):
    plan = plans["Exclusive"]
    plan.duration_days = None
    session.flush()
    pay(session, buyer, request(session, buyer, buyer_org, plan))
    with pytest.raises(Conflict, match="nothing more to order"):
        request(session, buyer, buyer_org, plan)
    assert order_count(session, buyer_org, plan) == 1


def test_a_plan_held_with_an_expiry_is_renewed_from_its_current_end(session, buyer, buyer_org, plans):
    plan = plans["Exclusive"]  # one-time, 365 days
    order = request(session, buyer, buyer_org, plan)
    pay(session, buyer, order)
    licence = order.licence
    with pytest.raises(Conflict, match="Renew that licence") as refused:
        request(session, buyer, buyer_org, plan)
    assert refused.value.errors["plan_id"] == ["Your organization already holds this plan; renew it instead."]

    renewal = orders.renew_licence(session, buyer, licence, accept_terms=True)
    assert renewal.renews_order_id == order.id and renewal.plan_id == plan.id
    pay(session, buyer, renewal)
    assert renewal.licence.valid_from == licence.valid_until
    assert renewal.licence.valid_until == licence.valid_until + timedelta(days=365)
    assert licences.held_plan_licence(session, buyer_org.id, plan.id) == renewal.licence

    # Renewing the first licence again continues after the renewal, not over it.
    again = orders.renew_licence(session, buyer, licence, accept_terms=True)
    pay(session, buyer, again)
    assert again.licence.valid_from == renewal.licence.valid_until


def test_a_licence_that_ended_is_ordered_anew(session, buyer, buyer_org, plans):
    plan = plans["Exclusive"]
    order = request(session, buyer, buyer_org, plan)
    pay(session, buyer, order)
    licences.expire_licences(session, order.licence.valid_until)
    assert order.licence.status == LicenceStatus.EXPIRED
    assert request(session, buyer, buyer_org, plan).status.value == "awaiting_payment"


def test_a_colleague_of_the_holder_is_held_back_but_another_organization_is_not(session, buyer, buyer_org, plans):
    request(session, buyer, buyer_org, plans["Open research"])
    colleague = factories.user(session, email="colleague@example.org")
    session.add(Membership(user_id=colleague.id, organization_id=buyer_org.id))
    session.flush()
    with pytest.raises(Conflict):
        request(session, colleague, buyer_org, plans["Open research"])
    other = factories.user(session, organization="Second desk")
    assert request(session, other, other.memberships[0].organization, plans["Open research"]).licence is not None


def test_the_api_refuses_a_held_plan_with_409(session, client, buyer, buyer_org, plans):
    token = factories.api_token(session, buyer)
    body = {"plan_id": plans["Open research"].id, "organization": buyer_org.slug, "scenario": SCENARIO,
            "accept_terms": True}
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    refused = client.post("/api/v1/orders", json=body, headers=headers)
    assert refused.status_code == 409
    assert set(refused.json) == {"status", "code", "message", "errors"}
    assert "already holds" in refused.json["message"] and "plan_id" in refused.json["errors"]


def test_the_request_page_speaks_of_the_organization_chosen_not_of_any_other(session, client, auth, buyer,
                                                                               buyer_org, offer):
    """A buyer in two organizations, one holding the plan: the page says "already holds" only when that one is
    chosen, as the order itself is refused only for it."""
    product, plans = offer
    plan = plans["Open research"]
    request(session, buyer, buyer_org, plan)  # held with no expiry by the first organization
    second = factories.user(session, organization="Second desk").memberships[0].organization
    session.add(Membership(user_id=buyer.id, organization_id=second.id))
    session.commit()
    auth.login(buyer.email)
    url = f"/products/{product.slug}/plans/{plan.id}/license"
    held = "already holds this plan with no expiry"

    page = client.get(url).get_data(as_text=True)
    assert held not in page  # no organization chosen yet

    form = {**SCENARIO, "idempotency_key": ""}
    incomplete = client.post(url, data={**form, "organization_id": str(second.id)})  # terms not accepted
    assert incomplete.status_code == 422 and held not in incomplete.get_data(as_text=True)

    refused = client.post(url, data={**form, "organization_id": str(buyer_org.id), "accept_terms": "y"})
    assert refused.status_code == 409 and held in refused.get_data(as_text=True)

    taken = client.post(url, data={**form, "organization_id": str(second.id), "accept_terms": "y"})
    assert taken.status_code == 302
    assert order_count(session, second, plan) == 1 and order_count(session, buyer_org, plan) == 1
