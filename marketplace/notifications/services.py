"""Notify users in the app and by e-mail (written to the outbox, sent after the commit)."""
from __future__ import annotations

from flask import has_app_context
from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Membership, Organization, User
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.i18n import BABEL_IDS, DEFAULT_LOCALE
from marketplace.mail import public_link, send_mail
from marketplace.notifications.models import Notification


def notify_organization(
    session: Session, organization: Organization, subject: str, body: str, link: str | None = None
) -> list[Notification]:
    """Give every member of ``organization`` an in-app notification and an e-mail with the same text, in the
    member's language when ``subject`` and ``body`` are lazy strings."""
    members = session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization.id, User.active.is_(True)).order_by(User.id)
    ).all()
    out = []
    for user in members:
        # Each member reads it in their own language: a lazy subject or body is rendered in theirs.
        with force_locale(BABEL_IDS.get(user.locale, BABEL_IDS[DEFAULT_LOCALE])):
            subject_text, body_text = str(subject), str(body)
        note = Notification(user_id=user.id, organization_id=organization.id, subject=subject_text, body=body_text,
                            link=link)
        session.add(note)
        out.append(note)
        if has_app_context():
            url = f"\n\n{public_link(link)}" if link else ""
            send_mail(user.email, subject_text, f"{body_text}{url}", session=session)  # sent after the commit
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
            raise NotFound("No such notification.")
        require(user, Permission.READ_NOTIFICATION, note)  # another user's notification is NotFound too
        query = query.where(Notification.id == notification_id)
    return session.execute(query.values(read_at=utcnow())).rowcount
