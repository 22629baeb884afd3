"""The buyer's licence pages and the certificate page in both Chinese locales: the words of the interface, the
scenario and the terms in the reader's language, dates in Babel's words, no English left in the main content."""
from __future__ import annotations

import re

import pytest

from tests.licensing import test_certificates as shared
from tests.licensing.test_buyer_views import license_url, place, request_form

# The certificate fixtures of test_certificates, for this module's tests too.
key_file, licence, licensee, product = shared.key_file, shared.licence, shared.licensee, shared.product



@pytest.fixture
def buyer_client(client, auth, buyer):
    auth.login(buyer.email)
    return client


HEADERS = {"zh-Hans": {"Accept-Language": "zh-CN"}, "zh-Hant-HK": {"Accept-Language": "zh-HK"}}


def main(response, tag: str) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert re.search(r'<html lang="([^"]+)"', html).group(1) == tag
    # From the page's own header on: flashes come from the action before (another part of the interface).
    return html.split("<main", 1)[-1].split("</main>", 1)[0].split('<div class="page-header">', 1)[-1]


def no_english(html: str, *phrases: str) -> None:
    left = [p for p in phrases if p in html]
    assert left == [], left


CERTIFICATE_ENGLISH = ("Licence certificate", "Parties and order", "Versions and files covered", "Licence terms",
                       "Declared use scenario", "Validity", "Signature", "This licence is active", "Purpose",
                       "Sector", "Territory of use", "Expected users", "May be used for", "The versions named",
                       "issued and signed this certificate", "Algorithm", ">Research<", ">Academia<")


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["许可证书", "交易双方与订单", "涵盖的版本与文件", "许可条款", "声明的应用场景", "本许可有效。",
                 "用途", "研究", "行业", "使用地域", "证书载明的版本", "开放数据交易所于", "签发并签署本证书",
                 "年", "(Asia/Shanghai)"]),
    ("zh-Hant-HK", ["許可證書", "交易雙方與訂單", "涵蓋的版本與檔案", "許可條款", "聲明的應用場景", "本許可有效。",
                    "用途", "研究", "行業", "使用地域", "證書載明的版本", "開放數據交易所於", "簽發並簽署本證書",
                    "年", "(Asia/Hong_Kong)"]),
])
def test_the_certificate_page_speaks_each_chinese_locale(client, licence, tag, words):
    html = main(client.get(f"/certificates/{licence.serial}", headers=HEADERS[tag]), tag)
    for word in words:
        assert word in html, word
    no_english(html, *CERTIFICATE_ENGLISH)
    assert "LIC-2025-TEST01" in html and licence.signature in html  # what was signed is shown as signed


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["核验许可证书", "已公布的公钥", "核验"]),
    ("zh-Hant-HK", ["核驗許可證書", "已公佈的公鑰", "核驗"]),
])
def test_the_verification_page_and_its_verdict_speak_each_chinese_locale(client, licence, tag, words):
    html = main(client.get("/certificates/verify", headers=HEADERS[tag]), tag)
    for word in words:
        assert word in html, word
    no_english(html, "Verify a licence certificate", "published public keys", "Certificate JSON")
    response = client.post("/certificates/verify", data={"document": "{not json"}, headers=HEADERS[tag])
    assert response.status_code == 200
    verdict = response.get_data(as_text=True)
    assert ("无效。" if tag == "zh-Hans" else "無效。") in verdict and "Not valid." not in verdict
    assert "The document is not valid JSON" not in verdict


LICENCE_ENGLISH = ("My licences", "Plan", "Licensee", "Valid", "Serial", "Order", "Files", "Terms", "Frozen when",
                   "Declared use scenario", "Validity", "No expiry", "Show and verify", "Licensed to",
                   "May be used for", "Attribution", ">Research<", ">Academia<", ">Hong Kong<")


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["被许可方", "方案", "编号", "订单", "文件", "永不过期", "可用于：", "声明的应用场景",
                 "查看并核验", "研究", "学术", "香港", "有效"]),
    ("zh-Hant-HK", ["被許可方", "方案", "編號", "訂單", "檔案", "永不過期", "可用於：", "聲明的應用場景",
                    "查看並核驗", "研究", "學術", "香港", "有效"]),
])
def test_the_licence_pages_speak_each_chinese_locale(session, buyer, buyer_client, buyer_org, offer, tag,
                                                     words):
    buyer.locale = tag  # a signed-in user's saved preference chooses the language
    session.commit()
    order_id = place(buyer_client, offer, "Open research", buyer_org)  # free: the licence is issued at once
    licences = main(buyer_client.get("/licences"), tag)
    assert words[0] in licences
    no_english(licences, "My licences", "Licensee", "no expiry", "The licences of your organizations")
    licence_id = int(re.search(r'href="/licences/(\d+)"', licences).group(1))

    html = main(buyer_client.get(f"/licences/{licence_id}"), tag)
    for word in words[1:]:
        assert word in html, word
    no_english(html, *LICENCE_ENGLISH)

    order = main(buyer_client.get(f"/orders/{order_id}"), tag)
    for word in (["订购内容", "时间线", "已完成：许可已签发。", "查看许可"] if tag == "zh-Hans"
                 else ["訂購內容", "時間綫", "已完成：許可已簽發。", "查看許可"]):
        assert word in order, word
    no_english(order, "What you ordered", "Timeline", "Complete: the licence is issued.", "View licence",
               "Declared use scenario", "Terms accepted")

    orders = main(buyer_client.get("/orders"), tag)
    assert ("数据产品与方案" if tag == "zh-Hans" else "數據產品與方案") in orders
    no_english(orders, "Product and plan", "Every licence request", "Placed")


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["您的应用场景", "申请许可", "返回数据产品", "获取“", "方案"]),
    ("zh-Hant-HK", ["您的應用場景", "申請許可", "返回數據產品", "獲取“", "方案"]),
])
def test_the_licence_request_page_speaks_each_chinese_locale(session, buyer, buyer_client, offer, tag, words):
    buyer.locale = tag
    session.commit()
    product, plans = offer
    html = main(buyer_client.get(license_url(product, plans["Monthly"])), tag)
    for word in words:
        assert word in html, word
    no_english(html, "Your use scenario", "Back to the product", "State how your organization", "per month",
               "Licence runs one month at a time")


