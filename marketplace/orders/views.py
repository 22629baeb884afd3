"""The buyer's order pages: the licence request with its scenario, orders and receipts, payment (the provider's
checkout or the simulated one), cancelling, and renewing a subscription from its licence page.

Each view parses its form, calls one order service and redirects with a flash (the request commits at its end).
When the service refuses, the same page is rendered again with the status (422 invalid, 409 wrong state, 402
declined card, 403 not yours), the reasons beside the fields and the input kept. An order of another organization
is 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.accounts.forms import apply_domain_errors
from marketplace.crossborder.states import EvidenceActor
from marketplace.errors import DomainError, NotFound, ValidationFailed, error_headers
from marketplace.extensions import db
from marketplace.i18n import day, sentences
from marketplace.licensing.certificates import scenario_in_words
from marketplace.licensing.forms import RenewForm
from marketplace.licensing.services import held_plan_licence, licensed_assets, member_organization_ids
from marketplace.licensing.states import LicenceStatus
from marketplace.licensing.views import licence_or_404, render_licence
from marketplace.listings.models import PricingPlan
from marketplace.listings.view_helpers import acting_user
from marketplace.orders import services as order_services
from marketplace.orders.checkout import PAYMENT_FAILURES, payment_paused
from marketplace.orders.forms import CheckoutForm, EvidenceDecisionForm, EvidenceForm, LicenceRequestForm
from marketplace.orders.models import Order
from marketplace.orders.renewals import RenewalOffer, expected_period, renewal_offer
from marketplace.orders.states import ORDER_LIFECYCLE, OrderAction, OrderActor, OrderStatus
from marketplace.payments import PaymentError
from marketplace.payments.simulated import DECLINED_CARDS, SUCCESS_CARDS
from marketplace.uow import keep_despite_error

bp = Blueprint("orders", __name__)


@bp.app_context_processor
def _renewal_helpers() -> dict:
    """For the licence and product pages (licensing and the catalog never import orders): a licence's renewal as
    offered now, and the order its organization has open for its plan."""
    def renewal_of(licence) -> RenewalOffer | None:
        return renewal_offer(db.session, licence)

    def open_order_of(licence) -> Order | None:
        return order_services.open_order(db.session, [licence.buyer_organization_id], [licence.plan_id])

    def open_orders_of(plans) -> dict[int, Order]:
        """The orders the signed-in user's organizations have in progress for these plans, by plan (one query)."""
        if not current_user.is_authenticated:
            return {}
        organizations = member_organization_ids(db.session, acting_user())
        return order_services.open_orders(db.session, organizations, [plan.id for plan in plans])

    def registration_warning_of(product) -> str | None:
        """The warning a buyer reads before requesting: the registration expired, or expires soon."""
        return order_services.registration_warning(db.session, product.id)

    return {"renewal_of": renewal_of, "open_order_of": open_order_of, "open_orders_of": open_orders_of,
            "registration_warning_of": registration_warning_of}

ORDER = "/orders/<int:order_id>"
LICENCE = "/licences/<int:licence_id>"


def _with_refusal(form, exc: DomainError) -> None:
    """Put a service's refusal on ``form``: reasons beside the fields, the rest at the top. A reason about the
    plan itself (sold out, an order already open) or a hidden field (the idempotency key) belongs to no field
    the buyer sees, so the refusal's own message, which says it in full, goes at the top instead."""
    shown = {key: value for key, value in exc.errors.items()
             if key != "plan_id" and getattr(form._fields.get(key), "type", "") != "HiddenField"}
    apply_domain_errors(form, type(exc)(exc.message, shown))


# ---------------------------------------------------------------- the licence request


def _offered_plan(slug: str, plan_id: int) -> PricingPlan:
    """A plan buyers may license now, of the product named in the URL; 404 otherwise."""
    try:
        plan = order_services.purchasable_plan(db.session, plan_id)
    except NotFound as exc:
        abort(404, exc.message)
    if plan.version.product.slug != slug:
        abort(404, _("This product has no such plan."))
    return plan


