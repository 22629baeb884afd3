"""Money pages, read from the ledger:

- ``/seller/<org_slug>/statements/<YYYY-MM>``: the organization's balances (pending, available, held) and its
  statement of the month per currency, with a month picker; ``/csv`` exports it, ``/print`` is the printable page;
  ``/seller/<org_slug>/statements`` opens this month's. Members of the organization only (others 404); a month
  that is not YYYY-MM is 404.
- ``/admin/finance``: the platform's fee revenue per month and currency, money held for disputes, open payment
  anomalies, paid orders without their sale in the ledger, payouts in transit and failed, and each seller's fee
  rate, set here (platform admins only, audited).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_timezone
from marketplace.ledger.fees import default_fee_bps, percent, set_fee_override
from marketplace.ledger.models import TransactionKind
from marketplace.ledger.statements import neighbours, next_month, parse_month
from marketplace.listings.view_helpers import acting_user
from marketplace.orders import finance
from marketplace.orders.assessment_fees import is_provider
from marketplace.orders.seller_views import _organization
from marketplace.payouts.states import status_words as payout_status_words
from marketplace.text import inert

bp = Blueprint("finance", __name__)

STATEMENTS = "/seller/<org_slug>/statements"


def line_kinds() -> dict[TransactionKind, str]:
    return {TransactionKind.SALE: _("Sale"), TransactionKind.REFUND: _("Refund"),
            TransactionKind.DISPUTE_HOLD: _("Dispute opened: money held"),
            TransactionKind.DISPUTE_WON: _("Dispute won: money released"),
            TransactionKind.DISPUTE_LOST: _("Dispute lost: payment taken back"),
            TransactionKind.RELEASE: _("Released"), TransactionKind.PAYOUT: _("Payout started"),
            TransactionKind.PAYOUT_FAILED: _("Payout failed: money back")}


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except NotFound as exc:
        abort(404, exc.message)


def _this_month() -> date:
    now = datetime.now(ZoneInfo(current_timezone()))
    return date(now.year, now.month, 1)


@bp.get(STATEMENTS)
@login_required
def statements_now(org_slug: str):
    org = _organization(org_slug)
    picked = request.args.get("month")
    month = _month(picked) if picked is not None else _this_month()
    return redirect(url_for(".statement", org_slug=org.slug, month=f"{month:%Y-%m}"))


def _statement(org_slug: str, month_text: str):
    org = _organization(org_slug)
    month = _month(month_text)
    found, named, fee_bps = finance.statement(db.session, acting_user(), org, month, ZoneInfo(current_timezone()))
    return org, month, found, named, fee_bps


def _render_statement(org_slug: str, month: str, *, printable: bool):
    org, first, found, named, fee_bps = _statement(org_slug, month)
    before, after = neighbours(first)
    return render_template("sales/statement.html", org=org, month=first, statements=found, orders=named,
                           fee=percent(fee_bps), kinds=line_kinds(), printable=printable, previous=before, next=after,
                           provider=is_provider(db.session, org),
                           balances=None if printable else finance.balances(db.session, acting_user(), org))


@bp.get(f"{STATEMENTS}/<month>")
@login_required
def statement(org_slug: str, month: str):
    return _render_statement(org_slug, month, printable=False)


@bp.get(f"{STATEMENTS}/<month>/print")
@login_required
def statement_print(org_slug: str, month: str):
    return _render_statement(org_slug, month, printable=True)


def _statement_item(order) -> str:
    """What a statement line sold: the product's slug, or the assessment request of a fee."""
    if order is None:
        return ""
    return inert(order.assessment.number if order.is_assessment_fee else order.product.slug)


@bp.get(f"{STATEMENTS}/<month>/csv")
@login_required
def statement_csv(org_slug: str, month: str):
    org, first, found, named, _fee = _statement(org_slug, month)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["currency", "date", "kind", "order", "product", "gross", "fee", "net", "held"])
    for sheet in found:
        writer.writerow([sheet.currency, f"{first:%Y-%m-%d}", "opening_balance", "", "", "", "", sheet.opening, ""])
        for line in sheet.lines:
            order = named.get(line.order_id)
            writer.writerow([sheet.currency, line.occurred_at.isoformat(), line.kind.value,
                             order.number if order else "", _statement_item(order),
                             line.gross, line.fee, line.net, line.held])
        writer.writerow([sheet.currency, f"{next_month(first):%Y-%m-%d}", "closing_balance", "", "", "", "",
                         sheet.closing, ""])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statement-{org.slug}-{first:%Y-%m}.csv"'})


# ---------------------------------------------------------------- the platform admin's finance page


def render_finance(*, status: int = 200, error: str | None = None, typed: dict | None = None):
    session, user = db.session, acting_user()
    zone = ZoneInfo(current_timezone())
    money = finance.platform_finance(session, user, zone)
    sellers = list(session.scalars(select(Organization).order_by(Organization.name)))
    return render_template("admin/finance.html", finance=money, sellers=sellers, default_fee=default_fee_bps(),
                           percent=percent, payout_statuses=payout_status_words(), error=error,
                           typed=typed or {}), status


@bp.get("/admin/finance")
@login_required
def platform():
    return render_finance()


@bp.post("/admin/finance/fees/<int:organization_id>")
@login_required
def set_fee(organization_id: int):
    require(acting_user(), Permission.ADMIN)  # before anything is looked up
    org = db.session.get(Organization, organization_id)
    if org is None:
        abort(404)
    raw = (request.form.get("fee_bps") or "").strip()
    try:
        # ASCII digits are a number; any other text ("12.5", "²", "١٢٣") goes as it is, for the service to refuse.
        bps = int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else raw or None
        set_fee_override(db.session, acting_user(), org, bps)
    except DomainError as exc:
        db.session.rollback()
        if exc.status in (401, 403):
            raise
        return render_finance(status=exc.status, error=exc.message, typed={org.id: raw[:100]})
    flash(_("Fee of %(name)s saved.", name=org.name), "success")
    return redirect(url_for(".platform"))
