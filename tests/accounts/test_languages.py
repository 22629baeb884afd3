"""The account pages, their forms and errors, the account e-mails and notifications in Simplified Chinese and Hong
Kong Traditional Chinese: each page in the reader's language, each e-mail and notification in its recipient's."""
from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext

from marketplace.accounts import services
from marketplace.accounts.models import Organization
from marketplace.i18n import LOCALE_COOKIE, in_locale_of, when
from marketplace.notifications.services import notify_organization
from tests import factories
from tests.support.pages import lang_of

ZH = ("zh-Hans", "zh-Hant-HK")
# Words each page shows, per locale.
WORDS = {
    "/login": {"zh-Hans": ["登录", "忘记密码？", "电子邮件地址", "开放数据交易所"],
               "zh-Hant-HK": ["登入", "忘記密碼？", "電郵地址", "開放數據交易所"]},
    "/signup": {"zh-Hans": ["创建您的账户", "机构（选填）", "再次输入密码"],
                "zh-Hant-HK": ["建立您的帳戶", "機構（選填）", "再次輸入密碼"]},
    "/password/reset": {"zh-Hans": ["重置密码", "发送链接", "返回登录"],
                        "zh-Hant-HK": ["重設密碼", "發送連結", "返回登入"]},
}
SIGNED_IN_WORDS = {
    "/settings": {"zh-Hans": ["您的账户", "语言和时区", "在所有设备上退出登录", "保存偏好"],
                  "zh-Hant-HK": ["您的帳戶", "語言和時區", "在所有裝置上登出", "儲存偏好"]},
    "/organizations": {"zh-Hans": ["您的机构", "新建机构", "所有者"],
                       "zh-Hant-HK": ["您的機構", "新建機構", "擁有人"]},
    "/settings/tokens": {"zh-Hans": ["API 令牌", "新建令牌", "令牌名称"],
                         "zh-Hant-HK": ["API 權杖", "新建權杖", "權杖名稱"]},
    "/notifications/": {"zh-Hans": ["通知", "暂无通知。"], "zh-Hant-HK": ["通知", "暫無通知。"]},
}
# English a converted page must no longer show.
ENGLISH = ["Log in", "Sign up", "Catalog", "Organizations", "Password", "E-mail", "Your account", "Create",
           "Notifications", "Built on open data", "Token", "Send the link", "Language"]


def main_text(response) -> str:
    """The words a person reads in the top bar, the page and the footer: no tags, no attribute values."""
    page = response.get_data(as_text=True)
    body = page.split("<body>", 1)[1]
    body = re.sub(r'<form[^>]*language-switcher.*?</form>', " ", body, flags=re.S)  # each language's own name
    return re.sub(r"<[^>]+>", " ", body)


def english_left(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]


@pytest.mark.parametrize("tag", ZH)
@pytest.mark.parametrize("path", sorted(WORDS))
def test_visitor_pages_are_in_each_chinese_locale(client, tag, path):
    client.set_cookie(LOCALE_COOKIE, tag)
    response = client.get(path)
    assert response.status_code == 200 and lang_of(response) == tag
    text = main_text(response)
    assert all(word in text for word in WORDS[path][tag]), [w for w in WORDS[path][tag] if w not in text]
    assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
@pytest.mark.parametrize("path", sorted(SIGNED_IN_WORDS))
def test_signed_in_account_pages_are_in_the_saved_language(client, session, auth, seller, tag, path):
    seller.locale = tag
    session.commit()
    auth.login(seller.email)
    response = client.get(path)
    assert response.status_code == 200 and lang_of(response) == tag
    text = main_text(response)
    assert all(word in text for word in SIGNED_IN_WORDS[path][tag]), [
        w for w in SIGNED_IN_WORDS[path][tag] if w not in text]
    assert english_left(text) == []


@pytest.mark.parametrize(("tag", "words"), [
    ("zh-Hans", ["成员", "邀请成员", "发送邀请", "您是所有者"]),
    ("zh-Hant-HK", ["成員", "邀請成員", "發送邀請", "您是擁有人"]),
])
def test_the_organization_page_is_in_the_saved_language(client, session, auth, seller, tag, words):
    seller.locale = tag
    session.commit()
    auth.login(seller.email)
    slug = seller.memberships[0].organization.slug
    text = main_text(client.get(f"/organizations/{slug}"))
    assert all(word in text for word in words) and english_left(text) == []


