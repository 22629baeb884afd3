"""Bare eight-digit Hong Kong phone numbers (no +852, no separator), judged per column whatever its name.

A value is a possible subscriber number when its leading digits fall in a range the numbering plan gives to
fixed or mobile services. The Communications Authority's numbering plan for Hong Kong (8-digit plan since 1995;
OFCA, "Numbering Plan for Telecommunications Services in Hong Kong", and the CA Statement of June 2016 on more
efficient use of the 8-digit plan, implemented from 1 July 2017, OFCA press release of 5 February 2018):

* ``2`` and ``3``: fixed telecommunications network services;
* ``5``, ``6`` and ``9``: mobile services;
* ``4``: the "4X" level, re-allocated to mobile services;
* ``70``-``73``: the "7(0-3)X" levels, relocated from paging to mobile services (``74``-``79`` are not);
* ``81``-``83``: vacant numbers of the "8(1-3)X" levels, re-allocated to mobile services; the rest of ``8``
  (``800`` freephone and other special services) and ``0``/``1`` (operator and service codes) are not
  subscriber numbers.

Eight-digit counts, ids, codes and dates often fall in those ranges too, so a column is taken for phone numbers
only when ``SHARE`` of its non-empty values are valid numbers (placeholders such as "N/A", "-" or "未提供" are not
values), at least ``MIN_NUMBERS`` of them, and their spread looks like phone numbers:

* not mostly dates (``20240101``, ``25121995``) or times of day (``21305512``);
* not a sequence of ids: most steps between consecutive values equal (``+1``, ``+10``); a sorted list of phone
  numbers has small but unequal steps;
* not clustered under one three-digit prefix (product or area codes);
* not a quantity: numbers of other lengths (seven or nine digits) or with decimals beside the eight-digit ones
  (a count or an amount grows past eight digits; phone numbers never do);
* not in a column whose name says it counts, sums, prices, codes or dates something (``visitors``, ``revenue_hkd``,
  ``case_no``, ``金额``, ``人次``, ``年度開支``, ``編號``). Columns named like phone columns (``phone_no``,
  ``电话号码``) are read by the phone matcher before this rule.

JSON numbers and integral floats (``91234567.0``) count as their digits.
"""
from __future__ import annotations

import re
from datetime import date

from marketplace.review.pii_names import PLACEHOLDERS

SHARE = 0.8
MIN_NUMBERS = 3
SEQUENCE_SHARE = 0.5  # share of steps equal to the step before (or +-1) that makes a sequence of ids
OTHER_SHARE = 0.02  # share of numbers of other lengths or with decimals that makes a column a quantity
PREFIX_SHARE = 0.5
DATE_SHARE = 0.3
MAX_PREFIXES = 1_000
_EIGHT = re.compile(r"[0-9]{8}")
NOT_PHONE_WORDS = frozenset({
    "count", "counts", "total", "totals", "sum", "amount", "amounts", "qty", "quantity", "population", "code", "id",
    "seq", "serial", "index", "date", "year", "period", "ref", "reference", "value", "price", "prices", "cost",
    "costs", "area", "size", "money", "visitors", "visits", "trips", "trip", "journeys", "passengers", "patrons",
    "attendance", "admissions", "headcount", "revenue", "revenues", "income", "sales", "turnover", "profit",
    "budget", "spend", "spending", "expenditure", "expenses", "expense", "fee", "fees", "fare", "fares", "hkd",
    "rmb", "cny", "usd", "dollars", "balance", "volume", "ticket", "tickets", "case", "licence", "license",
    "permit", "invoice", "order", "receipt", "policy", "registration", "serialno", "caseno", "licenceno",
    "licenseno", "refno", "households", "units", "vehicles", "tonnes", "weight", "length", "distance",
})
# Chinese words, Simplified and Traditional, found anywhere in a run of Chinese in the column name.
ZH_NOT_PHONE = (
    "金额", "金額", "人次", "人数", "人數", "数量", "數量", "次数", "次數", "收入", "开支", "開支", "支出",
    "合计", "合計", "总数", "總數", "总额", "總額", "总计", "總計", "编号", "編號", "预算", "預算", "费用",
    "費用", "价", "價", "款", "票", "个案", "個案", "案件", "牌照", "许可", "許可", "登记号", "登記號",
    "数目", "數目", "营业额", "營業額", "销售", "銷售", "利润", "利潤", "元", "统计", "統計", "序号", "序號",
    "日期", "年份", "代码", "代碼",
)
_INTEGRAL = re.compile(r"([0-9]{8})\.0+")
_OTHER_NUMBER = re.compile(r"[0-9]{5,7}|[0-9]{9,10}|[0-9]+\.[0-9]*[1-9][0-9]*")


