"""Cross-boundary trades on the pages: a reviewer finds and decides waiting evidence on a read-only order page; the
buyer attaches an evidence document, checked like objection evidence, past the form cap; the seller's order page,
sales list and request queue show the position and the evidence, and the seller declines a trade waiting for it;
the buyer is shown what is awaited instead of "Pay"; the request form and the product page warn of the
registration's expiry; an unknown territory in the request form's check is said."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from marketplace.crossborder.states import EvidenceStatus
from marketplace.db import utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests.crossborder.conftest import with_profile
from tests.crossborder.test_deadlines import _registered
from tests.crossborder.test_pages import _form, _license_url
from tests.crossborder.test_trades import _request, make_buyer

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def waiting(session, plans, shanghai_product):
    """A paid trade needing a standard contract, its evidence not given yet."""
    with_profile(shanghai_product, individuals=150_000)
    session.commit()
    return _request(session, make_buyer(session), plans["Paid research"])


def _send(client, order, document=None, filing="SC-310000-2026-9"):
    data = {"filing_number": filing, "note": "Filed in March."}
    if document is not None:
        data["document"] = document
    return client.post(f"/orders/{order.id}/cross-boundary/evidence", data=data,
                       content_type="multipart/form-data")


def test_a_reviewer_finds_waiting_evidence_and_confirms_it_on_a_read_only_order_page(session, client, auth,
                                                                                     waiting, reviewer):
    orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9")
    session.commit()
    auth.login(reviewer.email)
    assert "/review/orders/" in client.get("/review/").get_data(as_text=True)
    queue = client.get("/review/orders/").get_data(as_text=True)
    assert waiting.number in queue and "Art. 8" in queue and "SC-310000-2026-9" in queue
    page = client.get(f"/review/orders/{waiting.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Cross-boundary position" in html and "Confirm the evidence" in html
    assert "Cancel order" not in html and f"/orders/{waiting.id}/pay" not in html  # read-only
    blank = client.post(f"/review/orders/{waiting.id}/decision", data={"reject": "1", "reason": ""})
    assert blank.status_code == 422 and "A reason is required." in blank.get_data(as_text=True)
    assert client.post(f"/review/orders/{waiting.id}/decision", data={"confirm": "1"}).status_code == 302
    session.expire_all()
    order = session.get(Order, waiting.id)
    assert orders.position_of(session, order).evidence_status == EvidenceStatus.CONFIRMED
    assert waiting.number not in client.get("/review/orders/").get_data(as_text=True)


def test_only_reviewers_reach_the_evidence_queue(session, client, auth, waiting, seller):
    auth.login(seller.email)
    assert client.get("/review/orders/").status_code == 403
    assert client.get(f"/review/orders/{waiting.id}").status_code == 403


def test_the_buyer_attaches_a_document_kept_under_a_safe_name_and_the_seller_downloads_it(
        app, monkeypatch, session, client, auth, waiting, seller):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 8 * 1024 * 1024)  # the upload cap, as in production
    auth.login(waiting.buyer.email)
    big = PDF + b"%" + b"x" * (3 * 1024 * 1024)  # past the 2 MB cap of page forms
    sent = _send(client, waiting, (io.BytesIO(big), '../<script>alert(1)</script> contract.pdf'))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    session.expire_all()
    position = orders.position_of(session, session.get(Order, waiting.id))
    assert position.evidence_size == len(big) and position.evidence_content_type == "application/pdf"
    assert "<" not in position.evidence_filename and "/" not in position.evidence_filename
    assert position.evidence_filename.endswith(".pdf")
    auth.logout()
    auth.login(seller.email)
    page = client.get(f"/orders/{waiting.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and position.evidence_filename in page
    download = client.get(f"/orders/{waiting.id}/cross-boundary/document")
    assert download.status_code == 200 and download.data == big
    assert position.evidence_filename in download.headers["Content-Disposition"]


def test_a_document_past_its_own_cap_is_refused(app, monkeypatch, session, client, auth, waiting):
    monkeypatch.setitem(app.config, "CROSS_BOUNDARY_EVIDENCE_MAX_BYTES", 256 * 1024)
    auth.login(waiting.buyer.email)
    refused = _send(client, waiting, (io.BytesIO(PDF + b"x" * 300 * 1024), "contract.pdf"))
    assert refused.status_code == 413 and "larger than" in refused.get_data(as_text=True)


def test_a_body_past_the_documents_cap_shows_the_form_again_unread(app, monkeypatch, session, client, auth,
                                                                    waiting):
    monkeypatch.setitem(app.config, "CROSS_BOUNDARY_EVIDENCE_MAX_BYTES", 256 * 1024)
    auth.login(waiting.buyer.email)
    refused = _send(client, waiting, (io.BytesIO(PDF + b"x" * 400 * 1024), "contract.pdf"), filing="SC-TYPED-1")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413 and "The file may be at most 256 KB." in page
    assert "fill in the form again" in page and 'name="filing_number"' in page and 'name="document"' in page
    assert "SC-TYPED-1" not in page  # the body was not read


@pytest.mark.parametrize(("name", "data", "message"), [
    ("contract.pdf", b"", "The file is empty."),
    ("contract.pdf", b"just text, not a PDF", "does not look like its type"),
    ("contract.exe", b"MZ\x90\x00", "Evidence may be a PDF, PNG or JPEG file or plain text."),
])
def test_a_bad_evidence_document_is_refused_beside_its_field(session, client, auth, waiting, name, data, message):
    auth.login(waiting.buyer.email)
    refused = _send(client, waiting, (io.BytesIO(data), name))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and message in html and "SC-310000-2026-9" in html
    session.expire_all()
    assert orders.position_of(session, session.get(Order, waiting.id)).evidence_status == EvidenceStatus.NEEDED


def test_the_buyer_is_shown_what_is_awaited_instead_of_pay(session, client, auth, waiting):
    auth.login(waiting.buyer.email)
    html = client.get(f"/orders/{waiting.id}").get_data(as_text=True)
    assert f"/orders/{waiting.id}/pay" not in html
    assert "Waiting for the evidence of the cross-boundary mechanism" in html
    assert "The buyer&#39;s evidence of it is awaited." in html or "The buyer's evidence of it is awaited." in html


def test_the_seller_pages_show_the_position_and_the_evidence(session, client, auth, waiting, seller):
    orders.submit_evidence(session, waiting.buyer, waiting, "SC-310000-2026-9", "",
                           ("contract.pdf", io.BytesIO(PDF)))
    session.commit()
    org = seller.memberships[0].organization
    auth.login(seller.email)
    page = client.get(f"/seller/{org.slug}/orders/{waiting.id}").get_data(as_text=True)
    for words in ("Cross-boundary position", "Standard contract or certification", "Art. 8", "SC-310000-2026-9",
                  "contract.pdf", "Confirm or reject the evidence"):
        assert words in page, words
    sales = client.get(f"/seller/{org.slug}/sales").get_data(as_text=True)
    assert "Standard contract or certification · Art. 8" in sales and "SC-310000-2026-9" in sales


def test_the_seller_declines_a_trade_waiting_for_evidence_from_its_order_page(session, client, auth, waiting,
                                                                              seller):
    org = seller.memberships[0].organization
    auth.login(seller.email)
    url = f"/seller/{org.slug}/orders/{waiting.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="decline"' in page and 'value="approve"' not in page
    declined = client.post(f"{url}/decide", data={"decision": "decline", "message": "No contract for this use.",
                                                  "back": "order"})
    assert declined.status_code == 302
    session.expire_all()
    assert session.get(Order, waiting.id).status == OrderStatus.DECLINED


def test_the_request_queue_shows_the_position(session, client, auth, shanghai_product, seller):
    with_profile(shanghai_product, individuals=150_000)
    version = shanghai_product.listed_version
    plan = next(p for p in version.plans if p.name == "Paid research")
    plan.requires_approval = True
    session.commit()
    order = _request(session, make_buyer(session), plan)
    assert order.status == OrderStatus.AWAITING_APPROVAL
    auth.login(seller.email)
    html = client.get(f"/seller/{seller.memberships[0].organization.slug}/requests").get_data(as_text=True)
    assert order.number in html and "Cross-boundary position" in html and "Art. 8" in html


def test_an_unknown_territory_in_the_requests_check_is_said(session, client, auth, plans, shanghai_product):
    buyer = make_buyer(session)
    session.commit()
    auth.login(buyer.email)
    response = client.post(_license_url(shanghai_product, plans["Open research"]),
                           data=_form(buyer.memberships[0].organization, preview="1", territory="mars"))
    assert response.status_code == 422
    assert "Choose a territory of use from the list." in response.get_data(as_text=True)


def test_the_request_form_and_the_product_page_warn_of_the_registrations_expiry(session, client, auth, plans,
                                                                               shanghai_product):
    certificate = _registered(session, shanghai_product, utcnow() + timedelta(days=20))
    buyer = make_buyer(session)
    session.commit()
    auth.login(buyer.email)
    form_url = _license_url(shanghai_product, plans["Open research"])
    for url in (form_url, f"/products/{shanghai_product.slug}"):
        html = client.get(url).get_data(as_text=True)
        assert "SDE-TEST-1" in html and "expires on" in html, url
    certificate.valid_until = utcnow() - timedelta(days=1)
    session.commit()
    for url in (form_url, f"/products/{shanghai_product.slug}"):
        html = client.get(url).get_data(as_text=True)
        assert "expired on" in html and "renewed" in html, url
    certificate.valid_until = utcnow() + timedelta(days=300)
    session.commit()
    assert "registration-warning" not in client.get(form_url).get_data(as_text=True)


def test_the_evidence_forms_follow_the_lifecycles_not_the_stored_states(session, client, auth, waiting, seller):
    auth.login(waiting.buyer.email)
    assert "Send the evidence" in client.get(f"/orders/{waiting.id}").get_data(as_text=True)
    assert client.post(f"/orders/{waiting.id}/cancel").status_code == 302
    html = client.get(f"/orders/{waiting.id}").get_data(as_text=True)
    assert "Send the evidence" not in html and "Cancel order" not in html
    assert "Waiting for the evidence" not in html  # a cancelled order waits for nothing
