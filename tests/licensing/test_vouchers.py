"""Transaction vouchers: one per settled order, its money read from the ledger's sale, signed like a certificate and
verified by the same page, endpoint and command; shown to the trade's parties only, with what happened since."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.licensing.certificates import certificate_document, verify_document, voucher_document
from marketplace.licensing.models import Voucher
from marketplace.orders.refunds import flag_dispute, record_partial_refund, settle_dispute
from tests import factories
from tests.licensing import test_certificates as shared
from tests.licensing.test_seller_views import buy, request_plan
from tests.support.pages import lang_of, main

jwks, key_file, signer = shared.jwks, shared.key_file, shared.signer


@pytest.fixture
def paid(session, buyer, buyer_org, plans, key_file):
    """An "Exclusive" order (HKD 5,000.00, 10 % fee) paid and fulfilled, with its voucher."""
    return buy(session, buyer, buyer_org, plans["Exclusive"])


@pytest.fixture
def voucher(session, paid) -> Voucher:
    return session.scalars(select(Voucher).where(Voucher.order_id == paid.id)).one()


@pytest.fixture
def stranger(session):
    user = factories.user(session, email="stranger@example.org", organization="Elsewhere Ltd")
    session.commit()
    return user


def test_a_paid_order_has_one_voucher_stating_the_ledgers_sale(session, paid, voucher, jwks):
    sale = session.scalars(select(LedgerTransaction).where(LedgerTransaction.order_id == paid.id,
                                                           LedgerTransaction.kind == TransactionKind.SALE)).one()
    postings = {p.account.kind: p.amount for p in sale.postings}
    s = voucher.statement
    assert s["type"] == "TransactionVoucher" and s["number"] == voucher.number
    assert (s["amount"], s["currency"]) == (500000, "HKD")
    assert s["platform_fee"] == -postings[AccountKind.PLATFORM_FEE] and s["platform_fee"] > 0
    assert s["seller_net"] == -postings[AccountKind.SELLER_PENDING] == 500000 - s["platform_fee"]
    assert s["ledger_transaction"] == sale.id and s["licence"]["serial"] == paid.licence.serial
    assert s["buyer"]["id"] == paid.buyer_organization_id and s["seller"]["id"] == paid.seller_organization_id
    assert s["product_version"]["label"] == paid.version.label and s["scenario"] == paid.licence.scenario
    assert s["order"] == paid.number and s["settled_at"].endswith("Z")
    result = verify_document(voucher_document(voucher), jwks)
    assert result.valid and result.kind == "voucher" and result.serial == voucher.number
    assert voucher.key_id == paid.licence.key_id  # the certificates' key
    assert session.scalar(select(func.count(Voucher.id)).where(Voucher.order_id == paid.id)) == 1


def test_a_free_order_settles_no_money_and_has_no_voucher(session, buyer, buyer_org, plans, key_file):
    order = request_plan(session, buyer, buyer_org, plans["Open research"])
    session.commit()
    assert order.licence is not None and order.voucher is None
    assert session.scalar(select(func.count(Voucher.id))) == 0


def test_a_tampered_voucher_fails(voucher, jwks):
    document = voucher_document(voucher)
    for path in (("voucher", "amount"), ("voucher", "platform_fee"), ("voucher", "buyer", "name"),
                 ("voucher", "type")):
        result = verify_document(shared.with_change(document, path), jwks)
        assert not result.valid and not result.malformed, path


def test_a_voucher_and_a_certificate_are_never_taken_for_each_other(paid, voucher, jwks):
    as_certificate = {"certificate": voucher.statement, "signature": voucher_document(voucher)["signature"]}
    result = verify_document(as_certificate, jwks)
    assert not result.valid and "not a data licence certificate" in result.reason
    certificate = certificate_document(paid.licence)
    as_voucher = {"voucher": certificate["certificate"], "signature": certificate["signature"]}
    result = verify_document(as_voucher, jwks)
    assert not result.valid and "not a transaction voucher" in result.reason
    both = {**voucher_document(voucher), "certificate": certificate["certificate"]}
    assert verify_document(both, jwks).malformed
    assert verify_document(certificate, jwks).valid  # the certificate itself still verifies


# ---------------------------------------------------------------- pages and endpoints


def test_both_parties_order_pages_link_to_the_voucher_page(client, auth, seller, buyer, paid, voucher):
    auth.login(buyer.email)
    assert f"/vouchers/{voucher.number}" in client.get(f"/orders/{paid.id}").get_data(as_text=True)
    page = client.get(f"/vouchers/{voucher.number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and voucher.number in html and "HK$5,000.00" in html.replace("HK$ ", "HK$")
    assert paid.licence.serial in html and "Settled." in html
    auth.logout()
    auth.login(seller.email)
    org = paid.seller_organization
    assert f"/vouchers/{voucher.number}" in client.get(f"/seller/{org.slug}/orders/{paid.id}").get_data(as_text=True)
    download = client.get(f"/vouchers/{voucher.number}.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data) == voucher_document(voucher)


def test_strangers_and_visitors_get_no_voucher(client, auth, stranger, voucher):
    for url in (f"/vouchers/{voucher.number}", f"/vouchers/{voucher.number}.json"):
        assert client.get(url).status_code in (302, 401)
    auth.login(stranger.email)
    for url in (f"/vouchers/{voucher.number}", f"/vouchers/{voucher.number}.json", "/vouchers/TV-0000-NONE"):
        assert client.get(url).status_code == 404, url


def test_the_api_returns_the_voucher_to_either_party_only(session, client, buyer, seller, stranger, voucher, jwks):
    for user in (buyer, seller):
        response = factories.TokenClient(client, factories.api_token(session, user)).get(
            f"/api/v1/vouchers/{voucher.number}")
        assert response.status_code == 200, response.data
        body = response.get_json()
        assert body["document"] == voucher_document(voucher) and verify_document(body["document"], jwks).valid
        assert (body["refunded"], body["disputed"], body["dispute_lost"]) == (0, False, False)
    response = factories.TokenClient(client, factories.api_token(session, stranger)).get(
        f"/api/v1/vouchers/{voucher.number}")
    assert response.status_code == 404 and "voucher" not in json.dumps(response.get_json()).lower().replace(
        "transaction voucher", "")


def test_the_verify_page_and_endpoint_check_a_voucher_against_the_record(client, voucher):
    document = voucher_document(voucher)
    html = client.post("/certificates/verify", data={"document": json.dumps(document)}).get_data(as_text=True)
    assert "Valid." in html and "matches the voucher on record" in html and voucher.number in html
    response = client.post("/api/v1/certificates/verify", json=document)
    assert response.status_code == 200 and response.get_json()["valid"] is True
    assert response.get_json()["kind"] == "voucher"
    assert response.get_json()["status"] == "settled"
    tampered = shared.with_change(document, ("voucher", "seller_net"))
    refused = client.post("/api/v1/certificates/verify", json=tampered).get_json()
    assert refused["valid"] is False and refused["kind"] == "voucher"
    assert "does not match the voucher" in refused["reason"]
    html = client.post("/certificates/verify", data={"document": json.dumps(tampered)}).get_data(as_text=True)
    assert "Not valid." in html


def test_a_signed_voucher_not_on_record_is_not_valid_online(client, session, voucher):
    document = voucher_document(voucher)
    session.delete(voucher)
    session.commit()
    body = client.post("/api/v1/certificates/verify", json=document).get_json()
    assert body["valid"] is False and "never issued" in body["reason"]


def test_the_cli_verifies_a_voucher_offline(app, tmp_path, voucher, jwks):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(jwks))
    good, bad = tmp_path / "voucher.json", tmp_path / "tampered.json"
    document = voucher_document(voucher)
    good.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    tampered = copy.deepcopy(document)
    tampered["voucher"]["amount"] += 1
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    result = shared.run(app, "licences", "verify", str(good), "--keys", str(keys))
    assert result.exit_code == 0 and f"VALID: {voucher.number}" in result.output, result.output
    result = shared.run(app, "licences", "verify", str(bad), "--keys", str(keys))
    assert result.exit_code == 1 and "does not match" in result.output


def test_a_refunded_order_keeps_its_voucher_and_the_page_says_so(client, auth, session, buyer, paid, voucher, jwks):
    issued = copy.deepcopy(voucher_document(voucher))
    record_partial_refund(session, paid, 100001, 500000, "the Stripe Dashboard")
    session.commit()
    auth.login(buyer.email)
    html = client.get(f"/vouchers/{voucher.number}").get_data(as_text=True)
    assert "Refunded in part" in html
    session.refresh(voucher)
    assert voucher_document(voucher) == issued and verify_document(issued, jwks).valid
    # Verifying it says what happened since, as a licence certificate's check says it was revoked.
    body = client.post("/api/v1/certificates/verify", json=issued).get_json()
    assert body["valid"] is True and body["status"] == "partly_refunded"
    page = client.post("/certificates/verify", data={"document": json.dumps(issued)}).get_data(as_text=True)
    assert "Since then:" in page and "Refunded in part" in page


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["交易凭证", "平台服务费", "卖方净额", "已结算。", "申报的应用场景", "下载已签名的交易凭证"]),
    ("zh-Hant-HK", ["交易憑證", "平台服務費", "賣方淨額", "已結算。", "申報的應用場景", "下載已簽名的交易憑證"]),
])
def test_the_voucher_page_speaks_each_chinese_locale(client, auth, session, buyer, voucher, tag, words):
    buyer.locale = tag
    session.commit()
    auth.login(buyer.email)
    response = client.get(f"/vouchers/{voucher.number}")
    assert lang_of(response) == tag
    html = main(response)
    for word in words:
        assert word in html, word
    for english in ("Transaction voucher", "Platform fee", "Seller's net", "Settled.", "Declared scenario"):
        assert english not in html, english


def test_a_disputed_then_lost_order_keeps_its_voucher_and_says_what_happened(client, auth, session, buyer, seller,
                                                                            paid, voucher, jwks):
    issued = copy.deepcopy(voucher_document(voucher))
    api = factories.TokenClient(client, factories.api_token(session, seller))
    flag_dispute(session, paid, "dp_voucher", "fraudulent")
    session.commit()
    auth.login(buyer.email)
    assert "Disputed: the buyer" in client.get(f"/vouchers/{voucher.number}").get_data(
        as_text=True)
    assert api.get(f"/api/v1/vouchers/{voucher.number}").get_json()["disputed"] is True
    settle_dispute(session, paid, "dp_voucher", "lost")
    session.commit()
    html = client.get(f"/vouchers/{voucher.number}").get_data(as_text=True)
    assert "Reversed: the buyer" in html and "upheld a dispute" in html
    body = api.get(f"/api/v1/vouchers/{voucher.number}").get_json()
    assert (body["disputed"], body["dispute_lost"]) == (False, True) and body["document"] == issued
    assert verify_document(issued, jwks).valid


@pytest.mark.parametrize("bps, fee", [(0, 0), (10000, 500000)])
def test_a_sale_with_no_platform_fee_or_no_seller_share_still_has_its_voucher(session, buyer, buyer_org, plans,
                                                                             key_file, jwks, bps, fee):
    """The ledger writes no zero posting: a 0 % rate leaves the sale without a platform-fee line, a 100 % rate
    without the seller's; the voucher reads the missing one as 0 instead of failing the payment."""
    plan = plans["Exclusive"]
    plan.version.product.organization.fee_bps = bps
    session.commit()
    order = buy(session, buyer, buyer_org, plan)
    voucher = session.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()
    s = voucher.statement
    assert (s["amount"], s["platform_fee"], s["seller_net"]) == (500000, fee, 500000 - fee)
    assert verify_document(voucher_document(voucher), jwks).valid


def test_the_verify_page_writes_the_settlement_day_in_the_readers_words(client, voucher):
    page = client.post("/certificates/verify", data={"document": json.dumps(voucher_document(voucher))})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "settled on " in text
    assert f"settled on {voucher.statement['settled_at']}" not in text  # a day, not the statement's raw time
