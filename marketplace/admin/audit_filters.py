"""The audit page's filters, from the query string: actor, object (a type and an id, or a product and all that
concerns it), action, a date range in the reader's time zone, and the event to page back from. A value that cannot
be used is reported beside its field; the page is then shown again without a list, never with a wrong one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from wtforms import Form, SelectChoice, SelectField, StringField

from marketplace.admin.audit_objects import find_product, kind_words, matching_users, product_subjects
from marketplace.audit.services import EventFilter, known_actions
from marketplace.i18n import current_timezone
from marketplace.inputs import MAX_ROW_ID
from marketplace.listings.models import DataProduct

MAX_TEXT = 120
FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)
FIELDS = ("actor", "action", "object_type", "object_id", "product", "since", "until")


class AuditFilterForm(Form):
    actor = StringField(_l("Actor (name or e-mail)"))
    action = StringField(_l("Action starts with"))
    object_type = SelectField(_l("Object type"), default="")
    object_id = StringField(_l("Object number"))
    product = StringField(_l("Product (slug or number)"))
    since = StringField(_l("From (date)"))
    until = StringField(_l("To (date)"))
    before = StringField()

    def __init__(self, formdata, kinds: list[str]):
        super().__init__(formdata)
        self.object_type.choices = [SelectChoice("", _("Any type")),
                                    *(SelectChoice(k, kind_words(k)) for k in kinds)]

    def query(self, **changes) -> dict:
        """The filters as query arguments (for page links and the CSV export), with ``changes`` applied."""
        args = {name: (self[name].data or "").strip() for name in (*FIELDS, "before")}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}

    @property
    def filtered(self) -> bool:
        return any((self[name].data or "").strip() for name in FIELDS)


@dataclass
class ParsedFilters:
    event_filter: EventFilter
    before: int | None
    product: DataProduct | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    notice: str | None = None


def _date(raw: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise ValueError(raw)
    return date.fromisoformat(raw)


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` in the reader's time zone, in UTC."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(current_timezone())).astimezone(UTC)


def parse_filters(session: Session, form: AuditFilterForm, actions: list[str] | None = None) -> ParsedFilters:
    """The filters the form holds, or ``errors`` by field for the values that cannot be used; ``actions`` are the
    trail's actions, if the caller has read them already."""
    errors: dict[str, list[str]] = {}
    for name in (*FIELDS, "before"):
        if name != "object_type":
            form[name].data = " ".join((form[name].data or "").split())[:MAX_TEXT]

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    action = form.action.data
    if action and not any(a.startswith(action) for a in (known_actions(session) if actions is None else actions)):
        bad("action", _("No action starts with \u201c%(value)s\u201d: pick one from the list.", value=action))

    actor_ids = None
    if form.actor.data:
        actor_ids = matching_users(session, form.actor.data)
        if actor_ids is None:
            bad("actor", _("No user's name or e-mail address contains \u201c%(value)s\u201d.", value=form.actor.data))

    subjects: list = []
    kind, number = (form.object_type.data or "").strip()[:40], form.object_id.data
    if kind and kind not in {c.value for c in form.object_type.choices}:
        bad("object_type", _("\u201c%(value)s\u201d is not a type of object in the trail.", value=kind))
    elif number and not kind:
        bad("object_type", _("Choose the type of the object numbered %(value)s.", value=number[:20]))
    elif number and not (re.fullmatch(r"[0-9]{1,10}", number) and 1 <= int(number) <= MAX_ROW_ID):
        bad("object_id", _("\u201c%(value)s\u201d is not an object number.", value=number[:20]))
    elif kind:
        subjects.append((kind, (int(number),) if number else None))

    product = None
    if form.product.data:
        product = find_product(session, form.product.data)
        if product is None:
            bad("product", _("No product has the slug or number \u201c%(value)s\u201d.", value=form.product.data))

    since = until = None
    for name in ("since", "until"):
        raw = form[name].data
        if not raw:
            continue
        try:
            day = _date(raw)
        except ValueError:
            bad(name, _("\u201c%(value)s\u201d is not a date: write it as 2024-03-31.", value=raw[:20]))
            continue
        if not FIRST_DAY <= day <= LAST_DAY:  # past these, a zone's midnight may fall outside what a date holds
            bad(name, _("\u201c%(value)s\u201d is outside the dates the trail can search: pick a day from "
                        "%(first)s to %(last)s.", value=raw[:20], first=FIRST_DAY.isoformat(),
                        last=LAST_DAY.isoformat()))
        elif name == "since":
            since = _start_of(day)
        else:
            until = _start_of(day + timedelta(days=1))  # the whole last day
    if since and until and since >= until:
        bad("until", _("The end date is before the start date."))

    before, notice = None, None
    if form.before.data:  # a bad page mark costs nothing to ignore: the newest page, said so
        raw = form.before.data
        if re.fullmatch(r"[0-9]{1,10}", raw) and 1 <= int(raw) <= MAX_ROW_ID:
            before = int(raw)
        else:
            notice = _("\u201c%(value)s\u201d is not an event number; showing the latest events.", value=raw[:40])
            form.before.data = ""

    if product is not None and not (kind and number):  # an object named by type and number is already exact
        scope = product_subjects(product)
        if kind:  # the product's objects of that type only
            scope = tuple(pair for pair in scope if pair[0] == kind) or ((kind, ()),)
        subjects = list(scope)
    event_filter = EventFilter(action=action, actor_ids=actor_ids, since=since, until=until,
                               subjects=tuple(subjects) if subjects else None)
    return ParsedFilters(event_filter, before, product, errors, notice)
