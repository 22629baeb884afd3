"""The seller's side of licensing, as pages: the request queue, the sales dashboard, one order; and the platform
admin's list of every order with the same refund.

- ``/seller/<org_slug>/requests``: requests waiting for the organization's decision (approve, or decline with a
  message), oldest first;
- ``/seller/<org_slug>/sales``: revenue per currency, active licences, requests waiting, recent orders with a
  refund form per fulfilled paid order;
- ``/seller/<org_slug>/orders/<id>``: the seller's view of one order (the buyer's page is ``/orders/<id>``);
- ``/admin/orders``: every order, newest first, paged, with the refund form (platform admins only).

Each POST parses its form, calls one service and redirects with a flash (the request commits at its end). When the
service refuses, the page the form came from is rendered again with the status (422 invalid, 409 wrong state, 403
not allowed, 402 the payment provider failed), the message beside the field and what was typed kept. An
organization the user does not belong to, and an order it did not sell, are 404.
"""
from __future__ import annotations

import re
from math import ceil
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from marketplace.accounts.access import Permission, require
from marketplace.accounts.forms import apply_domain_errors
from marketplace.accounts.models import Organization
from marketplace.accounts.services import organization_for_member
from marketplace.crossborder.states import EvidenceAction, EvidenceActor
from marketplace.errors import DomainError, NotFound, error_headers
from marketplace.extensions import db, login_manager
from marketplace.i18n import babel_locale, current_timezone, money
from marketplace.ledger.fees import fee_rate, percent
from marketplace.licensing import services as licences
from marketplace.licensing.certificates import scenario_in_words
from marketplace.listings.view_helpers import acting_user
from marketplace.orders import finance
from marketplace.orders import services as orders
from marketplace.orders.assessment_fees import is_provider, paid_fee_count, refund_by_platform
from marketplace.orders.models import Order
from marketplace.orders.seller_forms import DecisionForm, RefundForm
from marketplace.orders.states import ORDER_LIFECYCLE, OrderAction, OrderActor, OrderStatus
from marketplace.web import charts

bp = Blueprint("sales", __name__)

ORG = "/seller/<org_slug>"
ORDER = f"{ORG}/orders/<int:order_id>"
RECENT_ORDERS = 50
ADMIN_PER_PAGE = 50
MAX_PAGE = 100_000  # far past any real list; keeps the offset inside a database integer


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.context_processor
def _helpers():
    return {"scenario_in_words": scenario_in_words, "can_refund": orders.refundable, "can_decide": can_decide,
            "may_approve": may_approve, "in_progress": in_progress, "evidence_to_decide": evidence_to_decide,
            "evidence_awaited": orders.evidence_awaited,
            "OrderStatus": OrderStatus, "licence_reason": licences.status_reason_in_words}


# ---------------------------------------------------------------- what a page offers


def can_decide(order: Order) -> bool:
    """Whether the seller may decide the order: approve or decline a request, or decline a trade waiting for its
    cross-boundary evidence."""
    return OrderAction.DECLINE in orders.order_actions(order, [OrderActor.SELLER])


def may_approve(order: Order) -> bool:
    return OrderAction.APPROVE in orders.order_actions(order, [OrderActor.SELLER])


def in_progress(order: Order) -> bool:
    """Whether the order may still move on (towards a licence or a refusal): the lifecycle has a move out of it
    other than a refund."""
    return any(action is not OrderAction.REFUND
               for action in ORDER_LIFECYCLE.actions_from(order.status, list(OrderActor)))


def evidence_to_decide(order: Order) -> bool:
    """Whether the buyer's evidence waits for the seller's confirmation or rejection."""
    return EvidenceAction.CONFIRM in orders.evidence_moves(order, EvidenceActor.SELLER)


# ---------------------------------------------------------------- loading what the user may see


def _organization(org_slug: str) -> Organization:
    try:
        return organization_for_member(db.session, acting_user(), org_slug)
    except NotFound as exc:
        abort(404, exc.message)


def _order(order_id: int, org: Organization | None = None, *, fees: bool = False) -> Order:
    """The order if the user may see it (and, with ``org``, if that organization sold it); 404 otherwise, and for an
    assessment fee unless ``fees``."""
    try:
        order = orders.order_for(db.session, acting_user(), order_id, fees=fees)
    except NotFound as exc:
        abort(404, exc.message)
    if org is not None and order.seller_organization_id != org.id:
        abort(404, _("No such order."))
    return order


# ---------------------------------------------------------------- the request queue


