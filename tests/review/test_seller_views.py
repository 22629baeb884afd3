"""The seller's side of review on the pages: check my listing, the review history, resubmitting with a note."""
from __future__ import annotations

import io

import pytest

from marketplace.listings.assets import upload_asset
from marketplace.listings.states import VersionStatus
from marketplace.review import services as review
from tests.review.conftest import PASSING

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example


@pytest.fixture
def seller_client(client, auth, seller):
    auth.login(seller.email)
    return client


def url(version, suffix=""):
    return f"/seller/products/{version.product_id}/versions/{version.number}{suffix}"


def test_check_my_listing_shows_findings_by_checklist_item(session, storage, seller, seller_client, version):
    upload_asset(session, storage, seller, version, kind="deliverable", filename="customers.csv",
                 stream=io.BytesIO(f"姓名,身份证号\n王小明,{VALID_ID}\n".encode()), content_type="text/csv",
                 max_bytes=10_000)
    session.commit()
    page = seller_client.post(url(version, "/check"), follow_redirects=True).get_data(as_text=True)
    assert 'id="prescreen"' in page and "Personal information" in page and "Quality" in page
    assert "mainland resident identity number" in page and "110105********002X" in page
    assert VALID_ID not in page  # the example is masked
    assert version.status == VersionStatus.DRAFT  # checking submits nothing


def test_check_of_another_organizations_version_is_404(session, client, auth, version):
    from tests import factories

    other = factories.user(session, organization="Other Co")
    session.commit()
    auth.login(other.email)
    assert client.get(url(version, "/check")).status_code == 404
    assert client.post(url(version, "/check")).status_code == 404


def test_seller_sees_the_reviewers_comments_and_resubmits_with_a_note(session, seller_client, claimed, reviewer,
                                                                      version):
    review.decide(session, reviewer, claimed, "request_changes", "Cite the detector locations dataset.",
                  answers={**PASSING, "source_legality": {"result": "fail", "comment": "A source is missing."}})
    session.commit()
    page = seller_client.get(url(version)).get_data(as_text=True)
    assert "Cite the detector locations dataset." in page and "A source is missing." in page
    assert 'name="note"' in page
    response = seller_client.post(url(version, "/submit"), data={"note": "Added the second source."})
    assert response.status_code == 302
    page = seller_client.get(url(version)).get_data(as_text=True)
    assert "Round 2" in page and "Added the second source." in page
    assert version.status == VersionStatus.SUBMITTED


def test_listed_version_shows_its_registration_number(session, seller_client, claimed, reviewer, version):
    review.decide(session, reviewer, claimed, "approve", answers=PASSING)
    session.commit()
    page = seller_client.get(url(version)).get_data(as_text=True)
    assert version.registration_number in page


def test_suspension_reason_is_shown_to_the_seller(session, seller_client, claimed, reviewer, version):
    review.decide(session, reviewer, claimed, "approve", answers=PASSING)
    review.change_product_status(session, reviewer, version.product, "suspend", "Licence query from DATA.GOV.HK.")
    session.commit()
    page = seller_client.get(url(version)).get_data(as_text=True)
    assert "suspended" in page and "Licence query from DATA.GOV.HK." in page
