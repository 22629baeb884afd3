"""The pre-screen's findings in the reader's language: a finding keeps its message as a catalog id and the values
that fill it (numbers, names, and vocabulary values such as a territory), and they are put into words where shown.
"""
from __future__ import annotations

from flask_babel import gettext as _

from marketplace.crossborder.rules import CLAUSE_NAMES, Outcome
from marketplace.i18n import N_, number
from marketplace.listings.vocab import Classification, PermittedUse, PersonalInfo, Territory, UpdateFrequency
from marketplace.review import pii

# Values of a finding's message that are words, translated where shown: how each is read.
KIND_WORDS = {"sample": N_("sample"), "deliverable": N_("deliverable")}


def readable(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if key == "kinds":
            out["name"] = file_name(values.get("file", ""), value)
        elif key == "partial":
            out[key] = "".join(_("; %(name)s on %(scope)s only", name=file_name(n["file"], n["kinds"]),
                                 scope=scope_words(*counts)) for n, counts in value)
        elif key == "scope":
            out[key] = scope_words(*value)
        elif key == "territory":
            out[key] = Territory(value).label
        elif key == "outcome":
            out[key] = Outcome(value).label.lower()
        elif key == "clause":
            out[key] = str(CLAUSE_NAMES.get(value, value))
        elif key == "level":
            out[key] = Classification(value).label
        elif key == "frequency":
            out[key] = UpdateFrequency(value).label
        elif key == "declared":
            out[key] = PersonalInfo(value).label if value else _("nothing")
        elif key == "pii":
            out[key] = _(pii.KIND_LABELS.get(value, value))
        elif _said(value):
            out[key] = say(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = number(value)
        else:
            out.setdefault(key, value)
    return out


def scope_words(scanned: int, total: int, exact: bool) -> str:
    """What a partial scan covered, in the reader's words: "the first 200,000 of 1,234,567 rows"."""
    if exact:
        return _("the first %(scanned)s of %(total)s rows", scanned=number(scanned), total=number(total))
    return _("the first %(scanned)s of more than %(total)s rows", scanned=number(scanned), total=number(total))


def file_name(file: str, kinds) -> str:
    """A file as findings name it: "big.csv (sample, deliverable)"."""
    return _("%(file)s (%(kinds)s)", file=file, kinds=_(", ").join(_(KIND_WORDS[k]) if k in KIND_WORDS else k
                                                                  for k in kinds))


def _said(value) -> bool:
    return isinstance(value, list | tuple) and bool(value) and value[0] in ("\u00a7", "\u00a7join", "\u00a7uses")


def say(said) -> str:
    """Words of the licence rules (``licence_rules.words``, stored as lists once a report is saved) in the reader's
    language; a list of them joined as the language joins a list."""
    if said[0] == "\u00a7uses":  # permitted uses, by value
        return _(", ").join(_use_label(v) for v in said[1])
    if said[0] == "\u00a7join":
        parts = [say(p) for p in said[1]]
        if len(parts) < 2:
            return "".join(parts)
        return _("%(items)s and %(last)s", items=_(", ").join(parts[:-1]), last=parts[-1])
    return _(said[1], **readable({k: v for k, v in said[2]}))


def _use_label(value: str) -> str:
    try:
        return PermittedUse(value).label
    except ValueError:
        return value


def as_stored(said):
    """Words as a saved report holds them (lists, not tuples), so a finding equals itself read back."""
    return [as_stored(v) for v in said] if isinstance(said, list | tuple) else said
