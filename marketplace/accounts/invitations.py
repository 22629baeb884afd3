"""Inviting by e-mail, shared by the pages and the API: the invitation (a service rule) plus its e-mail."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from marketplace.accounts import services
from marketplace.accounts.emails import deliver, public_url
from marketplace.accounts.models import Invitation, MemberRole, Organization, User


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
    body = (
        f"{inviter.display_name} ({inviter.email}) invited you to join {org.name} "
        f"as {invitation.role.value} on Open Data Exchange.\n\n"
        f"Accept the invitation here:\n{link}\n\n"
        f"Log in (or sign up and confirm your address) as {invitation.email}, then open the link to accept. "
        f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    queued = deliver(invitation.email, f"Join {org.name} on Open Data Exchange", body)
    return invitation, queued
