"""The compliance reviewer's pages: the queue, a case (content, pre-screen, checklist, decision, history), the
reviewer's file downloads, and a product's live status (suspend, reinstate, delist).

Each view parses, calls one review service and redirects with a flash (the request commits at its end). When the
service refuses, the same page is rendered again with the status (422 invalid, 409 wrong state, 403 not yours), the
messages beside the items they concern and everything the reviewer typed kept. Non-reviewers get the 403 page.
"""
from __future__ import annotations

from math import ceil

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from marketplace.accounts.forms import apply_domain_errors
from marketplace.assessments.services import signed_for_versions
from marketplace.bilingual import title_of
from marketplace.catalog.preview import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS
from marketplace.catalog.product_views import chosen_sample
from marketplace.catalog.profile_store import profile_for
from marketplace.chinese import script_of
from marketplace.db import utcnow, writes_when_read
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db, login_manager
from marketplace.i18n import N_, current_locale_tag
from marketplace.listings.assets import asset_of, record_download
from marketplace.listings.models import DataProduct
from marketplace.listings.states import (
    PRODUCT_LIFECYCLE,
    VERSION_LIFECYCLE,
    Actor,
    VersionAction,
    VersionStatus,
    product_reason_in_words,
    version_status_shown,
)
from marketplace.listings.view_helpers import acting_user, send_asset
from marketplace.review import pii
from marketplace.review import services as review
from marketplace.review.checklist import ChecklistResult, Decision, PrescreenOutcome
from marketplace.review.forms import PER_PAGE, QUEUE_TABS, ProductStatusForm, QueueFilterForm, ReviewForm
from marketplace.review.models import ReviewCase
from marketplace.review.prescreen_report import PrescreenReport
from marketplace.review.prescreen_words import KIND_WORDS
from marketplace.review.public_notice import notices_with_objections

bp = Blueprint("review", __name__, url_prefix="/review")

CASE = "/cases/<int:case_id>"
PRODUCT = "/products/<int:product_id>"


@bp.before_request
def _require_reviewer():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    review.require_reviewer(acting_user())  # Forbidden: the app renders the 403 page
    return None


@bp.context_processor
def _helpers():
    return {
        "time_ago": time_ago, "detail_items": detail_items, "script_of": script_of,
        "ChecklistResult": ChecklistResult, "Decision": Decision, "PrescreenOutcome": PrescreenOutcome,
    }




# ---------------------------------------------------------------- the queue


@bp.get("/")
def queue():
    user = acting_user()
    form = QueueFilterForm(request.args, review.queue_organizations(db.session, user))
    filters, page, ignored = form.clean()
    cases, total = review.review_queue(db.session, user, review.QueueFilters(**filters),
                                       limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("review/queue.html", form=form, cases=cases, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), counts=review.prescreen_counts(db.session, cases),
                           ignored=ignored, tabs=QUEUE_TABS, per_page=PER_PAGE,
                           objected=notices_with_objections(db.session, user))


# ---------------------------------------------------------------- a case


def _case(case_id: int) -> ReviewCase:
    try:
        return review.case_for_reviewer(db.session, acting_user(), case_id)
    except NotFound as exc:
        abort(404, exc.message)


def render_case(case: ReviewCase, *, form: ReviewForm | None = None, status: int = 200, error: str | None = None):
    """The case page; ``form`` is the checklist and decision as posted (a refusal keeps what was typed)."""
    user = acting_user()
    version, round_ = case.version, case.current_round
    actions = VERSION_LIFECYCLE.actions_from(version.status, [Actor.REVIEWER])
    own_org = review.conflicted(db.session, user, case.organization_id)
    mine = version.status == VersionStatus.IN_REVIEW and case.reviewer_id == user.id
    sample, samples = chosen_sample(version, request.args.get("sample", type=int))
    # The sample's preview as stored when it was uploaded (as the product page shows it): the file is not read here.
    stored = profile_for(db.session, sample) if sample else None
    preview = stored.shown_preview(current_locale_tag()) if stored else None
    return render_template(
        "review/case.html", case=case, version=version, product=case.product, round=round_,
        sample=sample, samples=[sample] if sample else [], case_samples=samples, preview=preview,
        limits={"rows": MAX_ROWS, "columns": MAX_COLUMNS, "cell": MAX_CELL_CHARS},
        report=PrescreenReport.from_dict(round_.prescreen or {}), form=form or ReviewForm.for_round(round_),
        assessments=signed_for_versions(db.session, [version.id]),
        editable=mine and not own_org, own_org=own_org, error=error,
        can_claim=VersionAction.CLAIM in actions and not own_org,
        can_release=(VersionAction.RELEASE in actions and not own_org
                     and (case.reviewer_id == user.id or user.is_admin)),
    ), status