def _request_page(plan: PricingPlan, form: LicenceRequestForm, organizations, *, status: int = 200):
    """The request form; when the organization chosen holds the plan already, its licence (``held``), and when it
    has an order in progress for the plan, that order (``pending``), each asked of the rule the order itself is
    checked by. A territory of use not on the list is said beside its field (422)."""
    version = plan.version
    chosen = form.organization()
    held = pending = position = None
    if chosen in {o.id for o in organizations}:
        held = held_plan_licence(db.session, chosen, plan.id)
        pending = order_services.open_order(db.session, [chosen], [plan.id])
        try:
            position = _position_preview(plan, next(o for o in organizations if o.id == chosen),
                                         form.territory.data)
        except ValidationFailed as exc:  # a territory not on the list: said beside the field
            form.territory.errors = list(form.territory.errors or []) or exc.errors.get("territory", [exc.message])
            status = max(status, 422)
    return render_template("licensing/request.html", plan=plan, version=version, product=version.product,
                           form=form, organizations=organizations, held=held, pending=pending,
                           position=position, registration_warning=order_services.registration_warning(
                               db.session, version.product_id)), status


def _position_preview(plan: PricingPlan, organization, territory: str | None):
    """The cross-boundary position the request would get now, or None until a territory of use is chosen;
    ValidationFailed for a territory not on the list."""
    if not territory:
        return None
    return order_services.preview_for_request(db.session, acting_user(), plan.id, organization, territory)


def _requested(order, renewal: bool = False) -> str:
    """What the buyer is told after placing an order, by where it stands."""
    if order.status == OrderStatus.FULFILLED:
        return _("Licence issued: order %(number)s is complete. Download the data from My licences.",
                 number=order.number)
    if order.status == OrderStatus.AWAITING_PAYMENT:
        return _("Order %(number)s placed. Pay to receive your licence.", number=order.number)
    if order.status == OrderStatus.AWAITING_APPROVAL:
        return _("Request %(number)s sent to the seller. You will be notified of the decision.", number=order.number)
    if renewal:
        return _("Renewal order %(number)s is %(status)s.", number=order.number, status=order.status.label.lower())
    return _("Order %(number)s is %(status)s.", number=order.number, status=order.status.label.lower())


@bp.route("/products/<slug>/plans/<int:plan_id>/license", methods=["GET", "POST"])
@login_required
def request_licence(slug: str, plan_id: int):
    plan = _offered_plan(slug, plan_id)
    user = acting_user()
    seller_id = plan.version.product.organization_id
    organizations = [o for o in order_services.buyer_organizations(db.session, user) if o.id != seller_id]
    form = LicenceRequestForm().set_organizations(organizations).limit_to(plan.terms)
    if form.is_submitted() and form.preview.data:  # the position for what is chosen, and the form as typed
        return _request_page(plan, form, organizations)
    if not form.validate_on_submit():
        return _request_page(plan, form, organizations, status=422 if form.is_submitted() else 200)
    req = order_services.LicenceRequest(
        plan_id=plan.id, organization_id=form.organization(), scenario=form.scenario(),
        accept_terms=bool(form.accept_terms.data), idempotency_key=form.idempotency_key.data or "",
    )
    try:
        # A double submit (the same idempotency key) is answered with the first order, even when racing.
        order = order_services.request_licence(db.session, user, req)
    except DomainError as exc:
        db.session.rollback()
        _with_refusal(form, exc)
        return _request_page(plan, form, organizations, status=exc.status)
    flash(_requested(order), "success")
    return redirect(url_for(".order", order_id=order.id))


# ---------------------------------------------------------------- orders


def _order(order_id: int, fees: bool = False) -> Order:
    try:
        return order_services.order_for(db.session, acting_user(), order_id, fees=fees)
    except NotFound as exc:
        abort(404, exc.message)


