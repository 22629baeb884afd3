"""The admin's home: products, orders, background jobs and the audit trail at a glance, each count a link to the
page that works on it."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from marketplace.admin.audit_words import events_shown
from marketplace.admin.products import review_state_counts
from marketplace.admin.views import bp
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import EventFilter, event_page
from marketplace.extensions import db
from marketplace.listings.models import DataProduct
from marketplace.listings.states import ProductStatus
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from marketplace.worker import services as jobs

RECENT_EVENTS = 8
PRODUCT_STATUS_LABELS = {ProductStatus.DRAFT: _l("Never listed"), ProductStatus.LISTED: _l("Listed products"),
                         ProductStatus.SUSPENDED: _l("Suspended products"),
                         ProductStatus.DELISTED: _l("Delisted products")}


def _counts(column) -> dict:
    return dict(db.session.execute(select(column, func.count()).group_by(column)).all())


@bp.get("/")
def overview():
    products = _counts(DataProduct.status)
    orders = _counts(Order.status)
    events, _more = event_page(db.session, EventFilter(), limit=RECENT_EVENTS)
    return render_template(
        "admin/overview.html",
        products=[(status, PRODUCT_STATUS_LABELS[status], products.get(status, 0)) for status in ProductStatus],
        product_total=sum(products.values()),
        orders=[(status, orders.get(status, 0)) for status in OrderStatus],
        order_total=sum(orders.values()),
        outbox=jobs.outbox_counts(db.session, current_user),
        failed_jobs=jobs.failed_job_count(db.session, current_user),
        events=events, event_total=db.session.scalar(select(func.count(AuditEvent.id))) or 0,
        **events_shown(db.session, events),
        review_states=review_state_counts(db.session),
    )
