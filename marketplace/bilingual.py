"""Seller content written in two languages (title, summary, description), shown in the reader's language first.

A product's texts are stored in English and in Chinese, and a seller may write the Chinese in either script. A
reader of either Chinese locale gets the Chinese first, as the seller wrote it (never converted on the way out),
marked with its own ``lang`` (``chinese.script_of``); an English reader gets the English first. When the reader's
language is missing, the other one is shown in its place and marked as a fallback, so the page can say so.
"""
from __future__ import annotations

from typing import NamedTuple

from flask_babel import LazyString
from markupsafe import Markup

from marketplace.chinese import script_of
from marketplace.i18n import current_locale_tag


class Shown(NamedTuple):
    """One language of a text: ``key`` ("en" or "zh") picks it from a pair, ``lang`` is its lang attribute, and
    ``fallback`` says it stands in for the reader's language."""

    text: str
    key: str
    lang: str
    fallback: bool = False


def reader_wants_chinese() -> bool:
    return current_locale_tag() != "en"


def bilingual(en: str | None, zh: str | None) -> list[Shown]:
    """The texts that exist, the reader's language first; the first is a fallback when the reader's is missing."""
    english = Shown(en, "en", "en") if en and en.strip() else None
    chinese = Shown(zh, "zh", script_of(zh) or "zh") if zh and zh.strip() else None
    first, second = (chinese, english) if reader_wants_chinese() else (english, chinese)
    if first is None:
        return [Shown(second.text, second.key, second.lang, fallback=True)] if second else []
    return [first, second] if second else [first]


def first_of(en: str | None, zh: str | None) -> Shown:
    """The one text to show where there is room for one (a card, a breadcrumb): the reader's language if written.
    Only that text's script is found (a summary's other language is never read)."""
    has_en, has_zh = bool(en and en.strip()), bool(zh and zh.strip())
    chinese_first = reader_wants_chinese()
    if has_zh and (chinese_first or not has_en):
        return Shown(zh, "zh", script_of(zh) or "zh", fallback=not chinese_first)
    if has_en:
        return Shown(en, "en", "en", fallback=chinese_first)
    return Shown("", "en", "en")


def title_of(version) -> str:
    """A version's title in the reader's language (its English or its Chinese, whichever the reader has first)."""
    return first_of(version.title_en, version.title_zh).text


def lazy_title_of(version) -> LazyString:
    """``title_of`` put into words when the text is (an e-mail or notification, in its recipient's language)."""
    en, zh = version.title_en, version.title_zh
    return LazyString(lambda: first_of(en, zh).text)


def lang_attr(text: str | None) -> Markup:
    """`` lang="..."`` for a seller's text written in Chinese (a plan's or an organization's name), else nothing."""
    tag = script_of(text)
    return Markup(' lang="{}"').format(tag) if tag else Markup("")
