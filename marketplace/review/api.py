"""Compliance review in the JSON API: the reviewer's queue and cases, product status, the seller's pre-screen."""
from __future__ import annotations

from flask import request, url_for
from flask_smorest import Blueprint

from marketplace.accounts.auth import require_api_user
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.listings import services as listings
from marketplace.listings.schemas import ProductOutSchema
from marketplace.review import listing_checks, services
from marketplace.review.schemas import (
    CaseOutSchema,
    ChecklistInSchema,
    DecisionInSchema,
    ListingCheckSchema,
    ProductStatusInSchema,
    QueuePageSchema,
    QueueQuerySchema,
    SellerReviewSchema,
)

blp = Blueprint("review_api", __name__, description="Compliance review: queue, checklist, decisions, pre-screen")
CASE = "/review/cases/<int:case_id>"


@blp.before_request
def _identify_first():
    """Who is asking, before any body is read: a reviewer for the review endpoints, a member of the seller
    organization for a version's own review and pre-screen (the services ask again before they act)."""
    user = require_api_user()
    args = request.view_args or {}
    if "number" in args:
        listings.version_for_seller(db.session, user, args["product_id"], args["number"])
    else:
        services.require_reviewer(user)


def _case(case_id: int):
    return services.case_for_reviewer(db.session, require_api_user(), case_id)


@blp.route("/review/cases")
@blp.arguments(QueueQuerySchema, location="query")
@blp.response(200, QueuePageSchema)
def queue(query):
    """Review cases, oldest submission first; filter by status, seller organization, category, pre-screen outcome."""
    user = require_api_user()
    filters = services.QueueFilters(status=query.get("status"), organization_slug=query.get("organization"),
                                    category=query.get("category"), prescreen=query.get("prescreen"))
    page, per_page = query["page"], query["per_page"]
    items, total = services.review_queue(db.session, user, filters, limit=per_page, offset=(page - 1) * per_page)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route(CASE)
@blp.response(200, CaseOutSchema)
def case(case_id):
    """One case: the version's content, every round with its pre-screen, checklist answers and decision."""
    return _case(case_id)


@blp.route(f"{CASE}/claim", methods=["POST"])
@blp.response(200, CaseOutSchema)
def claim(case_id):
    """Claim a submitted case (409 if it is not waiting for a reviewer)."""
    found = _case(case_id)
    services.claim_case(db.session, require_api_user(), found)
    return found


@blp.route(f"{CASE}/release", methods=["POST"])
@blp.response(200, CaseOutSchema)
def release(case_id):
    """Put a claimed case back on the queue (its reviewer or an admin)."""
    found = _case(case_id)
    services.release_case(db.session, require_api_user(), found)
    return found


@blp.route(f"{CASE}/checklist", methods=["PUT"])
@blp.arguments(ChecklistInSchema)
@blp.response(200, CaseOutSchema)
def checklist(data, case_id):
    """Save checklist answers for the current round (a failed item needs a comment)."""
    found = _case(case_id)
    services.save_checklist(db.session, require_api_user(), found, data["answers"])
    return found


@blp.route(f"{CASE}/decision", methods=["POST"])
@blp.arguments(DecisionInSchema)
@blp.response(200, CaseOutSchema)
def decision(data, case_id):
    """Approve (lists the version with a registration number), request changes, or reject, with a comment."""
    found = _case(case_id)
    services.decide(db.session, require_api_user(), found, data["decision"], data.get("comment", ""),
                    data.get("answers"))
    return found


@blp.route("/review/products/<int:product_id>/status", methods=["POST"])
@blp.arguments(ProductStatusInSchema)
@blp.response(200, ProductOutSchema)
def product_status(data, product_id):
    """Suspend (hidden, licences kept), reinstate or delist a product, with a reason the seller is told."""
    user = require_api_user()
    product = services.product_for_reviewer(db.session, user, product_id)
    services.change_product_status(db.session, user, product, data["action"], data["reason"])
    return product


VERSION = "/products/<int:product_id>/versions/<int:number>"


def _check_out(check, product_id: int, number: int) -> dict:
    return {"check": check, "result_url": url_for("review_api.prescreen_result", product_id=product_id,
                                                  number=number)}


@blp.route(f"{VERSION}/prescreen", methods=["POST"], endpoint="prescreen")
@blp.response(202, ListingCheckSchema, headers={"Location": {"description": "The check's result (GET).",
                                                             "schema": {"type": "string"}}})
def prescreen(product_id, number):
    """Check my listing: queue the automated pre-screen of a version (before or after submitting it), to run as a
    job; while one is queued or running, asking again is the same check. 202 with the result's address."""
    user = require_api_user()
    version = listings.version_for_seller(db.session, user, product_id, number)
    check = listing_checks.request_check(db.session, user, version)[0]
    out = _check_out(check, product_id, number)
    return out, 202, {"Location": out["result_url"]}


@blp.route(f"{VERSION}/prescreen", endpoint="prescreen_result")
@blp.response(200, ListingCheckSchema)
def prescreen_result(product_id, number):
    """The version's latest "check my listing": its state, and its report once done (404 if never asked)."""
    version = listings.version_for_seller(db.session, require_api_user(), product_id, number)
    check = listing_checks.latest_check(db.session, version)
    if check is None:
        raise NotFound("This version has not been checked: POST to this address to check it.")
    return _check_out(check, product_id, number)


@blp.route(f"{VERSION}/review")
@blp.response(200, SellerReviewSchema)
def seller_review(product_id, number):
    """The review of a version as its seller sees it: every round, the reviewer's comments and the decision."""
    version = listings.version_for_seller(db.session, require_api_user(), product_id, number)
    found = services.case_for_version(db.session, version)
    if found is None:
        raise NotFound("This version has not been submitted for review.")
    return found
