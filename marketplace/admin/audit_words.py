"""What an audit event says in the reader's words: its action as a phrase (the code where none is known yet), and
the reason, comment or message a person gave for it, which the trail keeps in the event's payload."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.admin.audit_objects import actors_of, kind_words, resolve_subjects
from marketplace.audit.models import AuditEvent
from marketplace.i18n import N_, current_timezone

ACTION_WORDS = {
    "account.email_verified": N_("E-mail address verified"),
    "account.logged_in": N_("Logged in"),
    "account.logged_out": N_("Logged out"),
    "account.logged_out_everywhere": N_("Logged out everywhere"),
    "account.login_failed": N_("Log-in failed"),
    "account.password_change_failed": N_("Password change failed"),
    "account.password_changed": N_("Password changed"),
    "account.password_reset": N_("Password reset"),
    "account.password_reset_requested": N_("Password reset requested"),
    "account.platform_role_changed": N_("Platform role changed"),
    "account.signed_up": N_("Signed up"),
    "account.signup_address_taken": N_("Sign-up with an address already taken"),
    "account.verification_requested": N_("Verification e-mail requested"),
    "api_token.created": N_("API token created"),
    "api_token.revoked": N_("API token revoked"),
    "asset.deleted": N_("File deleted"),
    "asset.download": N_("File downloaded"),
    "asset.downloaded": N_("File downloaded"),
    "asset.file_missing": N_("File missing from storage"),
    "asset.uploaded": N_("File uploaded"),
    "dictionary.replaced": N_("Data dictionary replaced"),
    "invitation.accepted": N_("Invitation accepted"),
    "invitation.created": N_("Invitation sent"),
    "invitation.revoked": N_("Invitation withdrawn"),
    "job.retried": N_("Job retried"),
    "licence.expire": N_("Licence expired"),
    "licence.issue": N_("Licence issued"),
    "licence.revoke": N_("Licence revoked"),
    "membership.left": N_("Left the organization"),
    "membership.removed": N_("Member removed"),
    "membership.role_changed": N_("Member's role changed"),
    "order.approve": N_("Order approved"),
    "order.await_approval": N_("Order awaits approval"),
    "order.await_payment": N_("Order awaits payment"),
    "order.cancel": N_("Order cancelled"),
    "order.checkout": N_("Checkout started"),
    "order.decline": N_("Order declined"),
    "order.disputed": N_("Payment disputed"),
    "order.expire": N_("Order expired"),
    "order.fulfil": N_("Order fulfilled"),
    "order.partially_refunded": N_("Order partly refunded"),
    "order.pay": N_("Order paid"),
    "notice.end": N_("Public notice ended"),
    "notice.open": N_("Public notice opened"),
    "notice.withdraw": N_("Public notice withdrawn"),
    "objection.dismiss": N_("Objection dismissed"),
    "objection.file": N_("Objection filed"),
    "objection.uphold": N_("Objection upheld"),
    "order.payment_failed": N_("Payment failed"),
    "order.refund": N_("Order refunded"),
    "order.request": N_("Licence requested"),
    "organization.created": N_("Organization created"),
    "payment.anomaly": N_("Payment anomaly"),
    "payment.anomaly_refunded": N_("Payment anomaly refunded"),
    "plan.added": N_("Plan added"),
    "plan.removed": N_("Plan removed"),
    "plan.updated": N_("Plan changed"),
    "product.created": N_("Product created"),
    "product.delist": N_("Product delisted"),
    "product.list": N_("Product listed"),
    "product.reinstate": N_("Product reinstated"),
    "product.suspend": N_("Product suspended"),
    "registration.issue": N_("Registration certificate issued"),
    "registration.renew": N_("Registration renewed"),
    "registration.request_renewal": N_("Registration renewal asked for"),
    "source.added": N_("Source added"),
    "source.removed": N_("Source removed"),
    "source.updated": N_("Source changed"),
    "user.preferences_changed": N_("Preferences changed"),
    "version.approve": N_("Version approved"),
    "version.claim": N_("Review case claimed"),
    "version.compliance_updated": N_("Compliance profile changed"),
    "version.created": N_("Version created"),
    "version.list": N_("Version listed"),
    "version.metadata_updated": N_("Product details changed"),
    "version.notice": N_("Version put on public notice"),
    "version.prescreened": N_("Pre-screen finished"),
    "version.reject": N_("Version rejected"),
    "version.release": N_("Review case released"),
    "version.reopen": N_("Version returned to review after an upheld objection"),
    "version.request_changes": N_("Changes requested"),
    "version.submit": N_("Version submitted for review"),
    "version.supersede": N_("Version superseded"),
}

# What a person wrote for the event, by the payload key it is kept under, in the order shown.
NOTE_KEYS = ("reason", "comment", "message")


def action_words(action: str) -> str:
    """The action in the reader's language; the code itself for an action with no words yet."""
    return _(ACTION_WORDS[action]) if action in ACTION_WORDS else action


def event_notes(event: AuditEvent) -> list[str]:
    """The reason, comment or message a person gave for ``event`` (a suspension's reason, a decision's comment),
    as written; empty for an event with none."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    return [text for key in NOTE_KEYS if isinstance(text := payload.get(key), str) and text.strip()]


def events_shown(session: Session, events: list[AuditEvent]) -> dict:
    """What a template needs to show ``events`` with ``admin/_audit_cells.html``: their actors and objects, the
    words for actions and notes, and the reader's time zone (named once, in a heading)."""
    return {"actors": actors_of(session, events), "subjects": resolve_subjects(session, events),
            "kind_words": kind_words, "action_words": action_words, "event_notes": event_notes,
            "zone": current_timezone()}
