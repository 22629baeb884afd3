"""In a real browser, a visitor who chose a Chinese locale browses the catalog: the page speaks the locale, a search
finds the same products in either script, and the product page shows the seller's Chinese first with its lang."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

LOCALES = [
    ("zh-Hans", "台风", {"heading": "查找可获授权许可的数据", "search": "搜索", "dictionary": "数据字典",
                        "license": "获取本产品许可"}),
    ("zh-Hant-HK", "颱風", {"heading": "尋找可獲授權許可的數據", "search": "搜尋", "dictionary": "數據字典",
                           "license": "獲取本產品許可"}),
]


def _visitor(browsing, tag: str):
    page = browsing.new_page()
    page.context.add_cookies([{"name": "locale", "value": tag, "url": browsing.server.url}])  # the switcher's choice
    return page


def _found(page, words: str) -> list[str]:
    page.goto(f"/catalog?q={words}")
    return sorted(page.locator(".product-card h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))"))


@pytest.mark.parametrize(("tag", "typhoon", "words"), LOCALES)
def test_a_chinese_visitor_searches_and_opens_a_product(browsing, tag, typhoon, words):
    page = _visitor(browsing, tag)
    page.goto("/catalog")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"])
    expect(page.get_by_role("button", name=words["search"], exact=True)).to_be_visible()

    found = _found(page, typhoon)
    assert found, "the demo catalog has typhoon products"
    assert _found(page, "颱風" if typhoon == "台风" else "台风") == found  # either script finds the same products

    page.goto(found[0])
    expect(page.locator("html")).to_have_attribute("lang", tag)
    title = page.get_by_role("heading", level=1)
    expect(title).to_have_attribute("lang", re.compile(r"^zh"))  # the seller's Chinese first, marked
    expect(page.get_by_role("link", name=re.compile(words["dictionary"])).first).to_be_visible()
    expect(page.get_by_role("heading", name=words["license"])).to_be_visible()
    assert browsing.server_errors == []