def test_checkout_speaks_chinese(session, buyer, buyer_client, buyer_org, offer):
    buyer.locale = "zh-Hant-HK"
    session.commit()
    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    assert buyer_client.post(f"/orders/{order_id}/pay").status_code == 302
    html = main(buyer_client.get(f"/orders/{order_id}/checkout"), "zh-Hant-HK")
    assert "模擬結賬" in html and "付款 HK$5,000.00" in html and "測試卡" in html
    no_english(html, "Simulated checkout", "Test cards", "licensed to", "Cancel leaves the order")


def test_a_scenario_refusal_is_in_the_readers_language(session, buyer, buyer_client, buyer_org, offer):
    buyer.locale = "zh-Hans"
    session.commit()
    product, plans = offer
    response = buyer_client.post(license_url(product, plans["Open research"]),
                                 data=request_form(buyer_org, purpose="commercial_product"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and ("该方案不允许" in html or "该方案为非商业性使用" in html)
    assert "This plan" not in html


def test_a_recorded_reason_is_shown_in_the_readers_language(app):
    from flask_babel import refresh

    from marketplace.licensing.services import PERIOD_ENDED, status_reason_in_words

    with app.test_request_context("/", headers={"Accept-Language": "zh-HK"}):
        refresh()
        assert status_reason_in_words(PERIOD_ENDED) == "許可期已結束。"
        assert status_reason_in_words("Order refunded: 重複購買") == "訂單已退款：重複購買"
        assert status_reason_in_words("") == "" and status_reason_in_words(None) == ""


def test_a_refund_at_the_provider_is_shown_in_the_readers_language(app):
    from flask_babel import refresh

    from marketplace.licensing.services import (
        LICENCE_REASONS,
        REFUNDED,
        REFUNDED_AT_PROVIDER,
        status_reason_in_words,
    )

    at_stripe = LICENCE_REASONS.english(REFUNDED_AT_PROVIDER, where="the Stripe Dashboard")
    recorded = LICENCE_REASONS.english(REFUNDED, reason=at_stripe)
    assert recorded == "Order refunded: Refunded in the Stripe Dashboard."  # what the audit trail and API keep
    for language, tag in (("zh-HK", "zh-Hant-HK"), ("zh-CN", "zh-Hans")):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            refresh()
            shown = status_reason_in_words(recorded)
            assert not re.search(r"[A-Za-z]{3}", shown.replace("Stripe", "")), shown
            assert shown.startswith("訂單已退款" if tag == "zh-Hant-HK" else "订单已退款"), shown


@pytest.mark.parametrize(("paid_in", "read_in", "words"), [
    ("en", "zh-Hans", "您的银行卡交易未获批准"), ("zh-Hant-HK", "zh-Hans", "您的银行卡交易未获批准"),
    ("zh-Hans", "zh-Hant-HK", "您的信用卡交易未獲批核")])
def test_a_declined_card_is_recorded_in_english_and_read_in_the_readers_language(
        session, buyer, buyer_client, buyer_org, offer, paid_in, read_in, words):
    from marketplace.orders.models import Order
    from tests.licensing.test_buyer_views import DECLINED_CARD, fresh

    order_id = place(buyer_client, offer, "Exclusive", buyer_org)
    buyer_client.post(f"/orders/{order_id}/pay")
    buyer.locale = paid_in
    session.commit()
    response = buyer_client.post(f"/orders/{order_id}/checkout", data={"card_number": DECLINED_CARD, "pay": "Pay"})
    assert response.status_code == 402
    assert fresh(session, Order, order_id).payment_error == "Your card was declined."  # whoever paid, in English
    buyer.locale = read_in
    session.commit()
    page = buyer_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert words in page and "Your card was declined" not in page
