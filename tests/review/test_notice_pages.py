"""The public notice pages and feed, objecting and deciding through the pages, and the registration page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.i18n import LOCALE_COOKIE
from marketplace.review import public_notice as notices
from marketplace.review import services as review
from marketplace.review.notice_models import Objection, ObjectionStatus


def test_notices_page_and_feed_list_the_open_notice(client, notice):
    page = client.get("/notices")
    assert page.status_code == 200 and notice.registration_number in page.text
    assert notice.registration_number not in client.get("/notices?state=recent").text
    assert client.get("/notices?page=0").status_code == 200 and client.get("/notices?page=x").status_code == 200
    feed = client.get("/notices/feed.json")
    assert feed.status_code == 200 and feed.mimetype == "application/feed+json"
    body = feed.get_json()
    assert body["version"] == "https://jsonfeed.org/version/1.1"
    assert [item["_notice"]["registration_number"] for item in body["items"]] == [notice.registration_number]
    assert client.get("/notices/999999").status_code == 404
    # Before its certificate, a registration's page is its notice (the product page links the registration).
    early = client.get(f"/registrations/{notice.registration_number}")
    assert early.status_code == 302 and early.headers["Location"].endswith(f"/notices/{notice.id}")


def test_signed_in_member_objects_through_the_page_and_bad_input_is_shown_again(client, auth, session, notice,
                                                                                 objector):
    auth.login(objector.email)
    org = objector.memberships[0].organization
    page = client.get(f"/notices/{notice.id}")
    assert "File the objection" in page.text
    empty = client.post(f"/notices/{notice.id}", data={"organization_id": org.id, "reasons": " "})
    assert empty.status_code == 422 and "Give your reasons." in empty.text
    wrong = client.post(f"/notices/{notice.id}", data={
        "organization_id": org.id, "reasons": "Kept text", "evidence": (io.BytesIO(b"MZ..."), "tool.exe")},
        content_type="multipart/form-data")
    assert wrong.status_code == 422 and "Kept text" in wrong.text
    filed = client.post(f"/notices/{notice.id}", data={
        "organization_id": org.id, "reasons": "The source forbids resale.",
        "evidence": (io.BytesIO(b"%PDF-1.4 letter"), "letter.pdf")}, content_type="multipart/form-data")
    assert filed.status_code == 302
    objection = session.scalar(select(Objection).where(Objection.notice_id == notice.id))
    assert objection.reasons == "The source forbids resale."
    evidence = client.get(f"/notices/{notice.id}/objections/{objection.id}/evidence")
    assert evidence.status_code == 200 and evidence.data.startswith(b"%PDF-")


def test_the_seller_cannot_object_nor_read_evidence(client, auth, session, notice, objector, seller, storage):
    org = objector.memberships[0].organization
    objection = notices.object_to(session, objector, notice, org, "Reasons.",
                                  ("a.txt", io.BytesIO(b"plain words")), storage)
    session.commit()
    auth.login(seller.email)
    page = client.get(f"/notices/{notice.id}")
    assert "cannot object" in page.text
    refused = client.post(f"/notices/{notice.id}", data={"organization_id": seller.memberships[0].organization.id,
                                                         "reasons": "Mine"})
    assert refused.status_code == 403
    assert client.get(f"/notices/{notice.id}/objections/{objection.id}/evidence").status_code == 404


def test_reviewer_dismisses_through_the_page_needing_a_reason(client, auth, session, notice, objector, reviewer):
    objection = notices.object_to(session, objector, notice, objector.memberships[0].organization, "Reasons.")
    session.commit()
    auth.login(reviewer.email)
    url = f"/notices/{notice.id}/objections/{objection.id}/decision"
    prefix = f"o{objection.id}-"
    missing = client.post(url, data={prefix + "decision": "dismiss", prefix + "reason": ""})
    assert missing.status_code == 422 and "A reason is required." in missing.text
    assert client.post(url, data={prefix + "decision": "dismiss", prefix + "reason": "Unfounded."}).status_code == 302
    session.refresh(objection)
    assert objection.status == ObjectionStatus.DISMISSED
    again = client.post(url, data={prefix + "decision": "uphold", prefix + "reason": "Second thoughts."})
    assert again.status_code == 409


def test_registration_page_download_and_verification(client, session, notice):
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    number = notice.registration_number
    page = client.get(f"/registrations/{number}")
    assert page.status_code == 200 and "Valid." in page.text
    document = client.get(f"/registrations/{number}.json")
    assert document.status_code == 200
    body = document.get_json()
    assert body["registration"]["type"] == "RegistrationCertificate"
    assert body["registration"]["holder"]["name"] == notice.organization.name
    assert body["registration"]["assessments"] == []
    checked = client.post("/api/v1/certificates/verify", data=document.data, content_type="application/json")
    assert checked.status_code == 200 and checked.get_json()["valid"] is True
    assert checked.get_json()["kind"] == "registration" and checked.get_json()["status"] == "valid"
    body["registration"]["scope"]["version"]["label"] = "9.9"
    forged = client.post("/api/v1/certificates/verify", json=body)
    assert forged.get_json()["valid"] is False
    assert client.get("/registrations/REG-0000-000000").status_code == 404
    # The product page links to it.
    product = client.get(f"/products/{notice.product.slug}")
    assert f"/registrations/{number}" in product.text


@pytest.mark.parametrize(("tag", "words", "raw"), [
    ("en", ["Transport", "Hong Kong"], ["transport", "hong_kong"]),
    ("zh-Hans", ["交通", "香港交通数据"], ["transport", "hong_kong", "Categories"]),
    ("zh-Hant-HK", ["交通", "香港交通数据"], ["transport", "hong_kong", "Categories"]),
])
def test_registration_page_shows_the_vocabulary_in_the_readers_words(client, session, notice, tag, words, raw):
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    notices.end_due_notices(session)
    session.commit()
    client.set_cookie(LOCALE_COOKIE, tag)
    page = client.get(f"/registrations/{notice.registration_number}")
    assert page.status_code == 200
    statement = re.sub(r'href="[^"]*"', "", page.text.split('id="standing"')[1])
    assert all(word in statement for word in words)
    assert not [code for code in raw if code in statement]
    # The signed text stays as issued.
    scope = client.get(f"/registrations/{notice.registration_number}.json").get_json()["registration"]["scope"]
    assert scope["categories"] == ["transport"] and "hong_kong" in scope["territories"]


def test_the_review_queue_shows_notices_with_objections(client, auth, session, notice, objector, reviewer):
    auth.login(reviewer.email)
    assert notice.registration_number not in client.get("/review/").text
    notices.object_to(session, objector, notice, objector.memberships[0].organization, "Reasons.")
    session.commit()
    assert f"/notices/{notice.id}#objections" in client.get("/review/").text


def test_an_upheld_objection_puts_the_case_back_in_the_queue_with_its_reason(client, auth, session, notice, objector,
                                                                             reviewer, seller):
    objection = notices.object_to(session, objector, notice, objector.memberships[0].organization,
                                  "Names in the sample.")
    notices.decide_objection(session, reviewer, objection, "uphold", "Names confirmed in row 2.")
    session.commit()
    case = review.case_for_version(session, notice.version)
    auth.login(reviewer.email)
    assert notice.version.title_en in client.get("/review/").text
    page = client.get(f"/review/cases/{case.id}")
    assert page.status_code == 200 and "Names confirmed in row 2." in page.text
    auth.logout()
    auth.login(seller.email)
    version = client.get(f"/seller/products/{notice.product_id}/versions/{notice.version.number}")
    assert version.status_code == 200 and "suspended" in version.text