@pytest.mark.parametrize(("tag", "required", "wrong"), [
    ("zh-Hans", "此字段为必填项。", "电子邮件地址或密码不正确。"),
    ("zh-Hant-HK", "此欄位為必填項。", "電郵地址或密碼不正確。"),
])
def test_form_errors_are_in_the_readers_language(client, seller, tag, required, wrong):
    client.set_cookie(LOCALE_COOKIE, tag)
    empty = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert required in empty and "This field is required." not in empty
    refused = client.post("/login", data={"email": seller.email, "password": "not the password"})
    assert wrong in refused.get_data(as_text=True)
    short = client.post("/signup", data={"email": "li@example.org", "display_name": "Li", "password": "short",
                                         "confirm": "short", "locale": tag}).get_data(as_text=True)
    assert "Use at least" not in short
    assert ("请使用 10 至 1024 个字符。" if tag == "zh-Hans" else "請使用 10 至 1024 個字元。") in short


@pytest.mark.parametrize(("tag", "explained"), [
    ("zh-Hans", "这不是有效的电子邮件地址"), ("zh-Hant-HK", "這不是有效的電郵地址"), ("en", "must have an @-sign")])
def test_a_malformed_address_is_explained_in_the_readers_language(client, tag, explained):
    client.set_cookie(LOCALE_COOKIE, tag)
    page = client.post("/signup", data={"email": "li.example.org", "display_name": "Li",
                                        "password": "correct horse battery", "confirm": "correct horse battery",
                                        "locale": tag}).get_data(as_text=True)
    assert explained in page and ("@-sign" in page) == (tag == "en")


@pytest.mark.parametrize(("tag", "title", "words"), [
    ("zh-Hans", "未找到", "此地址没有内容。"), ("zh-Hant-HK", "未找到", "此地址沒有內容。"),
])
def test_error_pages_are_in_the_readers_language(client, tag, title, words):
    client.set_cookie(LOCALE_COOKIE, tag)
    response = client.get("/no/such/page")
    text = main_text(response)
    assert response.status_code == 404 and lang_of(response) == tag
    assert title in text and words in text and "Not Found" not in text


# ---------------------------------------------------------------- e-mails in the recipient's language

@pytest.mark.parametrize(("tag", "subject", "hello"), [
    ("zh-Hans", "确认您在开放数据交易所的电子邮件地址", "Li，您好："),
    ("zh-Hant-HK", "確認您在開放數據交易所的電郵地址", "Li，您好："),
])
def test_the_verification_email_is_in_the_language_chosen_at_sign_up(client, outbox, tag, subject, hello):
    # The visitor's browser asks for English; the language chosen on the form is the account's.
    client.post("/signup", headers={"Accept-Language": "en"}, data={
        "email": "li@example.org", "display_name": "Li", "password": "a long passphrase", "confirm":
        "a long passphrase", "locale": tag})
    [mail] = outbox
    assert mail.subject == subject and mail.body.startswith(hello)
    assert "Please confirm" not in mail.body and "/verify-email/" in mail.body


def test_an_email_is_in_its_recipients_language_whoever_asks(app, client, session, outbox, seller):
    seller.locale = "zh-Hant-HK"
    seller.timezone = "Asia/Shanghai"
    session.commit()
    client.set_cookie(LOCALE_COOKIE, "en")
    client.post("/password/reset", data={"email": seller.email}, headers={"Accept-Language": "en"})
    [mail] = outbox
    assert mail.subject == "重設您的開放數據交易所密碼" and "Reset" not in mail.body

    for n in range(services.MAX_FAILED_LOGINS):
        client.post("/login", data={"email": seller.email, "password": f"guess {n}"})
    locked = outbox[-1]
    session.refresh(seller)
    with app.test_request_context(), in_locale_of(seller):
        until = when(seller.locked_until, "zone")
    assert "(Asia/Shanghai)" in until and until in locked.body and "鎖定" in locked.subject