def render_order(order: Order, *, status: int = 200, error: str | None = None,
                 evidence_form: EvidenceForm | None = None, decision_form: EvidenceDecisionForm | None = None,
                 for_reviewer: bool = False):
    """The order page: the buyer's, the seller's (``/orders/<id>`` for either party), or a compliance reviewer's
    read-only one (``for_reviewer``: the position, the evidence and its decision, nothing else to do)."""
    user = acting_user()
    buyer = not for_reviewer and order_services.is_buyer(db.session, user, order)
    actions = order_services.order_actions(order, [OrderActor.BUYER]) if buyer else []
    awaited = order_services.evidence_awaited(order)
    waiting = order_services.awaiting_evidence(db.session, order) if awaited else None
    paused = payment_paused(db.session, order) if OrderAction.PAY in ORDER_LIFECYCLE.actions_from(
        order.status, [OrderActor.SYSTEM]) else None
    moves = order_services.evidence_moves(order, EvidenceActor.BUYER, EvidenceActor.SELLER, EvidenceActor.REVIEWER)
    area = "order_review" if for_reviewer else "orders"
    return render_template(
        "licensing/order.html", order=order, error=error, is_buyer=buyer, position=order.cross_boundary,
        for_reviewer=for_reviewer, evidence_wait=waiting, evidence_moves=[move.value for move in moves],
        evidence_form=evidence_form or EvidenceForm(), decision_form=decision_form or EvidenceDecisionForm(),
        may_decide_evidence=order_services.may_decide_evidence(user, order),
        decision_url=url_for(f"{area}.decide_evidence", order_id=order.id),
        document_url=url_for(f"{area}.evidence_document", order_id=order.id),
        can_pay=buyer and paused is None and OrderAction.PAY in ORDER_LIFECYCLE.actions_from(
            order.status, [OrderActor.SYSTEM]) and not waiting,
        pay_paused=buyer and paused,
        can_cancel=OrderAction.CANCEL in actions,
        scenario=scenario_in_words(order.scenario.to_dict()),
        payment_error=PAYMENT_FAILURES.shown(order.payment_error),
        files=licensed_assets(db.session, [order.licence])[order.licence.id] if buyer and order.licence else [],
        period=expected_period(db.session, order), LicenceStatus=LicenceStatus,
    ), status


def send_evidence_document(order: Order):
    """The order's evidence document as a download under its sanitized name; 404 when none was given."""
    position = order.cross_boundary
    if position is None or not position.evidence_key:
        abort(404, _("This order has no evidence document."))
    stream = current_app.extensions["storage"].open(position.evidence_key)
    response = send_file(stream, mimetype=position.evidence_content_type, as_attachment=True,
                         download_name=position.evidence_filename or "evidence")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _order_refused(order: Order, exc: DomainError):
    db.session.rollback()
    if isinstance(exc, NotFound):
        abort(404, exc.message)
    page, status = render_order(order, status=exc.status, error=exc.message)
    return page, status, error_headers(exc)  # Retry-After when the payment provider is down


@bp.get("/orders")
@login_required
def orders():
    return render_template("licensing/orders.html", orders=order_services.buyer_orders(db.session, acting_user()))


@bp.get(ORDER)
@login_required
def order(order_id: int):
    return render_order(_order(order_id))


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL of this site, for a payment provider to send the buyer back to."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{url_for(endpoint, **values)}" if base else url_for(endpoint, _external=True, **values)


@bp.post(f"{ORDER}/pay")
@login_required
def pay(order_id: int):
    found = _order(order_id)
    try:
        url = order_services.start_checkout(
            db.session, acting_user(), found, current_app.extensions["payments"],
            success_url=absolute_url(".order", order_id=found.id, paid=1),
            cancel_url=absolute_url(".order", order_id=found.id),
        )
    except DomainError as exc:
        return _order_refused(found, exc)
    return redirect(url)


@bp.post(f"{ORDER}/cancel")
@login_required
def cancel(order_id: int):
    found = _order(order_id)
    try:
        order_services.cancel_order(db.session, acting_user(), found)
    except DomainError as exc:
        return _order_refused(found, exc)
    flash(_("Order %(number)s cancelled.", number=found.number), "success")
    return redirect(url_for(".order", order_id=found.id))


# ---------------------------------------------------------------- cross-boundary evidence


