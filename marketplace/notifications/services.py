"""Notify users in the app and by e-mail (written to the outbox, sent after the commit), each in their own
language and time zone.

A notification's words are given as text to be written for each recipient, not as finished strings: a lazy
string (``lazy_gettext("Licence %(serial)s sold", serial=...)``) or a function returning the text (for text
built from several pieces, ``lambda: _("...") + ...``). Each is turned into words inside
``i18n.in_locale_of(recipient)``, so a buyer in Hong Kong and a colleague in Shanghai each read their own. The
in-app notification keeps the words in every language, so a reader who switches language reads it in the new one;
the e-mail is in the recipient's. A plain ``str`` is taken as it is (text that needs no translation).
"""
from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from flask import has_app_context
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Membership, Organization, PlatformRole, User
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.i18n import DEFAULT_LOCALE, LOCALES, in_locale_of, locale_tag
from marketplace.mail import public_link, send_mail
from marketplace.notifications.models import Notification

#: Words for a recipient: a string, a lazy string, or a function called in the recipient's locale.
Words = str | LazyString | Callable[[], str]


def written(words: Words) -> str:
    """``words`` as text in the current locale (call inside ``in_locale_of``)."""
    return str(words()) if callable(words) else str(words)


def _in_every_locale(subject: Words, body: Words, zone: str | None) -> dict[str, dict[str, str]]:
    """The subject and body in every language, in one time zone: shown in whichever the reader reads later."""
    texts = {}
    for tag in LOCALES:
        with in_locale_of(SimpleNamespace(locale=tag, timezone=zone)):
            texts[tag] = {"subject": written(subject)[:200], "body": written(body)}
    return texts


def notify_organization(
    session: Session, organization: Organization, subject: Words, body: Words, link: str | None = None
) -> list[Notification]:
    """Give every member of ``organization`` an in-app notification and an e-mail with the same text, written in
    the member's own language and time zone."""
    members = session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization.id, User.active.is_(True)).order_by(User.id)
    ).all()
    return _notify(session, members, organization.id, subject, body, link)


def notify_reviewers(session: Session, subject: Words, body: Words, link: str | None = None) -> list[Notification]:
    """Give everyone who may review (reviewers and admins: ``User.is_reviewer``) an in-app notification and an
    e-mail, each in their own language and time zone."""
    reviewers = session.scalars(select(User).where(User.platform_role.in_((PlatformRole.REVIEWER,
                                                                           PlatformRole.ADMIN)),
                                                   User.active.is_(True)).order_by(User.id)).all()
    return _notify(session, reviewers, None, subject, body, link)


def _notify(session: Session, members, organization_id: int | None, subject: Words, body: Words,
            link: str | None) -> list[Notification]:
    out = []
    by_zone: dict[str | None, dict[str, dict[str, str]]] = {}  # members in one time zone read the same words
    for user in members:
        zone = getattr(user, "timezone", None)
        if zone not in by_zone:
            by_zone[zone] = _in_every_locale(subject, body, zone)
        texts = {tag: dict(words) for tag, words in by_zone[zone].items()}
        own = locale_tag(getattr(user, "locale", None)) or DEFAULT_LOCALE
        title, text = texts[own]["subject"], texts[own]["body"]
        note = Notification(user_id=user.id, organization_id=organization_id, subject=title, body=text, link=link,
                            texts=texts)
        session.add(note)
        out.append(note)
        if has_app_context():
            url = f"\n\n{public_link(link)}" if link else ""
            send_mail(user.email, title, f"{text}{url}", session=session)  # sent after the commit
    session.flush()
    return out


def notifications_for(session: Session, user: User, *, unread_only: bool = False,
                      limit: int = 100) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; another user's notification is NotFound."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        note = session.get(Notification, notification_id)
        if note is None:
            raise NotFound(_("No such notification."))
        require(user, Permission.READ_NOTIFICATION, note)  # another user's notification is NotFound too
        query = query.where(Notification.id == notification_id)
    return session.execute(query.values(read_at=utcnow())).rowcount
