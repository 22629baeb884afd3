"""The admin's products page, a status change and the audit page's filters in both Chinese locales."""
from __future__ import annotations

import re

import pytest

from tests.review.test_languages import ZH, check_page, english_left, in_locale, main_text

WORDS = {
    "products": {"zh-Hans": ["数据产品", "所有状态", "所有机构", "标题或短名称包含", "最近决定", "批准",
                             "暂停交易", "摘牌"],
                 "zh-Hant-HK": ["數據產品", "所有狀態", "所有機構", "標題或短名稱包含", "最近決定", "批准",
                                "暫停交易", "摘牌"]},
    "delist": {"zh-Hans": ["摘牌不可撤销。", "我明白摘牌不可撤销", "原因", "取消"],
               "zh-Hant-HK": ["摘牌不可撤銷。", "我明白摘牌不可撤銷", "原因", "取消"]},
    "audit": {"zh-Hans": ["操作人（姓名或电子邮箱）", "数据产品（短名称或编号）", "对象类型", "起始日期", "导出 CSV",
                          "版本", "数据产品"],
              "zh-Hant-HK": ["操作人（姓名或電郵地址）", "數據產品（短名稱或編號）", "對象類型", "開始日期", "匯出 CSV",
                             "版本", "數據產品"]},
}
ENGLISH = ["Products", "Last decision", "Title or slug contains", "Any status", "none yet", "Delisting is final",
           "I understand", "Actor", "Object type", "Export", "From", "all events", "version", "product"]


def left(text: str) -> list[str]:
    text = re.sub(r"\b\w+(?:\.\w+)+\b", " ", text)  # actions are identifiers (version.approve), not words
    return english_left(text) + [p for p in ENGLISH if re.search(rf"\b{re.escape(p)}\b", text)]


@pytest.mark.parametrize("tag", ZH)
def test_the_products_page_and_delisting_are_in_each_chinese_locale(client, auth, session, admin, listed, tag):
    client = in_locale(client, auth, session, admin, tag)
    text = check_page(client.get("/admin/products"), tag, WORDS["products"][tag])
    assert left(text.replace("Strategic road detectors", "")) == []
    text = check_page(client.get(f"/admin/products/{listed.id}/delist"), tag, WORDS["delist"][tag])
    assert left(text.replace("Strategic road detectors", "")) == []
    response = client.post(f"/admin/products/{listed.id}/delist", data={"reason": "Gone."})
    assert response.status_code == 422
    assert ("请勾选此项以确认" if tag == "zh-Hans" else "請剔選此項以確認") in main_text(response)


@pytest.mark.parametrize("tag", ZH)
def test_the_audit_filters_and_their_errors_are_in_each_chinese_locale(client, auth, session, admin, listed, tag):
    client = in_locale(client, auth, session, admin, tag)
    text = check_page(client.get(f"/admin/audit?product={listed.slug}"), tag, WORDS["audit"][tag])
    assert left(text.replace("Strategic road detectors", "")) == []
    response = client.get("/admin/audit?since=yesterday")
    assert response.status_code == 400
    assert ("不是日期" if tag == "zh-Hans" else "不是日期，請按") in main_text(response)