@bp.post(f"{ORDER}/cross-boundary/evidence")
@login_required
def submit_evidence(order_id: int):
    found = _order(order_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return render_order(found, status=422, evidence_form=form)
    upload = form.document.data
    document = (upload.filename, upload.stream) if upload and getattr(upload, "filename", "") else None
    try:
        order_services.submit_evidence(db.session, acting_user(), found, form.filing_number.data or "",
                                       form.note.data or "", document)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_order(found, status=exc.status, error=exc.message, evidence_form=form)
    flash(_("Evidence sent to the seller."), "success")
    return redirect(url_for(".order", order_id=found.id) + "#cross-boundary")


@bp.post(f"{ORDER}/cross-boundary/decision")
@login_required
def decide_evidence(order_id: int):
    found = _order(order_id)
    form = EvidenceDecisionForm()
    if not form.validate_on_submit():
        return render_order(found, status=422, decision_form=form)
    # One button pressed is the decision; neither (or both) is none, which the service refuses after it checks who
    # may decide at all.
    decision = {(True, False): "confirm", (False, True): "reject"}.get((form.confirm.data, form.reject.data), "")
    try:
        order_services.decide_evidence(db.session, acting_user(), found, decision, form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_order(found, status=exc.status, error=exc.message, decision_form=form)
    flash(_("Evidence confirmed.") if decision == "confirm" else _("Evidence rejected; the buyer is told why."),
          "success")
    return redirect(url_for(".order", order_id=found.id) + "#cross-boundary")


@bp.get(f"{ORDER}/cross-boundary/document")
@login_required
def evidence_document(order_id: int):
    return send_evidence_document(_order(order_id))


# ---------------------------------------------------------------- the simulated checkout


def _checkout_page(order: Order, form: CheckoutForm, status: int = 200):
    return render_template("licensing/checkout.html", order=order, form=form, success_cards=sorted(SUCCESS_CARDS),
                           declined_cards=DECLINED_CARDS), status


@bp.route(f"{ORDER}/checkout", methods=["GET", "POST"])
@login_required
def checkout(order_id: int):
    found = _order(order_id, fees=True)  # an assessment fee is paid on this page too
    fee = found.is_assessment_fee
    back = (url_for("assessments.seller_requests", org_slug=found.buyer_organization.slug) if fee
            else url_for(".order", order_id=found.id))
    if not order_services.is_buyer(db.session, acting_user(), found):
        abort(403, _("Only the buyer pays for an order."))
    if not order_services.awaits_simulated_payment(found):
        flash(_("The fee of %(number)s is not waiting for a payment on this page.", number=found.assessment.number)
              if fee else _("Order %(number)s is not waiting for a payment on this page.", number=found.number),
              "info")
        return redirect(back)
    form = CheckoutForm()
    if form.is_submitted() and form.cancel.data:
        flash(_("Checkout cancelled: nothing was charged. The order still awaits payment."), "info")
        return redirect(back)
    if not form.validate_on_submit():
        return _checkout_page(found, form, 422 if form.is_submitted() else 200)
    try:
        order_services.pay_with_test_card(db.session, acting_user(), found, form.card_number.data or "")
    except PaymentError as exc:
        # The card's reason beside the number; the decline code is for developers, and the page lists the cards.
        apply_domain_errors(form, PaymentError(exc.message, {"card_number": [exc.message]}))
        keep_despite_error()  # the failed attempt is recorded on the order and audited
        return _checkout_page(found, form, exc.status)
    except DomainError as exc:
        if fee:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(back)
        return _order_refused(found, exc)
    flash(_("Fee paid: the provider may start the assessment.") if fee else _("Payment received, licence issued."),
          "success")
    return redirect(back)


# ---------------------------------------------------------------- renewal


@bp.post(f"{LICENCE}/renew")
@login_required
def renew(licence_id: int):
    found = licence_or_404(licence_id)
    form = RenewForm()
    if not form.validate_on_submit():
        return render_licence(found, form=form, status=422)
    try:
        renewal = order_services.renew_licence(db.session, acting_user(), found,
                                               accept_terms=bool(form.accept_terms.data),
                                               idempotency_key=form.idempotency_key.data or "")
    except DomainError as exc:
        db.session.rollback()
        _with_refusal(form, exc)
        return render_licence(found, form=form, status=exc.status, error=exc.message)
    period = expected_period(db.session, renewal)
    covers = _("The renewal covers %(start)s to %(end)s.", start=day(period[0]), end=day(period[1])) \
        if period and period[1] else ""
    flash(sentences(_requested(renewal, renewal=True), covers), "success")
    return redirect(url_for(".order", order_id=renewal.id))