def test_an_invitation_is_in_the_invitees_language_or_else_the_inviters(client, session, auth, seller, outbox):
    factories.user(session, email="hk@example.org").locale = "zh-Hant-HK"
    seller.locale = "zh-Hans"
    session.commit()
    auth.login(seller.email)
    slug = seller.memberships[0].organization.slug
    client.post(f"/organizations/{slug}/invitations", data={"email": "hk@example.org", "role": "member"})
    client.post(f"/organizations/{slug}/invitations", data={"email": "new@example.org", "role": "owner"})
    known, unknown = outbox[-2:]
    assert known.subject == "加入開放數據交易所上的Harbour Analytics" and "成員" in known.body
    assert unknown.subject == "加入开放数据交易所上的Harbour Analytics" and "所有者" in unknown.body


def test_each_member_is_notified_in_their_own_language(app, session, seller, outbox):
    org = session.get(Organization, seller.memberships[0].organization_id)
    colleague = factories.user(session, email="colleague@example.org")
    colleague.locale = "zh-Hant-HK"
    session.add(services.Membership(user_id=colleague.id, organization_id=org.id,
                                    role=services.MemberRole.MEMBER))
    seller.locale = "zh-Hans"
    session.flush()
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        notes = notify_organization(session, org, lazy_gettext("Invalid input"),
                                    lambda: str(lazy_gettext("Notifications")) + ": 1")
    session.commit()
    by_user = {note.user_id: (note.subject, note.body) for note in notes}
    assert by_user[seller.id] == ("输入无效", "通知: 1")
    assert by_user[colleague.id] == ("輸入無效", "通知: 1")
    assert {mail.subject for mail in outbox[-2:]} == {"输入无效", "輸入無效"}


# ---------------------------------------------------------------- the API's messages

@pytest.mark.parametrize(("language", "message", "missing", "too_long", "url"), [
    ("zh-CN", "请求中有无效字段。", "缺少必填字段。", "超过最大长度 2000。", "不是有效的 URL。"),
    ("zh-HK", "請求中有無效欄位。", "缺少必填欄位。", "超過最大長度 2000。", "不是有效的 URL。"),
    ("en", "The request has invalid fields.", "Missing data for required field.", "Longer than maximum length 2000.",
     "Not a valid URL."),
])
def test_api_validation_messages_follow_accept_language(api, language, message, missing, too_long, url):
    response = api.post("/api/v1/organizations", headers={"Accept-Language": language},
                        json={"description": "x" * 2001, "website": "nope"})
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "invalid_input"  # the code stays English
    assert body["message"] == message
    assert body["errors"] == {"name": [missing], "description": [too_long], "website": [url]}


@pytest.mark.parametrize(("language", "message"), [
    ("zh-CN", "找不到该机构。"), ("zh-HK", "找不到該機構。"), ("en", "No such organization."),
])
def test_api_domain_errors_and_http_errors_follow_accept_language(api, language, message):
    missing = api.get("/api/v1/organizations/nobody-here", headers={"Accept-Language": language})
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    assert missing.get_json()["message"] == message
    nowhere = api.get("/api/v1/nope", headers={"Accept-Language": language}).get_json()
    assert nowhere["code"] == "not_found" and nowhere["message"] != "" and (
        language == "en" or "此地址" in nowhere["message"])


@pytest.mark.parametrize(("tag", "refusal"), [
    ("zh-Hans", "来自您所在地址的登录尝试过多。请在"), ("zh-Hant-HK", "來自您所在地址的登入嘗試過多。請在"),
])
def test_a_rate_limit_refuses_in_the_readers_language(database_url, tmp_path, tag, refusal):
    from marketplace import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
                     LICENCE_SIGNING_KEY_FILE=str(tmp_path / "key.pem"), RATELIMIT_ENABLED=True,
                     RATELIMIT_LOGIN="1 per hour")
    client = app.test_client()
    client.set_cookie(LOCALE_COOKIE, tag)
    client.post("/login", data={"email": "a@example.org", "password": "x"})
    refused = client.post("/login", data={"email": "b@example.org", "password": "x"})
    assert refused.status_code == 429 and refusal in refused.get_data(as_text=True)
    assert "Too many" not in refused.get_data(as_text=True)
