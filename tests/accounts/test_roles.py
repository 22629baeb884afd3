"""A home per role: after log-in each role lands where its work is, the navigation shows that role's places, a user
with several roles switches between them, and the admin's overview counts what the admin works on."""
from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Membership, PlatformRole
from marketplace.orders import services as orders
from tests import factories

SCENARIO = {"purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 3,
            "description": "Academic study of congestion on Hong Kong strategic roads."}


def nav(page: str) -> str:
    return re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.S).group(1)


@pytest.fixture
def listed(session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road speeds", plans=[
        {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None}])
    session.commit()
    return product


@pytest.fixture
def buyer(session, listed):
    """A member of an organization that licensed the listed product."""
    user = factories.user(session, email="buyer@example.org", organization="Kowloon Research")
    plan = next(p for p in listed.listed_version.plans if p.name == "Open research")
    orders.request_licence(session, user, orders.LicenceRequest(
        plan_id=plan.id, organization_id=user.memberships[0].organization_id, scenario=SCENARIO, accept_terms=True,
        idempotency_key=""))
    session.commit()
    return user


def test_a_buyer_lands_on_their_licences_and_sees_the_buyers_places(client, auth, buyer):
    response = auth.login(buyer.email)
    assert response.status_code == 302 and response.headers["Location"] == "/licences"
    links = nav(client.get("/licences").get_data(as_text=True))
    assert "My licences" in links and "Orders" in links and "Create your first product" not in links
    assert "My products" not in links and "Working as: Buyer" in links  # a member of an organization may sell too


def test_a_buyer_with_no_licence_yet_lands_on_the_catalog(session, client, auth):
    user = factories.user(session, email="newbuyer@example.org")
    session.commit()
    assert auth.login(user.email).headers["Location"] == "/catalog"
    assert "Working as" not in nav(client.get("/catalog").get_data(as_text=True))  # one role: no menu


def test_a_seller_lands_on_the_dashboard(client, auth, seller, listed):
    assert auth.login(seller.email).headers["Location"] == "/seller/"
    links = nav(client.get("/seller/").get_data(as_text=True))
    assert "My products" in links and "My licences" not in links


def test_a_new_organization_starts_at_its_first_product(client, auth, seller):
    assert auth.login(seller.email).headers["Location"] == "/seller/"


def test_a_reviewer_lands_on_the_queue_even_as_a_member(session, client, auth, reviewer, seller_org):
    session.add(Membership(user_id=reviewer.id, organization_id=seller_org.id))
    session.commit()
    assert auth.login(reviewer.email).headers["Location"] == "/review/"
    assert "Review queue" in nav(client.get("/review/").get_data(as_text=True))


def test_an_admin_lands_on_the_overview(client, auth, admin, buyer):
    assert auth.login(admin.email).headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/products"' in page and 'href="/admin/products?status=listed"' in page
    assert 'href="/admin/orders"' in page and 'href="/admin/jobs"' in page and 'href="/admin/audit"' in page
    listed_count = re.search(r'badge-listed">Listed products</span> <strong>(\d+)</strong>', page).group(1)
    assert listed_count == "1"
    assert "Fulfilled</span> <strong>1</strong>" in page and "order.request" in page
    assert "Working as: Admin" in nav(page)


def test_an_explicit_next_still_wins_and_stays_on_the_site(client, buyer):
    response = client.post("/login", data={"email": buyer.email, "password": factories.PASSWORD,
                                           "next": "/organizations"})
    assert response.headers["Location"] == "/organizations"
    client.post("/logout")
    response = client.post("/login", data={"email": buyer.email, "password": factories.PASSWORD,
                                           "next": "//evil.example/"})
    assert response.headers["Location"] == "/licences"


def test_a_seller_who_also_buys_switches_between_the_roles(session, client, auth, seller, seller_org, listed,
                                                           storage, reviewer):
    other = factories.user(session, email="other-seller@example.org", organization="Other Seller")
    product = factories.listed_product(session, storage, other, reviewer, title="Harbour tides", plans=[
        {"name": "Free", "kind": "free", "amount": 0, "duration_days": None}])
    orders.request_licence(session, seller, orders.LicenceRequest(
        plan_id=product.listed_version.plans[-1].id, organization_id=seller_org.id, scenario=SCENARIO,
        accept_terms=True, idempotency_key=""))
    session.commit()
    assert auth.login(seller.email).headers["Location"] == "/seller/"
    switched = client.post("/role", data={"role": "buyer"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/licences"
    page = client.get("/licences").get_data(as_text=True)
    assert "You are working as: Buyer." in page and "Working as: Buyer" in nav(page)
    assert "My licences" in nav(page) and "My products" not in nav(page)
    assert client.get("/").headers["Location"] == "/licences"  # remembered for the session
    back = client.post("/role", data={"role": "seller"})
    assert back.headers["Location"] == "/seller/"


def test_a_role_the_user_does_not_have_is_refused_with_a_message(client, auth, seller):
    auth.login(seller.email)
    response = client.post("/role", data={"role": "admin"})
    assert response.status_code == 303 and response.headers["Location"] == "/seller/"
    assert "You do not have that role." in client.get("/seller/").get_data(as_text=True)
    assert client.post("/role", data={"role": "x" * 5000}).status_code == 303


def test_an_admin_may_work_as_reviewer(session, client, auth):
    user = factories.user(session, email="staff@example.org", role=PlatformRole.ADMIN)
    session.commit()
    auth.login(user.email)
    assert client.post("/role", data={"role": "reviewer"}).headers["Location"] == "/review/"
