"""The catalog and the product page in both Chinese locales: the interface in the reader's language, the seller's
content in the reader's language first (as written, with its own lang), the other language marked as a fallback."""
from __future__ import annotations

import re

import pytest
from flask_babel import refresh

from tests import factories

ZH = {"zh-Hans": "zh-CN", "zh-Hant-HK": "zh-HK"}


def page(client, url: str, tag: str) -> str:
    response = client.get(url, headers={"Accept-Language": ZH.get(tag, tag)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<html lang="([^"]+)"', html).group(1) == tag
    return html


def main(html: str) -> str:
    """The page's main content (the layout's header and footer belong to another part of the interface)."""
    return html.split("<main", 1)[-1].split("</main>", 1)[0]


# English that must not be left in the main content of a Chinese page.
CATALOG_ENGLISH = ["Find data you can license", "Apply filters", "Best match", "Search the catalog", "Free plan",
                   "Category", "Update frequency", ">Transport<", ">Hong Kong<"]
PRODUCT_ENGLISH = ["Data dictionary", "Licences &amp; pricing", "License this product", "May be used for",
                   "Licence lasts", "paid once", "Preview of the sample", "Built on open data", "Compliance reviewed",
                   "Related products", "Every licence request states", "Not allowed:", "Versions"]


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["查找可获授权许可的数据", "应用筛选", "类别", "交通", "香港", "最相关", "免费方案", "搜索"]),
    ("zh-Hant-HK", ["尋找可獲授權許可的數據", "應用篩選", "類別", "交通", "香港", "最相關", "免費方案", "搜尋"]),
])
def test_the_catalog_page_speaks_each_chinese_locale(client, catalog, tag, words):
    html = main(page(client, "/catalog", tag))
    for word in words:
        assert word in html, word
    for english in CATALOG_ENGLISH:
        assert english not in html, english


def test_a_chinese_reader_sees_chinese_titles_first_each_with_its_own_script(client, catalog):
    html = page(client, "/catalog", "zh-Hans")
    # Written in Simplified, written in Traditional: shown as the seller wrote them, marked by script.
    assert 'lang="zh-Hans">上海空气质量</a>' in html
    assert 'lang="zh-Hant">颱風陣風</a>' in html
    assert '<p class="muted" lang="en">Typhoon Wind Gusts</p>' in html
    english = page(client, "/catalog", "en")
    assert 'lang="en">Typhoon Wind Gusts</a>' in english and 'lang="zh-Hant">颱風陣風</p>' in english


@pytest.mark.parametrize(("tag", "note"), [("zh-Hans", "没有与“kowlon”完全匹配的结果"),
                                           ("zh-Hant-HK", "沒有與“kowlon”完全匹配的結果")])
def test_the_close_match_notice_is_translated(client, catalog, tag, note):
    html = page(client, "/catalog?q=kowlon", tag)
    assert note in html and "Kowloon Journey Times" in html


def test_facet_labels_follow_the_locale_of_each_request(client, catalog):
    assert ">交通</span>" in page(client, "/catalog", "zh-Hans")
    assert ">Transport</span>" in page(client, "/catalog", "en")  # a label cached for one locale is not another's
    assert ">交通</span>" in page(client, "/catalog", "zh-Hant-HK")


@pytest.fixture
def bilingual_product(session, storage, seller, reviewer):
    product = factories.listed_product(
        session, storage, seller, reviewer, title="Strategic Road Speeds", title_zh="策略性道路車速",
        description_en="Hourly **speeds** on strategic roads.", description_zh="策略性道路的每小時**車速**。",
        tags=["traffic", "交通"])
    session.commit()
    return product


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["数据字典", "许可与定价", "获取本产品许可", "可用于：研究、内部分析。", "许可有效期 365 天。",
                 "一次性付款", "样例数据预览", "所用开放数据", "已通过合规审核", "英文说明"]),
    ("zh-Hant-HK", ["數據字典", "許可與定價", "獲取本產品許可", "可用於：研究、內部分析。", "許可有效期 365 天。",
                    "一次性付款", "樣本數據預覽", "所用開放數據", "已通過合規審核", "英文說明"]),
])
def test_the_product_page_speaks_each_chinese_locale(client, bilingual_product, tag, words):
    html = main(page(client, f"/products/{bilingual_product.slug}", tag))
    for word in words:
        assert word in html, word
    for english in PRODUCT_ENGLISH:
        assert english not in html, english
    # The seller's Chinese first, as written (Traditional, not converted for a Simplified reader), then English.
    assert '<h1 lang="zh-Hant">策略性道路車速</h1>' in html
    assert '<p class="product-title-zh" lang="en">Strategic Road Speeds</p>' in html
    first, second = html.index('lang="zh-Hant"><p>策略性道路的每小時<strong>車速</strong>。</p>'), html.index(
        '<div class="prose" lang="en"><p>Hourly <strong>speeds</strong>')
    assert first < second
    assert '<span class="product-tag" lang="zh">交通</span>' in html  # the same characters in both scripts
    assert '<span class="product-tag" lang="en">traffic</span>' in html


