"""Stripe Connect's events, applied once each (``orders.webhooks`` records every event id before it applies it):
``account.updated`` keeps what Stripe says of a seller's connected account; ``payout.paid``, ``payout.failed`` and
``payout.canceled`` settle the marketplace's payout they name (in payout -> paid out, or back to available);
``transfer.*`` confirm the transfer a payout needed. Events about objects the marketplace did not make (a payout
from Stripe's own schedule, a transfer of another platform) are recorded as ignored."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.payments.stripe_connect import account_snapshot, payout_snapshot, transfer_snapshot
from marketplace.payments.stripe_provider import WebhookEvent
from marketplace.payouts.models import Payout, PayoutStatus
from marketplace.payouts.services import apply_account, payout_account, settle

ACCOUNT_EVENT = "account.updated"
PAYOUT_SETTLED = {"payout.paid": PayoutStatus.PAID, "payout.failed": PayoutStatus.FAILED,
                  "payout.canceled": PayoutStatus.FAILED}
TRANSFER_PREFIX = "transfer."


def handles(event: WebhookEvent) -> bool:
    return event.type == ACCOUNT_EVENT or event.type.startswith(("payout.", TRANSFER_PREFIX))


def apply_connect_event(session: Session, event: WebhookEvent) -> str:
    """The outcome to record for a Connect event."""
    kind = (event.data or {}).get("object")
    if event.type == ACCOUNT_EVENT and kind == "account":
        return _account(session, event)
    if event.type in PAYOUT_SETTLED and kind == "payout":
        return _payout(session, event)
    if event.type.startswith(TRANSFER_PREFIX) and kind == "transfer":
        return _transfer(session, event)
    return f"ignored: {event.type} is not handled"


def _when(event: WebhookEvent) -> datetime:
    return datetime.fromtimestamp(event.created, UTC) if event.created else utcnow()


def _account(session: Session, event: WebhookEvent) -> str:
    state, at = account_snapshot(event.data), _when(event)
    found = apply_account(session, state, at)
    if found is None:
        return f"ignored: {state.id} is not a seller's payout account"
    if found.synced_at is not None and found.synced_at > at:
        return f"ignored: Stripe said newer of {state.id} already"
    return f"account {state.id}: charges {'on' if found.charges_enabled else 'off'}, payouts " \
           f"{'on' if found.payouts_enabled else 'off'}"


def _payout(session: Session, event: WebhookEvent) -> str:
    state = payout_snapshot(event.data)
    payout = session.scalar(select(Payout).where(Payout.provider_reference == state.id))
    if payout is None and state.payout_key:
        payout = session.scalar(select(Payout).where(Payout.key == state.payout_key))
    if payout is None:
        return f"ignored: payout {state.id} was not made by the marketplace"
    owner = payout_account(session, payout.organization_id)
    if payout.provider_reference and (owner is None or event.account != owner.account_id):
        # Stripe names the connected account a payout happened on; another account's word settles nothing here.
        return f"ignored: payout {state.id} is not on {event.account or 'no account'}"
    status = PAYOUT_SETTLED[event.type]
    failure = None
    if status == PayoutStatus.FAILED:
        failure = state.failure_message or state.failure_code or ("cancelled" if event.type.endswith("canceled")
                                                                  else None)
    payout.provider_reference = payout.provider_reference or state.id
    if not settle(session, payout, status, failure, _when(event)):
        return f"ignored: payout {payout.number} is already {payout.status.value}"
    return f"payout {payout.number} {status.value}"


def _transfer(session: Session, event: WebhookEvent) -> str:
    state = transfer_snapshot(event.data)
    payout = session.scalar(select(Payout).where(Payout.key == state.transfer_group)) if state.transfer_group else None
    if payout is not None:
        payout.transfer_reference = payout.transfer_reference or state.id
        return f"{event.type}: {state.id} for payout {payout.number}"
    return f"{event.type}: {state.id} to {state.destination or 'no account'} ({state.transfer_group or 'no group'})"
