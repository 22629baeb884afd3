"""The reviewer's and the admin's pages in Simplified Chinese and Hong Kong Traditional Chinese: the queue, a case
with its pre-screen report and checklist, a product's status, the audit trail and the jobs page; flashes and the
seller's notifications of a decision in the reader's (or recipient's) language; pre-screen findings shown in the
reader's language while their stored English stays as it was."""
from __future__ import annotations

import html
import json
import re

import pytest
from flask_babel import force_locale

from marketplace.i18n import LOCALE_COOKIE
from marketplace.notifications.models import Notification
from marketplace.review import services as review
from marketplace.review.checklist import ChecklistItem, PrescreenOutcome
from marketplace.review.prescreen_report import Finding, PrescreenReport
from marketplace.review.views import time_ago
from tests.review.conftest import PASSING, check_listing
from tests.support.pages import lang_of

ZH = ("zh-Hans", "zh-Hant-HK")
# Words each page shows, per locale (Hong Kong says 檔案, 個人資料, 唯讀, and quotes with 「」).
WORDS = {
    "queue": {"zh-Hans": ["审核队列", "合规审核", "自动预审", "待处理", "待认领", "数据提供方机构", "刚刚", "已提交"],
              "zh-Hant-HK": ["審核隊列", "合規審核", "自動預審", "待處理", "待認領", "數據提供方機構", "剛剛",
                             "已提交"]},
    "case": {"zh-Hans": ["核查清单", "认领此案件", "数据来源", "数据字典", "已扫描的文件", "历史记录", "个人信息",
                         "分类分级（GB/T 43697-2024）", "自动预审"],
             "zh-Hant-HK": ["核查清單", "認領此案件", "數據來源", "數據字典", "已掃描的檔案", "歷史記錄", "個人資料",
                            "分類分級（GB/T 43697-2024）", "自動預審"]},
    "claimed": {"zh-Hans": ["保存核查清单", "提交决定", "给数据提供方的意见", "通过", "不适用", "要求修改", "驳回"],
                "zh-Hant-HK": ["儲存核查清單", "提交決定", "給數據提供方的意見", "通過", "不適用", "要求修改", "駁回"]},
    "product": {"zh-Hans": ["数据需求方获得", "更改状态", "暂停交易", "摘牌", "已挂牌", "原因"],
                "zh-Hant-HK": ["數據需求方獲得", "更改狀態", "暫停交易", "摘牌", "已掛牌", "原因"]},
    "audit": {"zh-Hans": ["审计日志", "平台管理", "哈希链完整", "操作名称开头为", "操作人"],
              "zh-Hant-HK": ["審計日誌", "平台管理", "哈希鏈完整", "操作名稱開頭為", "操作人"]},
    "jobs": {"zh-Hans": ["后台任务", "失败的任务", "没有失败的任务。", "待发消息"],
             "zh-Hant-HK": ["後台任務", "失敗的任務", "沒有失敗的任務。", "待發訊息"]},
}
# English the converted pages must no longer show.
ENGLISH = ["Review queue", "Compliance review", "Pre-screen", "Automated pre-screen", "Checklist", "Claim this case",
           "Submitted", "History", "Sources", "Data dictionary", "Files scanned", "Pricing plans",
           "Save checklist", "Submit decision", "Comment for the seller", "Not applicable", "Request changes",
           "Change the status", "Suspend", "Delist", "Audit trail", "Administration", "Chain intact", "Filter",
           "Background jobs", "Failed jobs", "Outbox", "just now", "ago", "upstream source", "No such",
           "Source legality", "Personal information", "Quality", "round", "pass", "fail", "review"]


def main_text(response) -> str:
    """The words a person reads on the page: no tags, no attribute values, no language switcher, no scripts."""
    body = response.get_data(as_text=True).split("<body>", 1)[1]
    body = re.sub(r'<form[^>]*language-switcher.*?</form>', " ", body, flags=re.S)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def english_left(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]


def in_locale(client, auth, session, user, tag):
    """Signed in as ``user``, whose saved preference (which comes before the cookie) is ``tag``."""
    user.locale = tag
    session.commit()
    auth.login(user.email)
    client.set_cookie(LOCALE_COOKIE, tag)
    return client


def check_page(response, tag, words) -> str:
    assert response.status_code == 200
    assert lang_of(response) == tag
    text = main_text(response)
    assert [w for w in words if w not in text] == []
    return text


