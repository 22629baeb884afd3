"""The composition root of HTTP: registers every domain's page and API blueprints and the helpers their templates
share. Nothing imports this module but ``create_app``, so the packages it names never depend on each other through
it (``marketplace.web`` and ``marketplace.api`` give the shared page and API machinery, and name no domain)."""
from __future__ import annotations

from flask import Flask


def init_pages(app: Flask) -> None:
    """Every domain's page blueprints, the template helpers every page may use, and the upload endpoints."""
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.catalog.views import bp as catalog_bp
    from marketplace.listings.views import bp as seller_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.review import submission_views  # noqa: F401  (review's routes join the seller's blueprints)

    app.register_blueprint(accounts_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(seller_bp)
    app.register_blueprint(notifications_bp)

    from marketplace.admin.views import bp as admin_bp
    from marketplace.audit.public_views import bp as audit_public_bp
    from marketplace.review.views import bp as review_bp

    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_public_bp)
    from marketplace.catalog.product_views import bp as product_bp
    app.register_blueprint(product_bp)
    from marketplace.catalog.dcat_views import bp as dcat_bp
    app.register_blueprint(dcat_bp)
    from marketplace.catalog.ckan import bp as ckan_bp
    app.register_blueprint(ckan_bp)
    from marketplace.extensions import csrf
    csrf.exempt(ckan_bp)
    from marketplace.review.notice_views import bp as notices_bp
    app.register_blueprint(notices_bp)
    from marketplace.licensing.certificate_views import bp as certificates_bp
    app.register_blueprint(certificates_bp)
    from marketplace.licensing.voucher_views import bp as vouchers_bp
    app.register_blueprint(vouchers_bp)
    from marketplace.licensing.views import bp as licensing_bp
    app.register_blueprint(licensing_bp)
    from marketplace.orders.views import bp as orders_bp
    app.register_blueprint(orders_bp)
    from marketplace.orders.seller_views import bp as sales_bp
    app.register_blueprint(sales_bp)
    from marketplace.orders.review_views import bp as order_review_bp
    app.register_blueprint(order_review_bp)
    from marketplace.orders.anomaly_views import bp as anomalies_bp
    app.register_blueprint(anomalies_bp)
    from marketplace.orders.finance_views import bp as finance_bp
    app.register_blueprint(finance_bp)
    from marketplace.payouts.views import bp as payouts_bp
    app.register_blueprint(payouts_bp)
    from marketplace.orders.webhooks import bp as stripe_webhooks_bp
    app.register_blueprint(stripe_webhooks_bp)
    csrf.exempt(stripe_webhooks_bp)  # Stripe authenticates with its signature, not a session cookie

    from marketplace.events.views import bp as webhooks_bp
    app.register_blueprint(webhooks_bp)
    from marketplace.assessments.views import bp as assessments_bp
    from marketplace.assessments.views import declare_uploads as declare_provider_uploads
    app.register_blueprint(assessments_bp)
    declare_provider_uploads()
    from marketplace.orders.assessment_fee_views import bp as assessment_fees_bp
    from marketplace.orders.assessment_fees import init_assessment_fees
    app.register_blueprint(assessment_fees_bp)
    init_assessment_fees(app)  # how assessments charge a fee, without importing orders

    from marketplace.listings.uploads import declare_uploads

    declare_uploads()
    from marketplace.orders.evidence_files import declare_evidence_upload

    declare_evidence_upload()
    from marketplace.review.notice_views import declare_uploads as declare_objection_uploads

    declare_objection_uploads()
    from marketplace.review.notice_api import declare_uploads as declare_evidence_uploads

    declare_evidence_uploads()
    from marketplace.listings.view_helpers import TEMPLATE_HELPERS
    from marketplace.review.checklist import ChecklistItem

    # The formatting helpers (money, labels, licence names ...) every page may use, registered once.
    helpers = {**TEMPLATE_HELPERS, "ChecklistItem": ChecklistItem}
    app.context_processor(lambda: helpers)
    _note_form_errors(app)


def _note_form_errors(app: Flask) -> None:
    """Every form's error summary (``form_problems``, a global: the form macros are imported without context),
    and ``page_has_errors`` in each page's context when a form it shows carries errors: the title then starts
    with "Error:"."""
    from flask import before_render_template
    from wtforms import Form

    from marketplace.listings.form_errors import form_problems, has_problems

    app.jinja_env.globals["form_problems"] = form_problems

    def with_errors(value) -> bool:
        if isinstance(value, Form):
            return has_problems(value) or bool(getattr(value, "item_errors", None))
        if isinstance(value, (list, tuple)):
            return any(isinstance(v, Form) and with_errors(v) for v in value)
        if isinstance(value, dict):
            return any(isinstance(v, Form) and with_errors(v) for v in value.values())
        return False

    def note(sender, template, context, **extra) -> None:
        if "page_has_errors" not in context:
            context["page_has_errors"] = any(with_errors(value) for value in list(context.values()))

    before_render_template.connect(note, app, weak=False)


def init_api_blueprints(app: Flask) -> None:
    """Every domain's JSON API blueprint under /api/v1 (after ``marketplace.api.init_api``)."""
    from marketplace.accounts.api import blp as accounts_blp
    from marketplace.admin.api import blp as audit_blp
    from marketplace.api import API_PREFIX, api
    from marketplace.assessments.api import blp as assessments_blp
    from marketplace.catalog.api import blp as catalog_blp
    from marketplace.events.api import blp as webhooks_blp
    from marketplace.extensions import csrf
    from marketplace.licensing.api import blp as licensing_blp
    from marketplace.listings.api import blp as listings_blp
    from marketplace.listings.reference_api import blp as reference_blp
    from marketplace.notifications.api import blp as notifications_blp
    from marketplace.orders.api import blp as orders_blp
    from marketplace.orders.finance_api import blp as finance_blp
    from marketplace.payouts.api import blp as payouts_blp
    from marketplace.review.api import blp as review_blp
    from marketplace.review.notice_api import blp as notices_blp

    for blp in (accounts_blp, reference_blp, listings_blp, review_blp, notifications_blp, audit_blp, catalog_blp,
                orders_blp, licensing_blp, webhooks_blp, finance_blp, payouts_blp, assessments_blp, notices_blp):
        csrf.exempt(blp)  # token-authenticated, never cookie-authenticated
        api.register_blueprint(blp, url_prefix=API_PREFIX)
    from marketplace.events.schemas import WEBHOOKS_DOC, EventSchema

    # What webhook endpoints receive (OpenAPI 3.0 has no webhooks section: a component and x-webhooks name it).
    api.spec.components.schema("WebhookEvent", schema=EventSchema)
    api.spec.options["x-webhooks"] = WEBHOOKS_DOC
