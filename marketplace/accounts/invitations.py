"""Inviting by e-mail, shared by the pages and the API: the invitation (a service rule) plus its e-mail."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import services
from marketplace.accounts.emails import deliver, public_url
from marketplace.accounts.models import Invitation, MemberRole, Organization, User
from marketplace.i18n import in_locale_of, when


def invite_and_email(
    session: Session, inviter: User, org: Organization, email: str, role: MemberRole,
) -> tuple[Invitation, bool]:
    """Create the invitation (refusals as in ``services.invite_member``) and queue the e-mail with its link in the
    same transaction; the caller's unit of work saves both, and the mail leaves after the commit, retried while
    the server is down.

    Returns the invitation and whether the e-mail was queued (False: the address cannot take mail).
    """
    invitation, token = services.invite_member(
        session, inviter, org, email, role, days=current_app.config["INVITATION_DAYS"],
    )
    session.flush()
    link = public_url("accounts.accept_invitation", token=token)
    # The invitee's own language if they have an account, else the inviter's: colleagues share one more often.
    invitee = session.scalar(select(User).where(User.email == invitation.email))
    with in_locale_of(invitee or inviter):
        role = invitation.role.label
        body = "\n\n".join((
            _("%(inviter)s (%(email)s) invited you to join %(organization)s as %(role)s on Open Data Exchange.",
              inviter=inviter.display_name, email=inviter.email, organization=org.name, role=role),
            _("Accept the invitation here:") + f"\n{link}",
            _("Log in (or sign up and confirm your address) as %(email)s, then open the link to accept. "
              "The invitation expires on %(expires)s.", email=invitation.email,
              expires=when(invitation.expires_at, "zone")),
        )) + "\n"
        queued = deliver(invitation.email, _("Join %(organization)s on Open Data Exchange", organization=org.name),
                         body)
    return invitation, queued
