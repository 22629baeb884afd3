"""Assessment reports: the structured report of each kind, checked here, and signed as licence certificates are.

A compliance report names, for each open-data source the version cites, its legal basis; whether personal
information is present and how it is handled; the data's classification; its cross-boundary position; and a
conclusion (pass, pass with conditions, fail) with its reasons. A quality report gives the completeness (a percent
with up to two decimals, written as text so that the signed JSON holds no float), the accuracy checks performed
with their results, the timeliness (lag in days) and the number of records examined. A valuation report gives the
method (cost, income, market), the value range (low and high in minor units of one currency), the basis and the
assumptions.

A provider member may save the report unsigned (a draft, checked only for what it can hold) and come back to it;
signing is a separate step, of the draft or of what is sent. A signed report may be withdrawn with a reason: it
stays readable, marked withdrawn, and counts for nothing.

Signing builds a statement with ``"type": "AssessmentReport"`` naming the provider organization, the member who
signed, the version and the SHA-256 of each of its files, and signs its canonical JSON with the platform's
Ed25519 key (``marketplace.signing``). The document is ``{"assessment": statement, "signature": {...}}``; the
certificate checks (the verify page, the API endpoint and ``flask licences verify``) verify it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, User
from marketplace.assessments import fees
from marketplace.assessments.models import Assessment, file_list, files_digest
from marketplace.assessments.services import (
    _provider_member,
    refuse_seller_member,
    require_active,
    signed_for_versions,
    text,
)
from marketplace.assessments.states import (
    ASSESSMENT_LIFECYCLE,
    REPORT_STATES,
    Actor,
    AssessmentAction,
    AssessmentKind,
    AssessmentStatus,
    Conclusion,
    ProviderStatus,
    ValuationMethod,
)
from marketplace.audit.services import record
from marketplace.bilingual import lazy_title_of
from marketplace.db import utcnow
from marketplace.errors import Conflict, ValidationFailed
from marketplace.i18n import day
from marketplace.lifecycle import lock_row
from marketplace.listings.services import touch
from marketplace.listings.states import VersionStatus
from marketplace.listings.vocab import Classification, Currency, PersonalInfo
from marketplace.notifications.services import notify_organization, notify_reviewers
from marketplace.signing.documents import DocumentKind, register
from marketplace.signing.keys import ALGORITHM, canonical_bytes
from marketplace.signing.services import current_signer

# A version reviewers have cleared for trading: a failing compliance report on one goes to the reviewers.
ALREADY_CLEARED = (VersionStatus.APPROVED, VersionStatus.ON_NOTICE, VersionStatus.LISTED)
# The platform's name as the licence certificates' issuer (catalog.dcat.NAME, which this package may not import).
ISSUER_NAME = "Open Data Exchange"
REPORT_TYPE = "AssessmentReport"
REPORT_VERSION = 1
CHECK_RESULTS = ("passed", "failed")
CHECK_FIELDS = ("check", "result", "detail")
MAX_CHECKS = 20
MAX_VALUE = 10**15  # minor units: a value range past this is a typing error
# What a draft may hold: the report's fields as entered (text, whole numbers, lists of them or of rows of text),
# nothing larger.
MAX_DRAFT_CHARS = 60_000
DRAFT_FIELDS = {
    AssessmentKind.COMPLIANCE: ("legal_bases", "personal_information", "handling", "classification",
                                "classification_reason", "cross_boundary", "conclusion", "conclusion_text"),
    AssessmentKind.QUALITY: ("completeness_percent", "records_examined", "accuracy_checks", "timeliness_lag_days",
                             "summary"),
    AssessmentKind.VALUATION: ("method", "value_low", "value_high", "currency", "basis", "assumptions"),
}
_PERCENT = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


def base_url() -> str:
    return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def report_url(number: str, base: str | None = None) -> str:
    return f"{base if base is not None else base_url()}/assessments/{quote(number)}"


def _choice(value, enum_cls, field: str, errors: dict) -> str | None:
    try:
        return enum_cls(value).value
    except (ValueError, TypeError):
        errors[field] = [_("Choose one of the options.")]
        return None


def _field(errors: dict, field: str, value, *, required: bool = True) -> str:
    try:
        return text(value if isinstance(value, str) else None, field, required=required)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return ""


def _list(value) -> list:
    return value if isinstance(value, list) else []


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
    bases = _list(data.get("legal_bases"))
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
    if report["classification"]["level"] == Classification.CORE and report["conclusion"] in (
            Conclusion.PASS, Conclusion.PASS_WITH_CONDITIONS):
        # Core data (核心数据) may not be traded: no report may clear it for listing.
        errors["conclusion"] = [_("Core data may not be traded: a report classifying the data as core must "
                                  "conclude fail.")]
        if len(errors) == 1:  # complete, but concluding what core data may never conclude: say that
            raise ValidationFailed(errors["conclusion"][0], errors)
        raise ValidationFailed(_("The report is not complete, and core data may not be traded: a report "
                                 "classifying the data as core must conclude fail."), errors)
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
    for i, row in enumerate(_list(data.get("accuracy_checks"))):
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


def _amount(value, field: str, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = [_("Enter a whole amount in minor units (cents), without decimals.")]
        return None
    if not 0 <= value <= MAX_VALUE:
        limit = format(MAX_VALUE, ",")
        errors[field] = [_("Enter an amount from 0 to %(limit)s in minor units (cents).", limit=limit)]
        return None
    return value


def check_valuation(data: Mapping) -> dict:
    """The valuation report from ``data`` (``method``: cost, income or market; ``value_low`` and ``value_high`` in
    minor units, low not above high; ``currency``; ``basis``, ``assumptions``)."""
    errors: dict[str, list[str]] = {}
    low = _amount(data.get("value_low"), "value_low", errors)
    high = _amount(data.get("value_high"), "value_high", errors)
    if low is not None and high is not None and low > high:
        errors["value_high"] = [_("The high value cannot be below the low value.")]
    currency = data.get("currency")
    if currency not in Currency._value2member_map_:
        errors["currency"] = [_("Choose CNY, HKD or USD.")]
    report = {
        "method": _choice(data.get("method"), ValuationMethod, "method", errors),
        "value_range": {"low": low, "high": high, "currency": currency},
        "basis": _field(errors, "basis", data.get("basis")),
        "assumptions": _field(errors, "assumptions", data.get("assumptions")),
    }
    if errors:
        raise ValidationFailed(_("The report is not complete."), errors)
    return report


def refuse_unknown_fields(kind: AssessmentKind, data: Mapping) -> None:
    """Refuse (ValidationFailed naming each) a field the report of ``kind`` does not have, rather than drop it:
    a misspelt field would otherwise vanish from what is signed."""
    known = DRAFT_FIELDS[kind]
    unknown = [str(name) for name in data if name not in known]
    if kind == AssessmentKind.QUALITY:
        rows = _list(data.get("accuracy_checks"))
        unknown += [f"accuracy_checks-{i}-{name}" for i, row in enumerate(rows) if isinstance(row, Mapping)
                    for name in row if name not in CHECK_FIELDS]
    if unknown:
        message = _("Unknown field.")
        raise ValidationFailed(_("Unknown report fields: %(names)s.", names=", ".join(unknown)),
                               {name: [message] for name in unknown})


def check_report(assessment: Assessment, data: Mapping) -> dict:
    """The report of the assessment's kind from ``data``; ValidationFailed naming every field wrong."""
    refuse_unknown_fields(assessment.kind, data)
    if assessment.kind == AssessmentKind.COMPLIANCE:
        return check_compliance(assessment, data)
    if assessment.kind == AssessmentKind.VALUATION:
        return check_valuation(data)
    return check_quality(data)


