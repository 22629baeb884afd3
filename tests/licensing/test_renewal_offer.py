"""The licence page offers only the renewal the order would take: a licence whose scenario the plan's terms no
longer fit says why and shows no form. The request page warns of an open order of the organization chosen, not of
another organization of the same buyer."""
from __future__ import annotations

from marketplace.accounts.models import Membership
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.renewals import renewal_offer
from tests import factories
from tests.licensing.test_buyer_views import fresh, license_url, pay, place, request_form


def test_a_licence_whose_scenario_no_longer_fits_is_not_offered_a_renewal(session, client, auth, buyer, buyer_org,
                                                                         offer):
    auth.login(buyer.email)
    order_id = place(client, offer, "Monthly", buyer_org)
    pay(client, order_id)
    licence = fresh(session, Order, order_id).licence
    assert renewal_offer(session, licence).offered
    licence.scenario = {**licence.scenario, "purpose": "public_service"}  # taken before the rule
    session.commit()

    offer_now = renewal_offer(session, licence)
    assert not offer_now.offered and "a renewal keeps the scenario" in offer_now.refusal
    page = client.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert "a renewal keeps the scenario" in page and "renewal-paused" in page
    assert f'action="/licences/{licence.id}/renew"' not in page and "Renew for" not in page
    refused = client.post(f"/licences/{licence.id}/renew", data={"accept_terms": "y"})  # the same rule
    assert refused.status_code == 422 and "a renewal keeps the scenario" in refused.get_data(as_text=True)
    assert orders.open_order(session, [buyer_org.id], [licence.plan_id]) is None


def test_the_request_page_warns_of_the_chosen_organizations_open_order_only(session, client, auth, buyer, buyer_org,
                                                                           offer):
    other_org = factories.user(session, organization="Tsuen Wan Transport Lab").memberships[0].organization
    session.add(Membership(user_id=buyer.id, organization_id=other_org.id))
    session.commit()
    auth.login(buyer.email)
    product, plans = offer
    order_id = place(client, offer, "Exclusive", buyer_org)
    url = license_url(product, plans["Exclusive"])

    # Re-shown for a missing field, for each organization in turn.
    for_other = client.post(url, data=request_form(other_org, accept_terms=""))
    assert for_other.status_code == 422
    text = for_other.get_data(as_text=True)
    assert "You have an open order" not in text and f'href="/orders/{order_id}"' not in text
    for_own = client.post(url, data=request_form(buyer_org, accept_terms=""))
    assert for_own.status_code == 422
    assert "You have an open order" in for_own.get_data(as_text=True)
    assert f'href="/orders/{order_id}"' in for_own.get_data(as_text=True)
    # The other organization orders the plan: the open order of the first is not its own.
    assert client.post(url, data=request_form(other_org)).status_code == 302
