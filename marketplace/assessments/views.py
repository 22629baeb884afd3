"""Pages of data service providers and assessments.

Public: ``/providers`` (the directory of approved providers), ``/providers/<slug>``, ``/assessments/<number>``
(a signed report) and ``/assessments/<number>.json`` (its signed document, verifiable at /certificates/verify).
Owners: ``/seller/<org_slug>/provider`` (apply). Admins: ``/admin/providers`` (approve or reject with a reason).
Sellers: ``/seller/<org_slug>/assessments`` (ask a provider, follow the requests). Providers:
``/provider/<org_slug>/assessments`` (requests) and ``.../<number>`` (accept or decline, read the version, sign the
report). A refusal re-shows the page with the message and the input kept; the request commits.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException
from werkzeug.utils import secure_filename

from marketplace.accounts.access import Permission, permits
from marketplace.accounts.auth import require_admin_page
from marketplace.accounts.models import Organization
from marketplace.accounts.services import organization_for_member
from marketplace.assessments import reports, services
from marketplace.assessments.forms import (
    AcceptForm,
    ApplicationForm,
    ComplianceForm,
    QualityForm,
    ReasonForm,
    RequestForm,
    choices,
    put_errors,
)
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import (
    ASSESSMENT_LIFECYCLE,
    OPEN_STATES,
    REPORT_KINDS,
    Actor,
    AssessmentAction,
    AssessmentKind,
    Conclusion,
)
from marketplace.bilingual import title_of
from marketplace.db import writes_when_read
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.listings.assets import record_download
from marketplace.listings.view_helpers import send_asset

bp = Blueprint("assessments", __name__)


@bp.app_context_processor
def _vocabulary():
    # The reviewer's case page and the product page show assessments too.
    return {"AssessmentKind": AssessmentKind, "Conclusion": Conclusion}


def acting_user():
    return current_user._get_current_object()


def _refuse(exc: DomainError) -> None:
    """Roll back, and answer 404 for what the user may not know exists."""
    db.session.rollback()
    if isinstance(exc, NotFound):
        abort(404, exc.message)


# ---------------------------------------------------------------- public


@bp.get("/providers")
def directory():
    kind = request.args.get("service")
    chosen = AssessmentKind(kind) if kind in AssessmentKind._value2member_map_ else None
    return render_template("assessments/directory.html", providers=services.approved_providers(db.session, chosen),
                           kinds=list(AssessmentKind), chosen=chosen)


@bp.get("/providers/<slug>")
def provider_page(slug: str):
    try:
        provider = services.approved_provider(db.session, slug)
    except NotFound as exc:
        abort(404, exc.message)
    return render_template("assessments/provider.html", provider=provider,
                           signed=services.signed_by(db.session, provider))


def _signed(number: str) -> Assessment:
    try:
        return services.signed_assessment(db.session, number)
    except NotFound as exc:
        abort(404, exc.message)


@bp.get("/assessments/<number>")
def report(number: str):
    assessment = _signed(number)
    return render_template("assessments/report.html", a=assessment, s=assessment.statement)


@bp.get("/assessments/<number>.json")
def report_json(number: str):
    assessment = _signed(number)
    body = json.dumps(reports.report_document(assessment), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(assessment.number)}.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ---------------------------------------------------------------- applying (owners) and deciding (admins)


def _organization(org_slug: str) -> Organization:
    try:
        return organization_for_member(db.session, acting_user(), org_slug)
    except NotFound as exc:
        abort(404, exc.message)


def _render_application(org: Organization, form: ApplicationForm, status: int = 200):
    return render_template("assessments/apply.html", org=org, form=form,
                           provider=services.provider_of(db.session, org),
                           may_apply=permits(acting_user(), Permission.MANAGE_ORGANIZATION, org)), status


@bp.get("/seller/<org_slug>/provider")
@login_required
def application(org_slug: str):
    return _render_application(_organization(org_slug), ApplicationForm(formdata=None))


@bp.post("/seller/<org_slug>/provider")
@login_required
def apply(org_slug: str):
    org, form = _organization(org_slug), ApplicationForm()
    if not form.validate_on_submit():
        return _render_application(org, form, 422)
    upload = form.document.data
    has_file = upload is not None and getattr(upload, "filename", "")
    try:
        services.apply_as_provider(
            db.session, acting_user(), org, services=form.services.data or [],
            qualifications=form.qualifications.data or "", storage=current_app.extensions["storage"],
            document=upload.stream if has_file else None, filename=upload.filename if has_file else "",
            content_type=(upload.mimetype or "application/octet-stream") if has_file else "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_application(org, form, exc.status)
    flash(_("Application sent: a platform admin will review it."), "success")
    return redirect(url_for(".application", org_slug=org.slug), 303)


def _render_applications(forms: dict | None = None, error: str | None = None, status: int = 200):
    providers = services.applications(db.session, acting_user())
    forms = forms or {}
    return render_template("assessments/admin.html", providers=providers, error=error,
                           forms={p.id: forms.get(p.id) or ReasonForm(formdata=None, prefix=f"p{p.id}")
                                  for p in providers}), status


@bp.get("/admin/providers")
def admin_applications():
    return _render_applications()


@bp.post("/admin/providers/<int:provider_id>/<decision>")
def admin_decide(provider_id: int, decision: str):
    if decision not in ("approve", "reject"):
        abort(404)
    form = ReasonForm(prefix=f"p{provider_id}")
    try:
        provider = services.application(db.session, acting_user(), provider_id)
        services.decide_application(db.session, acting_user(), provider, approve=decision == "approve",
                                    reason=form.reason.data or "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_applications({provider_id: form}, exc.message, exc.status)
    flash(_("Approved %(name)s as a data service provider.", name=provider.organization.name)
          if decision == "approve" else _("Rejected the application of %(name)s.", name=provider.organization.name),
          "success")
    return redirect(url_for(".admin_applications"), 303)


@bp.get("/admin/providers/<int:provider_id>/document")
def admin_document(provider_id: int):
    """The document an applicant sent with its qualifications, for the admin deciding the application."""
    try:
        provider = services.application(db.session, acting_user(), provider_id)
    except NotFound as exc:
        abort(404, exc.message)
    if not provider.document_key:
        abort(404, _("No such file."))
    try:
        stream = current_app.extensions["storage"].open(provider.document_key)
    except NotFound:
        abort(404, _("The stored file is missing."))
    response = send_file(stream, mimetype=provider.document_content_type or "application/octet-stream",
                         as_attachment=True, download_name=provider.document_filename, max_age=0, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


ADMIN_PAGES = ("assessments.admin_applications", "assessments.admin_decide", "assessments.admin_document")


@bp.before_request
def _admin_pages_are_admins():
    """The admin pages share the admin's guard; the rest of the blueprint does not."""
    if request.endpoint in ADMIN_PAGES:
        return require_admin_page()
    return None