def quantity_named(tokens: set[str]) -> bool:
    """Whether a column's name (its lower-case tokens, runs of Chinese kept whole) says it holds quantities, amounts,
    codes or dates rather than phone numbers."""
    return bool(tokens & NOT_PHONE_WORDS) or any(w in t for t in tokens if not t.isascii() for w in ZH_NOT_PHONE)


def is_hk_subscriber_number(digits: str) -> bool:
    """Whether eight digits fall in a fixed or mobile range of the Hong Kong numbering plan (see the module)."""
    if not _EIGHT.fullmatch(digits):
        return False
    first, second = digits[0], digits[1]
    return (first in "234569" or first == "7" and second in "0123" or first == "8" and second in "123")


def _is_date(digits: str) -> bool:
    """YYYYMMDD or DDMMYYYY."""
    for y, m, d in ((digits[:4], digits[4:6], digits[6:]), (digits[4:], digits[2:4], digits[:2])):
        try:
            if 1900 <= int(y) <= 2100 and date(int(y), int(m), int(d)):
                return True
        except ValueError:
            continue
    return False


def _is_time(digits: str) -> bool:
    """HHMMSS followed by two more digits (hundredths)."""
    return int(digits[:2]) < 24 and int(digits[2:4]) < 60 and int(digits[4:6]) < 60


class BareNumberTally:
    """The eight-digit statistics of one column, in bounded memory (at most ``MAX_PREFIXES`` prefixes)."""

    __slots__ = ("values", "valid", "dates", "steps", "equal_steps", "last", "last_step", "prefixes", "example",
                 "other")

    def __init__(self) -> None:
        self.values = self.valid = self.dates = self.steps = self.equal_steps = self.other = 0
        self.last: int | None = None
        self.last_step: int | None = None
        self.prefixes: dict[str, int] = {}
        self.example = ""

    def add(self, text: str) -> None:
        """Count one non-empty value of the column (placeholders are not values)."""
        v = text.strip() if len(text) != 8 else text
        if len(v) <= 12 and v.lower() in PLACEHOLDERS:
            return
        self.values += 1
        if len(v) > 8 and (m := _INTEGRAL.fullmatch(v)):
            v = m[1]
        if len(v) != 8 or not is_hk_subscriber_number(v):
            if len(v) <= 24 and _OTHER_NUMBER.fullmatch(v.lstrip("+-")):
                self.other += 1
            return
        self.valid += 1
        if _is_date(v) or _is_time(v):
            self.dates += 1
        n = int(v)
        if self.last is not None:
            self.steps += 1
            step = n - self.last
            if step == self.last_step or abs(step) == 1:
                self.equal_steps += 1
            self.last_step = step
        self.last = n
        if v[:3] in self.prefixes or len(self.prefixes) < MAX_PREFIXES:
            self.prefixes[v[:3]] = self.prefixes.get(v[:3], 0) + 1
        self.example = self.example or f"{v[:2]}****{v[-2:]}"

    def verdict(self, column_tokens: set[str]) -> tuple[int, str] | None:
        """(numbers, masked example) when the column holds Hong Kong phone numbers, else None."""
        if self.valid < MIN_NUMBERS or self.valid < SHARE * self.values or quantity_named(column_tokens):
            return None
        if self.dates >= DATE_SHARE * self.valid:
            return None
        if self.steps and self.equal_steps >= SEQUENCE_SHARE * self.steps:
            return None
        if self.other and self.other >= OTHER_SHARE * (self.valid + self.other):
            return None
        if self.valid >= 5 and max(self.prefixes.values()) >= PREFIX_SHARE * self.valid:
            return None
        return self.valid, self.example