def test_an_english_reader_gets_english_first(client, bilingual_product):
    html = page(client, f"/products/{bilingual_product.slug}", "en")
    assert '<h1 lang="en">Strategic Road Speeds</h1>' in html
    assert html.index('lang="en"><p>Hourly') < html.index('lang="zh-Hant"><p>策略性道路')
    assert "Description in Chinese" in html and "English only" not in html


def test_a_missing_language_falls_back_to_the_other_marked_as_such(client, session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Harbour Tides",
                                       description_en="Tide heights at Victoria Harbour.")
    version = product.listed_version
    version.title_zh = version.description_zh = ""  # listed before Chinese was asked for
    session.commit()
    for tag, note in (("zh-Hans", "仅有英文"), ("zh-Hant-HK", "僅有英文")):
        html = page(client, f"/products/{product.slug}", tag)
        assert '<h1 lang="en">Harbour Tides</h1>' in html
        assert html.count(note) == 2  # the title and the description
        assert '<div class="prose" lang="en"><p>Tide heights' in html
    assert "English only" not in page(client, f"/products/{product.slug}", "en")


def test_the_readers_language_comes_first_and_a_missing_one_is_a_fallback(app):
    from marketplace.bilingual import Shown, bilingual, first_of

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        assert bilingual("", "维多利亚港潮汐") == [Shown("维多利亚港潮汐", "zh", "zh-Hans", fallback=True)]
        assert [s.key for s in bilingual("Tides", "潮汐")] == ["en", "zh"]
        assert bilingual(" ", None) == [] and first_of(None, "").text == ""
    with app.test_request_context("/", headers={"Accept-Language": "zh-HK"}):
        refresh()
        assert bilingual("Tides", "維多利亞港潮汐") == [Shown("維多利亞港潮汐", "zh", "zh-Hant"),
                                                        Shown("Tides", "en", "en")]
        assert first_of("Tides", "").fallback and first_of("Tides", "").lang == "en"


def test_kept_pages_of_anonymous_visitors_are_kept_per_locale(client, bilingual_product):
    url = f"/products/{bilingual_product.slug}"
    for _ in range(3):  # the second request of each locale keeps its page, the third is served from it
        assert "Data dictionary" in page(client, url, "en")
        simplified = page(client, url, "zh-Hans")
        assert "数据字典" in simplified and "Data dictionary" not in main(simplified)
        assert "數據字典" in page(client, url, "zh-Hant-HK")
    assert "Data dictionary" in page(client, url, "en")


def test_the_dcat_export_keeps_its_english_literals_english_whatever_the_reader(client, bilingual_product):
    response = client.get(f"/products/{bilingual_product.slug}.ttl", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '"Transport"@en' in body and '"交通"@en' not in body


def test_vocabulary_labels_are_translated_and_english_stays_available(app):
    from marketplace.listings.vocab import Category, PersonalInfo, Territory

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert (Category.CITY_MANAGEMENT.label, Territory.MAINLAND_CHINA.label, PersonalInfo.PERSONAL.label) == (
            "城市管理", "中国内地", "个人信息")
        assert Category.CITY_MANAGEMENT.label_en == "City management"
    with app.test_request_context("/", headers={"Accept-Language": "zh-HK"}):
        refresh()
        assert PersonalInfo.PERSONAL.label == "個人資料"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()
        assert Category.CITY_MANAGEMENT.label == "City management"


def test_search_notes_are_in_the_readers_language(app):
    from marketplace.catalog.search import parse_terms

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()
        _terms, notes = parse_terms("交通 " * 120)
        assert notes[0] == "搜索内容过长，仅使用前 200 个字符。"
    with app.test_request_context("/", headers={"Accept-Language": "zh-HK"}):
        refresh()
        _terms, notes = parse_terms(" ".join(f"w{i}" for i in range(12)))
        assert notes == ["僅使用了前 8 個詞。"]


def test_a_sellers_chinese_names_carry_their_script(app):
    from marketplace.bilingual import lang_attr

    assert str(lang_attr("研究许可")) == ' lang="zh-Hans"' and str(lang_attr("研究許可")) == ' lang="zh-Hant"'
    assert str(lang_attr("Research licence")) == "" and str(lang_attr(None)) == ""


def test_labels_and_facet_names_are_kept_per_locale_and_english_is_as_written(app):
    from marketplace.catalog.search import FACETS, SORTS
    from marketplace.listings.view_helpers import label
    from marketplace.listings.vocab import Category

    seen = {}
    for accept in ("en", "zh-CN", "en", "zh-HK", "zh-CN"):
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            refresh()
            words = (label(Category, "transport"), str(FACETS["region"]), str(SORTS["newest"]))
            assert seen.setdefault(accept, words) == words  # a label kept for one locale is never another's
    assert seen["en"] == ("Transport", "Region", "Newest")
    assert seen["zh-CN"][0] == "交通" and seen["zh-CN"] != seen["zh-HK"] != seen["en"]
    assert label(Category, "no-such-category") == "no-such-category"
