"""The provider's work pages: ``/provider/<org_slug>/assessments`` (the requests made to it) and ``.../<number>``
(accept or decline, read the version while the request is open, save the report as a draft, sign it, withdraw it
with a reason). A refusal re-shows the page with the message and the input kept; the request commits."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import HTTPException

from marketplace.assessments import reports, services
from marketplace.assessments.forms import (
    AcceptForm,
    ComplianceForm,
    QualityForm,
    ReasonForm,
    ValuationForm,
    draft_data,
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
)
from marketplace.assessments.views import _organization, _refuse, acting_user, bp
from marketplace.db import writes_when_read
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.listings.assets import record_download
from marketplace.listings.view_helpers import send_asset


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


REPORT_FORMS = {AssessmentKind.COMPLIANCE: ComplianceForm, AssessmentKind.QUALITY: QualityForm,
                AssessmentKind.VALUATION: ValuationForm}


def _report_form(assessment: Assessment, formdata=None):
    """The report form of the assessment's kind: as posted, or filled from the saved draft."""
    form_class = REPORT_FORMS[assessment.kind]
    form = form_class() if formdata else form_class(formdata=None, data=draft_data(form_class, assessment.draft))
    if assessment.kind == AssessmentKind.COMPLIANCE:
        while len(form.legal_bases) < len(assessment.version.sources):
            form.legal_bases.append_entry()
    return form


def _render_work(assessment: Assessment, *, form=None, decline=None, accept=None, withdraw=None,
                 status: int = 200, error: str | None = None):
    actions = ASSESSMENT_LIFECYCLE.actions_from(assessment.status, [Actor.PROVIDER])
    return render_template(
        "assessments/work.html", a=assessment, version=assessment.version, error=error,
        form=form or _report_form(assessment), decline=decline or ReasonForm(formdata=None),
        accept=accept or AcceptForm(formdata=None),
        withdraw=withdraw or ReasonForm(formdata=None, prefix="withdraw"),
        may_decide=AssessmentAction.ACCEPT in actions, may_sign=AssessmentAction.SIGN in actions,
        may_withdraw=AssessmentAction.WITHDRAW in actions,
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


@bp.post("/provider/<org_slug>/assessments/<number>/draft")
@login_required
def save_draft(org_slug: str, number: str):
    """The report saved unsigned, as entered (nothing checked but its size), to come back to."""
    assessment = _assessment(org_slug, number)
    form = _report_form(assessment, formdata=True)
    try:
        reports.save_draft(db.session, acting_user(), assessment, form.draft())
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_work(assessment, form=form, status=exc.status, error=exc.message)
    flash(_("Draft saved: it is not signed yet."), "success")
    return redirect(url_for(".work", org_slug=org_slug, number=number) + "#report", 303)


@bp.post("/provider/<org_slug>/assessments/<number>/withdraw")
@login_required
def withdraw(org_slug: str, number: str):
    assessment = _assessment(org_slug, number)
    form = ReasonForm(prefix="withdraw")
    if not form.validate_on_submit():
        return _render_work(assessment, withdraw=form, status=422)
    try:
        reports.withdraw_report(db.session, acting_user(), assessment, form.reason.data or "")
    except DomainError as exc:
        _refuse(exc)
        put_errors(form, exc)
        return _render_work(assessment, withdraw=form, status=exc.status, error=exc.message)
    flash(_("Report %(number)s withdrawn: it no longer counts, and its page says why.", number=number), "success")
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
