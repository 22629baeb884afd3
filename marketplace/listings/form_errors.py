"""Every error of a seller's form at once: the form's own messages, then each field's (a dictionary row's as
"Row 3, Unit"), each shown once, for the summary at the top of the form; the fields show theirs beside them."""
from __future__ import annotations

from typing import NamedTuple

from flask_babel import gettext as _
from wtforms import FieldList, FormField

from marketplace.library_messages import translated


class Problem(NamedTuple):
    label: str | None  # None for a message of the whole form
    message: str
    target: str | None  # the id of the field to jump to


def _field_problems(field, prefix: str | None = None) -> list[Problem]:
    if isinstance(field, FieldList):
        found = []
        for index, entry in enumerate(field.entries, start=1):
            if isinstance(entry, FormField):
                for sub in entry.form:
                    found += _field_problems(sub, _("Row %(num)d", num=index))
            else:
                found += _field_problems(entry, _("Row %(num)d", num=index))
        return found
    if isinstance(field, FormField):
        return [p for sub in field.form for p in _field_problems(sub, prefix)]
    if field.type == "CSRFTokenField":
        return [Problem(None, _("The form expired. Please submit it again."), None)] if field.errors else []
    label = str(field.label.text) if field.label else field.name
    if prefix:
        label = _("%(row)s, %(field)s", row=prefix, field=label)
    # A group of radio buttons or boxes is reached at its first option (the options carry the ids).
    target = f"{field.id}-0" if field.type in ("RadioField", "MultiCheckboxField") else field.id
    return [Problem(label, translated(message), target) for message in field.errors if isinstance(message, str)]


def form_problems(form) -> list[Problem]:
    """The form's problems in page order, each once."""
    fields = [p for field in form for p in _field_problems(field)]
    on_fields = {p.message for p in fields}
    found = [Problem(None, translated(m), None) for m in form.form_errors if translated(m) not in on_fields]
    unique, seen = [], set()
    for problem in found + fields:
        key = (problem.label, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def has_problems(form) -> bool:
    return bool(form.form_errors) or any(_field_problems(field) for field in form)


def cell_attrs(field, name: str) -> dict:
    """The attributes of a table cell's input: the column's name, and its message when it is wrong."""
    if not field.errors:
        return {"aria-label": name}
    return {"aria-label": name, "aria-invalid": "true", "aria-describedby": f"{field.id}-errors"}
