"""The admin's products page: every product with its status, seller and last decision, filters, and suspending,
reinstating and delisting with a reason (delisting only once confirmed), after which every page says so."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.listings.states import ProductStatus
from marketplace.review.models import ReviewCase
from tests import factories
from tests.admin.conftest import text


def row_of(page: str, product) -> str:
    row = page[page.index(f'id="product-{product.id}"'):]
    return row[:row.index("</tr>")]


# ---------------------------------------------------------------- who may


def test_products_page_requires_login(client):
    response = client.get("/admin/products")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [PlatformRole.NONE, PlatformRole.REVIEWER])
def test_products_page_is_for_admins_only(client, auth, session, listed, role):
    user = factories.user(session, email="someone@example.org", role=role, organization="Buyers Ltd")
    session.commit()
    auth.login(user.email)
    for response in (client.get("/admin/products"), client.get(f"/admin/products/{listed.id}/delist"),
                     client.post(f"/admin/products/{listed.id}/delist",
                                 data={"reason": "No.", "confirm_final": "y"})):
        assert response.status_code == 403
    assert listed.status == ProductStatus.LISTED


# ---------------------------------------------------------------- the list


def test_every_product_with_its_status_seller_and_last_decision(admin_client, listed, other_listed):
    page = text(admin_client.get("/admin/products"))
    row = row_of(page, listed)
    assert "Strategic road detectors" in row and "Harbour Analytics" in row
    assert "badge-listed" in row and "Approve" in row and "/review/cases/" in row
    assert f"/admin/products/{listed.id}/suspend" in row and f"/admin/products/{listed.id}/delist" in row
    assert f"/admin/products/{listed.id}/reinstate" not in row
    assert "Parking vacancy feed" in row_of(page, other_listed)


def test_filters_by_status_organization_and_text(admin_client, session, admin, listed, other_listed):
    org = other_listed.organization_id
    page = text(admin_client.get(f"/admin/products?organization={org}"))
    assert "Parking vacancy feed" in page and "Strategic road detectors" not in page
    page = text(admin_client.get("/admin/products?q=ROAD"))
    assert "Strategic road detectors" in page and "Parking vacancy feed" not in page
    page = text(admin_client.get("/admin/products?q=%25"))  # a wildcard is searched for as itself
    assert "No product matches these filters." in page
    admin_client.post(f"/admin/products/{listed.id}/suspend", data={"reason": "Checking a complaint."})
    page = text(admin_client.get("/admin/products?status=suspended"))
    assert "Strategic road detectors" in page and "Parking vacancy feed" not in page


def test_a_bad_page_number_is_ignored_with_a_notice_and_bad_choices_are_refused(admin_client, listed):
    response = admin_client.get("/admin/products?page=-3")
    page = text(response)
    assert response.status_code == 200
    assert "is not a page number" in page and "Strategic road detectors" in page
    response = admin_client.get("/admin/products?status=bogus&organization=x")
    assert response.status_code == 400 and "\u201cbogus\u201d is not one of the choices" in text(response)


def test_an_action_keeps_the_filters_on_the_way_back(admin_client, listed):
    page = text(admin_client.get("/admin/products?q=road"))
    assert f"/admin/products/{listed.id}/suspend?q=road" in page
    response = admin_client.post(f"/admin/products/{listed.id}/suspend?q=road", data={"reason": "Complaint."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/products?q=road")


# ---------------------------------------------------------------- suspend, reinstate, delist


def test_suspend_then_reinstate_with_reasons(admin_client, session, admin, listed):
    form = text(admin_client.get(f"/admin/products/{listed.id}/suspend"))
    assert "Reason" in form and "I understand" not in form
    page = text(admin_client.post(f"/admin/products/{listed.id}/suspend", data={"reason": "Checking a complaint."},
                                  follow_redirects=True))
    assert "Suspended Strategic road detectors" in page and "badge-suspended" in row_of(page, listed)
    assert "Checking a complaint." in row_of(page, listed)
    page = text(admin_client.post(f"/admin/products/{listed.id}/reinstate", data={"reason": "Resolved."},
                                  follow_redirects=True))
    assert "Reinstated Strategic road detectors" in page and "badge-listed" in row_of(page, listed)
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "product",
                                                                          AuditEvent.subject_id == listed.id))]
    assert "product.suspend" in actions and "product.reinstate" in actions


def test_a_reason_is_required_and_the_form_is_shown_again(admin_client, listed):
    response = admin_client.post(f"/admin/products/{listed.id}/suspend", data={"reason": "  "})
    assert response.status_code == 422 and "Reason" in text(response)
    assert listed.status == ProductStatus.LISTED


def test_delisting_asks_for_confirmation_and_keeps_the_reason(admin_client, session, listed):
    form = text(admin_client.get(f"/admin/products/{listed.id}/delist"))
    assert "Delisting is final." in form and 'name="confirm_final"' in form
    response = admin_client.post(f"/admin/products/{listed.id}/delist", data={"reason": "Source withdrawn."})
    page = text(response)
    assert response.status_code == 422 and "Tick this box to confirm" in page and "Source withdrawn." in page
    session.expire_all()
    assert listed.status == ProductStatus.LISTED
    response = admin_client.post(f"/admin/products/{listed.id}/delist",
                                 data={"reason": "Source withdrawn.", "confirm_final": "y"})
    assert response.status_code == 302
    session.expire_all()
    assert listed.status == ProductStatus.DELISTED


def test_after_delisting_the_pages_say_delisted_not_listed(admin_client, session, listed):
    admin_client.post(f"/admin/products/{listed.id}/delist", data={"reason": "Source withdrawn.",
                                                                    "confirm_final": "y"})
    row = row_of(text(admin_client.get("/admin/products")), listed)
    assert "badge-delisted" in row and "badge-listed" not in row
    assert "/suspend" not in row and "/delist" not in row  # final: nothing more to do
    product_page = text(admin_client.get(f"/review/products/{listed.id}"))
    assert "badge-listed" not in product_page and "listed to buyers" not in product_page
    assert "buyers get" not in product_page and "badge-delisted" in product_page
    case = session.scalar(select(ReviewCase).where(ReviewCase.product_id == listed.id))
    case_page = text(admin_client.get(f"/review/cases/{case.id}"))
    assert "badge-listed" not in case_page and "v1.0 · delisted" in case_page
    queue = text(admin_client.get("/review/?status=decided"))
    assert "badge-listed" not in queue and "badge-delisted" in queue


def test_a_move_not_allowed_from_the_status_is_refused(admin_client, listed):
    response = admin_client.get(f"/admin/products/{listed.id}/reinstate")
    assert response.status_code == 409 and "cannot be changed this way" in text(response)
    response = admin_client.post(f"/admin/products/{listed.id}/reinstate", data={"reason": "Why not."})
    assert response.status_code == 409
    assert listed.status == ProductStatus.LISTED


@pytest.mark.parametrize("url", ["/admin/products/999999/suspend", "/admin/products/1/explode"])
def test_unknown_products_and_actions_are_404(admin_client, listed, url):
    assert admin_client.get(url).status_code == 404


def test_after_delisting_the_sellers_own_pages_say_delisted(admin_client, auth, session, seller, listed):
    admin_client.post(f"/admin/products/{listed.id}/delist", data={"reason": "Source withdrawn.",
                                                                    "confirm_final": "y"})
    auth.logout()
    auth.login(seller.email)
    page = text(admin_client.get(f"/seller/products/{listed.id}/versions/1"))
    assert "badge-delisted" in page and "badge-listed" not in page
    assert "listed to buyers" not in page and "is delisted and read-only" in page