@pytest.fixture
def listed(session, reviewer, claimed):
    review.decide(session, reviewer, claimed, "approve", answers=PASSING)
    session.commit()
    return claimed.product


@pytest.mark.parametrize("tag", ZH)
def test_the_queue_is_in_each_chinese_locale(client, auth, session, reviewer, case, tag):
    text = check_page(in_locale(client, auth, session, reviewer, tag).get("/review/?status=submitted"), tag,
                      WORDS["queue"][tag])
    assert "Strategic road detectors" in text  # the seller's own words stay as written
    assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
def test_the_case_page_and_its_pre_screen_report_are_in_each_chinese_locale(client, auth, session, reviewer, case, tag):
    text = check_page(in_locale(client, auth, session, reviewer, tag).get(f"/review/cases/{case.id}"), tag,
                      WORDS["case"][tag])
    # The pre-screen's findings, stored in English, are shown in the reader's language.
    assert re.search(r"已注明 \d+ 个数据来源。" if tag == "zh-Hans" else r"已註明 \d+ 個數據來源。", text)
    assert ("已上传样例数据。" if tag == "zh-Hans" else "已上載樣本數據。") in text
    # The scanned file's roles, in the reader's words.
    assert ("样例数据、交付文件、csv" if tag == "zh-Hans" else "樣本數據、交付檔案、csv") in text
    assert ("detectors.csv（样例数据、交付文件）" if tag == "zh-Hans"
            else "detectors.csv（樣本數據、交付檔案）") in text  # as findings name it
    assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
def test_a_claimed_case_and_its_flash_are_in_each_chinese_locale(client, auth, session, reviewer, case, tag):
    client = in_locale(client, auth, session, reviewer, tag)
    response = client.post(f"/review/cases/{case.id}/claim", follow_redirects=True)
    text = check_page(response, tag, WORDS["claimed"][tag])
    assert ("您已认领此案件" if tag == "zh-Hans" else "您已認領此案件") in text
    assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
def test_a_refused_decision_says_why_in_each_chinese_locale(client, auth, session, reviewer, claimed, tag):
    client = in_locale(client, auth, session, reviewer, tag)
    response = client.post(f"/review/cases/{claimed.id}/decision", data={"decision": "reject", "comment": " "})
    assert response.status_code == 422
    text = main_text(response)
    assert ("请填写给数据提供方的意见。" if tag == "zh-Hans" else "請填寫給數據提供方的意見。") in text
    assert "is required" not in text


@pytest.mark.parametrize("tag", ZH)
def test_the_product_status_page_is_in_each_chinese_locale(client, auth, session, reviewer, listed, tag):
    text = check_page(in_locale(client, auth, session, reviewer, tag).get(f"/review/products/{listed.id}"), tag,
                      WORDS["product"][tag])
    assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
def test_the_audit_and_jobs_pages_are_in_each_chinese_locale(client, auth, session, admin, listed, tag):
    client = in_locale(client, auth, session, admin, tag)
    for page in ("audit", "jobs"):
        text = check_page(client.get(f"/admin/{page}"), tag, WORDS[page][tag])
        assert english_left(text) == []


@pytest.mark.parametrize("tag", ZH)
def test_an_unknown_event_number_is_said_in_each_chinese_locale(client, auth, session, admin, tag):
    text = main_text(in_locale(client, auth, session, admin, tag).get("/admin/audit?before=abc"))
    assert ("不是事件编号" if tag == "zh-Hans" else "不是事件編號") in text


@pytest.mark.parametrize(("tag", "subject", "body"), [
    ("zh-Hans", "需修改：", "合规审核员要求修改"), ("zh-Hant-HK", "需修改：", "合規審核員要求修改"),
    ("en", "Changes requested: ", "The compliance reviewer asks for changes"),
])
def test_the_seller_is_told_a_decision_in_their_own_language(session, seller, reviewer, claimed, tag, subject, body):
    seller.locale = tag
    session.commit()
    review.decide(session, reviewer, claimed, "request_changes", "Name the detector vendor.", answers=PASSING)
    session.commit()
    note = session.query(Notification).filter_by(user_id=seller.id).order_by(Notification.id.desc()).first()
    assert note.subject.startswith(subject) and body in note.body and "Name the detector vendor." in note.body


