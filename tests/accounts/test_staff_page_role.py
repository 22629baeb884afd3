"""A staff page opened while working as another role switches to the page's role, with a notice, so the navigation
matches the page; a user without the role still gets 403."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import MemberRole, Membership, PlatformRole
from tests import factories
from tests.accounts.test_roles import nav


@pytest.fixture
def staff_member(session, seller_org):
    """An admin who is also a member of a seller organization (so Buyer, Seller, Reviewer and Admin)."""
    user = factories.user(session, email="staff@example.org", role=PlatformRole.ADMIN)
    session.add(Membership(user=user, organization=seller_org, role=MemberRole.MEMBER))
    session.commit()
    return user


def test_an_admin_working_as_buyer_opening_an_admin_page_works_as_admin(client, auth, staff_member):
    auth.login(staff_member.email)
    client.post("/role", data={"role": "buyer"})
    page = client.get("/admin/products").get_data(as_text=True)
    assert "You are now working as Admin, the role this page belongs to." in page
    assert "Working as: Admin" in nav(page) and "My licences" not in nav(page) and "All orders" in nav(page)
    again = client.get("/admin/audit").get_data(as_text=True)
    assert "the role this page belongs to" not in again and "Working as: Admin" in nav(again)
    assert client.get("/").headers["Location"] == "/admin/"  # the session keeps the role


@pytest.mark.parametrize("path", ["/admin/orders", "/admin/jobs", "/admin/"])
def test_every_admin_area_page_switches(client, auth, staff_member, path):
    auth.login(staff_member.email)
    client.post("/role", data={"role": "seller"})
    page = client.get(path).get_data(as_text=True)
    assert "Working as: Admin" in nav(page), path


def test_a_reviewer_working_as_seller_opening_the_queue_works_as_reviewer(session, client, auth, seller_org):
    user = factories.user(session, email="rev@example.org", role=PlatformRole.REVIEWER)
    session.add(Membership(user=user, organization=seller_org, role=MemberRole.MEMBER))
    session.commit()
    auth.login(user.email)
    client.post("/role", data={"role": "seller"})
    page = client.get("/review/").get_data(as_text=True)
    assert "You are now working as Reviewer, the role this page belongs to." in page
    assert "Working as: Reviewer" in nav(page) and "Review queue" in nav(page) and "My products" not in nav(page)


def test_an_admin_working_as_admin_stays_admin_in_the_review_area(client, auth, staff_member):
    auth.login(staff_member.email)
    page = client.get("/review/").get_data(as_text=True)
    assert "Working as: Admin" in nav(page) and "the role this page belongs to" not in page


@pytest.mark.parametrize("path", ["/admin/products", "/admin/", "/admin/orders", "/review/"])
def test_a_user_without_the_role_still_gets_403_and_keeps_their_role(client, auth, seller, path):
    auth.login(seller.email)
    response = client.get(path)
    assert response.status_code == 403
    assert "the role this page belongs to" not in response.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/seller/"


def test_a_reviewer_opening_an_admin_page_gets_403_and_stays_reviewer(client, auth, reviewer):
    auth.login(reviewer.email)
    assert client.get("/admin/products").status_code == 403
    assert client.get("/").headers["Location"] == "/review/"