def _party(org: Organization) -> dict:
    return {"id": org.id, "slug": org.slug, "name": org.name}


def build_statement(assessment: Assessment, signer: User, report: dict, signed_at) -> dict:
    """What the signed report states: who assessed what (the version and the SHA-256 of each of its files), who
    signed, when, and the report. Only strings, integers, null, lists and objects."""
    version, base = assessment.version, base_url()
    product = version.product
    files = file_list(version.assets)
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


def save_draft(session: Session, user: User, assessment: Assessment, data: Mapping) -> Assessment:
    """A provider member saves the report of an accepted request unsigned, as entered, to come back to; nothing is
    checked but its size. Refuses anyone outside the provider (404), a suspended provider and a request not
    accepted (409), and a draft too large to keep (422)."""
    _provider_member(session, user, assessment)
    require_active(assessment.provider)
    refuse_unknown_fields(assessment.kind, data)
    draft = {name: data[name] for name in DRAFT_FIELDS[assessment.kind] if data.get(name) is not None}
    wrong = [name for name, value in draft.items() if not _draftable(value)]
    if wrong:
        message = _("Text, a whole number, or a list of them.")
        raise ValidationFailed(_("The draft holds values no report field takes."), {name: [message] for name in wrong})
    if len(json.dumps(draft, ensure_ascii=False)) > MAX_DRAFT_CHARS:
        raise ValidationFailed(_("The draft is too long to keep."), {})
    lock_row(session, assessment)  # the state decides whether a draft may still change
    if assessment.status != AssessmentStatus.ACCEPTED:
        raise Conflict(_("Only an accepted request that is not signed yet has a draft report."))
    assessment.draft, assessment.draft_saved_at = draft, utcnow()
    session.flush()
    return assessment


