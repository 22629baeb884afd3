"""Licence certificates, public (no login): anyone holding a serial or a certificate file can check it.

- ``/certificates/<serial>``: the certificate as a page, with the licence's current status;
- ``/certificates/<serial>.json``: the signed certificate document (a download);
- ``/certificates/<serial>.jsonld``: the licence as an ODRL Agreement;
- ``/.well-known/licence-keys.json``: the public keys that verify certificates (a JWKS: the current key and the
  keys retired by rotations);
- ``/certificates/verify``: a form that checks a pasted or uploaded certificate;
- the same check as JSON is ``POST /api/v1/certificates/verify`` (in ``licensing/api.py``).

Machine endpoints answer errors in the API's JSON error shape; the pages render the HTML error page.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.utils import secure_filename
from wtforms import TextAreaField

from marketplace.errors import DomainError, NotFound, UploadTooLarge
from marketplace.extensions import db
from marketplace.licensing.certificates import (
    KEYS_PATH,
    MAX_DOCUMENT_BYTES,
    certificate_document,
    check_certificate,
    current_status,
    odrl_policy,
    scenario_in_words,
    statement_in_words,
    terms_in_words,
)
from marketplace.licensing.models import Licence
from marketplace.licensing.services import status_reason_in_words
from marketplace.licensing.vouchers import voucher_since
from marketplace.signing.services import published_jwks

bp = Blueprint("certificates", __name__)

_MACHINE_SUFFIXES = (".json", ".jsonld")


@bp.errorhandler(DomainError)
def _error(error: DomainError):
    if request.path.endswith(_MACHINE_SUFFIXES):
        return jsonify(error.to_dict()), error.status
    from marketplace.web import render_domain_error
    return render_domain_error(error)


def _licence(serial: str) -> Licence:
    licence = db.session.scalar(select(Licence).where(Licence.serial == serial)) if len(serial) <= 40 else None
    if licence is None or not licence.signature:
        raise NotFound(_("There is no licence certificate %(serial)s.", serial=repr(serial[:40])))
    return licence


def _public(response: Response, max_age: int | None = None) -> Response:
    # Public documents that verifiers may fetch from other origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    if max_age is not None:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/certificates/<serial>")
def show(serial: str):
    licence = _licence(serial)
    statement = licence.statement
    links = {"json": url_for(".download", serial=licence.serial), "jsonld": url_for(".policy", serial=licence.serial)}
    html = render_template(
        "certificates/show.html", licence=licence, s=statement, status=current_status(licence),
        terms=terms_in_words(statement["terms"], statement["plan"]["kind"], statement["plan"]["billing_period"]),
        scenario=scenario_in_words(statement["scenario"]), links=links,
        status_reason=status_reason_in_words(licence.status_reason),
        **statement_in_words(statement),
    )
    alternates = f'<{links["json"]}>; rel="alternate"; type="application/json", ' \
                 f'<{links["jsonld"]}>; rel="alternate"; type="application/ld+json"'
    return html, 200, {"Link": alternates, "Cache-Control": "no-cache"}


@bp.get("/certificates/<serial>.json")
def download(serial: str):
    licence = _licence(serial)
    body = json.dumps(certificate_document(licence), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(licence.serial)}.json"'
    return _public(response)


@bp.get("/certificates/<serial>.jsonld")
def policy(serial: str):
    licence = _licence(serial)
    body = json.dumps(odrl_policy(licence), ensure_ascii=False, indent=2) + "\n"
    return _public(Response(body, content_type="application/ld+json"))


# Short, so that verifiers see a new key soon after a rotation.
KEYS_MAX_AGE = 300


@bp.get(KEYS_PATH)
def keys():
    return _public(jsonify(published_jwks(db.session, current_app)), max_age=KEYS_MAX_AGE)


# ---------------------------------------------------------------- verifying a certificate


class VerifyForm(FlaskForm):
    document = TextAreaField(_l("Certificate JSON"), description=_l("Paste the whole certificate file."))
    upload = FileField(_l("…or upload the certificate file (.json)"))


def _read_upload(form: VerifyForm) -> bytes | None:
    upload = form.upload.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UploadTooLarge(_("That file is larger than any certificate."))
    return data


@bp.route("/certificates/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    result = record = None
    if form.validate_on_submit():
        try:
            pasted = form.document.data if isinstance(form.document.data, str) else ""  # a file sent as the text
            raw = _read_upload(form) or pasted.strip()
        except UploadTooLarge as exc:
            form.upload.errors, raw = [exc.message], None
        if raw:
            result, record = check_certificate(db.session, raw)
        elif not form.upload.errors:
            form.document.errors = [_("Paste the certificate JSON or choose its file.")]
    failed = form.is_submitted() and result is None
    # The record on file, under its kind's name in the page: licence, voucher, assessment or registration.
    shown = dict.fromkeys(("licence", "voucher", "assessment", "registration"))
    if record is not None:
        shown["licence" if result.kind == "certificate" else result.kind] = record
    licence, voucher = shown["licence"], shown["voucher"]
    return render_template("certificates/verify.html", form=form, result=result, **shown,
                           voucher_since=voucher_since(db.session, voucher) if voucher else None,
                           licence_status=current_status(licence) if licence else None,
                           keys_url=url_for(".keys")), 422 if failed else 200
