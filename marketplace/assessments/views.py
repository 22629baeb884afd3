"""Pages of data service providers and assessments.

Public: ``/providers`` (the directory of approved providers), ``/providers/<slug>``, ``/assessments/<number>``
(a signed report) and ``/assessments/<number>.json`` (its signed document, verifiable at /certificates/verify).
Owners: ``/seller/<org_slug>/provider`` (apply, with a document up to PROVIDER_DOCUMENT_MAX_BYTES). Admins:
``/admin/providers`` (approve or reject with a reason; suspend or reinstate with one). Sellers:
``/seller/<org_slug>/assessments`` (ask a provider, follow the requests). Providers:
``/provider/<org_slug>/assessments`` and its requests are in ``work_views``, on this blueprint. A refusal
re-shows the page with the message and the input kept; the request commits.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from marketplace.accounts.access import Permission, permits, require
from marketplace.accounts.auth import require_admin_page
from marketplace.accounts.models import Organization
from marketplace.accounts.services import organization_for_member
from marketplace.assessments import reports, services
from marketplace.assessments.forms import (
    ApplicationForm,
    ReasonForm,
    RequestForm,
    choices,
    put_errors,
)
from marketplace.assessments.models import Assessment
from marketplace.assessments.states import (
    AssessmentKind,
    Conclusion,
    ValuationMethod,
)
from marketplace.bilingual import title_of
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db, login_manager
from marketplace.inputs import upload_endpoint

bp = Blueprint("assessments", __name__)


@bp.app_context_processor
def _vocabulary():
    # The reviewer's case page and the product page show assessments too.
    return {"AssessmentKind": AssessmentKind, "Conclusion": Conclusion, "ValuationMethod": ValuationMethod}


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
    return render_template("assessments/report.html", a=assessment, s=assessment.statement,
                           standing=reports.standing(assessment))


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


def refuse_unauthorized_application() -> ResponseReturnValue | None:
    """Before the application's body (its document) is read: nobody signed in is sent to log in, a non-member
    gets 404 and a member who is not an owner 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    org = _organization((request.view_args or {}).get("org_slug", ""))
    try:
        require(acting_user(), Permission.MANAGE_ORGANIZATION, org)
    except DomainError as exc:
        abort(exc.status, exc.message)
    return None


def declare_uploads() -> None:
    """The application page takes a document: its own body cap, and who may send one, checked before reading."""
    upload_endpoint("assessments.apply", refuse_unauthorized_application, cap="PROVIDER_DOCUMENT_MAX_BYTES",
                    too_large_page=_application_too_large)


def _application_too_large(message: str):
    """The application form again, empty (its body was refused unread), with why."""
    form = ApplicationForm(formdata=None)
    form.document.errors = [message]
    return _render_application(_organization(request.view_args["org_slug"]), form, 413)


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
            document=upload.stream if has_file else None, filename=upload.filename if has_file else "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_application(org, form, exc.status)
    flash(_("Application sent: a platform admin will review it."), "success")
    return redirect(url_for(".application", org_slug=org.slug), 303)


ADMIN_DECISIONS = ("approve", "reject", "suspend", "reinstate")


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
    if decision not in ADMIN_DECISIONS:
        abort(404)
    form = ReasonForm(prefix=f"p{provider_id}")
    try:
        provider = services.application(db.session, acting_user(), provider_id)
        if decision in ("suspend", "reinstate"):
            services.suspend_provider(db.session, acting_user(), provider, suspend=decision == "suspend",
                                      reason=form.reason.data or "")
        else:
            services.decide_application(db.session, acting_user(), provider, approve=decision == "approve",
                                        reason=form.reason.data or "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_applications({provider_id: form}, exc.message, exc.status)
    name = provider.organization.name
    flash({"approve": _("Approved %(name)s as a data service provider.", name=name),
           "reject": _("Rejected the application of %(name)s.", name=name),
           "suspend": _("Suspended %(name)s as a data service provider.", name=name),
           "reinstate": _("Reinstated %(name)s as a data service provider.", name=name)}[decision], "success")
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


# The provider's work pages live beside these, on the same blueprint.
from marketplace.assessments import work_views  # noqa: E402, F401
