"""Languages: how a request's locale is chosen, the switcher, <html lang>, formatting through Babel, and message
catalogs that are complete and current."""
from __future__ import annotations

import gettext
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from marketplace import i18n
from marketplace.accounts.models import User
from marketplace.i18n import LOCALE_COOKIE, locale_tag
from tests import factories
from tests.support.pages import lang_of

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "marketplace" / "translations"
CATALOGS = ("zh_Hans", "zh_Hant_HK")


# ---------------------------------------------------------------- choosing a locale

@pytest.mark.parametrize(("asked", "tag"), [
    ("en", "en"), ("en-GB", "en"), ("EN_us", "en"), ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"),
    ("zh-Hans", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"), ("zh-HK", "zh-Hant-HK"), ("zh-TW", "zh-Hant-HK"),
    ("zh-MO", "zh-Hant-HK"), ("zh-Hant", "zh-Hant-HK"), ("zh_Hant_HK", "zh-Hant-HK"), ("fr", None), ("", None),
    ("*", None), (None, None), (42, None),
])
def test_language_tags_map_to_the_three_locales(asked, tag):
    assert locale_tag(asked) == tag


@pytest.mark.parametrize(("header", "tag"), [
    ("zh-HK,zh;q=0.9,en;q=0.8", "zh-Hant-HK"), ("zh-CN,zh;q=0.9", "zh-Hans"), ("en-GB,en;q=0.9", "en"),
    ("fr-FR,fr;q=0.9", "en"), ("fr,zh-TW;q=0.5", "zh-Hant-HK"), ("en;q=0.1,zh-CN;q=0.9", "zh-Hans"),
    ("zh-CN;q=0,en;q=0.5", "en"), ("", "en"), ("%%%, ;q=x", "en"),
])
def test_a_visitor_gets_the_language_the_browser_asks_for(client, header, tag):
    assert lang_of(client.get("/catalog", headers={"Accept-Language": header})) == tag


def test_the_cookie_beats_the_browser_and_the_saved_preference_beats_both(client, session, auth):
    client.set_cookie(LOCALE_COOKIE, "zh-Hant-HK")
    assert lang_of(client.get("/catalog", headers={"Accept-Language": "zh-CN"})) == "zh-Hant-HK"
    client.set_cookie(LOCALE_COOKIE, "klingon")  # a cookie naming nothing is ignored
    assert lang_of(client.get("/catalog", headers={"Accept-Language": "zh-CN"})) == "zh-Hans"

    user = factories.user(session, email="li@example.org")
    user.locale = "zh-Hans"
    session.commit()
    auth.login("li@example.org")
    client.set_cookie(LOCALE_COOKIE, "en")
    assert lang_of(client.get("/catalog", headers={"Accept-Language": "en"})) == "zh-Hans"


def test_the_api_answers_in_the_language_its_client_asks_for(api, seller, session):
    seller.locale = "zh-Hant-HK"
    session.commit()
    response = api.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    with api.client.application.test_request_context("/api/v1/me", headers={"Accept-Language": "zh-CN"}):
        assert i18n.current_locale_tag() == "zh-Hans"
    with api.client.application.test_request_context("/api/v1/me", headers={"Accept-Language": "de"}):
        assert i18n.current_locale_tag() == "en"


# ---------------------------------------------------------------- the switcher

def test_every_page_has_the_switcher_with_the_current_language_marked(client):
    page = client.get("/catalog", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    switcher = page.split('class="inline language-switcher"')[1].split("</form>")[0]
    for tag, name in i18n.LOCALE_NAMES.items():
        assert f'value="{tag}" lang="{tag}"' in switcher and name in switcher
    assert re.search(r'value="zh-Hant-HK" lang="zh-Hant-HK" aria-current="true" disabled', switcher)


def test_a_visitor_switching_keeps_the_choice_in_a_cookie_and_stays_on_the_page(client):
    response = client.post("/language", data={"locale": "zh-Hans", "next": "/catalog?q=air"})
    assert response.status_code == 302 and response.headers["Location"] == "/catalog?q=air"
    cookie = response.headers["Set-Cookie"]
    assert f"{LOCALE_COOKIE}=zh-Hans" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert lang_of(client.get("/catalog", headers={"Accept-Language": "en"})) == "zh-Hans"


def test_a_visitors_page_starts_no_session_and_the_switcher_works_without_one(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/catalog", headers={"Accept-Language": "zh-CN"})
    assert "Set-Cookie" not in page.headers  # no session cookie for a visitor who only reads
    assert 'name="csrf_token"' not in page.get_data(as_text=True).split("language-switcher")[1].split("</form>")[0]
    response = client.post("/language", data={"locale": "zh-Hant-HK", "next": "/catalog"})
    assert response.status_code == 302 and f"{LOCALE_COOKIE}=zh-Hant-HK" in response.headers["Set-Cookie"]


def test_a_signed_in_users_switch_needs_the_sessions_csrf_token(app, client, session, auth, seller, monkeypatch):
    auth.login(seller.email)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    forged = client.post("/language", data={"locale": "zh-Hant-HK", "next": "/settings"})
    assert forged.status_code == 302 and f"{LOCALE_COOKIE}=" not in forged.headers.get("Set-Cookie", "")
    session.expire_all()
    assert session.get(User, seller.id).locale != "zh-Hant-HK"  # another site cannot change a user's language
    page = client.get("/settings").get_data(as_text=True)
    token = re.search(r'language-switcher.*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)
    client.post("/language", data={"locale": "zh-Hant-HK", "next": "/settings", "csrf_token": token})
    session.expire_all()
    assert session.get(User, seller.id).locale == "zh-Hant-HK"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", ""])
def test_the_switcher_never_leaves_the_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/catalog"


@pytest.mark.parametrize("value", ["fr", "", "zh-Hans" * 50, "\x00"])
def test_an_unknown_language_is_refused_with_a_message(client, value):
    response = client.post("/language", data={"locale": value, "next": "/catalog"}, follow_redirects=True)
    assert response.status_code in (200, 400)
    assert "That language is not offered." in response.get_data(as_text=True) or response.status_code == 400
    assert "Set-Cookie" not in response.headers or f"{LOCALE_COOKIE}=" not in response.headers["Set-Cookie"]


def test_a_signed_in_user_switching_saves_the_preference(client, session, auth, seller):
    auth.login(seller.email)
    client.post("/language", data={"locale": "zh-Hant-HK", "next": "/settings"})
    session.expire_all()
    assert session.get(User, seller.id).locale == "zh-Hant-HK"
    client.delete_cookie(LOCALE_COOKIE)
    assert lang_of(client.get("/settings", headers={"Accept-Language": "en"})) == "zh-Hant-HK"


def test_preferences_save_language_and_time_zone_and_refuse_others(client, session, auth, seller):
    auth.login(seller.email)
    response = client.post("/settings/preferences", data={"locale": "zh-Hans", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    session.expire_all()
    user = session.get(User, seller.id)
    assert (user.locale, user.timezone) == ("zh-Hans", "Asia/Shanghai")

    response = client.post("/settings/preferences", data={"locale": "zh-Hans", "timezone": "Europe/Paris"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True) or "选择" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, seller.id).timezone == "Asia/Shanghai"


def test_sign_up_keeps_the_chosen_language(client, session):
    client.post("/signup", data={"email": "wong@example.org", "display_name": "Wong", "password": "a long passphrase",
                                 "confirm": "a long passphrase", "organization_name": "", "locale": "zh-Hant-HK"})
    assert session.query(User).filter_by(email="wong@example.org").one().locale == "zh-Hant-HK"


# ---------------------------------------------------------------- formatting

@pytest.mark.parametrize(("tag", "expected"), [
    ("en", ["CN¥1,234.50", "HK$1,234.50", "US$1,234.50"]),  # Hong Kong English: no bare "$" on an exchange
    ("zh-Hans", ["¥1,234.50", "HK$1,234.50", "US$1,234.50"]),
    ("zh-Hant-HK", ["CN¥1,234.50", "HK$1,234.50", "US$1,234.50"]),
])
def test_money_in_each_locale(app, tag, expected):
    with app.test_request_context("/", headers={"Accept-Language": tag}):
        assert [i18n.money(123450, c) for c in ("CNY", "HKD", "USD")] == expected


def test_times_are_shown_in_the_chosen_zone(app, session, seller):
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 January in both cities
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert i18n.day(moment) == "2027年1月1日"
        assert i18n.when(moment, "zone").endswith("(Asia/Shanghai)")
        assert "1:30" in i18n.when(moment)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.day(date(2026, 3, 4)) == "4 Mar 2026"
        assert i18n.when(moment, "zone") == "1 Jan 2027, 1:30:00\u202fam (Asia/Hong_Kong)"
        assert i18n.when(None) == "—"


# ---------------------------------------------------------------- catalogs

def _extracted() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
                "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(name: str):
    path = TRANSLATIONS / name / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        return read_po(f, locale=name)


def test_the_template_catalog_holds_every_string_of_the_code():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert _extracted() == template, "run `make i18n`"


@pytest.mark.parametrize("name", CATALOGS)
def test_every_string_is_translated(name):
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        wanted = {(m.id, m.context) for m in read_po(f) if m.id}
    catalog = _catalog(name)
    found = {key: catalog.get(*key) for key in wanted}
    missing = sorted(str(key[0]) for key, m in found.items() if not (m and all(
        m.string if isinstance(m.string, tuple) else [m.string])))
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    assert missing == [] and fuzzy == []


@pytest.mark.parametrize("name", CATALOGS)
def test_the_compiled_catalogs_are_current(name):
    catalog = _catalog(name)
    with open(TRANSLATIONS / name / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = gettext.GNUTranslations(io.BytesIO(f.read()))
    for message in catalog:
        if message.id and not isinstance(message.id, tuple):
            text = (compiled.pgettext(message.context, message.id) if message.context
                    else compiled.gettext(message.id))
            assert text == message.string, "run `make i18n`"


def test_translations_reach_the_page(client, session, auth, seller):
    auth.login(seller.email)
    for tag, text in (("zh-Hans", "偏好已保存。"), ("zh-Hant-HK", "偏好已儲存。"), ("en", "Preferences saved.")):
        response = client.post("/settings/preferences", data={"locale": tag, "timezone": ""},
                               follow_redirects=True)
        assert text in response.get_data(as_text=True)
        assert lang_of(response) == tag


# ---------------------------------------------------------------- the glossary and each locale's script

def _glossary() -> list[dict]:
    import csv

    with open(TRANSLATIONS / "glossary.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _translations(name: str) -> list[tuple[str, str]]:
    out = []
    for m in _catalog(name):
        if m.id and m.string:
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            out.extend((str(m.id if isinstance(m.id, str) else m.id[0]), s) for s in strings)
    return out


def test_the_glossary_names_every_term_in_the_three_locales():
    from marketplace.chinese import to_simplified, to_traditional

    rows = _glossary()
    assert len(rows) >= 50
    for row in rows:
        assert row["en"] and row["zh_Hans"] and row["zh_Hant_HK"], row
        assert to_simplified(row["zh_Hans"]) == row["zh_Hans"], row
        assert to_simplified(row["zh_Hant_HK"]) != row["zh_Hant_HK"] or to_traditional(
            row["zh_Hant_HK"]) in (row["zh_Hant_HK"], row["zh_Hant_HK"].replace("綫", "線")), row


@pytest.mark.parametrize("name", CATALOGS)
def test_the_catalogs_use_the_glossary_terms(name):
    avoided = [(row[f"avoid_{name}"], row[name], row["en"]) for row in _glossary() if row[f"avoid_{name}"]]
    # A glossary term may hold a word avoided for another (审核队列 holds 列): the terms themselves are right.
    terms = sorted({row[name] for row in _glossary() if row[name]}, key=len, reverse=True)

    def without_terms(text: str) -> str:
        for term in terms:
            text = text.replace(term, "\0")
        return text

    wrong = [f"{msgid!r}: {word!r} (say {term!r} for {en!r})" for msgid, text in _translations(name)
             for word, term, en in avoided if word in without_terms(text)]
    assert wrong == []


def other_script_characters(text: str, script: str) -> list[str]:
    """The characters of ``text`` that only the other script writes, read in context: OpenCC converts phrase by
    phrase, so a character shared by both scripts in one word (准 in 批准) is not taken for the other's form of it
    (準). ``script`` is "Hans" or "Hant"; for Traditional both the standard forms (說, 戶) and Hong Kong's (説, 户,
    綫) are right."""
    import opencc

    configs = ("hk2s", "t2s") if script == "Hans" else ("s2t", "s2hk")
    wanted = []
    for config in configs:
        convert = opencc.OpenCC(config).convert
        converted = convert(text)
        if len(converted) != len(text):  # a phrase changed length: compare character by character instead
            converted = "".join(convert(ch) for ch in text)
        wanted.append(converted)
    # A character is the other script's only if its own conversion changes it (了 stays 了) and the phrase-aware
    # conversion changes it too (准 in 批准 stays).
    alone = [opencc.OpenCC(config).convert for config in configs]
    return [ch for ch, *forms in zip(text, *wanted) if all(ch != form for form in forms)
            and all(convert(ch) != ch for convert in alone) and not (script == "Hant" and ch in "綫線")]


@pytest.mark.parametrize(("name", "script"), [("zh_Hans", "Hans"), ("zh_Hant_HK", "Hant")])
def test_each_chinese_catalog_is_written_in_its_own_script(name, script):
    mixed = [(msgid, text, other_script_characters(text, script)) for msgid, text in _translations(name)
             if other_script_characters(text, script)]
    assert mixed == []


def test_other_script_characters_are_found_in_context():
    assert other_script_characters("偏好已保存数据", "Hant") == ["偏", "保", "存", "数", "据"][3:]
    assert other_script_characters("已批准", "Hant") == []
    assert other_script_characters("數據綫", "Hans") == ["數", "據", "綫"]
    assert other_script_characters("在綫", "Hant") == []


@pytest.mark.parametrize("name", CATALOGS)
def test_the_catalogs_address_the_reader_as_nin(name):
    """Both Chinese catalogs address the reader politely, as 您 (您的), never as 你."""
    familiar = [(msgid, text) for msgid, text in _translations(name) if "你" in text]
    assert familiar == []