def _draftable(value, depth: int = 0) -> bool:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    if depth == 0 and isinstance(value, list):
        return all(_draftable(v, 1) or (isinstance(v, Mapping) and all(
            isinstance(k, str) and (x is None or isinstance(x, str)) for k, x in v.items())) for v in value)
    return False


def sign_report(session: Session, user: User, assessment: Assessment, data: Mapping | None = None) -> Assessment:
    """A provider member signs the report of an accepted request (``data``, or the saved draft when None): it is
    checked, signed and attached to the version for good, pinning the SHA-256 of each of its files; the seller
    is told. Refuses anyone outside the provider (404), a member of the seller's organization (403), a suspended
    provider, a request not accepted (409, so two
    submissions at once sign once) and an incomplete report (422)."""
    _provider_member(session, user, assessment)
    require_active(assessment.provider)
    refuse_seller_member(session, user, assessment)
    # Signed already, or not accepted: say so before judging the report (the locked move below decides).
    ASSESSMENT_LIFECYCLE.next(assessment.status, AssessmentAction.SIGN, Actor.PROVIDER)
    fees.require_paid(assessment)
    report = check_report(assessment, assessment.draft or {} if data is None else data)
    signer = current_signer(session, current_app)
    moved = ASSESSMENT_LIFECYCLE.apply(session, assessment, AssessmentAction.SIGN, Actor.PROVIDER, user=user,
                                       payload={"conclusion": report.get("conclusion")})
    statement = build_statement(assessment, user, report, moved.at.replace(microsecond=0))
    assessment.statement = statement
    assessment.signature = signer.sign(canonical_bytes(statement))
    assessment.key_id = signer.key_id
    assessment.conclusion = report.get("conclusion")
    assessment.signed_by_id, assessment.signed_at = user.id, moved.at
    assessment.files_digest = files_digest(statement["files"])
    assessment.draft, assessment.draft_saved_at = None, None
    touch(assessment.version)  # the product page shows "assessed by": a page kept before is stale now
    provider, number = assessment.provider.organization.name, assessment.number
    notify_organization(session, assessment.seller_organization,
                        lambda: _("%(provider)s signed assessment %(number)s", provider=provider, number=number),
                        lambda: _("The report is attached to your version and shown to reviewers and buyers."),
                        f"/assessments/{number}")
    if assessment.conclusion == Conclusion.FAIL.value and assessment.version.status in ALREADY_CLEARED:
        _tell_reviewers_of_failure(session, user, assessment)
    session.flush()
    return assessment


def _tell_reviewers_of_failure(session: Session, user: User, assessment: Assessment) -> None:
    """A compliance report concluding fail on a version reviewers already approved (or that is listed) goes to the
    reviewers, audited, so that they can act on the product; the product page never shows it as a credential."""
    version = assessment.version
    record(session, actor_id=user.id, action="assessment.fail_on_cleared_version", subject_type="assessment",
           subject_id=assessment.id, payload={"number": assessment.number, "version_id": version.id,
                                              "version_status": version.status.value})
    provider, number, title, label = (assessment.provider.organization.name, assessment.number,
                                      lazy_title_of(version), version.label)
    notify_reviewers(session,
                     lambda: _("Compliance assessment %(number)s concluded fail", number=number),
                     lambda: _("%(provider)s signed a compliance assessment concluding fail for \u201c%(title)s\u201d "
                               "(version %(version)s), which reviewers already approved. Review the product.",
                               provider=provider, title=str(title), version=label),
                     f"/assessments/{number}")