def render_requests(org: Organization, *, forms: dict | None = None, status: int = 200, error: str | None = None):
    """The queue; ``forms`` maps an order id to its decision form as posted (a refusal keeps what was typed)."""
    pending = orders.seller_requests(db.session, acting_user(), org)
    return render_template("sales/requests.html", org=org, requests=pending, forms=forms or {},
                           blank=DecisionForm(formdata=None), error=error), status


@bp.get(f"{ORG}/requests")
def requests(org_slug: str):
    return render_requests(_organization(org_slug))


def _decided(order: Order) -> str:
    """What the seller is told after deciding, by where the order now stands."""
    names = {"number": order.number, "buyer": order.buyer_organization.name}
    if order.status == OrderStatus.FULFILLED:
        return _("Approved %(number)s: the licence was issued to %(buyer)s.", **names)
    if order.status == OrderStatus.AWAITING_PAYMENT:
        return _("Approved %(number)s: %(buyer)s was asked to pay.", **names)
    if order.status == OrderStatus.DECLINED:
        return _("Declined %(number)s: %(buyer)s was told why.", **names)
    return _("Decision saved for %(number)s.", number=order.number)


@bp.post(f"{ORDER}/decide")
def decide(org_slug: str, order_id: int):
    org = _organization(org_slug)
    order = _order(order_id, org)
    form = DecisionForm()

    def reshow(status: int, error: str | None = None):
        # The message goes to the top when the request is no longer waiting, so no form shows it.
        error = None if can_decide(order) else error
        if form.return_page() == "order":
            return render_order(org, order, decision_form=form, status=status, error=error)
        return render_requests(org, forms={order.id: form}, status=status, error=error)

    if not form.validate_on_submit():
        return reshow(422)
    try:
        orders.decide_order(db.session, acting_user(), order, form.decision.data or "", form.message.data or "")
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return reshow(exc.status, exc.message)
    flash(_decided(order), "success")
    if form.return_page() == "order":
        return redirect(url_for(".order", org_slug=org.slug, order_id=order.id))
    return redirect(url_for(".requests", org_slug=org.slug))


# ---------------------------------------------------------------- the sales dashboard

CHART_MONTHS = 12


def revenue_charts(organization_id: int) -> list[tuple[str, Markup]]:
    """The revenue of each currency over the last months as an SVG bar chart, described in words."""
    charts_out = []
    zone = ZoneInfo(current_timezone())
    for currency, months in orders.monthly_revenue(db.session, organization_id, zone, CHART_MONTHS).items():
        points = [(format_skeleton("yMMM", month, locale=babel_locale()), amount, money(amount, currency))
                  for month, amount in months]
        described = "; ".join(f"{label}: {shown}" for label, _amount, shown in points)
        charts_out.append((currency, charts.timeline(
            points, title=_("Revenue per month in %(currency)s", currency=currency),
            describe=_("Money received and kept, month by month: %(months)s.", months=described))))
    return charts_out



def render_sales(org: Organization, *, forms: dict | None = None, status: int = 200, error: str | None = None):
    session, user = db.session, acting_user()
    recent = orders.seller_orders(session, user, org, limit=RECENT_ORDERS)
    return render_template(
        "sales/dashboard.html", org=org, revenue=orders.revenue_by_currency(session, org.id),
        active_licences=licences.active_licence_count(session, org.id),
        waiting=orders.waiting_request_count(session, org.id), recent=recent, recent_limit=RECENT_ORDERS,
        revenue_charts=revenue_charts(org.id), balances=finance.balances(session, user, org),
        fee=percent(fee_rate(org)), provider=is_provider(session, org), paid_fees=paid_fee_count(session, org.id),
        forms=forms or {}, blank=RefundForm(formdata=None), error=error,
    ), status


@bp.get(f"{ORG}/sales")
def sales(org_slug: str):
    return render_sales(_organization(org_slug))


# ---------------------------------------------------------------- one order


def render_order(org: Organization, order: Order, *, decision_form: DecisionForm | None = None,
                 refund_form: RefundForm | None = None, status: int = 200, error: str | None = None):
    return render_template(
        "sales/order.html", org=org, order=order,
        # Not called decision_form / refund_form: the template imports macros of those names.
        decision=decision_form or DecisionForm(formdata=None, back="order"),
        refund=refund_form or RefundForm(formdata=None, back="order"), error=error,
    ), status


@bp.get(ORDER)
def order(org_slug: str, order_id: int):
    org = _organization(org_slug)
    return render_order(org, _order(order_id, org))


