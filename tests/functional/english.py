"""The interface's English, taken from the message catalog itself, and the check that a page in a Chinese locale
shows none of it.

Each msgid of marketplace/translations/messages.pot is cut at its placeholders (``%(name)s``, ``%(num)d``, ``%s``)
and at any markup; a piece is kept when it holds a word of four letters or more, or two words or more, and dropped
when the locale's own translations hold it too (brand words, CSV, SPDX ids and the like are kept in English on
purpose). A page's visible text (its header, main and footer; not the language switcher, which names each language
in that language) must hold none of those pieces as whole words or phrases. Product content the seller typed in
English on purpose is allowed per call, and nothing else.
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from marketplace.i18n import BABEL_IDS

TRANSLATIONS = Path(__file__).resolve().parents[2] / "marketplace" / "translations"
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")
MARKUP = re.compile(r"<[^>]*>")
EDGES = re.compile(r"^[\W_]+|[\W_]+$")
WORD = re.compile(r"[A-Za-z]+")
SPACE = re.compile(r"\s+")
# Time zones are shown by their IANA names (Asia/Shanghai), identifiers like a licence's SPDX id.
ZONE = re.compile(r"\b(?:Asia|Europe|America|Africa|Australia|Pacific|Etc)/[A-Za-z_]+")
# Addresses are identifiers too.
URL = re.compile(r"\bhttps?://\S+")
# What a page shows a person: its header, its main content (and the hints in its empty fields, but those of a field
# for English content) and its footer, without the language switcher.
VISIBLE_TEXT = """() => {
  const text = selector => { const node = document.querySelector(selector); return node ? node.innerText : ''; };
  const hints = [...document.querySelectorAll('main [placeholder]:not([lang|=en])')].map(node => node.placeholder);
  return [text('header.topbar').replace(text('.language-switcher'), ''), text('main'), text('body > footer'),
          ...hints].join('\\n');
}"""


def _pieces(text: str) -> list[str]:
    pieces = []
    for part in PLACEHOLDER.split(MARKUP.sub("\x00", text)):
        for piece in part.split("\x00"):
            piece = EDGES.sub("", SPACE.sub(" ", piece))
            words = WORD.findall(piece)
            if any(len(w) >= 4 for w in words) or len(words) >= 2:
                pieces.append(piece)
    return pieces


def _whole(piece: str) -> str:
    """A piece as a whole word or phrase: not inside a longer word, a snake_case name or a dotted name
    (DATA.GOV.HK); a piece with capitals also as a style in capitals shows it ("Transport" as TRANSPORT)."""
    spelt = re.escape(piece) if piece == piece.lower() else f"(?:{re.escape(piece)}|{re.escape(piece.upper())})"
    return rf"(?<![A-Za-z0-9_])(?<![A-Za-z0-9_]\.){spelt}(?![A-Za-z0-9_])(?!\.[A-Za-z0-9_])"


@cache
def english(tag: str) -> tuple[tuple[str, re.Pattern], ...]:
    """The interface's English pieces that may not show in locale ``tag``, each with its whole-word pattern: a
    piece of a msgid is kept unless the message's own translation holds it too, or, for a name in capitals (a
    brand like DATA.GOV.HK, CSV, SPDX), any translation does."""
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = read_po(f)
    babel_id = BABEL_IDS[tag]
    with open(TRANSLATIONS / babel_id / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=babel_id)
    def translations(message) -> str:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return SPACE.sub(" ", PLACEHOLDER.sub(" ", " ".join(s or "" for s in strings)))

    everywhere = "\n".join(translations(m) for m in catalog if m.id)
    pieces = set()
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        own = translations(found) if found is not None else ""
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            pieces.update(p for p in _pieces(msgid) if not re.search(_whole(p), own) and not (
                p == p.upper() and re.search(_whole(p), everywhere)))
    pieces.update(_pieces(" ".join(_enum_values())))
    return tuple((p, re.compile(_whole(p))) for p in sorted(pieces))


def _enum_values() -> list[str]:
    """The values of the labelled vocabularies (a field type, a region, a checklist result ...), each spelt as a
    page would show it raw (``hong_kong`` as "hong kong"): a value shown instead of its label is English too."""
    import marketplace.review.checklist  # noqa: F401  (its vocabularies register as LabelledEnum subclasses)
    from marketplace.listings.vocab import LabelledEnum

    found, todo = [], [LabelledEnum]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.extend(f"\x00{m.value.replace('_', ' ')}\x00" for m in cls)
    return found


def _without(text: str, allow) -> str:
    text = URL.sub(" ", ZONE.sub(" ", SPACE.sub(" ", text)))
    # Whole words only (a unit "a" is not every letter a), case aside: a style may set a name in capitals.
    allowed = sorted({SPACE.sub(" ", c).strip() for c in allow} - {""}, key=len, reverse=True)
    if allowed:
        either = "|".join(map(re.escape, allowed))  # the longest first, so a name is taken whole
        text = re.sub(rf"(?<![A-Za-z0-9_])(?:{either})(?![A-Za-z0-9_])", " \x00 ", text, flags=re.IGNORECASE)
    return text


def english_in(text: str, tag: str, allow: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The interface's English pieces that ``text`` holds, once the ``allow``ed product content is taken out."""
    text = _without(text, allow)
    return [piece for piece, pattern in english(tag) if pattern.search(text)]


