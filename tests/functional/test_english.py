"""The English check of the Chinese browser journeys: what it takes for the interface's English, and what not."""
from __future__ import annotations

import pytest

from tests.functional.english import english, english_in


@pytest.mark.parametrize("tag", ["zh-Hans", "zh-Hant-HK"])
def test_the_interface_english_comes_from_the_catalog_cut_at_its_placeholders(tag):
    pieces = {piece for piece, _pattern in english(tag)}
    assert {"Log out", "Request licence", "Submit decision", "Claim this case"} <= pieces
    assert "Submit v" in pieces  # "Submit v%(label)s for review", cut at its placeholder
    assert "string" in pieces and "hong kong" in pieces  # a vocabulary's raw values, shown instead of labels
    # Kept in English by the translations themselves: brand words and identifiers.
    assert not {"DATA.GOV.HK", "SPDX", "Ed25519", "CSV"} & pieces


def test_a_page_holding_interface_english_is_caught_as_whole_words_only():
    assert english_in("开放数据交易所 Log out（seller@example.org）", "zh-Hans") == ["Log out"]
    assert english_in("退出登录 · 提交决定 · 2026年12月5日 17:19 (Asia/Shanghai)", "zh-Hans") == []
    assert english_in("AID_ID_Number Downloadable", "zh-Hans") == []  # parts of words are not words
    assert english_in("transport_data.csv DATA.GOV.HK", "zh-Hans") == []  # nor parts of names
    assert english_in("类别 TRANSPORT", "zh-Hans") == ["Transport"]  # a style in capitals hides nothing


def test_only_the_content_allowed_is_let_through():
    text = "香港交通探测器 Hong Kong Traffic Detectors 挂牌 Approved"
    assert english_in(text, "zh-Hant-HK") == ["Approved", "Hong Kong"]
    assert english_in(text, "zh-Hant-HK", allow=["Hong Kong Traffic Detectors"]) == ["Approved"]
