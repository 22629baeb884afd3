"""Public notice and registration pages.

- ``/notices``: open and recent notices (paginated), public; ``/notices/feed.json`` the same as a JSON Feed 1.1;
- ``/notices/<id>``: one notice with its objections; a signed-in member of another organization objects there, a
  reviewer decides each objection there;
- ``/registrations/<registration_number>``: the registration's certificates (public), ``.json`` the current signed
  document; the holder's owner asks for renewal and a reviewer confirms it there.

A refused form is shown again with its messages and what was typed (422 invalid, 409 wrong state, 403 not yours).
"""
from __future__ import annotations

import json
from math import ceil

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from marketplace.accounts.access import Permission, organization_ids, permits, require
from marketplace.accounts.forms import apply_domain_errors
from marketplace.accounts.models import Organization
from marketplace.db import utcnow
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db, login_manager
from marketplace.inputs import MAX_ROW_ID, upload_endpoint
from marketplace.listings.view_helpers import acting_user
from marketplace.review import public_notice as notices
from marketplace.review import registration
from marketplace.review.notice_forms import DecisionForm, ObjectionForm
from marketplace.review.notice_models import NoticeStatus, Objection, ObjectionStatus

bp = Blueprint("notices", __name__)

PER_PAGE = 20
STATES = ("open", "recent")


@bp.errorhandler(DomainError)
def _error(error: DomainError):
    if request.path.endswith(".json"):
        from flask import jsonify

        return jsonify(error.to_dict()), error.status
    from marketplace.web import render_domain_error

    return render_domain_error(error)


def _page_arg() -> int:
    page = request.args.get("page", type=int) or 1
    return page if page >= 1 else 1


@bp.get("/notices")
def index():
    state = request.args.get("state") if request.args.get("state") in STATES else "open"
    page = _page_arg()
    found, total = notices.notices(db.session, state=state, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("notices/index.html", notices=found, total=total, state=state, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), now=utcnow(), taking=notices.taking_objections)


@bp.get("/notices/feed.json")
def feed():
    """The newest notices as a JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    found, _total = notices.notices(db.session, limit=50)
    items = []
    for notice in found:
        version = notice.version
        url = url_for(".show", notice_id=notice.id, _external=True)
        items.append({
            "id": url, "url": url,
            "title": f"{notice.registration_number}: {version.title_en} v{version.label}",
            "content_text": (f"{notice.organization.name}: {version.title_en}"
                             f"{f' ({version.title_zh})' if version.title_zh else ''} v{version.label}. "
                             f"Objections until {notice.closes_at.isoformat()}. Status: {notice.status.value}."),
            "date_published": notice.opens_at.isoformat(),
            "date_modified": (notice.ended_at or notice.opens_at).isoformat(),
            "tags": [notice.status.value],
            "_notice": {"registration_number": notice.registration_number, "closes_at": notice.closes_at.isoformat(),
                        "status": notice.status.value, "objections": len(notice.objections)},
        })
    body = {"version": "https://jsonfeed.org/version/1.1", "title": "Public notices",
            "home_page_url": url_for(".index", _external=True), "feed_url": url_for(".feed", _external=True),
            "language": "en", "items": items}
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/feed+json")


def _notice(notice_id: int):
    try:
        return notices.notice_by_id(db.session, notice_id)
    except NotFound as exc:
        abort(404, exc.message)


def _objector_organizations(notice, mine: set[int] | None = None) -> list[Organization]:
    """The organizations the signed-in user may object for (``mine``: their organization ids, if already read)."""
    if not current_user.is_authenticated:
        return []
    if mine is None:
        mine = organization_ids(acting_user(), db.session)
    ids = mine - {notice.organization_id}
    return list(db.session.query(Organization).filter(Organization.id.in_(ids)).order_by(Organization.name)) \
        if ids else []


def render_notice(notice, *, form: ObjectionForm | None = None, decision_forms: dict | None = None,
                  status: int = 200, error: str | None = None):
    user = acting_user() if current_user.is_authenticated else None
    mine = organization_ids(user, db.session) if user is not None else set()
    organizations = _objector_organizations(notice, mine)
    form = form or (ObjectionForm(organizations) if organizations else None)
    reviewer = user is not None and permits(user, Permission.REVIEW, notice.product)
    own = notice.organization_id in mine
    objections = [o for o in notice.objections if reviewer or own or o.organization_id in mine]
    decision_forms = decision_forms or {}
    if reviewer:
        for o in objections:
            if o.status == ObjectionStatus.PENDING and o.id not in decision_forms:
                decision_forms[o.id] = DecisionForm(prefix=f"o{o.id}")
    certificate = None
    if notice.status == NoticeStatus.ENDED:
        certificate = registration.current_certificate(db.session, notice.registration_number)
    return render_template("notices/show.html", notice=notice, version=notice.version, form=form,
                           taking=notices.taking_objections(notice), objections=objections,
                           objection_count=len(notice.objections), reviewer=reviewer, own=own, mine=mine,
                           decision_forms=decision_forms, error=error, certificate=certificate,
                           reason_in_words=notices.decision_reason_in_words), status


def _may_file_objection():
    """Before the objection form's body is read: signed in, and a member of an organization that may object."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not _objector_organizations(_notice(request.view_args["notice_id"])):
        abort(403, _("Only members of an organization other than the seller's may object."))
    return None


def declare_uploads() -> None:
    """The objection form carries its evidence file: it gets the evidence cap (the file and the form around it),
    not the page forms' cap."""
    upload_endpoint("notices.object_to", _may_file_objection,
                    cap="NOTICE_EVIDENCE_MAX_BYTES", too_large_page=_objection_too_large)