@pytest.mark.parametrize(("tag", "subject"), [("zh-Hans", "已暂停交易："), ("zh-Hant-HK", "已暫停交易：")])
def test_the_seller_is_told_a_suspension_in_their_own_language(session, seller, reviewer, listed, tag, subject):
    seller.locale = tag
    session.commit()
    review.suspend_product(session, reviewer, listed, "Upstream licence under query.")
    session.commit()
    note = session.query(Notification).filter_by(user_id=seller.id).order_by(Notification.id.desc()).first()
    assert note.subject.startswith(subject) and "Upstream licence under query." in note.body


def test_a_finding_keeps_its_english_and_is_shown_in_the_readers_language(app):
    finding = Finding(ChecklistItem.LICENCE_TERMS, "plan_names_unique", PrescreenOutcome.FAIL,
                      "2 plans are called \u201cbasic\u201d; buyers cannot tell them apart.",
                      text="%(count)s plans are called \u201c%(plan)s\u201d; buyers cannot tell them apart.",
                      values={"count": 2, "plan": "basic"})
    report = PrescreenReport.from_dict(PrescreenReport((finding,), (), finding_time()).to_dict())
    stored = report.findings[0]
    old = Finding(ChecklistItem.QUALITY, "update_frequency", PrescreenOutcome.FAIL, "An old report's words.")
    with app.test_request_context("/"):
        assert stored.shown == stored.message == finding.message
        with force_locale("zh_Hans"):
            assert stored.shown == "2 个定价方案都叫“basic”，数据需求方无法区分。"
            assert old.shown == "An old report's words."  # stored before findings kept their values
            assert time_ago(finding_time()) == "刚刚"
        with force_locale("zh_Hant_HK"):
            assert stored.shown == "2 個定價方案都叫「basic」，數據需求方無法區分。"


def finding_time():
    from marketplace.db import utcnow

    return utcnow()


def _all_licence_findings():
    from marketplace.listings.vocab import SourceUsage
    from marketplace.review.licence_rules import check_plan
    from tests.review.test_licence_rules import CASES, Plan

    plans = [Plan(**t) for _lid, t, _expected in CASES]
    plans += [Plan(name="Capped", kind="one_time", amount=100, territory="hong_kong",
                   prohibitions=("redistribution", "resale"), derivatives_allowed=False)]
    lids = sorted({lid for lid, _t, _e in CASES}) + ["Zlib", ""]
    return {f for lid in lids for plan in plans for usage in SourceUsage for f in check_plan(plan, lid, usage)}


def test_every_licence_finding_says_in_words_what_its_english_message_says(app):
    from marketplace.listings.vocab import PermittedUse
    from marketplace.review.prescreen_words import say

    found = _all_licence_findings()
    assert {f.rule for f in found} >= {"non_commercial", "share_alike", "no_derivatives", "source_terms",
                                       "attribution", "unknown_licence", "unverified_terms"}
    with app.test_request_context("/"):
        for f in found:
            said = json.loads(json.dumps(f.said))  # as a saved report holds it
            assert say(said).replace("\u201c", '"').replace("\u201d", '"') == f.message
        with force_locale("zh_Hans"):
            for f in found:
                text = say(json.loads(json.dumps(f.said)))
                left = re.sub(re.escape(f.licence_id) if f.licence_id else "^$", "", text)
                left = re.sub(r"\(s\.[\d.]+\)|s\.[\d.()A-Za-z]+|CC 4\.0|ODbL 1\.0|ODC-By 1\.0|Copyleft", "", left)
                # Vocabulary labels are the catalog's to translate; raw use values are as the English says them.
                for word in (f.plan_name or "", "GPL-3.0", "LGPL-3.0", "which", "incorporates", "research",
                             "internal_analysis", "commercial_product", "ai_training",
                             *(use.label for use in PermittedUse)):
                    left = left.replace(word, "")
                assert not re.search(r"[A-Za-z]{3,}", left), (f.rule, text)


@pytest.mark.parametrize(("language", "expected", "english"), [
    ("zh-CN", "已上传样例数据。", False), ("zh-HK", "已上載樣本數據。", False),
    ("en", "A sample file is uploaded.", True),
])
def test_the_api_gives_each_finding_in_the_clients_language(api, version, language, expected, english):
    resp = check_listing(api, f"/api/v1/products/{version.product_id}/versions/1/prescreen",
                         headers={"Accept-Language": language})
    assert resp.status_code == 200, resp.get_json()
    messages = [f["message"] for f in resp.get_json()["findings"]]
    assert expected in messages
    assert all(set(f) == {"item", "rule", "outcome", "message", "details"} for f in resp.get_json()["findings"])
    assert any("upstream source" in m for m in messages) is english
