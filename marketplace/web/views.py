"""Registers the page blueprints of every domain."""
from __future__ import annotations

from flask import Flask


def init_views(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.catalog.views import bp as catalog_bp
    from marketplace.listings.views import bp as seller_bp
    from marketplace.notifications.views import bp as notifications_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(seller_bp)
    app.register_blueprint(notifications_bp)

    from marketplace.audit.public_views import bp as audit_public_bp
    from marketplace.audit.views import bp as admin_bp
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
    from marketplace.licensing.certificate_views import bp as certificates_bp
    app.register_blueprint(certificates_bp)
    from marketplace.licensing.views import bp as licensing_bp
    app.register_blueprint(licensing_bp)
    from marketplace.licensing.seller_views import bp as sales_bp
    app.register_blueprint(sales_bp)
    from marketplace.orders.anomaly_views import bp as anomalies_bp
    app.register_blueprint(anomalies_bp)
    from marketplace.orders.webhooks import bp as stripe_webhooks_bp
    app.register_blueprint(stripe_webhooks_bp)
    csrf.exempt(stripe_webhooks_bp)  # Stripe authenticates with its signature, not a session cookie
