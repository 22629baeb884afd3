"""Assessment reports: the structured report of each kind, checked here, and signed as licence certificates are.

A compliance report names, for each open-data source the version cites, its legal basis; whether personal
information is present and how it is handled; the data's classification; its cross-boundary position; and a
conclusion (pass, pass with conditions, fail) with its reasons. A quality report gives the completeness (a percent
with up to two decimals, written as text so that the signed JSON holds no float), the accuracy checks performed
with their results, the timeliness (lag in days) and the number of records examined.

Signing builds a statement with ``"type": "AssessmentReport"`` naming the provider organization, the member who
signed, the version and the SHA-256 of each of its files, and signs its canonical JSON with the platform's
Ed25519 key (``marketplace.signing``). The document is ``{"assessment": statement, "signature": {...}}``; the
certificate checks (the verify page, the API endpoint and ``flask licences verify``) verify it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, User
from marketplace.assessments import fees
from marketplace.assessments.models import Assessment
from marketplace.assessments.services import _provider_member, text
from marketplace.assessments.states import (
    ASSESSMENT_LIFECYCLE,
    Actor,
    AssessmentAction,
    AssessmentKind,
    Conclusion,
)
from marketplace.errors import ValidationFailed
from marketplace.listings.services import touch
from marketplace.listings.vocab import Classification, PersonalInfo
from marketplace.notifications.services import notify_organization
from marketplace.signing.keys import ALGORITHM, canonical_bytes
from marketplace.signing.services import current_signer

# The platform's name as the licence certificates' issuer (catalog.dcat.NAME, which this package may not import).
ISSUER_NAME = "Open Data Exchange"
REPORT_TYPE = "AssessmentReport"
REPORT_VERSION = 1
CHECK_RESULTS = ("passed", "failed")
MAX_CHECKS = 20
_PERCENT = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


def base_url() -> str:
    return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def report_url(number: str, base: str | None = None) -> str:
    return f"{base if base is not None else base_url()}/assessments/{quote(number)}"


def _choice(value, enum_cls, field: str, errors: dict) -> str | None:
    try:
        return enum_cls(value).value
    except ValueError:
        errors[field] = [_("Choose one of the options.")]
        return None


def _field(errors: dict, field: str, value, *, required: bool = True) -> str:
    try:
        return text(value if isinstance(value, str) else None, field, required=required)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return ""


def _whole(value, field: str, errors: dict, *, required: bool = True) -> int | None:
    if value in (None, "") and not required:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = [_("Enter a whole number of 0 or more.")]
        return None
    if number < 0 or number > 10**12:
        errors[field] = [_("Enter a whole number of 0 or more.")]
        return None
    return number


def check_compliance(assessment: Assessment, data: Mapping) -> dict:
    """The compliance report from ``data`` (``legal_bases``: one text per cited source, in the version's order;
    ``personal_information``, ``handling``, ``classification``, ``classification_reason``, ``cross_boundary``,
    ``conclusion``, ``conclusion_text``); ValidationFailed naming every field wrong at once."""
    errors: dict[str, list[str]] = {}
    bases = list(data.get("legal_bases") or [])
    sources = []
    for i, source in enumerate(assessment.version.sources):
        basis = _field(errors, f"legal_bases-{i}", bases[i] if i < len(bases) else "")
        sources.append({"title": source.title, "url": source.url, "licence": source.licence_id,
                        "legal_basis": basis})
    report = {
        "sources": sources,
        "personal_information": {
            "present": _choice(data.get("personal_information"), PersonalInfo, "personal_information", errors),
            "handling": _field(errors, "handling", data.get("handling")),
        },
        "classification": {
            "level": _choice(data.get("classification"), Classification, "classification", errors),
            "reason": _field(errors, "classification_reason", data.get("classification_reason"), required=False),
        },
        "cross_boundary": _field(errors, "cross_boundary", data.get("cross_boundary")),
        "conclusion": _choice(data.get("conclusion"), Conclusion, "conclusion", errors),
        "conclusion_text": _field(errors, "conclusion_text", data.get("conclusion_text")),
    }
    if errors:
        raise ValidationFailed(_("The report is not complete."), errors)
    return report


def check_quality(data: Mapping) -> dict:
    """The quality report from ``data`` (``completeness_percent``, ``records_examined``, ``accuracy_checks``: a
    list of {check, result: passed|failed, detail}, blank rows ignored; ``timeliness_lag_days``, ``summary``)."""
    errors: dict[str, list[str]] = {}
    percent = str(data.get("completeness_percent") or "").strip()
    if not _PERCENT.match(percent) or float(percent) > 100:
        errors["completeness_percent"] = [_("Enter a percentage from 0 to 100, with at most two decimals.")]
    checks = []
    for i, row in enumerate(data.get("accuracy_checks") or []):
        row = row if isinstance(row, Mapping) else {}
        if not any(str(row.get(k) or "").strip() for k in ("check", "detail")):
            continue
        name = _field(errors, f"accuracy_checks-{i}-check", row.get("check"), required=True)
        if row.get("result") not in CHECK_RESULTS:
            errors[f"accuracy_checks-{i}-result"] = [_("Choose passed or failed.")]
        checks.append({"check": name, "result": row.get("result"),
                       "detail": _field(errors, f"accuracy_checks-{i}-detail", row.get("detail"), required=False)})
    if not checks:
        errors["accuracy_checks"] = [_("Describe at least one accuracy check and its result.")]
    elif len(checks) > MAX_CHECKS:
        errors["accuracy_checks"] = [_("At most %(limit)s checks.", limit=MAX_CHECKS)]
    report = {
        "completeness_percent": percent,
        "records_examined": _whole(data.get("records_examined"), "records_examined", errors),
        "accuracy_checks": checks,
        "timeliness_lag_days": _whole(data.get("timeliness_lag_days"), "timeliness_lag_days", errors),
        "summary": _field(errors, "summary", data.get("summary")),
    }
    if errors:
        raise ValidationFailed(_("The report is not complete."), errors)
    return report


def _party(org: Organization) -> dict:
    return {"id": org.id, "slug": org.slug, "name": org.name}


def build_statement(assessment: Assessment, signer: User, report: dict, signed_at) -> dict:
    """What the signed report states: who assessed what (the version and the SHA-256 of each of its files), who
    signed, when, and the report. Only strings, integers, null, lists and objects."""
    version, base = assessment.version, base_url()
    product = version.product
    files = sorted(({"filename": a.filename, "kind": a.kind.value, "size": a.size, "sha256": a.sha256}
                    for a in version.assets), key=lambda f: (f["kind"], f["filename"], f["sha256"]))
    return {
        "type": REPORT_TYPE,
        "version": REPORT_VERSION,
        "number": assessment.number,
        "url": report_url(assessment.number, base),
        "issued_at": signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issuer": {"name": ISSUER_NAME, "url": base},
        "kind": assessment.kind.value,
        "provider": _party(assessment.provider.organization),
        "signed_by": {"id": signer.id, "name": signer.display_name},
        "seller": _party(product.organization),
        "product": {"id": product.id, "slug": product.slug, "title": version.title_en,
                    "url": f"{base}/products/{quote(product.slug)}"},
        "product_version": {"number": version.number, "label": version.label},
        "files": files,
        "report": report,
    }


def sign_report(session: Session, user: User, assessment: Assessment, data: Mapping) -> Assessment:
    """A provider member submits the report of an accepted request: it is checked, signed and attached to the
    version for good; the seller is told. Refuses anyone outside the provider (404), a request not accepted
    (409, so two submissions at once sign once) and an incomplete report (422)."""
    _provider_member(session, user, assessment)
    fees.require_paid(assessment)
    if assessment.kind == AssessmentKind.COMPLIANCE:
        report = check_compliance(assessment, data)
    else:
        report = check_quality(data)
    signer = current_signer(session, current_app)
    moved = ASSESSMENT_LIFECYCLE.apply(session, assessment, AssessmentAction.SIGN, Actor.PROVIDER, user=user,
                                       payload={"conclusion": report.get("conclusion")})
    statement = build_statement(assessment, user, report, moved.at.replace(microsecond=0))
    assessment.statement = statement
    assessment.signature = signer.sign(canonical_bytes(statement))
    assessment.key_id = signer.key_id
    assessment.conclusion = report.get("conclusion")
    assessment.signed_by_id, assessment.signed_at = user.id, moved.at
    touch(assessment.version)  # the product page shows "assessed by": a page kept before is stale now
    provider, number = assessment.provider.organization.name, assessment.number
    notify_organization(session, assessment.seller_organization,
                        lambda: _("%(provider)s signed assessment %(number)s", provider=provider, number=number),
                        lambda: _("The report is attached to your version and shown to reviewers and buyers."),
                        f"/assessments/{number}")
    session.flush()
    return assessment


def report_document(assessment: Assessment) -> dict:
    """The signed report as downloaded and verified."""
    return {"assessment": assessment.statement,
            "signature": {"alg": ALGORITHM, "kid": assessment.key_id, "value": assessment.signature}}
