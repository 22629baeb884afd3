"""The seller console in Simplified Chinese and Traditional Chinese (Hong Kong), and the offer to rewrite a
seller's Chinese title and description in the other script, which saves nothing until the seller saves."""
from __future__ import annotations

import pytest

from marketplace.listings.models import ProductVersion
from tests import factories
from tests.support.pages import lang_of, main

# What a seller reads on the editor's steps in each locale, and English that must be gone from their main content.
WORDS = {
    "zh-Hans": ("数据来源", "数据字典", "定价方案", "提交审核", "上传文件", "保存合规信息", "草稿"),
    "zh-Hant-HK": ("數據來源", "數據字典", "定價方案", "提交審核", "上載檔案", "儲存合規資料", "草稿"),
}
ENGLISH = ("Data dictionary", "Pricing plans", "Submit for review", "Upload a file", "Add a source",
           "Save compliance profile", "No files yet", "Compliance review", "Versions", "Overview")


def speaks(session, user, tag: str) -> None:
    user.locale = tag
    session.commit()


def vurl(product, suffix: str = "") -> str:
    return f"/seller/products/{product.id}/versions/1{suffix}"


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_workspace_reads_in_chinese(seller_client, session, seller, draft, tag):
    speaks(session, seller, tag)
    pages = []
    for step in ("", "/details", "/sources", "/files", "/dictionary", "/plans", "/compliance"):
        response = seller_client.get(vurl(draft, step))
        assert response.status_code == 200 and lang_of(response) == tag
        pages.append(main(response))
        for english in ENGLISH:
            assert english not in pages[-1], (step, english)
    content = "\n".join(pages)
    for words in WORDS[tag]:
        assert words in content, words


@pytest.mark.parametrize(("tag", "words"), [("zh-Hans", "我的数据产品"), ("zh-Hant-HK", "我的數據產品")])
def test_the_dashboard_and_the_new_product_form_read_in_chinese(seller_client, session, seller, draft, tag, words):
    speaks(session, seller, tag)
    content = main(seller_client.get("/seller/"))
    assert words in content and "My data products" not in content and "Latest version" not in content
    content = main(seller_client.get("/seller/products/new"))
    assert "Title (English)" not in content and "Create draft" not in content
    assert ("标题（英文）" if tag == "zh-Hans" else "標題（英文）") in content


@pytest.mark.parametrize(("tag", "flash", "error"), [
    ("zh-Hans", "数据来源已添加。", "请以数字输入价格，如 1200.00。"),
    ("zh-Hant-HK", "數據來源已添加。", "請以數字輸入價格，如 1200.00。"),
])
def test_flashes_and_field_errors_are_in_the_sellers_language(seller_client, session, seller, draft, tag, flash,
                                                               error):
    speaks(session, seller, tag)
    source = {f"source-{k}": v for k, v in factories.SOURCE.items()}
    response = seller_client.post(vurl(draft, "/sources"), data=source, follow_redirects=True)
    assert flash in main(response)
    response = seller_client.post(vurl(draft, "/plans"), data={
        "plan-name": "Research", "plan-kind": "one_time", "plan-amount": "twelve", "plan-currency": "HKD",
        "plan-territory": "hong_kong", "plan-permitted_uses": ["research"]})
    assert response.status_code == 422
    assert error in main(response) and "Enter the price as a number" not in main(response)


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_a_refusal_of_the_service_is_in_the_sellers_language(seller_client, session, seller, draft, tag):
    speaks(session, seller, tag)
    response = seller_client.post(vurl(draft, "/dictionary"), data={
        "dict-rows-0-name": "speed", "dict-rows-0-type": "number",
        "dict-rows-1-name": "Speed", "dict-rows-1-type": "integer"})
    assert response.status_code == 422
    assert ("字段名“Speed”重复。" if tag == "zh-Hans" else "欄位名「Speed」重複。") in main(response)


# ---------------------------------------------------------------- the other script, offered


def _edit_form(**changes) -> dict:
    return {"title_en": "Typhoon signals", "title_zh": "台风信号历史记录", "description_en": "Signals.",
            "description_zh": "香港天文台发出的热带气旋警告信号。", "category": "weather", **changes}


