"""``/.well-known/audit-checkpoints.json``: the signed checkpoints of the audit chain, newest first, for anyone to
keep a copy (public, no login). ``?before=ID`` pages back; ``next`` links the older page. A saved copy is what
``flask audit verify --checkpoints FILE`` checks the database against; the keys are the platform's published JWKS.
"""
from __future__ import annotations

import re

from flask import Blueprint, jsonify, request, url_for

from marketplace.audit.checkpoints import CHECKPOINTS_PATH, published_checkpoints
from marketplace.errors import DomainError, ValidationFailed
from marketplace.extensions import db
from marketplace.inputs import MAX_ROW_ID
from marketplace.signing.keys import KEYS_PATH

bp = Blueprint("audit_public", __name__)

MAX_AGE_SECONDS = 300


@bp.errorhandler(DomainError)
def _error(error: DomainError):
    return jsonify(error.to_dict()), error.status


@bp.get(CHECKPOINTS_PATH)
def checkpoints():
    raw = (request.args.get("before") or "").strip()
    before = None
    if raw:
        if not (re.fullmatch(r"[0-9]{1,10}", raw) and 1 <= int(raw) <= MAX_ROW_ID):
            raise ValidationFailed("before must be a checkpoint id.", {"before": ["Not a checkpoint id."]})
        before = int(raw)
    entries, older = published_checkpoints(db.session, before)
    response = jsonify({
        "checkpoints": entries,
        "next": url_for(".checkpoints", before=older, _external=False) if older else None,
        "keys": KEYS_PATH,
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response