# ---------------------------------------------------------------- sellers ask


def _request_form(org: Organization, form: RequestForm) -> RequestForm:
    versions = services.assessable_versions(db.session, acting_user(), org)
    form.version.choices = choices((str(v.id), f"{title_of(v)} v{v.label}") for v in versions)
    providers = services.approved_providers(db.session)
    form.provider.choices = choices((str(p.id), p.organization.name) for p in providers
                                    if p.organization_id != org.id)
    # Every approved provider, the seller's own too: the service says why that one is refused.
    form.versions, form.providers = {str(v.id): v for v in versions}, {str(p.id): p for p in providers}
    return form


def _render_requests(org: Organization, form: RequestForm, status: int = 200):
    return render_template("assessments/seller.html", org=org, form=form,
                           requests=services.seller_requests(db.session, acting_user(), org)), status


@bp.get("/seller/<org_slug>/assessments")
@login_required
def seller_requests(org_slug: str):
    org = _organization(org_slug)
    form = _request_form(org, RequestForm(formdata=None))
    if request.args.get("version") in form.versions:
        form.version.data = request.args["version"]
    return _render_requests(org, form)


@bp.post("/seller/<org_slug>/assessments")
@login_required
def request_assessment(org_slug: str):
    org = _organization(org_slug)
    form = _request_form(org, RequestForm())
    if not form.validate_on_submit():
        return _render_requests(org, form, 422)
    version = form.versions.get(form.version.data or "")
    provider = form.providers.get(form.provider.data or "")
    if version is None or provider is None:
        if version is None:
            form.version.errors = [_("Choose one of your submitted versions.")]
        if provider is None:
            form.provider.errors = [_("Choose an approved provider.")]
        return _render_requests(org, form, 422)
    try:
        made = services.request_assessment(db.session, acting_user(), version, provider, form.kind.data or "",
                                           form.note.data or "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_requests(org, form, exc.status)
    flash(_("Asked %(provider)s for an assessment (%(number)s).", provider=provider.organization.name,
            number=made.number), "success")
    return redirect(url_for(".seller_requests", org_slug=org.slug), 303)


# ---------------------------------------------------------------- providers work


@bp.get("/provider/<org_slug>/assessments")
@login_required
def provider_requests(org_slug: str):
    org = _organization(org_slug)
    return render_template("assessments/inbox.html", org=org, provider=services.provider_of(db.session, org),
                           requests=services.provider_requests(db.session, acting_user(), org))


def _assessment(org_slug: str, number: str) -> Assessment:
    try:
        assessment = services.assessment_for_provider(db.session, acting_user(), number)
    except NotFound as exc:
        abort(404, exc.message)
    if assessment.provider.organization.slug != org_slug:
        abort(404, _("No such assessment."))
    return assessment


def _report_form(assessment: Assessment, formdata=None):
    if assessment.kind == AssessmentKind.COMPLIANCE:
        form = ComplianceForm() if formdata else ComplianceForm(formdata=None)
        while len(form.legal_bases) < len(assessment.version.sources):
            form.legal_bases.append_entry()
        return form
    return QualityForm() if formdata else QualityForm(formdata=None)


def _render_work(assessment: Assessment, *, form=None, decline=None, accept=None, status: int = 200,
                 error: str | None = None):
    actions = ASSESSMENT_LIFECYCLE.actions_from(assessment.status, [Actor.PROVIDER])
    return render_template(
        "assessments/work.html", a=assessment, version=assessment.version, error=error,
        form=form or _report_form(assessment), decline=decline or ReasonForm(formdata=None),
        accept=accept or AcceptForm(formdata=None),
        may_decide=AssessmentAction.ACCEPT in actions, may_sign=AssessmentAction.SIGN in actions,
        is_open=assessment.status in OPEN_STATES,
        kinds=REPORT_KINDS), status


@bp.get("/provider/<org_slug>/assessments/<number>")
@login_required
def work(org_slug: str, number: str):
    return _render_work(_assessment(org_slug, number))


@bp.post("/provider/<org_slug>/assessments/<number>/<decision>")
@login_required
def decide(org_slug: str, number: str, decision: str):
    if decision not in ("accept", "decline"):
        abort(404)
    assessment = _assessment(org_slug, number)
    accepting = decision == "accept"
    form = AcceptForm() if accepting else ReasonForm()
    shown = {"accept": form} if accepting else {"decline": form}
    if not form.validate_on_submit():
        return _render_work(assessment, status=422, **shown)
    fee = form.fee.minor_units if accepting and form.fee.data is not None else None
    try:
        services.decide_request(db.session, acting_user(), assessment, accept=accepting,
                                reason="" if accepting else form.reason.data or "", fee=fee,
                                currency=form.currency.data if accepting else None,
                                after_accepting=assessment.status == "accepted")  # declining what it accepted
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_work(assessment, status=exc.status, error=exc.message, **shown)
    flash(_("Request accepted: fill in the report and sign it.") if decision == "accept"
          else _("Request declined: the seller was told why."), "success")
    return redirect(url_for(".work", org_slug=org_slug, number=number), 303)


@bp.post("/provider/<org_slug>/assessments/<number>/sign")
@login_required
def sign(org_slug: str, number: str):
    assessment = _assessment(org_slug, number)
    form = _report_form(assessment, formdata=True)
    if not form.validate_on_submit():
        return _render_work(assessment, form=form, status=422)
    try:
        reports.sign_report(db.session, acting_user(), assessment, form.report())
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_work(assessment, form=form, status=exc.status, error=exc.message)
    flash(_("Report %(number)s signed: it is attached to the version and public.", number=number), "success")
    return redirect(url_for(".report", number=number), 303)


@bp.get("/provider/<org_slug>/assessments/<number>/files/<int:asset_id>")
@writes_when_read  # its audit event
@login_required
def download(org_slug: str, number: str, asset_id: int):
    """A file of the version under assessment, for the provider's members while the request is open."""
    assessment = _assessment(org_slug, number)
    try:
        asset = services.assessed_asset(assessment, asset_id)
    except DomainError as exc:
        _refuse(exc)
        abort(exc.status, exc.message)
    record_download(db.session, acting_user(), asset, "assessor")
    try:
        return send_asset(asset)
    except HTTPException:
        db.session.rollback()  # nothing was downloaded
        raise
