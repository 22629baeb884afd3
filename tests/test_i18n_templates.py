"""No template holds user-visible text outside the message catalogs.

Each template's source is read with its Jinja parts taken out ({# comments #}, {% trans %} blocks and every {{ }}
and {% %}, whose strings go through gettext), and what is left is parsed as HTML: any text node, or any attribute a
person reads (title, placeholder, alt, aria-label, a button's value), that still holds a letter is text no
translator ever saw. Words that read the same in every language (formats, standards, codes) are listed below.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "marketplace" / "web" / "templates"
# Names and codes that are the same in every locale of the interface.
SAME_IN_EVERY_LANGUAGE = {
    "CSV", "JSON", "GeoJSON", "XLSX", "Parquet", "XML", "PDF", "SHP", "API", "URL", "CKAN", "DCAT", "DCAT-AP",
    "JSON-LD", "Turtle", "SHA-256", "Ed25519", "HKD", "CNY", "USD", "SPDX", "OpenAPI", "Stripe", "DATA.GOV.HK",
    "CSDI", "HKO", "ID", "HKID", "PM2.5", "e.g.", "RSS",
}
READ_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "aria-description", "summary", "label"}
# Templates whose text is not in the catalogs yet. The list may only shrink: a template that is clean must leave it.
NOT_YET_TRANSLATED: set[str] = set()


def _without_jinja(source: str) -> str:
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    return re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES
                          or (tag == "input" and name == "value" and attributes.get("type") in ("submit", "button"))
                          or (name == "content" and attributes.get("name") == "description")):
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text: str):
        words = [w for w in re.split(r"[\s/(),:;·•—–→←|+=<>\"“”]+", text) if w]
        left = [w for w in words if w.strip(".!?") not in SAME_IN_EVERY_LANGUAGE and re.search(r"[^\W\d_]", w)]
        if left:
            self.found.append(" ".join(text.split()))


def untranslated(path: Path) -> list[str]:
    reader = _Reader()
    reader.feed(_without_jinja(path.read_text(encoding="utf-8")))
    return reader.found


ALL = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("name", ALL)
def test_a_template_holds_no_text_outside_the_catalogs(name):
    found = untranslated(TEMPLATES / name)
    if name in NOT_YET_TRANSLATED:
        assert found, f"{name} has no text outside the catalogs any more: take it off NOT_YET_TRANSLATED"
    else:
        assert found == []


def test_the_reader_finds_text_where_a_person_reads_it(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('{% extends "base.html" %}{# a note #}<h1>{{ _("Catalog") }}</h1><p>Plain words</p>'
                    '<input placeholder="Search"><button value="go">{% trans %}Go{% endtrans %}</button>'
                    '<abbr title="Comma-separated values">CSV</abbr><script>var x = "words";</script>'
                    '<span>{{ count }} · HKD</span>')
    assert untranslated(page) == ["Plain words", "Search", "Comma-separated values"]
