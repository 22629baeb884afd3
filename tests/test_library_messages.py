"""The input libraries' own messages in the reader's language (marketplace.library_messages), and lists that stay
the libraries' words: a message an upgrade adds or rewords fails here, not in a Chinese answer."""
from __future__ import annotations

import inspect
import os
import re

import marshmallow.fields
import marshmallow.schema
import marshmallow.validate
import pytest
import wtforms
from babel.messages.pofile import read_po

from marketplace.i18n import in_locale_of
from marketplace.library_messages import MARSHMALLOW, WTFORMS, translated, translated_errors


def _marshmallow_messages() -> set[str]:
    found = set(marshmallow.schema.Schema._default_error_messages.values())
    for _name, cls in inspect.getmembers(marshmallow.fields, inspect.isclass):
        found.update(getattr(cls, "default_error_messages", {}).values())
    for _name, cls in inspect.getmembers(marshmallow.validate, inspect.isclass):
        found.update(value for key, value in vars(cls).items()
                     if isinstance(value, str) and (key.startswith(("message", "error")) or key == "default_message"))
    return found


def test_every_marshmallow_message_is_listed():
    listed = set(MARSHMALLOW)
    # Range builds its messages from pieces ("Must be {min_op} {{min}}."): each built sentence is listed instead.
    pieces = {m for m in _marshmallow_messages() if "{min_op}" in m or "{max_op}" in m or m.islower()}
    assert _marshmallow_messages() - pieces - listed == set()
    ops = ("greater than or equal to", "greater than", "less than or equal to", "less than")
    for op in ops[:2]:
        assert f"Must be {op} {{min}}." in listed
        for other in ops[2:]:
            assert f"Must be {op} {{min}} and {other} {{max}}." in listed


def test_every_wtforms_message_is_listed():
    with open(os.path.join(os.path.dirname(wtforms.__file__), "locale", "wtforms.pot"), "rb") as f:
        ids = [m.id for m in read_po(f) if m.id]
    wanted = {text for message in ids for text in (message if isinstance(message, tuple) else (message,))}
    # Two are programming errors, never shown; one message both libraries write is listed once.
    assert wanted - {"Invalid field name '%s'.", "Choices cannot be None."} - {*WTFORMS, *MARSHMALLOW} == set()


@pytest.mark.parametrize(("tag", "message", "expected"), [
    ("zh-Hans", "Missing data for required field.", "缺少必填字段。"),
    ("zh-Hant-HK", "Missing data for required field.", "缺少必填欄位。"),
    ("zh-Hans", "Longer than maximum length 200.", "超过最大长度 200。"),
    ("zh-Hans", "Must be greater than or equal to 1 and less than or equal to 100.",
     "必须大于或等于 1 且小于或等于 100。"),
    ("zh-Hant-HK", "Must be one of: csv, json.", "必須是以下之一：csv, json。"),
    ("zh-Hant-HK", "Field cannot be longer than 120 characters.", "不得超過 120 個字元。"),
    ("zh-Hans", "'x' is not a valid choice for this field.", "“x”不是此字段的有效选项。"),
    ("zh-Hans", "No such product in the catalog.", "No such product in the catalog."),  # not the library's
    ("en", "Longer than maximum length 200.", "Longer than maximum length 200."),
])
def test_library_messages_are_translated_with_their_values(app, tag, message, expected):
    with app.test_request_context(), in_locale_of(tag):
        assert translated(message) == expected


def test_an_error_structure_keeps_its_fields_and_indexes(app):
    errors = {"name": ["Missing data for required field."], "rows": {0: {"unit": ["Not a valid string."]}}}
    with app.test_request_context(), in_locale_of("zh-Hant-HK"):
        assert translated_errors(errors) == {"name": ["缺少必填欄位。"], "rows": {0: {"unit": ["不是有效的字串。"]}}}


def test_every_template_keeps_its_placeholders_in_both_catalogs():
    from tests.test_i18n import _catalog

    for name in ("zh_Hans", "zh_Hant_HK"):
        catalog = _catalog(name)
        for template in (*MARSHMALLOW, *WTFORMS):
            text = catalog.get(template).string
            assert sorted(re.findall(r"\{\w+(?:!r)?\}|%\(\w+\)[sd]", text)) == sorted(
                re.findall(r"\{\w+(?:!r)?\}|%\(\w+\)[sd]", template)), (name, template, text)
