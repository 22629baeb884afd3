"""Review's part of the seller's workspace: "check my listing" (the pre-screen queued as a job, its stored result
shown), submitting a version for compliance review (page and API), and the review case the workspace shows.

Review builds on listings, never the reverse: these routes join the listings blueprints (so their addresses and
names stay the seller's: ``seller.check``, ``seller.submit``, ``listings_api.submit``), and the case joins the
workspace through ``WORKSPACE_EXTRAS``. ``marketplace.routes`` imports this module before it registers the
blueprints.
"""
from __future__ import annotations

from flask import current_app, redirect, request, url_for
from flask_babel import gettext as _

from marketplace.accounts.auth import require_api_user
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.listings import api as listings_api
from marketplace.listings import views as listings_views
from marketplace.listings.models import ProductVersion
from marketplace.listings.schemas import SubmitInSchema, VersionOutSchema
from marketplace.listings.services import version_for_seller
from marketplace.listings.view_helpers import (
    WORKSPACE_EXTRAS,
    acting_user,
    done,
    load_version,
    refused,
    render_workspace,
)
from marketplace.review import listing_checks
from marketplace.review import services as review

VERSION = "/products/<int:product_id>/versions/<int:number>"
bp, blp = listings_views.bp, listings_api.blp


def _storage():
    return current_app.extensions["storage"]


def review_case(version: ProductVersion) -> dict:
    """The workspace's view of review: the version's case, if it was ever submitted."""
    return {"review_case": review.case_for_version(db.session, version)}


WORKSPACE_EXTRAS.append(review_case)


CHECK_REFRESH_SECONDS = 3  # how soon a page showing a pending check asks again (the Refresh header; no script)


@bp.post(f"{VERSION}/check", endpoint="check")
def check(product_id: int, number: int):
    """Check my listing: queue the compliance pre-screen of the version (once while one is pending) and show its
    page, which follows the check until its findings are in."""
    version = load_version(product_id, number)
    listing_checks.request_check(db.session, acting_user(), version)
    return redirect(url_for("seller.check_result", product_id=product_id, number=number) + "#prescreen")


@bp.get(f"{VERSION}/check", endpoint="check_result")
def check_result(product_id: int, number: int):
    """The version's latest check: "checking…" while it is queued or running (the page asks again by itself), its
    findings once done."""
    version = load_version(product_id, number)
    found = listing_checks.latest_check(db.session, version)
    html, status = render_workspace(version.product, version, prescreen=listing_checks.report_of(found),
                                    listing_check=found, step="review")
    if found is not None and found.pending:
        return html, status, {"Refresh": str(CHECK_REFRESH_SECONDS)}
    return html, status


@bp.post(f"{VERSION}/submit")
def submit(product_id: int, number: int):
    version = load_version(product_id, number)
    try:
        review.submit_version(db.session, acting_user(), version, _storage(), note=request.form.get("note", ""))
    except DomainError as exc:
        note_errors = (exc.errors or {}).get("note") if isinstance(exc.errors, dict) else None
        if note_errors:  # said beside the note, which is shown again as typed
            db.session.rollback()
            return render_workspace(version.product, version, status=exc.status, note_errors=note_errors,
                                    submit_error=exc.message)
        return refused(version.product, version, exc)
    return done(version, _("Version %(label)s submitted for compliance review. It is read-only now.",
                           label=version.label))


@blp.route(f"{VERSION}/submit", methods=["POST"], endpoint="submit")
@blp.arguments(SubmitInSchema, required=False)
@blp.response(200, VersionOutSchema)
def submit_api(data, product_id, number):
    """Submit a complete draft for compliance review; the pre-screen runs and a review round opens
    (422 lists what is missing; 409 if the version is not a draft or changes-requested)."""
    version = version_for_seller(db.session, require_api_user(), product_id, number)
    review.submit_version(db.session, require_api_user(), version, _storage(), note=(data or {}).get("note", ""))
    return version