def withdraw_report(session: Session, user: User, assessment: Assessment, reason: str) -> Assessment:
    """A provider member withdraws a signed report with a reason: it stays readable (page, JSON, verification)
    marked withdrawn, and no longer counts for approval or shows as "assessed by"; the seller is told. Refuses
    anyone outside the provider (404), no reason (422) and a report not signed or already withdrawn (409)."""
    _provider_member(session, user, assessment)
    reason = text(reason, "reason")
    ASSESSMENT_LIFECYCLE.apply(session, assessment, AssessmentAction.WITHDRAW, Actor.PROVIDER, user=user,
                               payload={"reason": reason})
    assessment.withdrawn_at, assessment.withdrawn_by_id, assessment.withdrawal_reason = utcnow(), user.id, reason
    touch(assessment.version)  # its page no longer shows "assessed by"
    provider, number = assessment.provider.organization.name, assessment.number
    notify_organization(session, assessment.seller_organization,
                        lambda: _("%(provider)s withdrew assessment %(number)s", provider=provider, number=number),
                        lambda: _("Reason: %(reason)s", reason=reason), f"/assessments/{number}")
    session.flush()
    return assessment


def standing(assessment: Assessment) -> str | None:
    """What a signed report is worth today, in words, or None while it stands: withdrawn, by a suspended
    provider, or of files that changed since. The signed text stays as signed."""
    if assessment.status == AssessmentStatus.WITHDRAWN:
        return _("This report was withdrawn by its provider on %(day)s: %(reason)s",
                 day=day(assessment.withdrawn_at),
                 reason=assessment.withdrawal_reason)
    if assessment.provider.status == ProviderStatus.SUSPENDED:
        return _("The platform suspended its provider, %(name)s, as a data service provider.",
                 name=assessment.provider.organization.name)
    if assessment.files_changed:
        return _("The files changed after this assessment: it does not cover the version's current files.")
    return None


def standing_for_versions(session: Session, version_ids) -> list[Assessment]:
    """The signed reports of the versions that stand today (``standing`` says nothing against them), oldest
    first: what may be shown as "assessed by"."""
    return [a for a in signed_for_versions(session, version_ids) if standing(a) is None]


def _matches(assessment: Assessment, reason: str) -> str:
    """The words of a report on record: its signature's, and what it is worth today (the signed text stays)."""
    matches = _("%(reason)s It matches the assessment report on record.", reason=reason)
    today = standing(assessment)
    return f"{matches} {today}" if today else matches


def report_document(assessment: Assessment) -> dict:
    """The signed report as downloaded and verified."""
    return {"assessment": assessment.statement,
            "signature": {"alg": ALGORITHM, "kid": assessment.key_id, "value": assessment.signature}}


def _signed_report(session: Session, number: str) -> Assessment | None:
    return session.scalar(select(Assessment).where(Assessment.number == number,
                                                   Assessment.status.in_(REPORT_STATES))) \
        if len(number) <= 40 else None


register(DocumentKind(
    field="assessment", type=REPORT_TYPE, version=REPORT_VERSION, serial_field="number",
    find=_signed_report, document=report_document,
    status=lambda _session, assessment: assessment.status.value,  # "signed", or "withdrawn" by its provider
    changed_words=lambda: _("The signature does not match the assessment report: it was changed after it was "
                            "signed, or it was signed with another key."),
    unknown_words=lambda: _("The signed document is not an assessment report this verifier knows."),
    valid_words=lambda kid: _("The signature is valid: the assessment report is exactly as signed, with key "
                              "%(kid)s.", kid=kid),
    not_issued_words=lambda: _("No assessment report with this number was signed here: the report is signed, but "
                               "this marketplace never issued it."),
    differs_words=lambda: _("The assessment report does not match the report signed under this number: its "
                            "content or signature differs from the report on record."),
    matches_words=lambda _session, assessment, reason: _matches(assessment, reason),
))
