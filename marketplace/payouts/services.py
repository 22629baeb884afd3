"""Paying sellers: their Stripe Connect account (onboarding through an account link), where a sale's money goes
(a destination charge), and the payout run that pays out what the ledger says is available.

The payout run (``run_payouts``, a daily job and ``flask payouts run``) takes each seller's available balance per
currency under the lock of that ledger account, writes the payout's start (available -> in payout) and asks the
provider for it: with Stripe, a payout from the seller's connected account (after moving to it, from the
platform's balance, whatever of it is not there yet: sales made before the seller was onboarded); simulated, a
payout that arrives ``PAYOUT_TRANSIT_DAYS`` later, settled by a later run. A payout is paid (in payout -> provider
cash) or failed (in payout -> available) when the provider says so (``payout.paid`` / ``payout.failed``), once.
A payout is keyed by the available account's newest transaction, so a run repeated after a failed commit asks the
provider again with the same idempotency key and gets the same payout, never a second one.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition
from marketplace.i18n import N_, money
from marketplace.ledger import payouts as ledger
from marketplace.lifecycle import lock_row
from marketplace.notifications.services import notify_organization
from marketplace.payments import Destination, PaymentError, PaymentUnavailable
from marketplace.payments.stripe_connect import ConnectedAccount, InsufficientBalance, StripeConnect, connect_of
from marketplace.payouts.models import Payout, PayoutAccount, PayoutStatus
from marketplace.payouts.states import PAYOUT_LIFECYCLE, PayoutAction, PayoutActor

SIMULATED = "simulated"
log = logging.getLogger(__name__)
# Shown to the seller (translated) when the platform's own Stripe balance could not fund a payout: not their doing.
PLATFORM_SHORT = N_("The marketplace could not yet move your money to your Stripe account; it will try again at "
                    "the next daily payout.")


class PlatformShort(PaymentError):
    """Stripe refused to move the platform's money to the seller's account (the platform's balance is short)."""


def payout_account(session: Session, organization_id: int) -> PayoutAccount | None:
    return session.scalar(select(PayoutAccount).where(PayoutAccount.organization_id == organization_id))


def destination(session: Session, payments, organization_id: int, application_fee: int) -> Destination | None:
    """Where a sale of the organization's is paid: its connected account, once it can take charges and be paid
    out, with the platform's fee kept as the application fee; None (the platform's account) otherwise."""
    if connect_of(payments) is None:
        return None
    found = payout_account(session, organization_id)
    return Destination(found.account_id, application_fee) if found is not None and found.ready else None


# ---------------------------------------------------------------- onboarding


def start_onboarding(session: Session, user: User, org: Organization, connect: StripeConnect, *, country: str,
                     refresh_url: str, return_url: str) -> str:
    """Where an owner of the organization fills in Stripe's onboarding: its connected account is opened on the
    first call (one per organization: the idempotency key names it, so a double click opens one account)."""
    require(user, Permission.MANAGE_ORGANIZATION, org)
    found = payout_account(session, org.id)
    if found is None:
        opened = connect.open_account(email=org.contact_email or user.email, country=country,
                                      metadata={"organization_id": str(org.id), "organization": org.slug},
                                      idempotency_key=f"org-{org.id}-connect-account")
        found = PayoutAccount(organization_id=org.id, provider=connect.name, account_id=opened.id)
        try:
            with session.begin_nested():
                session.add(found)
        except IntegrityError:  # a twin request recorded it first (Stripe gave both the same account)
            found = payout_account(session, org.id)
        else:
            _apply(found, opened, None)
            record(session, actor_id=user.id, action="payouts.account_opened", subject_type="organization",
                   subject_id=org.id, payload={"account": opened.id})
    return connect.onboarding_link(found.account_id, refresh_url=refresh_url, return_url=return_url)


def refresh_account(session: Session, user: User, org: Organization, connect: StripeConnect) -> PayoutAccount | None:
    """Ask Stripe about the organization's account (the seller is back from onboarding) and keep what it says."""
    require(user, Permission.VIEW_ORGANIZATION, org)
    found = payout_account(session, org.id)
    if found is not None:
        _keep(session, found, connect.account(found.account_id), utcnow())
    return found


def apply_account(session: Session, state: ConnectedAccount, at: datetime | None) -> PayoutAccount | None:
    """Keep what Stripe says of a connected account (``account.updated``); None if the account is not one of
    ours."""
    found = session.scalar(select(PayoutAccount).where(PayoutAccount.account_id == state.id))
    return _keep(session, found, state, at) if found is not None else None


def _keep(session: Session, found: PayoutAccount, state: ConnectedAccount, at: datetime | None) -> PayoutAccount:
    """Keep what Stripe says of the account, under its lock, unless a newer word was kept already; the organization
    is told when its payouts become enabled."""
    lock_row(session, found)
    if at is not None and found.synced_at is not None and at < found.synced_at:
        return found
    was_ready = found.ready
    _apply(found, state, at)
    if found.ready != was_ready:
        record(session, actor_id=None, action="payouts.account_ready" if found.ready else "payouts.account_disabled",
               subject_type="organization", subject_id=found.organization_id,
               payload={"account": found.account_id, "disabled_reason": found.disabled_reason})
        if found.ready:
            notify_organization(session, found.organization, lambda: _("Payouts are set up"),
                                lambda: _("Stripe accepted your organization's payout account: new sales are paid "
                                          "to it, and what is available is paid out daily."),
                                link=f"/seller/{found.organization.slug}/payouts")
    return found


def _apply(found: PayoutAccount, state: ConnectedAccount, at: datetime | None) -> None:
    found.charges_enabled, found.payouts_enabled = state.charges_enabled, state.payouts_enabled
    found.details_submitted, found.disabled_reason = state.details_submitted, state.disabled_reason
    found.requirements_due = list(state.requirements_due)
    found.synced_at = at or found.synced_at


# ---------------------------------------------------------------- the payout run


@dataclass(frozen=True)
class RunLine:
    organization_id: int
    currency: str
    amount: int
    outcome: str  # "started PO-...", "paid PO-...", "skipped: ...", "refused: ...", "error: ..."


def run_payouts(session: Session, payments, *, minimum: int, transit_days: int,
                now: datetime | None = None) -> list[RunLine]:
    """Settle the simulated payouts that arrived, then pay out every available balance of at least ``minimum``."""
    now = now or utcnow()
    connect = connect_of(payments)
    lines = [RunLine(p.organization_id, p.currency, p.amount, f"paid {p.number}")
             for p in _arrived(session, now) if settle(session, p, PayoutStatus.PAID, None, now)]
    owed = ledger.available_balances(session)
    accounts = {} if connect is None else {a.organization_id: a for a in session.scalars(
        select(PayoutAccount).where(PayoutAccount.organization_id.in_({org_id for org_id, _c, _a in owed})))}
    for organization_id, currency, amount in owed:
        if amount < minimum:
            lines.append(RunLine(organization_id, currency, amount, "skipped: below the minimum payout"))
            continue
        account = accounts.get(organization_id)
        if connect is not None and (account is None or not account.payouts_enabled):
            lines.append(RunLine(organization_id, currency, amount, "skipped: no payout account ready at Stripe"))
            continue
        lines.append(_pay_out(session, connect, account, organization_id, currency, minimum, transit_days, now))
    return lines


def _arrived(session: Session, now: datetime) -> list[Payout]:
    return list(session.scalars(
        select(Payout).where(Payout.provider == SIMULATED, Payout.status == PayoutStatus.IN_TRANSIT,
                             Payout.arrival_at <= now).order_by(Payout.id)))


def _pay_out(session: Session, connect: StripeConnect | None, account: PayoutAccount | None, organization_id: int,
             currency: str, minimum: int, transit_days: int, now: datetime) -> RunLine:
    try:
        with session.begin_nested():
            amount, newest = ledger.lock_available(session, organization_id, currency)
            if amount < minimum:  # read again under the lock: a refund may have taken some meanwhile
                return RunLine(organization_id, currency, amount, "skipped: paid out or refunded meanwhile")
            key = f"payout-org-{organization_id}-{currency}-after-{newest}"
            payout = Payout(key=key, number=payout_number(key), organization_id=organization_id,
                            currency=currency, amount=amount, provider=SIMULATED if connect is None else connect.name)
            session.add(payout)
            session.flush()
            ledger.start_payout(session, key, organization_id, currency, amount, at=now)
            if connect is None:
                payout.arrival_at = now + timedelta(days=transit_days)
            else:
                _ask_stripe(connect, account, payout)
                account.last_error = None
            record(session, actor_id=None, action="payouts.started", subject_type="payout", subject_id=payout.id,
                   payload={"organization_id": organization_id, "amount": amount, "currency": currency,
                            "provider": payout.provider, "reference": payout.provider_reference})
    except PaymentUnavailable as exc:
        return RunLine(organization_id, currency, 0, f"error: {exc.message}")
    except PlatformShort as exc:
        log.warning("Payout to organization %s in %s waits: %s", organization_id, currency, exc.recorded)
        _refused(session, account, PLATFORM_SHORT)
        return RunLine(organization_id, currency, 0, f"refused: the platform's balance cannot fund it: "
                                                     f"{exc.recorded}")
    except PaymentError as exc:
        _refused(session, account, exc.recorded)
        return RunLine(organization_id, currency, 0, f"refused: {exc.recorded}")
    return RunLine(organization_id, currency, amount, f"started {payout.number}")


def payout_number(key: str) -> str:
    """The payout's number, from its key: a run repeated after a lost commit names (and describes to Stripe) the
    same payout the same way, which a repeated idempotency key requires."""
    return f"PO-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


def _ask_stripe(connect: StripeConnect, account: PayoutAccount, payout: Payout) -> None:
    """The payout at Stripe, from the seller's connected account. When the account has less than that (money of
    sales made before the seller was onboarded is on the platform's balance), what is missing is moved there first
    and the payout asked for again. Every call has a key of the payout's, so a repeated run repeats nothing."""
    description = f"Data marketplace payout {payout.number}"
    try:
        made = connect.payout(account.account_id, payout.amount, payout.currency, key=payout.key,
                              description=description)
    except InsufficientBalance:
        missing = payout.amount - max(connect.available(account.account_id, payout.currency), 0)
        if missing > 0:
            try:
                payout.transfer_reference = connect.transfer(account.account_id, missing, payout.currency,
                                                             group=payout.key,
                                                             idempotency_key=f"{payout.key}-transfer")
            except PaymentUnavailable:
                raise
            except PaymentError as exc:
                raise PlatformShort(exc.message, recorded=exc.recorded) from exc
        made = connect.payout(account.account_id, payout.amount, payout.currency, key=f"{payout.key}-funded",
                              description=description)
    payout.provider_reference, payout.arrival_at = made.id, made.arrival_at


def _refused(session: Session, account: PayoutAccount | None, reason: str) -> None:
    """Stripe refused a payout (nothing was started): the organization is told once per new reason."""
    if account is None or account.last_error == reason[:500]:
        return
    account.last_error = reason[:500]
    said = reason
    notify_organization(session, account.organization, lambda: _("A payout could not be made"),
                        lambda: _(PLATFORM_SHORT) if said == PLATFORM_SHORT else _(
                            "Stripe refused to pay out your available balance: %(reason)s. We will try again at "
                            "the next daily payout.", reason=said),
                        link=f"/seller/{account.organization.slug}/payouts")


def settle(session: Session, payout: Payout, status: PayoutStatus, failure: str | None, at: datetime) -> bool:
    """The provider says the payout arrived (PAID) or failed (FAILED: the money is available again, also when a
    payout said paid is returned later, as Stripe may): one move of its lifecycle, under its lock, with the ledger
    written and the organization told. False if the payout cannot make that move (it already did)."""
    action = PayoutAction.ARRIVE if status == PayoutStatus.PAID else PayoutAction.FAIL
    failure = None if status == PayoutStatus.PAID else (failure or "no reason given")[:500]
    try:
        moved = PAYOUT_LIFECYCLE.apply(session, payout, action, PayoutActor.PROVIDER, payload={"failure": failure})
    except InvalidTransition:
        return False
    if moved.previous == PayoutStatus.PAID:
        write = ledger.payout_returned
    else:
        write = ledger.payout_paid if status == PayoutStatus.PAID else ledger.payout_failed
    write(session, payout.key, payout.organization_id, payout.currency, payout.amount, at=at)
    if status == PayoutStatus.PAID:
        payout.paid_at = at
    else:
        payout.failed_at, payout.failure = at, failure
    notify_organization(session, payout.organization, *_news(payout),
                        link=f"/seller/{payout.organization.slug}/payouts")
    return True


def _news(payout: Payout) -> tuple:
    """The subject and body telling the organization what became of its payout, in each reader's language."""
    number, amount, currency, failure = payout.number, payout.amount, payout.currency, payout.failure
    if payout.status == PayoutStatus.PAID:
        return (lambda: _("Payout %(number)s arrived", number=number),
                lambda: _("%(amount)s was paid out to your bank.", amount=money(amount, currency)))
    return (lambda: _("Payout %(number)s failed", number=number),
            lambda: _("The payout of %(amount)s failed (%(reason)s); the money is available again and will be paid "
                      "out at the next run.", amount=money(amount, currency), reason=failure))


def payouts_of(session: Session, user: User, org: Organization, limit: int = 100) -> list[Payout]:
    """The organization's payouts, newest first (its members only)."""
    require(user, Permission.VIEW_ORGANIZATION, org)
    return list(session.scalars(select(Payout).where(Payout.organization_id == org.id)
                                .order_by(Payout.created_at.desc(), Payout.id.desc()).limit(limit)))


def refuse_unless_stripe(connect: StripeConnect | None) -> StripeConnect:
    if connect is None:
        raise Conflict(_("Payouts are simulated here: there is no payout account to set up."))
    return connect
