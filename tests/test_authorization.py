"""Every route of the app, requested as each of six roles, answers what one table says.

The routes come from ``app.url_map``: a route with no row in ``EXPECTED`` fails the suite, so whoever adds a
route decides who may use it. Each request is made against a world built with the real services (an organization
with a listed product and a new draft version, a product in the review queue, a buyer with an order and a
licence, a notification) and is rolled back afterwards, so one role's successful POST never changes what the
next request sees.

What counts is the access decision, not success: a form posted empty that answers 400/409/422 passed the
access check and is ``OK``. Refusals are told apart by status: ``LOGIN`` (401, or a redirect to the log-in
page), ``FORBIDDEN`` (403), ``HIDDEN`` (404: the object is not shown to this role). Any 5xx fails.

To add a route: add a row to ``EXPECTED`` (or the ``PUBLIC`` set for static files and documents), naming what
each role gets. The shorthands below cover most routes; write ``row(...)`` for the rest. A URL argument the
world does not name yet goes into ``World.args`` (or ``ARG_OVERRIDES`` for one route); a route whose empty body
stops at validation before access is decided gets a minimal body in ``BODIES``. ``AUTHZ_DUMP=1 pytest -s
tests/test_authorization.py`` prints every answer observed.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from flask_login import AnonymousUserMixin

from marketplace.accounts import services as accounts
from marketplace.accounts.access import Permission, permits, refusal, require
from marketplace.accounts.models import MemberRole, Membership, PlatformRole
from marketplace.errors import Forbidden, NotFound, Unauthorized
from marketplace.events import webhooks
from marketplace.events.models import DeliveryStatus, OrganizationEvent, WebhookDelivery
from marketplace.extensions import db
from marketplace.jobs.models import FailedJob
from marketplace.listings import services as listings
from marketplace.notifications.services import notify_organization
from marketplace.orders import services as orders
from marketplace.orders.anomalies import record_anomaly
from marketplace.orders.models import AnomalyKind
from marketplace.payments import SimulatedPayments
from marketplace.review import services as review
from tests import factories

ROLES = ("anonymous", "buyer", "seller", "stranger", "reviewer", "admin")
"""anonymous: nobody signed in; buyer: member of an organization that licensed the product; seller: member of
the organization that owns the product (and the draft, the order's sale, the notification); stranger: member of
another organization with no trade; reviewer and admin: platform roles, members of no organization."""

OK, LOGIN, FORBIDDEN, HIDDEN = "ok", "login", "forbidden", "hidden"
MOVED = "moved"  # a redirect out of the requested area (e.g. log-out to the home page); listed where expected


def row(anonymous: str, buyer: str, seller: str, stranger: str, reviewer: str, admin: str) -> dict[str, str]:
    return dict(zip(ROLES, (anonymous, buyer, seller, stranger, reviewer, admin), strict=True))


def everyone(outcome: str) -> dict[str, str]:
    return row(*(outcome,) * 6)


EVERYONE = everyone(OK)
SIGNED_IN = row(LOGIN, OK, OK, OK, OK, OK)
# The owning organization's seller console: everyone else is told nothing exists.
SELLER_ONLY = row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN)
# Reviewer pages: a signed-in non-reviewer is refused openly (the queue is no secret).
REVIEWERS = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
ADMINS = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
# Pages for visitors (log-in, sign-up): a signed-in user is sent on to their home.
SIGNED_OUT = row(OK, MOVED, MOVED, MOVED, MOVED, MOVED)
# An order or licence: its buyer and seller organizations and platform admins see it; others get 404.
ORDER_PARTIES = row(LOGIN, OK, OK, HIDDEN, HIDDEN, OK)
ORDER_PARTIES_NOT_ADMIN = row(LOGIN, OK, OK, HIDDEN, HIDDEN, FORBIDDEN)  # an admin looks and refunds, no more
ORDER_BUYER = row(LOGIN, OK, FORBIDDEN, HIDDEN, HIDDEN, FORBIDDEN)  # paying: the buyer only

# Served to everybody whoever asks: static files, the health and readiness checks, API documents.
PUBLIC: set[tuple[str, str]] = {
    ("static", "GET"), ("healthz", "GET"), ("readyz", "GET"), ("swagger_static", "GET"),
    ("api-docs.openapi_json", "GET"), ("api-docs.openapi_swagger_ui", "GET"), ("certificates.keys", "GET"),
    ("audit_public.checkpoints", "GET"),
}

EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    # ------------------------------------------------------------ accounts
    ("accounts.index", "GET"): everyone(MOVED),  # to the catalog, or to the signed-in user's home
    ("accounts.login", "GET"): SIGNED_OUT,
    ("accounts.login", "POST"): EVERYONE,  # an empty form: 422 for everyone
    ("accounts.logout", "POST"): everyone(LOGIN),  # back to the log-in page
    ("accounts.switch_role", "POST"): row(LOGIN, MOVED, MOVED, MOVED, MOVED, MOVED),  # to a role's home
    ("accounts.signup", "GET"): SIGNED_OUT,
    ("accounts.signup", "POST"): SIGNED_OUT,
    ("accounts.organizations", "GET"): SIGNED_IN,
    ("accounts.organizations", "POST"): SIGNED_IN,
    ("accounts.organization", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts.invite", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts.set_location", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts.accept_invitation", "GET"): row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),  # unknown token
    ("accounts.accept_invitation", "POST"): row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # Owners manage members and invitations (the seller owns its organization); others are told nothing exists.
    ("accounts.revoke_invitation", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts.remove_member", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),  # the last owner: 409
    ("accounts.change_member_role", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts.leave_organization", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    # The user's own account: password, sessions.
    ("accounts.account", "GET"): SIGNED_IN,
    ("accounts.change_password", "GET"): SIGNED_IN,
    ("accounts.change_password", "POST"): SIGNED_IN,
    ("accounts.preferences", "POST"): SIGNED_IN,  # an empty form: re-shown with its errors
    ("accounts.choose_language", "POST"): everyone(MOVED),  # an empty choice: back to the catalog
    ("accounts.logout_everywhere", "POST"): everyone(LOGIN),  # every session ends: back to the log-in page
    # Links from e-mails work for whoever holds them (an unknown token is 404 for all); requests for a new link
    # answer the same to everyone, whatever the address.
    ("accounts.verify_email", "GET"): everyone(HIDDEN),
    ("accounts.confirm_email", "POST"): everyone(HIDDEN),
    ("accounts.resend_verification", "GET"): EVERYONE,
    ("accounts.resend_verification", "POST"): EVERYONE,
    ("accounts.password_reset_request", "GET"): EVERYONE,
    ("accounts.password_reset_request", "POST"): EVERYONE,
    ("accounts.password_reset", "GET"): everyone(HIDDEN),
    ("accounts.password_reset", "POST"): everyone(HIDDEN),
    ("accounts.tokens", "GET"): SIGNED_IN,
    ("accounts.tokens", "POST"): SIGNED_IN,
    ("accounts.revoke_token", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),  # the seller's token
    ("accounts_api.me", "GET"): SIGNED_IN,
    ("reference_api.licences", "GET"): EVERYONE,  # the catalog of source licences
    ("accounts_api.list_organizations", "GET"): SIGNED_IN,
    ("accounts_api.create_organization", "POST"): SIGNED_IN,
    ("accounts_api.get_organization", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts_api.invite", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("reference_api.source_lookup", "GET"): SIGNED_IN,
    ("reference_api.convert_script", "POST"): SIGNED_IN,
    ("accounts_api.list_members", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts_api.remove_member", "DELETE"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts_api.change_member_role", "PATCH"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts_api.list_invitations", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("accounts_api.revoke_invitation", "DELETE"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    # ------------------------------------------------------------ catalog (public, read-only)
    ("catalog.index", "GET"): EVERYONE,
    ("catalog_api.catalog", "GET"): EVERYONE,
    ("product.page", "GET"): EVERYONE,
    ("dcat.catalog", "GET"): EVERYONE,
    ("dcat.product", "GET"): EVERYONE,
    ("ckan.call", "GET"): EVERYONE,
    ("ckan.call", "POST"): EVERYONE,
    ("ckan.call", "PUT"): EVERYONE,  # CKAN answers its own error for a write: nothing is written
    ("ckan.call", "PATCH"): EVERYONE,
    ("ckan.call", "DELETE"): EVERYONE,
    ("ckan.call_unversioned", "GET"): EVERYONE,
    ("ckan.call_unversioned", "POST"): EVERYONE,
    ("ckan.call_unversioned", "PUT"): EVERYONE,
    ("ckan.call_unversioned", "PATCH"): EVERYONE,
    ("ckan.call_unversioned", "DELETE"): EVERYONE,
    # ------------------------------------------------------------ the seller console (draft version 2)
    ("seller.dashboard", "GET"): SIGNED_IN,
    ("seller.new_product", "GET"): SIGNED_IN,
    ("seller.new_product", "POST"): SIGNED_IN,
    ("seller.product", "GET"): SELLER_ONLY,
    ("seller.version", "GET"): SELLER_ONLY,
    ("seller.new_version", "POST"): SELLER_ONLY,
    ("seller.edit_metadata", "GET"): SELLER_ONLY,
    ("seller.edit_metadata", "POST"): SELLER_ONLY,
    ("seller.step_details", "GET"): SELLER_ONLY,
    ("seller.step_details", "POST"): SELLER_ONLY,
    ("seller.step_sources", "GET"): SELLER_ONLY,
    ("seller.step_files", "GET"): SELLER_ONLY,
    ("seller.step_dictionary", "GET"): SELLER_ONLY,
    ("seller.step_plans", "GET"): SELLER_ONLY,
    ("seller.step_compliance", "GET"): SELLER_ONLY,
    ("seller.check", "POST"): SELLER_ONLY,
    ("seller.check_result", "GET"): SELLER_ONLY,
    ("seller.submit", "POST"): SELLER_ONLY,
    ("seller.add_source", "POST"): SELLER_ONLY,
    ("seller.lookup_source", "POST"): SELLER_ONLY,
    ("seller.update_source_usage", "POST"): SELLER_ONLY,
    ("seller.remove_source", "POST"): SELLER_ONLY,
    ("seller.edit_source", "GET"): SELLER_ONLY,
    ("seller.edit_source", "POST"): SELLER_ONLY,
    ("seller.review_step", "GET"): SELLER_ONLY,
    ("seller.save_dictionary", "POST"): SELLER_ONLY,
    ("seller.infer_dictionary", "POST"): SELLER_ONLY,
    ("seller.upload", "POST"): SELLER_ONLY,
    ("seller.delete_asset", "POST"): SELLER_ONLY,
    ("seller.download_asset", "GET"): SELLER_ONLY,
    ("seller.add_plan", "POST"): SELLER_ONLY,
    ("seller.edit_plan", "GET"): SELLER_ONLY,
    ("seller.edit_plan", "POST"): SELLER_ONLY,
    ("seller.remove_plan", "POST"): SELLER_ONLY,
    ("seller.compliance", "POST"): SELLER_ONLY,
    ("listings_api.list_products", "GET"): SIGNED_IN,
    ("listings_api.create_product", "POST"): SIGNED_IN,
    ("listings_api.get_product", "GET"): SELLER_ONLY,
    ("listings_api.create_version", "POST"): SELLER_ONLY,
    ("listings_api.get_version", "GET"): SELLER_ONLY,
    ("listings_api.update_version", "PATCH"): SELLER_ONLY,
    ("listings_api.upload_asset", "POST"): SELLER_ONLY,
    ("listings_api.delete_asset", "DELETE"): SELLER_ONLY,
    ("listings_api.set_compliance", "PUT"): SELLER_ONLY,
    ("listings_api.replace_dictionary", "PUT"): SELLER_ONLY,
    ("listings_api.infer_dictionary", "POST"): SELLER_ONLY,
    ("listings_api.add_plan", "POST"): SELLER_ONLY,
    ("listings_api.update_plan", "PATCH"): SELLER_ONLY,
    ("listings_api.remove_plan", "DELETE"): SELLER_ONLY,
    ("listings_api.add_source", "POST"): SELLER_ONLY,
    ("listings_api.update_source", "PATCH"): SELLER_ONLY,
    ("listings_api.remove_source", "DELETE"): SELLER_ONLY,
    ("listings_api.submit", "POST"): SELLER_ONLY,
    ("review_api.prescreen", "POST"): SELLER_ONLY,
    ("review_api.prescreen_result", "GET"): SELLER_ONLY,
    ("review_api.seller_review", "GET"): SELLER_ONLY,
    # ------------------------------------------------------------ compliance review (a case of another product)
    ("review.queue", "GET"): REVIEWERS,
    ("review.case", "GET"): REVIEWERS,
    ("review.download_asset", "GET"): REVIEWERS,
    ("review.save_checklist", "POST"): REVIEWERS,
    ("review.claim", "POST"): REVIEWERS,
    ("review.decide", "POST"): REVIEWERS,
    ("review.release", "POST"): REVIEWERS,
    ("review.product", "GET"): REVIEWERS,
    ("review.product_status", "POST"): REVIEWERS,
    ("review_api.queue", "GET"): REVIEWERS,
    ("review_api.case", "GET"): REVIEWERS,
    ("review_api.checklist", "PUT"): REVIEWERS,
    ("review_api.claim", "POST"): REVIEWERS,
    ("review_api.decision", "POST"): REVIEWERS,
    ("review_api.release", "POST"): REVIEWERS,
    ("review_api.product_status", "POST"): REVIEWERS,
    # ------------------------------------------------------------ licences and orders (the buyer's)
    ("orders.request_licence", "GET"): SIGNED_IN,
    # Each role names its own organization: the seller may not license its own product, and the platform roles
    # have no organization to license for. The buyer holds the free plan already: the form says so (409).
    ("orders.request_licence", "POST"): row(LOGIN, OK, FORBIDDEN, MOVED, FORBIDDEN, FORBIDDEN),  # to the order
    ("licensing.download", "GET"): row(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("licensing.file_download", "GET"): row(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    ("orders.orders", "GET"): SIGNED_IN,
    ("orders.order", "GET"): ORDER_PARTIES,
    ("orders.cancel", "POST"): ORDER_PARTIES_NOT_ADMIN,
    ("orders.checkout", "GET"): ORDER_BUYER,
    ("orders.checkout", "POST"): ORDER_BUYER,
    ("orders.pay", "POST"): ORDER_BUYER,
    ("licensing.licences", "GET"): SIGNED_IN,
    ("licensing.licence", "GET"): ORDER_PARTIES,
    ("orders.renew", "POST"): ORDER_PARTIES,
    ("orders_api.create_order", "POST"): SIGNED_IN,
    ("orders_api.list_orders", "GET"): SIGNED_IN,
    # A reviewer reads a trade with a cross-boundary position through the API, to decide its evidence.
    ("orders_api.get_order", "GET"): row(LOGIN, OK, OK, HIDDEN, OK, OK),
    ("orders_api.cancel_order", "POST"): ORDER_PARTIES_NOT_ADMIN,
    ("orders_api.decide_order", "POST"): ORDER_PARTIES,
    # The cross-boundary evidence: the world's order needs none, so a party's empty form is refused as 422 (OK);
    # the buyer gives evidence, the seller (or a reviewer) decides it, anyone else is refused.
    ("orders.submit_evidence", "POST"): ORDER_BUYER,
    ("orders.decide_evidence", "POST"): row(LOGIN, FORBIDDEN, OK, HIDDEN, HIDDEN, OK),  # an admin reviews too
    # The world's order has no evidence document: whoever may see the order is told there is none (404).
    ("orders.evidence_document", "GET"): row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # A reviewer's read-only order page and the queue of evidence to confirm; the order's document as above.
    ("order_review.queue", "GET"): REVIEWERS,
    ("order_review.order", "GET"): REVIEWERS,
    ("order_review.decide_evidence", "POST"): REVIEWERS,
    ("order_review.evidence_document", "GET"): row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, HIDDEN),
    ("orders_api.preview_cross_boundary", "POST"): SIGNED_IN,
    ("orders_api.submit_evidence", "POST"): ORDER_PARTIES,
    ("orders_api.decide_evidence", "POST"): row(LOGIN, OK, OK, HIDDEN, OK, OK),  # a reviewer decides, as on pages
    ("orders_api.refund_order", "POST"): ORDER_PARTIES,
    ("licensing_api.list_licences", "GET"): SIGNED_IN,
    ("licensing_api.get_licence", "GET"): ORDER_PARTIES,
    ("licensing_api.verify_certificate", "POST"): EVERYONE,
    ("certificates.show", "GET"): EVERYONE,
    ("certificates.download", "GET"): EVERYONE,
    ("certificates.policy", "GET"): EVERYONE,
    ("licensing_api.get_voucher", "GET"): ORDER_PARTIES,
    ("vouchers.show", "GET"): ORDER_PARTIES,
    ("vouchers.download", "GET"): ORDER_PARTIES,
    ("certificates.verify", "GET"): EVERYONE,
    ("certificates.verify", "POST"): EVERYONE,
    # ------------------------------------------------------------ public notices and registrations
    ("notices.index", "GET"): EVERYONE,
    ("notices.feed", "GET"): EVERYONE,
    ("notices.show", "GET"): EVERYONE,
    # Objecting: members of another organization (an empty form, or the ended notice: 422/409); the seller and the
    # platform roles have no other organization to object for.
    ("notices.object_to", "POST"): row(LOGIN, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN),
    ("notices.decide", "POST"): row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),  # decided already: 409
    ("notices.evidence", "GET"): row(LOGIN, HIDDEN, HIDDEN, OK, OK, OK),  # the objector and reviewers
    ("notices.registration_page", "GET"): EVERYONE,
    ("notices.registration_document", "GET"): EVERYONE,
    ("notices.ask_renewal", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),  # the holder's owner: 409 early
    ("notices.confirm_renewal", "POST"): row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),  # nothing asked: 409
    ("notices_api.list_notices", "GET"): EVERYONE,
    ("notices_api.get_notice", "GET"): EVERYONE,
    ("notices_api.get_registration", "GET"): EVERYONE,
    ("notices_api.object_to", "POST"): row(LOGIN, OK, OK, OK, OK, OK),  # an empty body: 422 before anything
    ("notices_api.decide_objection", "POST"): row(LOGIN, OK, OK, OK, OK, OK),  # an empty body: 422
    ("notices_api.attach_evidence", "PUT"): row(LOGIN, OK, OK, OK, OK, OK),  # no file name: 422 before anything
    # Proven by its signature, never by a user; 404 while Stripe is not the configured provider (as in tests).
    ("stripe_webhooks.stripe_webhook", "POST"): everyone(HIDDEN),
    # ------------------------------------------------------------ the seller organization's sales
    ("sales.requests", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("sales.sales", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("sales.order", "GET"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("sales.decide", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("sales.refund", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    ("finance.statements_now", "GET"): SELLER_ONLY,
    ("finance.statement", "GET"): SELLER_ONLY,
    ("finance.statement_print", "GET"): SELLER_ONLY,
    ("finance.statement_csv", "GET"): SELLER_ONLY,
    ("finance_api.balances", "GET"): SELLER_ONLY,
    ("finance_api.statement", "GET"): SELLER_ONLY,
    ("payouts.payouts", "GET"): SELLER_ONLY,
    ("payouts.start_stripe", "POST"): SELLER_ONLY,  # 409 for the owner: payouts are simulated in the tests
    ("payouts.stripe_return", "GET"): SELLER_ONLY,
    ("payouts.stripe_refresh", "GET"): SELLER_ONLY,
    ("payouts_api.list_payouts", "GET"): SELLER_ONLY,
    # ------------------------------------------------------------ platform admin
    ("sales.admin_orders", "GET"): ADMINS,
    ("sales.admin_refund", "POST"): ADMINS,
    ("payment_anomalies.anomalies", "GET"): ADMINS,
    ("payment_anomalies.refund", "POST"): ADMINS,
    ("finance.platform", "GET"): ADMINS,
    ("finance.set_fee", "POST"): ADMINS,
    ("finance_api.set_fee", "PUT"): ADMINS,
    ("admin.audit", "GET"): ADMINS,
    ("admin.audit_export", "GET"): ADMINS,
    ("admin.products", "GET"): ADMINS,
    ("admin.change_status", "GET"): ADMINS,
    ("admin.apply_status", "POST"): ADMINS,
    ("admin.overview", "GET"): ADMINS,
    ("jobs_admin.index", "GET"): ADMINS,
    ("jobs_admin.retry", "POST"): ADMINS,
    ("audit_api.verify", "GET"): ADMINS,
    # ------------------------------------------------------------ the user's own notifications (the seller's)
    ("notifications.index", "GET"): SIGNED_IN,
    ("notifications.read_all", "POST"): SIGNED_IN,
    ("notifications.open_one", "POST"): row(LOGIN, HIDDEN, MOVED, HIDDEN, HIDDEN, HIDDEN),  # follows its link
    ("notifications_api.list_notifications", "GET"): SIGNED_IN,
    ("notifications_api.mark_read", "POST"): SIGNED_IN,
    # ------------------------------------------------------------ webhook endpoints: the owning organization's owners
    ("webhooks.endpoints", "GET"): SELLER_ONLY,
    ("webhooks.create", "POST"): SELLER_ONLY,  # an empty form: 400 for the owner
    ("webhooks.endpoint", "GET"): SELLER_ONLY,
    ("webhooks.roll", "POST"): SELLER_ONLY,
    ("webhooks.enable", "POST"): SELLER_ONLY,
    ("webhooks.disable", "POST"): SELLER_ONLY,
    ("webhooks.delete", "POST"): row(LOGIN, HIDDEN, MOVED, HIDDEN, HIDDEN, HIDDEN),  # to the organization's list
    ("webhooks.replay", "POST"): SELLER_ONLY,
    ("webhooks_api.list_endpoints", "GET"): SELLER_ONLY,
    ("webhooks_api.create_endpoint", "POST"): SELLER_ONLY,
    ("webhooks_api.get_endpoint", "GET"): SELLER_ONLY,
    ("webhooks_api.change_endpoint", "PATCH"): SELLER_ONLY,
    ("webhooks_api.delete_endpoint", "DELETE"): SELLER_ONLY,
    ("webhooks_api.roll_secret", "POST"): SELLER_ONLY,
    ("webhooks_api.list_deliveries", "GET"): SELLER_ONLY,
    ("webhooks_api.replay_delivery", "POST"): SELLER_ONLY,
    # ------------------------------------------------------------ data service providers: the stranger's organization
    # is an approved provider the seller asked for an assessment; its report pages and directory are public.
    ("assessments.directory", "GET"): EVERYONE,
    ("assessments.provider_page", "GET"): EVERYONE,
    ("assessments.report", "GET"): EVERYONE,
    ("assessments.report_json", "GET"): EVERYONE,
    ("assessments_api.list_providers", "GET"): EVERYONE,
    ("assessments_api.get_provider", "GET"): EVERYONE,
    ("assessments_api.get_report", "GET"): EVERYONE,
    ("assessments.application", "GET"): SELLER_ONLY,
    ("assessments.apply", "POST"): SELLER_ONLY,  # an empty form: 422 for the owner
    ("assessments.seller_requests", "GET"): SELLER_ONLY,
    ("assessments.request_assessment", "POST"): SELLER_ONLY,  # an empty form: 422
    ("assessments.admin_applications", "GET"): ADMINS,
    ("assessments.admin_decide", "POST"): ADMINS,  # approving an approved provider: 409 for the admin
    ("assessments.admin_document", "GET"): row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN),  # none
    ("assessments.provider_requests", "GET"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments.work", "GET"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments.decide", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments.sign", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not accepted yet: 409
    ("assessments.download", "GET"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments.save_draft", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not accepted yet: 409
    ("assessments.withdraw", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not signed: 409
    # The provider journey in the API: the stranger's organization is the provider (applying again: 409).
    ("assessments_api.apply", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments_api.request_assessment", "POST"): row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),  # asked: 409
    ("assessments_api.decide", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("assessments_api.save_draft", "PUT"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not accepted: 409
    ("assessments_api.sign", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not accepted: 409
    ("assessments_api.withdraw", "POST"): row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN),  # not signed: 409
    # The seller's side of an assessment fee (the request asked of the stranger has none to pay: 409).
    ("assessment_fees.pay", "POST"): SELLER_ONLY,
    ("assessment_fees.withdraw", "POST"): SELLER_ONLY,
}

# URL arguments that differ by route: the world's name of the value to use instead of the default.
ARG_OVERRIDES: dict[str, dict[str, str]] = {
    "licensing.download": {"asset_id": "listed_deliverable_id"},
    "licensing.file_download": {"file_uuid": "listed_deliverable_uuid"},
    "orders.request_licence": {"plan_id": "listed_plan_id"},
    "review.download_asset": {"asset_id": "case_asset_id"},
    "review.product": {"product_id": "listed_product_id"},
    "review.product_status": {"product_id": "listed_product_id"},
    "admin.change_status": {"product_id": "listed_product_id", "name": "suspend_action"},
    "admin.apply_status": {"product_id": "listed_product_id", "name": "suspend_action"},
    "review_api.product_status": {"product_id": "listed_product_id"},
    "review_api.seller_review": {"product_id": "queued_product_id", "number": "queued_number"},
    "review_api.prescreen_result": {"product_id": "queued_product_id", "number": "queued_number"},
    # Organization pages name the organization by ``slug``, as product pages name the product.
    "accounts.organization": {"slug": "org_slug"},
    "accounts.invite": {"slug": "org_slug"},
    "accounts.set_location": {"slug": "org_slug"},
    "accounts_api.get_organization": {"slug": "org_slug"},
    "finance_api.balances": {"slug": "org_slug"},
    "finance_api.statement": {"slug": "org_slug"},
    "payouts_api.list_payouts": {"slug": "org_slug"},
    "finance_api.set_fee": {"slug": "org_slug"},
    "accounts_api.invite": {"slug": "org_slug"},
    "accounts.revoke_invitation": {"slug": "org_slug"},
    "accounts.remove_member": {"slug": "org_slug"},
    "accounts.change_member_role": {"slug": "org_slug"},
    "accounts.leave_organization": {"slug": "org_slug"},
    "accounts_api.list_members": {"slug": "org_slug"},
    "accounts_api.remove_member": {"slug": "org_slug"},
    "accounts_api.change_member_role": {"slug": "org_slug"},
    "accounts_api.list_invitations": {"slug": "org_slug"},
    "accounts_api.revoke_invitation": {"slug": "org_slug"},
    "assessments.provider_page": {"slug": "provider_slug"},
    "assessments_api.get_provider": {"slug": "provider_slug"},
    "assessments.report": {"number": "signed_assessment"},
    "assessments.report_json": {"number": "signed_assessment"},
    "assessments_api.get_report": {"number": "signed_assessment"},
    "assessments.admin_decide": {"decision": "approve_decision"},
    "assessments.provider_requests": {"org_slug": "provider_slug"},
    "assessments.work": {"org_slug": "provider_slug", "number": "open_assessment"},
    "assessments.decide": {"org_slug": "provider_slug", "number": "open_assessment", "decision": "accept_decision"},
    "assessments.sign": {"org_slug": "provider_slug", "number": "open_assessment"},
    "assessment_fees.pay": {"number": "open_assessment"},
    "assessment_fees.withdraw": {"number": "open_assessment"},
    "assessments.download": {"org_slug": "provider_slug", "number": "open_assessment",
                             "asset_id": "assessed_asset_id"},
    "assessments.save_draft": {"org_slug": "provider_slug", "number": "open_assessment"},
    "assessments.withdraw": {"org_slug": "provider_slug", "number": "open_assessment"},
    "assessments_api.apply": {"slug": "provider_slug"},
    "assessments_api.decide": {"number": "open_assessment"},
    "assessments_api.save_draft": {"number": "open_assessment"},
    "assessments_api.sign": {"number": "open_assessment"},
    "assessments_api.withdraw": {"number": "open_assessment"},
}

# Bodies (and query strings) that pass validation where an empty one would stop before the access decision;
# a callable gets the world and the role. Everything else is posted empty.
BODIES = {
    "orders.request_licence": lambda world, role: {
        "organization_id": world.org_of.get(role, ""), "accept_terms": "y", "purpose": "research",
        "sector": "academia", "territory": "hong_kong", "expected_users": "2",
        "description": "A study of the authorization table."},
    "accounts_api.invite": lambda world, role: {"email": "invitee@authz.example", "role": "member"},
    "accounts_api.create_organization": lambda world, role: {"name": f"Org of {role}"},
    "reference_api.convert_script": lambda world, role: {"text": "台风信号", "to": "zh-Hant-HK"},
    "webhooks_api.create_endpoint": lambda world, role: {
        "organization_id": world.org_of["seller"], "url": "http://127.0.0.1:9/hook", "event_types": ["licence.ending"]},
    "webhooks_api.change_endpoint": lambda world, role: {"enabled": False},
    "assessments_api.apply": lambda world, role: {"services": ["quality"], "qualifications": "Auditors."},
    "assessments_api.request_assessment": lambda world, role: {
        "product_id": world.named["queued_product_id"], "version": world.named["queued_number"],
        "provider": world.named["provider_slug"], "kind": "compliance"},
    "assessments_api.decide": lambda world, role: {"decision": "accept"},
    "assessments_api.save_draft": lambda world, role: {"report": {"summary": "Half done."}},
    "assessments_api.sign": lambda world, role: {},
    "assessments_api.withdraw": lambda world, role: {"reason": "Superseded."},
    "assessments.withdraw": lambda world, role: {"withdraw-reason": "Superseded."},
}
# Query strings; a callable gets the world and the role.
QUERIES = {"reference_api.source_lookup": "q=hk-td-sm_4-traffic-data-strategic-major-roads",
           "webhooks_api.list_endpoints": lambda world, role: f"organization_id={world.org_of['seller']}"}

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app) -> list[tuple[str, str, object]]:
    """Every (endpoint, method, rule) the app answers, HEAD and OPTIONS aside (Flask derives them)."""
    return sorted(((rule.endpoint, method, rule) for rule in app.url_map.iter_rules()
                   for method in rule.methods - IGNORED_METHODS), key=lambda r: (r[2].rule, r[1]))


def expected(endpoint: str, method: str) -> dict[str, str] | None:
    if (endpoint, method) in PUBLIC:
        return EVERYONE
    return EXPECTED.get((endpoint, method))


def unlisted(served: list[tuple[str, str, object]]) -> list[str]:
    """A message for each served route that has no row, naming it and saying where to add one."""
    return [f"new route {method} {rule.rule} (endpoint {endpoint!r}) has no row in the authorization table: "
            f"add ({endpoint!r}, {method!r}) to EXPECTED in tests/test_authorization.py"
            for endpoint, method, rule in served if expected(endpoint, method) is None]


def test_every_route_has_a_row_in_the_authorization_table(app):
    missing = unlisted(routes(app))
    assert not missing, "\n".join(missing)


def test_a_route_without_a_row_is_reported_by_name():
    from werkzeug.routing import Rule

    rule = Rule("/members/<int:member_id>/remove", endpoint="accounts.archive_member", methods=["POST"])
    assert unlisted([("accounts.archive_member", "POST", rule), ("healthz", "GET", Rule("/healthz"))]) == [
        "new route POST /members/<int:member_id>/remove (endpoint 'accounts.archive_member') has no row in the "
        "authorization table: add ('accounts.archive_member', 'POST') to EXPECTED in tests/test_authorization.py"]


def test_the_authorization_table_names_no_route_that_is_gone(app):
    served = {(endpoint, method) for endpoint, method, _ in routes(app)}
    stale = sorted(set(EXPECTED) - served) + sorted(PUBLIC - served)
    assert not stale, f"rows for routes the app no longer serves: {stale}"


# ---------------------------------------------------------------- the world


@dataclass
class World:
    args: dict[str, object]          # URL argument name -> value
    named: dict[str, object]         # other values ARG_OVERRIDES may name
    org_of: dict[str, int]           # role -> the organization it acts for (platform roles have none)


def build_world(session, storage) -> tuple[World, dict]:
    seller = factories.user(session, email="seller@authz.example", organization="Owning Org", name="Sam Seller")
    buyer = factories.user(session, email="buyer@authz.example", organization="Buying Org", name="Bea Buyer")
    stranger = factories.user(session, email="stranger@authz.example", organization="Other Org", name="Stan Other")
    reviewer = factories.user(session, email="reviewer@authz.example", role=PlatformRole.REVIEWER, name="Rae Reviewer")
    admin = factories.user(session, email="admin@authz.example", role=PlatformRole.ADMIN, name="Ade Admin")
    seller_org, buyer_org = seller.memberships[0].organization, buyer.memberships[0].organization

    # A listed product with a free plan, licensed by the buyer; then a draft version 2 to edit.
    listed = factories.listed_product(session, storage, seller, reviewer, title="Listed roads",
                                      plans=[{"name": "Open", "kind": "free", "amount": 0, "duration_days": None},
                                             {"name": "Paid", "kind": "one_time", "amount": 10000}])
    listed_version = listed.listed_version
    free_plan = next(p for p in listed_version.plans if p.kind == "free")
    order = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=free_plan.id, organization_id=buyer_org.id, accept_terms=True, idempotency_key="authz-1",
        scenario={"purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 2,
                  "description": "A study of the authorization table."}))
    assert order.licence is not None
    # A paid order of the same buyer, settled: its transaction voucher.
    paid = orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=next(p for p in listed_version.plans if p.name == "Paid").id, organization_id=buyer_org.id,
        accept_terms=True, idempotency_key="authz-2",
        scenario={"purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 2,
                  "description": "A study of the authorization table."}))
    orders.start_checkout(session, buyer, paid, SimulatedPayments(), success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, paid, "4242424242424242")
    assert paid.voucher is not None
    draft = listings.new_version(session, seller, listed, "2.0", "A draft to edit.")

    # Another product waiting in the review queue.
    queued = factories.product(session, seller, title="Queued roads")
    factories.complete_version(session, storage, seller, queued.latest_version)
    case = review.submit_version(session, seller, queued.latest_version, storage).case
    from marketplace.review.listing_checks import request_check

    request_check(session, seller, queued.latest_version)  # "check my listing" asked: its result can be read

    # A payment that paid no order, for the admin to refund.
    anomaly = record_anomaly(session, provider="simulated", payment_reference="sim_pay_authz", order=order,
                             kind=AnomalyKind.SECOND_PAYMENT, detail="A second payment.", amount=100,
                             currency="HKD")

    note = notify_organization(session, seller_org, "Hello", "A notification for the seller.", "/seller/")[0]
    token, _ = accounts.create_api_token(session, seller, "authz")
    invitation, _ = accounts.invite_member(session, seller, seller_org, "invitee@authz.example")
    failed = FailedJob(task="orders.expire", args=[], error="OperationalError: database is locked")
    session.add(failed)
    session.flush()

    # A webhook endpoint of the seller's organization with one delivery (to a port nobody listens on).
    hook = webhooks.create_endpoint(session, seller, seller_org.id, "http://127.0.0.1:9/hook", ["licence.ending"])
    event = OrganizationEvent(organization_id=seller_org.id, type="licence.ending", key="authz", data={})
    session.add(event)
    session.flush()
    delivery = WebhookDelivery(endpoint_id=hook.endpoint.id, event_id=event.id, status=DeliveryStatus.FAILED,
                               next_attempt_at=None, retry_until=event.created_at)
    session.add(delivery)
    session.flush()

    # The stranger's organization is an approved data service provider: it signed a quality report of the listed
    # version, and the seller asked it for a compliance assessment of the queued one.
    from marketplace.assessments import reports as assessment_reports
    from marketplace.assessments import services as assessments

    provider = assessments.apply_as_provider(session, stranger, stranger.memberships[0].organization,
                                             services=["compliance", "quality"], qualifications="Auditors.")
    assessments.decide_application(session, admin, provider, approve=True)
    signed = assessments.request_assessment(session, seller, listed_version, provider, "quality")
    assessments.decide_request(session, stranger, signed, accept=True)
    assessment_reports.sign_report(session, stranger, signed, {
        "completeness_percent": "100", "records_examined": "3", "timeliness_lag_days": "0", "summary": "Fine.",
        "accuracy_checks": [{"check": "Ranges", "result": "passed", "detail": "3 of 3"}]})
    asked = assessments.request_assessment(session, seller, queued.latest_version, provider, "compliance")
    # The listed product's public notice: the stranger objected with evidence, a reviewer dismissed it, the notice
    # ended and the registration certificate was issued.
    from marketplace.db import utcnow
    from marketplace.review import public_notice

    notice = public_notice.latest_notice(session, listed_version.registration_number)
    objection = public_notice.object_to(session, stranger, notice, stranger.memberships[0].organization,
                                        "The source forbids resale.", ("letter.txt", io.BytesIO(b"a letter")),
                                        storage)
    public_notice.decide_objection(session, reviewer, objection, "dismiss", "Resale is not offered.")
    notice.closes_at = utcnow()
    assert public_notice.end_notice(session, notice)

    deliverable = next(a for a in listed_version.assets if a.kind == "deliverable")
    world = World(
        args={
            "product_id": listed.id, "number": draft.number, "source_id": draft.sources[0].id,
            "plan_id": draft.plans[0].id, "asset_id": draft.assets[0].id, "case_id": case.id,
            "order_id": order.id, "licence_id": order.licence.id, "notification_id": note.id,
            "slug": listed.slug, "org_slug": seller_org.slug, "serial": order.licence.serial,
            "token_id": token.id, "token": "no-such-invitation-token", "name": "package_list",
            "filename": "app.css", "invitation_id": invitation.id, "user_id": seller.id, "anomaly_id": anomaly.id,
            "failed_id": failed.id, "month": "2026-01", "organization_id": seller_org.id,
            "endpoint_id": hook.endpoint.id, "delivery_id": delivery.id, "voucher_number": paid.voucher.number,
            "provider_id": provider.id,
            "notice_id": notice.id, "objection_id": objection.id,
            "registration_number": listed_version.registration_number,
        },
        named={"listed_deliverable_id": deliverable.id, "listed_deliverable_uuid": deliverable.uuid,
               "listed_plan_id": free_plan.id,
               "case_asset_id": case.version.assets[0].id, "listed_product_id": listed.id,
               "queued_product_id": queued.id, "queued_number": queued.latest_version.number,
               "org_slug": seller_org.slug, "suspend_action": "suspend",
               "provider_slug": stranger.memberships[0].organization.slug, "signed_assessment": signed.number,
               "open_assessment": asked.number, "assessed_asset_id": queued.latest_version.assets[0].id,
               "approve_decision": "approve", "accept_decision": "accept"},
        org_of={"buyer": buyer_org.id, "seller": seller_org.id,
                "stranger": stranger.memberships[0].organization_id},
    )
    users = {"buyer": buyer, "seller": seller, "stranger": stranger, "reviewer": reviewer, "admin": admin}
    return world, users


def url_for_rule(rule, endpoint: str, world: World) -> str:
    values = dict(rule.defaults or {})  # e.g. the format of /catalog.jsonld and /catalog.ttl
    for name in rule.arguments - values.keys():
        override = ARG_OVERRIDES.get(endpoint, {}).get(name)
        values[name] = world.named[override] if override else world.args[name]
    if endpoint == "swagger_static":
        values["filename"] = "swagger-ui.css"
    _, path = rule.build(values, append_unknown=False)
    return path


def outcome(response, path: str) -> str:
    """What an answer means for access: OK, LOGIN, FORBIDDEN, HIDDEN, MOVED, or the 5xx that must not be."""
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status == 401:
        return LOGIN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", "")).path
        if target == "/login":
            return LOGIN
        area = lambda p: p.strip("/").split("/")[0]  # noqa: E731
        return OK if area(target) == area(path) else MOVED
    return OK


class RoleClient:
    """A test client signed in as one role (a session cookie for pages, a Bearer token for the API); the cookie
    is put back after every request so a log-out or a rotated session does not carry over to the next route."""

    def __init__(self, app, session, user):
        self.app, self.client = app, app.test_client()
        self.headers = {}
        if user is not None:
            with app.app_context():
                response = self.client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
            assert response.status_code in (302, 303), f"{user.email} could not log in"
            self.headers = {"Authorization": f"Bearer {factories.api_token(session, user, 'authz client')}"}
        names = (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
        self.cookies = {name: (cookie.value if (cookie := self.client.get_cookie(name)) else None) for name in names}

    def request(self, method: str, path: str, fields: dict | None = None, query: str = ""):
        """``fields`` go as JSON to the API and as a form to pages (empty by default); GET and DELETE send none."""
        fields = fields or {}
        body = {"json": fields} if path.startswith("/api/") else {"data": fields}
        if method in ("GET", "DELETE"):
            body = {}
        if query:
            body["query_string"] = query
        # Its own app context, as in a server: a fresh ``g`` (Flask-Login keeps the user there) and session.
        with self.app.app_context():
            response = self.client.open(path, method=method, headers=self.headers, **body)
        for name, value in self.cookies.items():
            self.client.delete_cookie(name)
            if value is not None:
                self.client.set_cookie(name, value)
        return response


def test_every_route_answers_each_role_as_the_table_says(app, session, storage, _transaction):
    world, users = build_world(session, storage)
    session.commit()
    clients = {role: RoleClient(app, session, users.get(role)) for role in ROLES}
    session.commit()
    connection = _transaction
    observed: dict[tuple[str, str], dict[str, str]] = {}
    mismatches = []
    for endpoint, method, rule in routes(app):
        want = expected(endpoint, method)
        if want is None:
            continue  # reported by test_every_route_has_a_row_in_the_authorization_table
        path = url_for_rule(rule, endpoint, world)
        for role in ROLES:
            db.session.close()
            savepoint = connection.begin_nested()
            try:
                fields = BODIES[endpoint](world, role) if endpoint in BODIES else None
                query = QUERIES.get(endpoint, "")
                response = clients[role].request(method, path, fields, query(world, role) if callable(query) else query)
                got = outcome(response, path)
            finally:
                db.session.close()
                savepoint.rollback()
            observed.setdefault((endpoint, method), {})[role] = got
            if got != want[role]:
                mismatches.append(f"{method} {path} ({endpoint}) as {role}: expected {want[role]}, got {got}")
    if os.environ.get("AUTHZ_DUMP"):
        for key, answers in observed.items():
            print(key, tuple(answers[r] for r in ROLES))
    assert not mismatches, f"{len(mismatches)} answers differ from the authorization table:\n" + "\n".join(mismatches)


# ---------------------------------------------------------------- the access module's rules, one by one


def test_only_an_owner_manages_an_organization_and_a_stranger_is_told_it_does_not_exist(session, seller, seller_org):
    member = factories.user(session)
    session.add(Membership(user_id=member.id, organization_id=seller_org.id, role=MemberRole.MEMBER))
    stranger = factories.user(session, organization="Elsewhere Ltd")
    session.flush()
    require(seller, Permission.MANAGE_ORGANIZATION, seller_org)
    with pytest.raises(Forbidden, match="Only an owner"):
        require(member, Permission.MANAGE_ORGANIZATION, seller_org)
    with pytest.raises(NotFound):
        require(stranger, Permission.MANAGE_ORGANIZATION, seller_org)


def test_nobody_signed_in_is_asked_to_sign_in_and_an_inactive_account_too(session, seller, seller_org):
    assert isinstance(refusal(None, Permission.VIEW_ORGANIZATION, seller_org), Unauthorized)
    assert isinstance(refusal(AnonymousUserMixin(), Permission.REVIEW), Unauthorized)
    assert permits(seller, Permission.VIEW_ORGANIZATION, seller_org)
    seller.active = False
    assert not permits(seller, Permission.VIEW_ORGANIZATION, seller_org)


def test_a_reviewer_may_not_review_a_product_of_their_own_organization(session, storage, seller, reviewer):

    product = factories.product(session, seller)
    assert permits(reviewer, Permission.REVIEW, product)
    session.add(Membership(user_id=reviewer.id, organization_id=product.organization_id, role=MemberRole.MEMBER))
    session.flush()
    assert not permits(reviewer, Permission.REVIEW, product)
    assert not permits(seller, Permission.REVIEW)
