"""Forms of the account pages, and ``apply_domain_errors`` that puts a service's refusal back on a form.

The forms check shape only (present, length, matching confirmation); the rules (e-mail syntax, password
strength, a taken address) live in ``marketplace.accounts.services`` and come back as a DomainError.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, EqualTo, Length, Optional

from marketplace import i18n
from marketplace.accounts.models import MemberRole
from marketplace.accounts.services import MIN_PASSWORD_LENGTH
from marketplace.errors import DomainError
from marketplace.i18n import LOCALE_NAMES
from marketplace.places import Place

LOCALES = [SelectChoice(tag, LOCALE_NAMES[tag]) for tag in i18n.LOCALES]
# Long enough for any passphrase, short enough that nobody posts a megabyte to the password hasher.
MAX_PASSWORD_LENGTH = 1024


def _messages(value) -> list[str]:
    """Flatten a service's error value (a string, a list, or nested per-item dicts) into messages."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [f"{key}: {msg}" for key, inner in value.items() for msg in _messages(inner)]
    if isinstance(value, Iterable):
        return [msg for item in value for msg in _messages(item)]
    return [str(value)]


def apply_domain_errors(form: FlaskForm, exc: DomainError, aliases: Mapping[str, str] | None = None) -> None:
    """Show a service's DomainError on ``form``: each key of ``exc.errors`` naming a field (directly, or
    through ``aliases`` from the service's key to the form's field name) goes under that field; the rest,
    and the error's message when no key matched a field, go to ``form.form_errors`` shown at the top."""
    aliases = aliases or {}
    matched_field = False
    for key, value in (exc.errors or {}).items():
        name = aliases.get(key, key)
        field = form._fields.get(name) if isinstance(name, str) else None
        messages = _messages(value)
        if field is not None:
            # Before validate() a field's errors are an immutable tuple.
            field.errors = [*field.errors, *messages]
            matched_field = True
        else:
            label = str(key).replace("_", " ").capitalize()
            form.form_errors.extend(f"{label}: {msg}" for msg in messages)
    if not matched_field and exc.message not in form.form_errors:
        form.form_errors.insert(0, exc.message)


class SignupForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)],
                               description=_l("Shown to the other members of your organizations."))
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(
            min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
            message=_l("Use at least %(min)d and at most %(max)d characters.", min=MIN_PASSWORD_LENGTH,
                       max=MAX_PASSWORD_LENGTH),
        )],
        description=_l("At least %(min)d characters. A passphrase is easiest to remember.", min=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])
    organization_name = StringField(
        _l("Organization (optional)"), validators=[Optional(), Length(max=200)],
        description=_l("Buying or selling data? Name your team or company: licences are issued to it, and "
                        "products are listed under it. You become its owner; you can add one later."),
    )
    locale = SelectField(_l("Language"), choices=LOCALES, default=i18n.current_locale_tag)
    next = HiddenField()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)],
                                description=_l("What your organization does, in a sentence or two."))
    website = URLField(_l("Website"), validators=[Optional(), URL(), Length(max=500)])


class LocationForm(FlaskForm):
    location = SelectField(_l("Where the organization is established"),
                           choices=lambda: [("", _("— choose —")), *Place.choices()], default="",
                           description=_l("Decides, with the other side's, whether a trade provides data outside the "
                                          "Mainland, and whether the Greater Bay Area's standard contract applies."))


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(MemberRole.MEMBER.value, _l("Member")),
                                        SelectChoice(MemberRole.OWNER.value, _l("Owner"))],
                       default=MemberRole.MEMBER.value,
                       description=_l("Owners can invite people; members manage products."))


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Say where it is used, e.g. “CI upload script”."))



def _new_password_field(label: str = _l("New password")) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), Length(
            min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
            message=_l("Use at least %(min)d and at most %(max)d characters.", min=MIN_PASSWORD_LENGTH,
                       max=MAX_PASSWORD_LENGTH),
        )],
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = _new_password_field()
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class PasswordResetForm(FlaskForm):
    password = _new_password_field()
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class EmailForm(FlaskForm):
    """One address: asking for a password-reset link or a new verification link."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])


class MemberRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(MemberRole.MEMBER.value, _l("Member")),
                                        SelectChoice(MemberRole.OWNER.value, _l("Owner"))])


class LanguageForm(FlaskForm):
    """The switcher on every page: one button per locale."""

    locale = SelectField(_l("Language"), choices=LOCALES, validators=[DataRequired()])
    next = HiddenField()


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LOCALES, validators=[DataRequired()])
    timezone = SelectField(
        _l("Time zone"), choices=[SelectChoice("", _l("The one of my language's city"))]
        + [SelectChoice(z, z) for z in i18n.TIMEZONES],
        description=_l("Times on every page and in e-mails are shown in this zone."),
    )
