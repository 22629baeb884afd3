"""Reviewer page forms: parse what a browser sends into the plain values the review services take.

Forms only parse; the rules (which results and decisions exist, when a comment is required, who may act)
live in ``marketplace.review.services`` and come back as DomainError.errors, shown beside the right item.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import Form, FormField, RadioField, SelectChoice, SelectField, StringField, TextAreaField

from marketplace.errors import DomainError
from marketplace.i18n import N_
from marketplace.listings.vocab import Category
from marketplace.review.checklist import (
    CHECKLIST_QUESTIONS,
    LABELS,
    ChecklistItem,
    ChecklistResult,
    Decision,
    PrescreenOutcome,
)
from marketplace.review.models import ReviewRound
from marketplace.review.services import MAX_COMMENT


# The queue's tabs: the query value and what the service's QueueFilters.status takes for it.
def _tab(key: str) -> str:
    return {"open": pgettext("queue tab", "Open"), "submitted": pgettext("queue tab", "Waiting"),
            "mine": pgettext("queue tab", "Mine"), "decided": pgettext("queue tab", "Decided")}[key]


QUEUE_TABS = tuple((key, LazyString(_tab, key), status) for key, status in (
    ("open", None), ("submitted", "submitted"), ("mine", "mine"), ("decided", "decided")))
PER_PAGE = 50
MAX_PAGE = 100_000  # far past any real queue; keeps the offset inside a database integer


def _options(choices) -> list[SelectChoice]:
    return [SelectChoice(value, text) for value, text in choices]


def _labelled(enum) -> list[tuple[str, object]]:
    """An enum's (value, label) choices, the labels translated when the form is shown."""
    return [(m.value, _l(LABELS[m.value])) for m in enum]


def _any(label: str, choices) -> list[SelectChoice]:
    return [SelectChoice("", label), *_options(choices)]


class QueueFilterForm(Form):
    """The queue's GET filters. An invalid value is dropped (and reported) instead of refusing the page."""

    status = SelectField(_l("Show"), choices=[SelectChoice(key, text) for key, text, _status in QUEUE_TABS],
                         default="open")
    organization = SelectField(_l("Seller organization"), choices=[SelectChoice("", _l("Any organization"))])
    category = SelectField(_l("Category"), choices=_any(_l("Any category"), Category.choices()), default="")
    prescreen = SelectField(_l("Pre-screen"), choices=_any(_l("Any outcome"), _labelled(PrescreenOutcome)), default="")
    page = StringField(_l("Page"), default="1")

    def __init__(self, formdata, organizations):
        super().__init__(formdata)
        self.organization.choices = _any(_("Any organization"), [(str(o.id), o.name) for o in organizations])

    def clean(self) -> tuple[dict, int, list[str]]:
        """The valid filters, the page number, and a notice for every value that was ignored."""
        self.validate()
        ignored: list[str] = []
        values = {}
        for field in (self.status, self.organization, self.category, self.prescreen):
            raw = (field.data or "").strip()
            if field.errors and raw:
                ignored.append(_("%(field)s \u201c%(value)s\u201d is not one of the choices; ignored.",
                                 field=field.label.text, value=raw[:40]))
                field.data = field.default or ""
            values[field.name] = field.data or None
        page = (self.page.data or "1").strip()
        if not (re.fullmatch(r"[0-9]{1,6}", page) and 1 <= int(page) <= MAX_PAGE):
            ignored.append(_("Page \u201c%(value)s\u201d is not a page number; showing the first page.",
                             value=page[:40]))
            page = "1"
        status = dict((key, value) for key, _, value in QUEUE_TABS).get(values["status"] or "open")
        filters = {"status": status, "organization_id": int(values["organization"]) if values["organization"] else None,
                   "category": values["category"], "prescreen": values["prescreen"]}
        return filters, int(page), ignored

    def query(self, **changes) -> dict:
        """The current filters as query arguments (for tab and page links), with ``changes`` applied."""
        args = {name: self[name].data for name in ("status", "organization", "category", "prescreen")}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "", "open", 1)}


class AnswerForm(Form):
    """One checklist item: pass / fail / not applicable, and a comment the seller sees."""

    result = RadioField(_l("Result"), choices=_options(_labelled(ChecklistResult)), validate_choice=False)
    comment = TextAreaField(_l("Comment for the seller"), render_kw={"maxlength": MAX_COMMENT})


class ReviewForm(FlaskForm):
    """The whole checklist and the decision, posted together: "Save checklist" or "Submit decision"."""

    decision = RadioField(_l("Decision"), choices=_options(_labelled(Decision)), validate_choice=False)
    comment = TextAreaField(_l("Comment to the seller"), render_kw={"maxlength": MAX_COMMENT},
                            description=_l("Required when requesting changes or rejecting: say what to fix and why."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_errors: dict[str, list[str]] = {}

    @classmethod
    def for_round(cls, round_: ReviewRound) -> ReviewForm:
        """An unposted form showing the round's saved answers."""
        data = {a.item.value: {"result": a.result.value, "comment": a.comment} for a in round_.answers}
        return cls(formdata=None, data=data)

    def item(self, item: ChecklistItem) -> AnswerForm:
        return self[item.value].form

    def answers(self) -> dict[str, dict[str, str]]:
        """What the reviewer answered; items with neither a result nor a comment are left out (kept as saved)."""
        out = {}
        for item in ChecklistItem:
            sub = self.item(item)
            result, comment = (sub.result.data or "").strip(), sub.comment.data or ""
            if result or comment.strip():
                out[item.value] = {"result": result, "comment": comment}
        return out

    def apply_errors(self, exc: DomainError) -> None:
        """Put a service's refusal beside the checklist item, the decision or the comment it concerns."""
        for key, messages in (exc.errors or {}).items():
            messages = [messages] if isinstance(messages, str) else list(messages)
            if key in ChecklistItem._value2member_map_:
                self.item_errors.setdefault(key, []).extend(messages)
            elif key in ("decision", "comment"):
                self[key].errors = [*self[key].errors, *messages]
            else:
                self.form_errors.extend(f"{str(key).replace('_', ' ').capitalize()}: {m}" for m in messages)


for _item in ChecklistItem:
    setattr(ReviewForm, _item.value, FormField(AnswerForm, label=_l(CHECKLIST_QUESTIONS[_item][0])))
del _item


# What a reviewer may do to a listed product, in the glossary's words (暂停交易, 恢复交易, 摘牌).
ACTION_LABELS = {"suspend": N_("Suspend"), "reinstate": N_("Reinstate"), "delist": N_("Delist")}


class ProductStatusForm(FlaskForm):
    """Suspend, reinstate or delist a product with a reason the seller is told."""

    action = RadioField(_l("Action"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Reason"), description=_l("The seller is told this reason. Required."))

    def offer(self, actions) -> ProductStatusForm:
        self.action.choices = [SelectChoice(a.value, _(ACTION_LABELS.get(a.value, a.value.capitalize())))
                               for a in actions]
        return self
