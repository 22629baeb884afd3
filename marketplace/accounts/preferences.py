"""A user's language and time zone: what the interface, their e-mails and their notifications are shown in."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.errors import ValidationFailed
from marketplace.i18n import LOCALES, TIMEZONES, locale_tag


def set_preferences(session: Session, user: User, *, locale: str | None = None,
                    timezone: str | None = None) -> User:
    """Save the user's locale (a tag of LOCALES) and, if given, time zone (one of TIMEZONES, or "" for the
    locale's own). Refuses an unknown value with ValidationFailed naming the field."""
    errors: dict[str, list[str]] = {}
    tag = locale_tag(locale) if locale is not None else user.locale
    if tag not in LOCALES:
        errors["locale"] = [_("Choose one of: %(choices)s.", choices=", ".join(LOCALES))]
    if timezone not in (None, "") and timezone not in TIMEZONES:
        errors["timezone"] = [_("Choose one of: %(choices)s.", choices=", ".join(TIMEZONES))]
    if errors:
        raise ValidationFailed(_("These preferences cannot be saved."), errors)
    changed = {}
    if tag != user.locale:
        changed["locale"], user.locale = tag, tag
    if timezone is not None and (timezone or None) != user.timezone:
        changed["timezone"] = user.timezone = timezone or None
    if changed:
        record(session, actor_id=user.id, action="user.preferences_changed", subject_type="user",
               subject_id=user.id, payload=changed)
    return user