def _refund(order: Order, form: RefundForm, reshow, done: str):
    """Validate the refund form, refund through the configured provider, and redirect to ``done``."""
    if not form.validate_on_submit():
        return reshow(422, None)
    try:
        if order.is_assessment_fee:  # only a platform admin reaches a fee order here
            refund_by_platform(db.session, acting_user(), order, form.reason.data or "")
        else:
            orders.refund_order(db.session, acting_user(), order, form.reason.data or "",
                                current_app.extensions["payments"])
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        # The message goes to the top when the order no longer offers the form to show it in.
        page, status = reshow(exc.status, None if orders.refundable(order) else exc.message)
        return page, status, error_headers(exc)  # Retry-After when the payment provider is down
    if order.is_assessment_fee:
        flash(_("Refunded the assessment fee of %(number)s to %(buyer)s; the platform declined the request.",
                number=order.assessment.number, buyer=order.buyer_organization.name), "success")
        return redirect(done)
    refunded = _("Refunded %(number)s to %(buyer)s.", number=order.number, buyer=order.buyer_organization.name)
    if order.licence is not None:
        refunded += " " + _("Licence %(serial)s is revoked.", serial=order.licence.serial)
    flash(refunded, "success")
    return redirect(done)


@bp.post(f"{ORDER}/refund")
def refund(org_slug: str, order_id: int):
    org = _organization(org_slug)
    found = _order(order_id, org)
    form = RefundForm()

    def reshow(status: int, error: str | None):
        if form.return_page() == "order":
            return render_order(org, found, refund_form=form, status=status, error=error)
        return render_sales(org, forms={found.id: form}, status=status, error=error)

    back = (url_for(".order", org_slug=org.slug, order_id=found.id) if form.return_page() == "order"
            else url_for(".sales", org_slug=org.slug))
    return _refund(found, form, reshow, back)


# ---------------------------------------------------------------- the platform admin


def _require_admin() -> None:
    require(acting_user(), Permission.ADMIN)  # Forbidden: the app renders the 403 page


def _page_number(raw: str | None) -> tuple[int, str | None]:
    raw = (raw or "1").strip()
    if re.fullmatch(r"[0-9]{1,6}", raw) and 1 <= int(raw) <= MAX_PAGE:
        return int(raw), None
    return 1, f"“{raw[:40]}” is not a page number; showing the first page."


def _status_filter(raw: str | None) -> tuple[OrderStatus | None, str | None]:
    """The order status the admin's list is filtered by, or why the value cannot be one."""
    raw = (raw or "").strip()
    if not raw:
        return None, None
    try:
        return OrderStatus(raw), None
    except ValueError:
        return None, _("\u201c%(value)s\u201d is not an order status: choose one from the list.", value=raw[:40])


def render_admin_orders(page: int, *, forms: dict | None = None, status: int = 200, error: str | None = None,
                        notice: str | None = None, order_status: OrderStatus | None = None,
                        status_error: str | None = None):
    """The all-orders page; with ``status_error`` (a status filter not understood) no list, rather than one that
    looks filtered and is not."""
    if status_error:
        found, total, page = [], 0, 1
    else:
        found, total = orders.all_orders(db.session, acting_user(), ADMIN_PER_PAGE, (page - 1) * ADMIN_PER_PAGE,
                                         status=order_status)
    return render_template(
        "sales/admin_orders.html", orders=found, total=total, page=page,
        pages=max(1, ceil(total / ADMIN_PER_PAGE)), forms=forms or {}, blank=RefundForm(formdata=None),
        error=error, notice=notice, statuses=list(OrderStatus), status_filter=order_status,
        status_error=status_error,
    ), status


@bp.get("/admin/orders")
def admin_orders():
    _require_admin()
    page, notice = _page_number(request.args.get("page"))
    order_status, status_error = _status_filter(request.args.get("status"))
    if status_error:
        return render_admin_orders(page, status=400, status_error=status_error)
    return render_admin_orders(page, notice=notice, order_status=order_status)


@bp.post("/admin/orders/<int:order_id>/refund")
def admin_refund(order_id: int):
    _require_admin()
    found = _order(order_id, fees=True)  # an assessment fee too: the platform may give it back
    page, _ = _page_number(request.args.get("page"))
    order_status, _ = _status_filter(request.args.get("status"))
    form = RefundForm()

    def reshow(status: int, error: str | None):
        return render_admin_orders(page, forms={found.id: form}, status=status, error=error,
                                   order_status=order_status)

    return _refund(found, form, reshow, url_for(".admin_orders", page=page, status=order_status))