def test_simplified_chinese_is_offered_in_traditional_and_nothing_is_saved(seller_client, session, draft):
    before = session.get(ProductVersion, draft.latest_version.id).title_zh
    response = seller_client.post(vurl(draft, "/edit"), data=_edit_form(convert="to_traditional"))
    assert response.status_code == 200
    page = main(response)
    assert "颱風信號歷史記錄" in page and "香港天文台發出的熱帶氣旋警告信號。" in page
    assert "now in Traditional Chinese (Hong Kong)" in page
    # The converted text is back in the form: Simplified is now offered, Traditional no longer.
    assert 'value="to_simplified"' in page and 'value="to_traditional"' not in page
    session.expire_all()
    assert session.get(ProductVersion, draft.latest_version.id).title_zh == before


def test_traditional_chinese_is_offered_in_simplified_and_the_seller_saves_it(seller_client, session, draft):
    form = _edit_form(title_zh="颱風信號歷史記錄", description_zh="熱帶氣旋警告信號。")
    page = main(seller_client.get(vurl(draft, "/details")))
    response = seller_client.post(vurl(draft, "/edit"), data={**form, "convert": "to_simplified"})
    page = main(response)
    assert "台风信号历史记录" in page and "热带气旋警告信号。" in page
    assert 'value="to_traditional"' in page
    # The seller accepts (or edits) and saves the form as shown.
    response = seller_client.post(vurl(draft, "/edit"), data={**form, "title_zh": "台风信号历史记录",
                                                               "description_zh": "热带气旋警告信号。"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ProductVersion, draft.latest_version.id).title_zh == "台风信号历史记录"


def test_the_offer_is_made_only_when_there_is_chinese_to_convert(seller_client, session, draft):
    page = main(seller_client.post(vurl(draft, "/edit"), data=_edit_form(
        title_zh="", description_zh="", convert="to_traditional")))
    assert 'name="convert"' not in page
    page = main(seller_client.get("/seller/products/new"))
    assert 'name="convert"' not in page


def test_the_offer_works_on_the_new_product_form_and_creates_nothing(seller_client, session, seller, seller_org):
    from marketplace.listings.models import DataProduct

    count = session.query(DataProduct).count()
    response = seller_client.post("/seller/products/new", data={
        **_edit_form(), "organization_id": str(seller_org.id), "convert": "to_traditional"})
    assert response.status_code == 200 and "颱風信號歷史記錄" in main(response)
    assert session.query(DataProduct).count() == count


@pytest.mark.parametrize(("tag", "button"), [("zh-Hans", "转换为繁体中文（香港）"),
                                             ("zh-Hant-HK", "轉換為繁體中文（香港）")])
def test_the_offer_speaks_the_sellers_language(seller_client, session, seller, draft, tag, button):
    speaks(session, seller, tag)
    response = seller_client.post(vurl(draft, "/edit"), data=_edit_form())
    assert response.status_code == 302
    page = main(seller_client.get(vurl(draft, "/details")))
    assert button in page


# ---------------------------------------------------------------- the same offer in the API


def test_the_api_converts_a_text_for_the_seller_to_check(api):
    response = api.post("/api/v1/convert-script", json={"text": "台风信号", "to": "zh-Hant-HK"})
    assert response.status_code == 200
    assert response.json["text"] == "颱風信號" and response.json["script"] == "zh-Hans" and response.json["changed"]
    response = api.post("/api/v1/convert-script", json={"text": "颱風信號", "to": "zh-Hans"},
                        headers={"Accept-Language": "zh-HK"})
    assert response.json["text"] == "台风信号" and "核對" in response.json["message"]


@pytest.mark.parametrize("body", [{}, {"text": "台风", "to": "fr"}, {"text": "", "to": "zh-Hans"},
                                  {"text": "台风"}, {"text": 42, "to": "zh-Hans"}])
def test_the_api_refuses_what_it_cannot_convert(api, body):
    response = api.post("/api/v1/convert-script", json=body)
    assert response.status_code == 422 and response.json["code"]


def test_the_api_conversion_needs_a_token(client):
    assert client.post("/api/v1/convert-script", json={"text": "台风", "to": "zh-Hans"}).status_code == 401
