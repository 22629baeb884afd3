"""Every background job: outbox delivery, the pre-screen, the sweep for lost jobs, and the schedules that replace
cron (expire orders and licences, reconcile Stripe, audit checkpoints, prune the search index's change log). Each
runs as one unit of work (``queue.job``)."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from marketplace.db import utcnow, write_intent
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.jobs.queue import crontab, job

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(seconds=60)  # a job not started this long after it was due was lost


@job("review.prescreen", retries=3, retry_delay=10, records_own_failures=True)
def prescreen_round(round_id: int) -> str:
    """Run the queued pre-screen of a submitted round."""
    from marketplace.review.prescreen_runs import run_round_prescreen

    return run_round_prescreen(db.session, round_id, current_app.extensions["storage"])


@job("review.check_listing", retries=3, retry_delay=10, records_own_failures=True)
def check_listing(check_id: int) -> str:
    """Run the seller's queued "check my listing"."""
    from marketplace.review.listing_checks import run_check

    return run_check(db.session, check_id, current_app.extensions["storage"])


@job("review.notify_licence_holders", retries=3, retry_delay=30)
def notify_licence_holders(product_id: int, action: str, reason: str) -> int:
    """Tell every organization holding a current licence of a product that was suspended, reinstated or delisted
    (the seller's own organization is told by the move itself); how many organizations were told now."""
    from marketplace.events.services import tell_product_move

    with write_intent():  # SQLite: the job's one transaction takes the write lock before it reads
        return tell_product_move(db.session, product_id, action, reason)


@job("events.version_listed", retries=3, retry_delay=30)
def tell_version_listed(version_id: int) -> int:
    """Tell the holders of a product that a new version of it is listed, with its data dictionary's changes."""
    from marketplace.events.services import tell_version_listed

    with write_intent():
        return tell_version_listed(db.session, version_id)


@job("events.licences_ending", retries=2, retry_delay=60, schedule=crontab(minute="17"))
def remind_licences_ending_job() -> int:
    """Hourly: remind licence holders 14 and 3 days before their licence ends, each reminder once."""
    from marketplace.events.services import remind_licences_ending

    with write_intent():
        return remind_licences_ending(db.session)


@job("webhooks.deliver", retries=0, records_own_failures=True)
def deliver_webhook(delivery_id: int) -> str:
    """Make a webhook delivery's next attempt (its own back-off and log are on the delivery)."""
    from marketplace.events.delivery import deliver

    return deliver(delivery_id)


def sweep_lost_jobs(overdue: timedelta = LOST_AFTER) -> dict[str, int]:
    """Queue again what a lost job left behind: pending outbox messages, stalled pre-screens and listing checks."""
    from marketplace.review.listing_checks import stalled_checks
    from marketplace.review.prescreen_runs import stalled_rounds

    rounds = stalled_rounds(db.session, overdue=overdue)
    for round_id in rounds:
        prescreen_round(round_id)
    checks = stalled_checks(db.session, overdue=overdue)
    for check_id in checks:
        check_listing(check_id)
    from marketplace.events.delivery import sweep as due_deliveries

    deliveries = due_deliveries(overdue=overdue)
    for delivery_id in deliveries:
        deliver_webhook(delivery_id)
    return {"outbox": outbox.sweep(overdue=overdue), "prescreens": len(rounds), "listing_checks": len(checks),
            "webhooks": len(deliveries)}


@job("jobs.sweep", retries=0, schedule=crontab(minute="*"))
def sweep_every_minute() -> dict[str, int]:
    """Each minute: queue again the work of jobs lost with a killed worker or a queue that was down."""
    return sweep_lost_jobs()


@job("orders.expire", retries=2, retry_delay=30, schedule=crontab(minute="*/5"))
def expire_orders_job() -> int:
    """Every five minutes: expire orders that waited too long for the seller or for payment."""
    from marketplace.orders.requests import expire_orders

    with write_intent():
        return len(expire_orders(db.session))


@job("licences.expire", retries=2, retry_delay=30, schedule=crontab(minute="7"))
def expire_licences_job() -> int:
    """Hourly: expire licences whose term ended."""
    from marketplace.licensing.services import expire_licences

    with write_intent():
        return len(expire_licences(db.session))


@job("payments.reconcile", retries=2, retry_delay=60, schedule=crontab(minute="*/15"))
def reconcile_payments_job() -> int:
    """Every quarter hour, with Stripe configured: settle orders whose webhook never came."""
    if current_app.config.get("PAYMENTS_BACKEND") != "stripe":
        return 0
    from marketplace.orders.checkout import reconcile_orders

    with write_intent():
        return len(reconcile_orders(db.session, current_app.extensions["payments"]))


@job("catalog.prune_changes", retries=2, retry_delay=60, schedule=crontab(hour="3", minute="41"))
def prune_catalog_changes_job() -> int:
    """Daily: delete the search index's change log older than CATALOG_CHANGES_KEEP_DAYS (every machine has
    followed it long since; one that has not rebuilds its index)."""
    from marketplace.catalog.models import prune_changes

    with write_intent():
        return prune_changes(db.session, utcnow() - timedelta(days=current_app.config["CATALOG_CHANGES_KEEP_DAYS"]))


@job("audit.checkpoint", retries=2, retry_delay=30, schedule=crontab(minute="*/5"))
def audit_checkpoint_job() -> bool:
    """Every five minutes: sign a checkpoint of the audit chain when the interval since the last one passed."""
    from marketplace.audit.checkpoints import checkpoint_if_due

    with write_intent():
        return checkpoint_if_due(db.session) is not None


@job("ledger.release", retries=2, retry_delay=60, schedule=crontab(minute="23"))
def release_payables_job() -> int:
    """Hourly: make available to sellers the money of sales past the settlement delay."""
    from marketplace.orders.money import release_due

    with write_intent():
        return len(release_due(db.session, current_app.config["SETTLEMENT_DELAY_DAYS"]))


@job("payouts.run", retries=2, retry_delay=300, schedule=crontab(hour="2", minute="41"))
def run_payouts_job() -> int:
    """Daily: pay out sellers' available balances, and settle simulated payouts that arrived."""
    from marketplace.payouts.services import run_payouts

    config = current_app.config
    with write_intent():
        lines = run_payouts(db.session, current_app.extensions["payments"], minimum=config["PAYOUT_MINIMUM"],
                            transit_days=config["PAYOUT_TRANSIT_DAYS"])
    return sum(1 for line in lines if line.outcome.startswith("started"))


@job("notices.end", retries=2, retry_delay=30, schedule=crontab(minute="*/10"))
def end_notices_job() -> int:
    """Every ten minutes: end public notices past their closing time with no objection waiting, issuing their
    registration certificates."""
    from marketplace.review.public_notice import end_due_notices

    with write_intent():
        return len(end_due_notices(db.session))


@job("registrations.remind", retries=2, retry_delay=60, schedule=crontab(minute="37"))
def remind_registrations_job() -> int:
    """Hourly: remind holders of registrations that expire soon, each reminder once."""
    from marketplace.review.registration import remind_expiring

    with write_intent():
        return remind_expiring(db.session)