def no_english(page, tag: str, allow: tuple[str, ...] | list[str] = ()) -> None:
    """The page shows none of the interface's English (but the product content in ``allow``). With ENGLISH_REPORT
    set, each piece found is printed in its context instead, to see a whole journey's English at once."""
    text = _without(page.evaluate(VISIBLE_TEXT), allow)
    left = [(piece, pattern) for piece, pattern in english(tag) if pattern.search(text)]
    if os.environ.get("ENGLISH_REPORT"):
        for piece, pattern in left:
            for m in pattern.finditer(text):
                print(f"ENGLISH {page.url} {piece!r}: …{text[max(0, m.start() - 60):m.end() + 60]}…")
        return
    assert left == [], f"English on {page.url}: {[piece for piece, _pattern in left]}"


def words(app, tag: str):
    """gettext under ``tag``, and a label of the vocabulary under it."""
    def tr(text: str, **values) -> str:
        with app.test_request_context("/"), force_locale(BABEL_IDS[tag]):
            return gettext(text, **values)

    def label(member) -> str:
        with app.test_request_context("/"), force_locale(BABEL_IDS[tag]):
            return str(member.label)
    return tr, label


def _lines(markdown: str) -> list[str]:
    """The lines of a Markdown text as a page shows them: without list marks, emphasis or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown or "")
    text = re.sub(r"[*_`]+", "", text)
    return [line for line in (re.sub(r"^\s*(?:[-+>#]+|\d+\.)\s+", "", raw).strip() for raw in text.splitlines())
            if line]


def typed_content(app) -> list[str]:
    """Everything people typed into the app's database (titles, descriptions, plan and organization names, field
    descriptions, sources, file names, reviewers' comments and sellers' notes, objections and their decisions, an
    admin's reason to suspend a product, names and e-mail addresses) and the names of the licences a source may
    cite: the content a page may show in English whatever the interface's language."""
    from marketplace.accounts.models import Organization, User
    from marketplace.extensions import db
    from marketplace.listings.licences import licence_choices
    from marketplace.listings.models import (
        Asset,
        DataProduct,
        DictionaryField,
        OpenDataSource,
        PricingPlan,
        ProductVersion,
    )
    from marketplace.listings.view_helpers import licence_name
    from marketplace.review.models import ChecklistAnswer, ReviewRound
    from marketplace.review.notice_models import Objection

    found: list[str] = [name for _id, name in licence_choices()]
    with app.app_context():
        session = db.session
        for v in session.query(ProductVersion):
            found += [v.title_en, v.product.slug, v.spatial_coverage, v.attested_by_name or "", *map(str, v.tags)]
            for text in (v.description_en, v.changelog, v.classification_reason, v.source_legality, v.legal_basis):
                found += _lines(text)
        for p in session.query(DataProduct):  # why an admin suspended or delisted it
            found += _lines(p.status_reason)
        for s in session.query(OpenDataSource):
            found += [s.title, s.publisher, s.licence_id, licence_name(s.licence_id), s.url, *_lines(s.attribution)]
        for f in session.query(DictionaryField):
            found += [f.name, f.unit, f.description, f.example or ""]
        found += [a.filename for a in session.query(Asset)] + [p.name for p in session.query(PricingPlan)]
        for o in session.query(Organization):
            found += [o.name, o.slug, *_lines(o.description)]
        for r in session.query(ReviewRound):
            found += [*_lines(r.decision_comment), *_lines(r.seller_note)]
        found += [line for a in session.query(ChecklistAnswer) for line in _lines(a.comment)]
        for o in session.query(Objection):  # an objector's reasons and the reviewer's answer to them
            found += [*_lines(o.reasons), *_lines(o.decision_reason)]
        for u in session.query(User):
            found += [u.display_name, u.email]
        db.session.remove()
    return sorted({t.strip() for t in found if t and t.strip()}, key=len, reverse=True)
