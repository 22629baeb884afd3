"""The seller's sales, request queue and order pages (and the admin's order list) in Simplified Chinese and
Traditional Chinese (Hong Kong): the words, the amounts and dates formatted for the reader, the decisions' flashes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from tests.licensing.test_seller_views import SELLER_ORG, buy, request_plan
from tests.support.pages import lang_of, main

ENGLISH = ("Licence requests", "Declared use scenario", "Your decision", "Approve", "Decline", "Recent orders",
           "Revenue", "Active licences", "Requests waiting", "Refund reference", "Valid from", "No orders yet")


@pytest.fixture
def seller_client(client, auth, seller):
    auth.login(seller.email)
    return client


def speaks(session, user, tag: str) -> None:
    user.locale = tag
    session.commit()


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ("授权许可申请", "声明的应用场景", "您的决定", "批准", "驳回", "方案的许可条款", "HK$900.00")),
    ("zh-Hant-HK", ("授權許可申請", "聲明的應用場景", "您的決定", "批准", "駁回", "方案的許可條款", "HK$900.00")),
])
def test_the_request_queue_reads_in_chinese(session, seller_client, seller, buyer, buyer_org, plans, tag, words):
    request_plan(session, buyer, buyer_org, plans["By approval"])
    speaks(session, seller, tag)
    response = seller_client.get(f"{SELLER_ORG}/requests")
    assert response.status_code == 200 and lang_of(response) == tag
    content = main(response)
    for word in words:
        assert word in content, word
    for english in ENGLISH:
        assert english not in content, english


@pytest.mark.parametrize(("tag", "flash"), [("zh-Hans", "已驳回"), ("zh-Hant-HK", "已駁回")])
def test_a_decision_is_told_in_the_sellers_language(session, seller_client, seller, buyer, buyer_org, plans, tag,
                                                    flash):
    order = request_plan(session, buyer, buyer_org, plans["By approval"])
    speaks(session, seller, tag)
    url = f"{SELLER_ORG}/orders/{order.id}/decide"
    response = seller_client.post(url, data={"decision": "decline", "message": ""})
    assert response.status_code == 422
    assert ("必须填写给数据需求方的留言。" if tag == "zh-Hans" else "必須填寫給數據需求方的留言。") in main(response)
    response = seller_client.post(url, data={"decision": "decline", "message": "Not for this use."},
                                  follow_redirects=True)
    assert f"{flash} {order.number}" in main(response)


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ("销售", "收入", "有效授权许可", "待处理的申请", "最近订单", "已完成")),
    ("zh-Hant-HK", ("銷售", "收入", "有效授權許可", "待處理的申請", "最近訂單", "已完成")),
])
def test_the_sales_dashboard_and_an_order_read_in_chinese(session, seller_client, seller, buyer, buyer_org, plans,
                                                          tag, words):
    order = buy(session, buyer, buyer_org, plans["Research licence"])
    speaks(session, seller, tag)
    content = main(seller_client.get(f"{SELLER_ORG}/sales"))
    for word in words:
        assert word in content, word
    for english in ENGLISH:
        assert english not in content, english
    content = main(seller_client.get(f"{SELLER_ORG}/orders/{order.id}"))
    assert ("生效时间" if tag == "zh-Hans" else "生效時間") in content
    assert ("退款" in content) and "Valid from" not in content and "Declared use scenario" not in content
    # Dates in the reader's words: a Chinese date, no English month.
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", content)


@pytest.mark.parametrize(("tag", "refunded"), [("zh-Hans", "已向"), ("zh-Hant-HK", "已向")])
def test_a_refund_is_told_in_the_sellers_language(session, seller_client, seller, buyer, buyer_org, plans, tag,
                                                  refunded):
    order = buy(session, buyer, buyer_org, plans["Research licence"])
    speaks(session, seller, tag)
    response = seller_client.post(f"{SELLER_ORG}/orders/{order.id}/refund", data={"reason": "", "back": "order"})
    assert response.status_code == 422
    assert ("必须填写原因。" if tag == "zh-Hans" else "必須填寫原因。") in main(response)
    response = seller_client.post(f"{SELLER_ORG}/orders/{order.id}/refund",
                                  data={"reason": "Duplicate purchase.", "back": "order"}, follow_redirects=True)
    content = main(response)
    assert refunded in content and order.licence.serial in content
    assert ("已退款" if tag == "zh-Hans" else "已退款") in content


def _last_note(session, user) -> Notification:
    return session.scalars(select(Notification).where(Notification.user_id == user.id)
                           .order_by(Notification.id.desc())).first()


def test_each_member_is_notified_in_their_own_language(session, seller, buyer, buyer_org, plans):
    speaks(session, seller, "zh-Hant-HK")
    order = request_plan(session, buyer, buyer_org, plans["By approval"])
    note = _last_note(session, seller)
    assert note.subject == f"{order.version.title_zh} 的授權許可申請 {order.number}"  # the reader's language first
    assert "申請" in note.body and "asks to license" not in note.body
    speaks(session, buyer, "zh-Hans")
    orders.decide_order(session, seller, order, "decline", "Not for resale.")
    session.commit()
    note = _last_note(session, buyer)
    assert note.subject == f"授权许可申请 {order.number} 未获批准" and note.body == "Not for resale."
