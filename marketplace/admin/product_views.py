"""The admin's products page: every product with its status, seller and last decision, and the pages that suspend,
reinstate or delist one with a reason (delisting, which is final, only once the admin ticked that they understand).
Each move calls the review service that owns it; a refusal re-shows the form with the reason kept."""
from __future__ import annotations

from math import ceil

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from marketplace.accounts.forms import apply_domain_errors
from marketplace.admin.products import (
    ACTIONS,
    PER_PAGE,
    ProductFilterForm,
    ProductStatusChangeForm,
    last_decisions,
    product_organizations,
    product_rows,
)
from marketplace.admin.views import bp
from marketplace.bilingual import title_of
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import N_
from marketplace.listings.models import DataProduct
from marketplace.listings.states import PRODUCT_LIFECYCLE, Actor, ProductAction, ProductStatus
from marketplace.listings.view_helpers import acting_user
from marketplace.review import services as review

DONE = {ProductAction.SUSPEND: N_("Suspended %(title)s: buyers no longer see it; existing licences stay valid."),
        ProductAction.REINSTATE: N_("Reinstated %(title)s: it is listed again."),
        ProductAction.DELIST: N_("Delisted %(title)s: it is gone from the catalog for good.")}


def _offered(product: DataProduct) -> list[ProductAction]:
    """The moves an admin may make of the product now (its lifecycle's table, as the review service asks it)."""
    return PRODUCT_LIFECYCLE.actions_from(product.status, [Actor.REVIEWER])


def _filters() -> ProductFilterForm:
    return ProductFilterForm(request.args, product_organizations(db.session))


@bp.get("/products")
def products():
    form = _filters()
    filters, page, ignored = form.clean()
    rows, total = ([], 0) if form.refused else product_rows(db.session, filters, limit=PER_PAGE,
                                                            offset=(page - 1) * PER_PAGE)
    return render_template("admin/products.html", form=form, rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), ignored=ignored, actions=ACTIONS,
                           offered=_offered, ProductStatus=ProductStatus), 400 if form.refused else 200


def _action(name: str) -> ProductAction:
    try:
        action = ProductAction(name)
    except ValueError:
        abort(404)
    if action not in ACTIONS:
        abort(404)
    return action


def _product(product_id: int) -> DataProduct:
    try:
        return review.product_for_reviewer(db.session, acting_user(), product_id)
    except NotFound as exc:
        abort(404, exc.message)


def _render_change(product: DataProduct, action: ProductAction, form: ProductStatusChangeForm,
                   status: int | None = None):
    """The form of one move; ``status`` by default 200, or 409 when the product's status does not offer it."""
    back = _filters()
    back.clean()
    allowed = action in _offered(product)
    status = status or (200 if allowed else 409)
    return render_template("admin/product_status.html", product=product, action=action, label=ACTIONS[action],
                           form=form, back=back.query(), allowed=allowed,
                           version=product.listed_version or product.latest_version,
                           last_case=last_decisions(db.session, [product.id]).get(product.id),
                           own_org=review.conflicted(db.session, acting_user(), product.organization_id)), status


@bp.get("/products/<int:product_id>/<name>")
def change_status(product_id: int, name: str):
    action, product = _action(name), _product(product_id)
    return _render_change(product, action, ProductStatusChangeForm(formdata=None))


@bp.post("/products/<int:product_id>/<name>")
def apply_status(product_id: int, name: str):
    action, product = _action(name), _product(product_id)
    form = ProductStatusChangeForm()
    if not form.validate_on_submit():
        return _render_change(product, action, form, 422)
    if action == ProductAction.DELIST and not form.confirm_final.data:
        # Every error at once: the unticked box, and the reason if it is missing too.
        form.confirm_final.errors = [_("Tick this box to confirm: a delisted product cannot be listed again.")]
        try:
            review.check_status_reason(form.reason.data)
        except DomainError as exc:
            apply_domain_errors(form, exc)
        return _render_change(product, action, form, 422)
    try:
        review.change_product_status(db.session, acting_user(), product, action.value, form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, NotFound):
            abort(404, exc.message)
        apply_domain_errors(form, exc)
        return _render_change(product, action, form, exc.status)
    version = product.listed_version or product.latest_version
    flash(_(DONE[action], title=title_of(version)), "success")
    back = _filters()
    back.clean()
    return redirect(url_for(".products", **back.query()))
