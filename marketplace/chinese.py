"""Chinese in two scripts: conversion between Simplified and Traditional (Hong Kong usage) with OpenCC, folding
for search, and telling which script a text is written in (for its ``lang`` attribute).

OpenCC's configurations: ``s2hk`` writes Simplified as Traditional with Hong Kong variants, ``hk2s`` reads
Traditional (Hong Kong and Taiwan forms alike) back to Simplified. Conversion is phrase-aware but not perfect,
so the interface only ever offers a conversion for a person to accept or edit; search folds silently.
"""
from __future__ import annotations

from functools import cache

import opencc


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"
               for ch in text)


def to_traditional(text: str) -> str:
    """Simplified (or mixed) Chinese written in Traditional characters, Hong Kong usage."""
    return _converter("s2hk").convert(text) if text and not text.isascii() else text


def to_simplified(text: str) -> str:
    """Traditional (or mixed) Chinese written in Simplified characters."""
    return _converter("hk2s").convert(text) if text and not text.isascii() else text


def fold(text: str) -> str:
    """The one form search compares: every Chinese character in its Simplified form, other text unchanged, so
    颱風 and 台风 are the same word to the index and to a query."""
    return to_simplified(text)


def script_of(text: str | None) -> str | None:
    """"zh-Hans" or "zh-Hant" for Chinese text written in one script, "zh" when it cannot tell (the characters
    are the same in both, or mixed), None for text without Chinese characters."""
    if not text or text.isascii() or not _has_han(text):
        return None
    simplified, traditional = to_simplified(text), to_traditional(text)
    if simplified == text and traditional != text:
        return "zh-Hans"
    if traditional == text and simplified != text:
        return "zh-Hant"
    return "zh"
