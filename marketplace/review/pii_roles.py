"""Column names that name a person by role ("licence holder", "applicant", "申請人", "监护人"), as opposed to a
count, a code or a property of people in that role ("holder_count", "owner_type", "contact_hours", "患者人数").

Rule (English): the name's tokens hold a singular role noun, and every token after the last one is a language or
number suffix or an attribute that identifies the person (name, id, no, signature): "owner", "vehicle_owner",
"applicant_name_en", "patient_id" are personal; "owner_type", "holder_count", "contact_hours", "patients",
"member_since" are not (a plural role noun is a count). Words that make any name impersonal (count, type, rate,
station, company ...) are refused before this rule, in ``pii._name_kind``.
Rule (Chinese): a role word appears in a run of Chinese, and no word of aggregation or classification does
(人数, 数目, 总, 率, 类型, 类别, 比例, 等级, 时间 ...).
"""
from __future__ import annotations

ROLES = frozenset({
    "holder", "applicant", "contact", "patient", "owner", "guardian", "tenant", "driver", "passenger", "employee",
    "student", "resident", "licensee", "beneficiary", "recipient", "customer", "member", "client", "claimant",
    "insured", "policyholder", "cardholder", "householder", "landlord", "occupant", "visitor", "consignee",
    "consignor", "sender", "receiver", "payee", "payer", "borrower", "guarantor", "spouse", "parent", "victim",
    "suspect", "witness", "defendant", "plaintiff", "complainant", "donor", "volunteer", "worker", "nominee",
    "addressee", "subscriber", "registrant", "signatory", "deceased", "child", "pupil", "trainee", "candidate",
    "lessee", "lessor", "purchaser", "assignee", "informant", "caregiver", "carer",
})
# Tokens that may follow a role noun in a personal column: they identify the person.
ROLE_ATTRIBUTES = frozenset({"name", "names", "id", "no", "number", "ref", "signature", "sig", "identity", "info",
                             "details", "detail", "full", "chinese", "english"})
ZH_ROLES = (
    "持有人", "持证人", "持證人", "申请人", "申請人", "联系人", "聯繫人", "聯絡人", "患者", "病人", "业主", "業主",
    "监护人", "監護人", "租客", "租户", "租戶", "司机", "司機", "乘客", "员工", "員工", "职员", "職員", "学生",
    "學生", "居民", "住户", "住戶", "收件人", "寄件人", "收货人", "收貨人", "客户", "客戶", "顾客", "顧客", "会员",
    "會員", "受益人", "投保人", "被保险人", "被保險人", "法定代表人", "法人代表", "户主", "戶主", "房东", "房東",
    "借款人", "担保人", "擔保人", "经办人", "經辦人", "负责人", "負責人", "代理人", "证人", "證人", "嫌疑人",
    "受害人", "当事人", "當事人", "家长", "家長", "配偶", "领取人", "領取人", "缴款人", "繳款人", "登记人", "登記人",
    "持牌人", "受助人", "求职者", "求職者", "病患", "旅客", "住客",
)
ZH_AGGREGATES = (
    "人数", "人數", "数目", "數目", "数量", "數量", "总", "總", "率", "类型", "類型", "类别", "類別", "种类", "種類",
    "比例", "占比", "佔比", "等级", "等級", "时间", "時間", "时段", "時段", "人次", "平均", "人口", "分布", "分佈",
    "满意度", "滿意度", "数", "數", "组织", "組織", "法团", "法團", "团体", "團體", "服务", "服務", "规模", "規模",
)


def names_a_person_by_role(tokens: list[str], zh_runs: list[str]) -> bool:
    """Whether a column name (lower-case tokens, and its runs of Chinese) names a person by role."""
    roles = [i for i, t in enumerate(tokens) if t in ROLES]
    if roles:
        after = tokens[roles[-1] + 1:]
        neutral = {"en", "eng", "tc", "sc", "zh", "cn", "chi", "chin", "of"}
        if all(t in ROLE_ATTRIBUTES or t in neutral or t.isdigit() for t in after):
            return True
    return any(r in run for run in zh_runs for r in ZH_ROLES) and \
        not any(a in run for run in zh_runs for a in ZH_AGGREGATES)