def _refused(case: ReviewCase, exc: DomainError, form: ReviewForm | None = None):
    db.session.rollback()
    if isinstance(exc, NotFound):
        abort(404, exc.message)
    if form is not None:
        form.apply_errors(exc)
    return render_case(case, form=form, status=exc.status, error=exc.message)


def _done(case: ReviewCase, message: str, anchor: str | None = None):
    flash(message, "success")
    url = url_for(".case", case_id=case.id)
    return redirect(f"{url}#{anchor}" if anchor else url)


@bp.get(CASE)
def case(case_id: int):
    return render_case(_case(case_id))


@bp.post(f"{CASE}/claim")
def claim(case_id: int):
    found = _case(case_id)
    try:
        review.claim_case(db.session, acting_user(), found)
    except DomainError as exc:
        return _refused(found, exc)
    return _done(found, _("You claimed this case: %(title)s v%(label)s is in review.",
                           title=title_of(found.version), label=found.version.label), "checklist")


@bp.post(f"{CASE}/release")
def release(case_id: int):
    found = _case(case_id)
    try:
        review.release_case(db.session, acting_user(), found)
    except DomainError as exc:
        return _refused(found, exc)
    return _done(found, _("Case released: it is back on the queue for any reviewer, its checklist cleared for them."))


@bp.post(f"{CASE}/checklist")
def save_checklist(case_id: int):
    found = _case(case_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_case(found, form=form, status=422, error="The form expired. Please submit it again.")
    try:
        review.save_checklist(db.session, acting_user(), found, form.answers())
    except DomainError as exc:
        return _refused(found, exc, form)
    return _done(found, _("Checklist saved."), "checklist")


DECIDED = {
    Decision.APPROVE: N_("Approved: %(title)s v%(label)s is listed under registration number %(reg)s."),
    Decision.REQUEST_CHANGES: N_("Changes requested: the seller of %(title)s v%(label)s was told what to fix."),
    Decision.REJECT: N_("Rejected: the seller of %(title)s v%(label)s was told why."),
}


@bp.post(f"{CASE}/decision")
def decide(case_id: int):
    """Save the checklist as posted and end the round with the decision, in one step."""
    found = _case(case_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_case(found, form=form, status=422, error="The form expired. Please submit it again.")
    try:
        review.decide(db.session, acting_user(), found, form.decision.data or "", form.comment.data or "",
                      answers=form.answers())
    except DomainError as exc:
        return _refused(found, exc, form)
    version = found.version
    message = _(DECIDED[Decision(found.decision)], title=title_of(version), label=version.label,
                reg=version.registration_number)
    return _done(found, message)


@bp.get(f"{CASE}/assets/<int:asset_id>")
@writes_when_read  # its audit event
def download_asset(case_id: int, asset_id: int):
    """A file of the version under review, for the reviewer; every download is an audit event."""
    found = _case(case_id)
    try:
        asset = asset_of(found.version, asset_id)
    except NotFound as exc:
        abort(404, exc.message)
    record_download(db.session, acting_user(), asset, "reviewer")
    try:
        response = send_asset(asset)
    except HTTPException:
        db.session.rollback()  # nothing was downloaded
        raise
    return response


# ---------------------------------------------------------------- a live product


def _product(product_id: int) -> DataProduct:
    try:
        return review.product_for_reviewer(db.session, acting_user(), product_id)
    except NotFound as exc:
        abort(404, exc.message)


def render_product(product: DataProduct, *, form: ProductStatusForm | None = None, status: int = 200):
    user = acting_user()
    cases = {c.version_id: c for c in db.session.scalars(
        select(ReviewCase).where(ReviewCase.product_id == product.id))}
    actions = PRODUCT_LIFECYCLE.actions_from(product.status, [Actor.REVIEWER])
    form = (form or ProductStatusForm(formdata=None)).offer(actions)
    return render_template(
        "review/product.html", product=product, cases=cases, form=form,
        own_org=review.conflicted(db.session, user, product.organization_id),
        version=product.listed_version or product.latest_version,
    ), status


@bp.get(PRODUCT)
def product(product_id: int):
    return render_product(_product(product_id))


PRODUCT_DONE = {"suspend": N_("Suspended: buyers no longer see it; existing licences stay valid."),
                "reinstate": N_("Reinstated: the product is listed again."),
                "delist": N_("Delisted: the product is gone from the catalog for good.")}


@bp.post(f"{PRODUCT}/status")
def product_status(product_id: int):
    found = _product(product_id)
    form = ProductStatusForm()
    if not form.validate_on_submit():
        return render_product(found, form=form, status=422)
    try:
        review.change_product_status(db.session, acting_user(), found, form.action.data or "", form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, NotFound):
            abort(404, exc.message)
        apply_domain_errors(form, exc)
        return render_product(found, form=form, status=exc.status)
    flash(_(PRODUCT_DONE[form.action.data]), "success")
    return redirect(url_for(".product", product_id=found.id))


# ---------------------------------------------------------------- formatting for templates


def time_ago(when) -> str:
    """'3 days ago' in plain words (the exact time goes in a title attribute beside it)."""
    if when is None:
        return "—"
    seconds = int((utcnow() - when).total_seconds())
    for size, words in AGO:
        if seconds >= size:
            return words(seconds // size)
    return _("just now")


# Each unit of "3 days ago" as a plural message of its own (the catalogs hold each pair).
AGO = ((365 * 86400, lambda n: ngettext("%(num)d year ago", "%(num)d years ago", n)),
       (30 * 86400, lambda n: ngettext("%(num)d month ago", "%(num)d months ago", n)),
       (86400, lambda n: ngettext("%(num)d day ago", "%(num)d days ago", n)),
       (3600, lambda n: ngettext("%(num)d hour ago", "%(num)d hours ago", n)),
       (60, lambda n: ngettext("%(num)d minute ago", "%(num)d minutes ago", n)))

DETAIL_LABELS = {"file": N_("File"), "column": N_("Column"), "kind": N_("Kind"), "count": N_("Count"),
                 "example": N_("Masked example"), "plan": N_("Plan"), "source": N_("Source"),
                 "licence_id": N_("Licence"), "fields": N_("Fields"), "columns": N_("Columns"),
                 "territory": N_("Territory")}


def detail_items(details: dict | None) -> list[tuple[str, str]]:
    """A finding's details as (label, text) pairs for the page."""
    out = []
    for key, value in (details or {}).items():
        if value is None or value == "" or value == []:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        if key == "kind" and text in pii.KIND_LABELS:  # what was found: in words, not the scanner's name for it
            text = _(pii.KIND_LABELS[text])
        out.append((_(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key.replace("_", " ").capitalize(), text))
    return out


@bp.app_template_global()  # the pre-screen macros are imported without context, on the seller's pages too
def prescreen_summary(stored: dict | None) -> str:
    """A stored pre-screen report's outcome in the reader's words ("scanned the first 200,000 rows of ...")."""
    if not stored:
        return ""
    try:
        return PrescreenReport.from_dict(stored).summary()
    except (KeyError, TypeError, ValueError):  # a report stored before its shape was known: its own words
        return str(stored.get("summary") or "")


@bp.app_template_global()  # the seller's pre-screen report names the files' roles too
def kind_words(kinds: str) -> str:
    """A scanned file's roles ("sample, deliverable") in the reader's words."""
    return _(", ").join(_(KIND_WORDS[k]) if k in KIND_WORDS else k for k in kinds.split(", "))


@bp.app_template_global()  # the seller's and the admin's pages show a product's status reason too
def product_reason(reason: str | None) -> str:
    """A product's recorded status reason in the reader's language (a reason an admin typed as typed)."""
    return product_reason_in_words(reason)


@bp.app_template_global()  # the admin's pages show versions too
def version_status(version) -> str:
    """A version's status as pages show it: the listed version of a suspended or delisted product says so."""
    return version_status_shown(version.status, version.product.status)