def _objection_too_large(message: str):
    """The objection form again, empty (its body was refused unread), with why."""
    notice = _notice(request.view_args["notice_id"])
    form = ObjectionForm(_objector_organizations(notice), formdata=None)
    form.evidence.errors = [message]
    return render_notice(notice, form=form, status=413, error=message)


@bp.get("/notices/<int:notice_id>")
def show(notice_id: int):
    return render_notice(_notice(notice_id))


@bp.post("/notices/<int:notice_id>")
def object_to(notice_id: int):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    notice = _notice(notice_id)
    form = ObjectionForm(_objector_organizations(notice))
    if not form.organization_id.choices:
        abort(403, _("Only members of an organization other than the seller's may object."))
    if not form.validate_on_submit():
        return render_notice(notice, form=form, status=422)
    upload = form.evidence.data
    evidence = (upload.filename, upload.stream) if upload and getattr(upload, "filename", "") else None
    organization = db.session.get(Organization, form.organization_id.data)
    try:
        notices.object_to(db.session, acting_user(), notice, organization, form.reasons.data, evidence)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_notice(_notice(notice_id), form=form, status=exc.status, error=exc.message)
    flash(_("Your objection is filed; a compliance reviewer will decide it."), "success")
    return redirect(url_for(".show", notice_id=notice.id))


def _objection(notice_id: int, objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.notice_id != notice_id:
        abort(404)
    return objection


@bp.post("/notices/<int:notice_id>/objections/<int:objection_id>/decision")
def decide(notice_id: int, objection_id: int):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    objection = _objection(notice_id, objection_id)
    require(acting_user(), Permission.REVIEW, objection.notice.product)  # before the form says what it lacks
    form = DecisionForm(prefix=f"o{objection.id}")
    if not form.validate_on_submit():
        return render_notice(objection.notice, decision_forms={objection.id: form}, status=422)
    try:
        notices.decide_objection(db.session, acting_user(), objection, form.decision.data, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_notice(_notice(notice_id), decision_forms={objection.id: form}, status=exc.status,
                             error=exc.message)
    flash(_("The objection is upheld: the version returns to review.") if form.decision.data == "uphold"
          else _("The objection is dismissed."), "success")
    return redirect(url_for(".show", notice_id=notice_id))


@bp.get("/notices/<int:notice_id>/objections/<int:objection_id>/evidence")
def evidence(notice_id: int, objection_id: int):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    objection = notices.evidence_for(db.session, acting_user(), _objection(notice_id, objection_id))
    from flask import current_app, send_file

    stream = current_app.extensions["storage"].open(objection.evidence_key)
    response = send_file(stream, mimetype=objection.evidence_content_type, as_attachment=True,
                         download_name=secure_filename(objection.evidence_filename) or "evidence",
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- registration certificates


@bp.get("/registrations/<registration_number>")
def registration_page(registration_number: str):
    """The registration's current certificate; while the registration is still on notice, its notice."""
    try:
        certificates = registration.certificates_of(db.session, registration_number)
    except NotFound:
        notice = notices.latest_notice(db.session, registration_number)
        if notice is None:
            raise
        return redirect(url_for(".show", notice_id=notice.id))
    current = certificates[0]
    user = acting_user() if current_user.is_authenticated else None
    return render_template(
        "notices/registration.html", certificate=current, s=current.statement, earlier=certificates[1:],
        standing=registration.standing(db.session, current), standing_words=registration.standing_words,
        lapsed=registration.lapsed_assessments(db.session, current),
        cited=registration.cited_assessments(db.session, current),
        can_ask=user is not None and permits(user, Permission.MANAGE_ORGANIZATION, current),
        can_confirm=user is not None and permits(user, Permission.REVIEW, current),
        renewal_opens=registration.renewal_opens(current), now=utcnow(),
        product_title=registration.product_title(current.statement),
    ), 200, {"Link": f'<{url_for(".registration_document", registration_number=registration_number)}>; '
                     f'rel="alternate"; type="application/json"'}


@bp.get("/registrations/<registration_number>.json")
def registration_document(registration_number: str):
    given = request.args.get("sequence")
    if given is None:
        chosen = registration.current_certificate(db.session, registration_number)
    else:  # a sequence that is no whole number from 1, or past any row id, names no certificate
        wanted = int(given) if given.isascii() and given.isdigit() else 0
        chosen = registration.certificate_of(db.session, registration_number, wanted) \
            if 0 < wanted <= MAX_ROW_ID else None
    if chosen is None:
        raise NotFound(_("This registration has no certificate %(sequence)s.", sequence=given))
    body = json.dumps(registration.document(chosen), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(chosen.serial)}.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.post("/registrations/<registration_number>/renewal")
def ask_renewal(registration_number: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    current = registration.current_certificate(db.session, registration_number)
    registration.request_renewal(db.session, acting_user(), current)
    flash(_("Renewal asked for: a compliance reviewer will confirm it."), "success")
    return redirect(url_for(".registration_page", registration_number=registration_number))


@bp.post("/registrations/<registration_number>/renewal/confirm")
def confirm_renewal(registration_number: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    current = registration.current_certificate(db.session, registration_number)
    registration.confirm_renewal(db.session, acting_user(), current)
    flash(_("The registration is renewed: a new certificate is issued."), "success")
    return redirect(url_for(".registration_page", registration_number=registration_number))
