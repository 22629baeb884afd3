"""``flask payouts run`` and ``flask payouts reconcile`` as an operator runs them, the daily payout job, and Connect
events signed with the Connect endpoint's own secret."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.orders.money import release_due
from marketplace.payouts.models import Payout, PayoutAccount
from marketplace.worker.tasks import run_payouts_job
from tests.ledger.test_ledger_cli import run
from tests.ledger.test_ledger_rules import _paid
from tests.payments.test_connect import _buy, _onboard
from tests.payments.test_webhooks import post_event
from tests.support.stripe_stub import event_payload

CONNECT_SECRET = "whsec_connect_endpoint_secret_for_tests"


def test_payouts_run_pays_out_once_and_says_what_it_did(app, session, buyer, buyer_org, plans):
    order = _paid(session, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    session.commit()
    first = run(app, "payouts", "run")
    assert first.exit_code == 0, first.output
    assert f"org-{order.seller_organization_id}\tHKD\t450000\tstarted PO-" in first.output
    assert "1 payout(s) started" in first.output
    again = run(app, "payouts", "run")
    assert again.exit_code == 0 and "0 payout(s) started, 0 other line(s)." in again.output
    assert len(session.scalars(select(Payout)).all()) == 1


def test_the_daily_job_runs_the_payouts(app, session, buyer, buyer_org, plans):
    _paid(session, buyer, buyer_org, plans["Exclusive"])
    release_due(session, 0)
    session.commit()
    assert run_payouts_job.call_local() == 1
    assert run_payouts_job.call_local() == 0


def test_reconcile_needs_stripe(app):
    result = run(app, "payouts", "reconcile")
    assert result.exit_code == 1 and "Payments are simulated" in result.output


def test_reconcile_says_ok_or_lists_each_difference(app, session, client, stripe_stub, stripe_payments, seller,
                                                    buyer, buyer_org, plans):
    order = _buy(session, client, stripe_stub, stripe_payments, buyer, buyer_org, plans["Exclusive"])
    clean = run(app, "payouts", "reconcile", "--days", "2")
    assert clean.exit_code == 0 and "ok: the ledger and Stripe agree for the last 2 day(s)." in clean.output
    stripe_stub.dashboard_refund(order.payment_intent, amount=250)
    differing = run(app, "payouts", "reconcile")
    assert differing.exit_code == 1
    assert f"payment\t{order.payment_intent}\t500000\t499750\tHKD" in differing.output
    assert "1 difference(s)" in differing.output
    assert run(app, "payouts", "reconcile", "--days", "0").exit_code == 2  # a usage error, not a traceback
    stripe_stub.refuse_connections()
    down = run(app, "payouts", "reconcile")
    assert down.exit_code == 1 and "Could not reconcile" in down.output and "Traceback" not in down.output


def test_connect_events_signed_with_the_connect_secret_are_applied(app, session, client, stripe_stub,
                                                                   stripe_payments, seller, plans):
    org = plans["Exclusive"].version.product.organization
    app.config["STRIPE_CONNECT_WEBHOOK_SECRET"] = CONNECT_SECRET
    from marketplace.payments import payments_from_config

    app.extensions["payments"] = payments = payments_from_config(app.config)
    try:
        account_id = _onboard(session, client, stripe_stub, payments, seller, org)
        event = event_payload("account.updated", stripe_stub.onboard(account_id, complete=False), account=account_id)
        assert post_event(client, event, secret=CONNECT_SECRET).status_code == 200
        assert post_event(client, event, secret="whsec_someone_else").status_code == 400
        session.expire_all()
        assert not session.scalar(select(PayoutAccount)).ready
    finally:
        app.config["STRIPE_CONNECT_WEBHOOK_SECRET"] = None
