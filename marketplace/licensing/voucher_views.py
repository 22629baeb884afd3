"""Transaction vouchers for the parties of a trade: ``/vouchers/<number>`` (the voucher in words, with what happened
to the money since) and ``/vouchers/<number>.json`` (the signed document, which the certificate checks verify).
Members of the buyer or seller organization only; anyone else gets 404."""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.licensing.certificates import scenario_in_words, statement_in_words, voucher_document
from marketplace.licensing.vouchers import voucher_for, voucher_since

bp = Blueprint("vouchers", __name__)


@bp.errorhandler(DomainError)
def _error(error: DomainError):
    if request.path.endswith(".json"):
        return jsonify(error.to_dict()), error.status
    from marketplace.web import render_domain_error
    return render_domain_error(error)


@bp.get("/vouchers/<voucher_number>")
@login_required
def show(voucher_number: str):
    voucher = voucher_for(db.session, current_user, voucher_number)
    s = voucher.statement
    scenario = scenario_in_words(s["scenario"]) if s.get("scenario") else {}  # an assessment fee declares none
    return render_template("vouchers/show.html", voucher=voucher, s=s, since=voucher_since(db.session, voucher),
                           scenario=scenario,
                           json_url=url_for(".download", voucher_number=voucher.number),
                           verify_url=url_for("certificates.verify"),
                           issuer_name=statement_in_words(s)["issuer_name"]), 200, {"Cache-Control": "no-store"}


@bp.get("/vouchers/<voucher_number>.json")
@login_required
def download(voucher_number: str):
    voucher = voucher_for(db.session, current_user, voucher_number)
    body = json.dumps(voucher_document(voucher), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{voucher.number}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
