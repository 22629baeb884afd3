"""Registration certificates (登记证书): issued when a version's public notice ends without an upheld objection,
valid ``REGISTRATION_VALIDITY_DAYS``, signed with the platform's Ed25519 key like licence certificates.

The signed statement is canonical JSON (``signing.keys.canonical_bytes``) with ``"type": "RegistrationCertificate"``
inside it; the document is ``{"registration": statement, "signature": {"alg", "kid", "value"}}`` and is verified by
the same page, endpoint and ``flask licences verify`` command as licence certificates (``licensing.certificates``
dispatches on the document's field). What happens later (a suspension, a delisting, expiry, a renewal) never
changes the signed document: the certificate's page and the online verification read it from the product and the
newer certificates (``standing``).

Renewal: the holder's owner asks (from ``REGISTRATION_RENEWAL_WINDOW_DAYS`` before expiry, or after it) and a
reviewer confirms, which issues the next certificate under the same registration number. An exchange re-examines a
registration before extending it, so renewal is never automatic; the reviewer's confirmation is that examination.
While the newest certificate of a product has expired, new licence requests are refused (``refuse_if_expired``).
"""
from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import User
from marketplace.assessments.models import Assessment, ServiceProvider
from marketplace.assessments.reports import report_document, report_url, standing_for_versions
from marketplace.assessments.reports import standing as standing_of_report
from marketplace.assessments.states import Conclusion
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from marketplace.catalog.dcat import NAME
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition, NotFound
from marketplace.i18n import current_locale_tag, day
from marketplace.lifecycle import lock_row
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.states import ProductStatus
from marketplace.notifications.services import notify_organization
from marketplace.review.notice_models import PublicNotice, RegistrationCertificate
from marketplace.review.notices import title_for_reader
from marketplace.review.publication import registration_number
from marketplace.signing.documents import DocumentKind, register
from marketplace.signing.keys import ALGORITHM, canonical_bytes
from marketplace.signing.services import current_signer

STATEMENT_TYPE = "RegistrationCertificate"
STATEMENT_VERSION = 1


class Standing(enum.StrEnum):
    """What a certificate is worth today (its page and the verification say so; the signed text stays)."""

    VALID = "valid"
    EXPIRED = "expired"
    RENEWED = "renewed"      # a newer certificate of the same registration replaced it
    SUSPENDED = "suspended"  # the product is suspended
    DELISTED = "delisted"    # the product is delisted


def assessments_for(session: Session, version: ProductVersion) -> list[dict]:
    """The signed assessment reports (compliance, quality, valuation by data service providers) a registration
    rests on: those that stand when it is issued (``reports.standing``) and do not conclude fail, as the statement
    names them: ``[{"kind", "provider", "number", "url", "sha256", "conclusion"}]``, oldest first. The digest is of
    the report's signed document (canonical JSON), so the registration pins each report as signed."""
    return [{"kind": a.kind.value, "provider": a.provider.organization.name, "number": a.number,
             "url": report_url(a.number), "sha256": hashlib.sha256(canonical_bytes(report_document(a))).hexdigest(),
             "conclusion": a.conclusion}
            for a in standing_for_versions(session, [version.id]) if a.conclusion != Conclusion.FAIL.value]


def cited_assessments(session: Session, certificate: RegistrationCertificate) -> dict[str, Assessment]:
    """The assessment reports the certificate's statement names, by number, in the statement's order."""
    numbers = [a["number"] for a in (certificate.statement or {}).get("assessments") or [] if a.get("number")]
    if not numbers:
        return {}
    found = {a.number: a for a in session.scalars(
        select(Assessment).where(Assessment.number.in_(numbers))
        .options(joinedload(Assessment.provider).joinedload(ServiceProvider.organization)))}
    return {number: found[number] for number in numbers if number in found}


def lapsed_assessments(session: Session, certificate: RegistrationCertificate) -> dict[str, str]:
    """The assessments the certificate rests on that no longer stand (withdrawn, of a suspended provider, of files
    that changed: ``reports.standing``) or that conclude fail (a certificate issued before failing reports were
    left out), each number with why, in the statement's order. The signed text stays as issued; its page, the API
    and the verification say this beside it."""
    lapsed = {number: standing_of_report(a) or (_("It concludes fail: a registration cannot rest on it.")
                                                if a.conclusion == Conclusion.FAIL.value else None)
              for number, a in cited_assessments(session, certificate).items()}
    return {number: words for number, words in lapsed.items() if words}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base() -> str:
    return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def registration_url(number: str, base: str | None = None) -> str:
    return f"{base if base is not None else _base()}/registrations/{quote(number)}"


def build_statement(session: Session, certificate: RegistrationCertificate, notice: PublicNotice | None) -> dict:
    """What the certificate states: the registration number, holder, scope (product, version, the categories and
    territories of its plans), the assessments it rests on, the notice it passed and the validity."""
    version = certificate.version
    product = version.product
    holder = product.organization
    base = _base()
    return {
        "type": STATEMENT_TYPE,
        "version": STATEMENT_VERSION,
        "serial": certificate.serial,
        "registration_number": certificate.registration_number,
        "sequence": certificate.sequence,
        "url": registration_url(certificate.registration_number, base),
        "issued_at": _iso(certificate.created_at or utcnow()),
        "issuer": {"name": NAME["en"], "url": base},
        "holder": {"id": holder.id, "slug": holder.slug, "name": holder.name},
        "scope": {
            "product": {"id": product.id, "slug": product.slug, "title": version.title_en,
                        "title_zh": version.title_zh or "", "url": f"{base}/products/{quote(product.slug)}"},
            "version": {"number": version.number, "label": version.label},
            "categories": [version.category] if version.category else [],
            "territories": sorted({str(plan.territory) for plan in version.plans}),
        },
        "assessments": assessments_for(session, version),
        "notice": {"opened_at": _iso(notice.opens_at), "closed_at": _iso(notice.closes_at),
                   "ended_at": _iso(notice.ended_at or utcnow())} if notice is not None else None,
        "valid_from": _iso(certificate.valid_from),
        "valid_until": _iso(certificate.valid_until),
    }


def _issue(session: Session, version: ProductVersion, notice: PublicNotice | None, sequence: int,
           valid_from: datetime, valid_until: datetime) -> RegistrationCertificate:
    number = version.registration_number
    certificate = RegistrationCertificate(
        serial=f"{number}-{sequence}", registration_number=number, sequence=sequence, version=version,
        product_id=version.product_id, organization_id=version.product.organization_id,
        notice_id=notice.id if notice is not None else None, valid_from=valid_from, valid_until=valid_until,
        created_at=utcnow(), statement={}, signature="", key_id="")
    session.add(certificate)
    session.flush()
    signer = current_signer(session, current_app)
    statement = build_statement(session, certificate, notice)
    certificate.statement = statement
    certificate.signature = signer.sign(canonical_bytes(statement))
    certificate.key_id = signer.key_id
    session.flush()
    return certificate


def _validity() -> timedelta:
    return timedelta(days=int(current_app.config["REGISTRATION_VALIDITY_DAYS"]))


def issue_certificate(session: Session, notice: PublicNotice, now: datetime) -> RegistrationCertificate:
    """Issue the first certificate of the notice's registration, valid from now (called as the notice ends)."""
    certificate = _issue(session, notice.version, notice, 1, now, now + _validity())
    record(session, actor_id=None, action="registration.issue", subject_type="registration",
           subject_id=certificate.id, payload={"serial": certificate.serial, "notice_id": notice.id,
                                               "valid_until": certificate.statement["valid_until"]})
    return certificate


def backfill_certificates(session: Session) -> list[RegistrationCertificate]:
    """Issue a first certificate to each listed (or suspended) product listed before public notices existed: its
    listed version has no notice and the product no certificate. Valid from the version's listing (its audited
    ``version.list``, else its approval) for the usual period, so a registration that would have lapsed is
    refused as expired like any other; a version approved before registration numbers gets its number. Idempotent,
    and safe beside a concurrent run (each product is locked and checked again). The certificates issued."""
    listed = select(DataProduct.id).where(
        DataProduct.status.in_((ProductStatus.LISTED, ProductStatus.SUSPENDED)),
        DataProduct.listed_version_id.is_not(None),
        ~exists().where(RegistrationCertificate.product_id == DataProduct.id),
        ~exists().where(PublicNotice.version_id == DataProduct.listed_version_id)).order_by(DataProduct.id)
    issued = []
    for product_id in session.scalars(listed).all():
        product = session.get(DataProduct, product_id)
        lock_row(session, product)
        if latest_for_product(session, product.id) is not None:
            continue  # a concurrent run issued it
        version = product.listed_version
        since = session.scalar(select(func.min(AuditEvent.occurred_at)).where(
            AuditEvent.action == "version.list", AuditEvent.subject_type == "version",
            AuditEvent.subject_id == version.id)) or version.approved_at or product.created_at
        version.registration_number = version.registration_number or registration_number(version, since)
        certificate = _issue(session, version, None, 1, since, since + _validity())
        record(session, actor_id=None, action="registration.issue", subject_type="registration",
               subject_id=certificate.id, payload={"serial": certificate.serial, "backfill": True,
                                                   "valid_until": certificate.statement["valid_until"]})
        issued.append(certificate)
    session.flush()
    return issued


def product_title(statement: dict) -> str:
    """The product's title as the statement names it, in the reader's language: its Chinese title for a Chinese
    reader where it has one (the signed text keeps both)."""
    product = statement["scope"]["product"]
    return product.get("title_zh") or product["title"] if current_locale_tag() != "en" else product["title"]


def document(certificate: RegistrationCertificate) -> dict:
    """The certificate as downloaded: the signed statement and its signature."""
    return {"registration": certificate.statement,
            "signature": {"alg": ALGORITHM, "kid": certificate.key_id, "value": certificate.signature}}


# ---------------------------------------------------------------- reading


def certificates_of(session: Session, number: str) -> list[RegistrationCertificate]:
    """Every certificate of a registration number, newest first; NotFound if there is none."""
    found = list(session.scalars(select(RegistrationCertificate).where(
        RegistrationCertificate.registration_number == number[:40])
        .order_by(RegistrationCertificate.sequence.desc()))) if len(number) <= 40 else []
    if not found:
        raise NotFound(_("There is no registration %(number)s.", number=repr(number[:40])))
    return found


def current_certificate(session: Session, number: str) -> RegistrationCertificate:
    """The newest certificate of a registration number (the only one read); NotFound if there is none."""
    found = session.scalar(select(RegistrationCertificate).where(
        RegistrationCertificate.registration_number == number[:40])
        .order_by(RegistrationCertificate.sequence.desc()).limit(1)) if len(number) <= 40 else None
    if found is None:
        raise NotFound(_("There is no registration %(number)s.", number=repr(number[:40])))
    return found


def certificate_of(session: Session, number: str, sequence: int) -> RegistrationCertificate | None:
    """The certificate of a registration number for one validity period, if there is one."""
    return session.scalar(select(RegistrationCertificate).where(
        RegistrationCertificate.registration_number == number[:40], RegistrationCertificate.sequence == sequence))


def by_serial(session: Session, serial: str) -> RegistrationCertificate | None:
    return session.scalar(select(RegistrationCertificate).where(RegistrationCertificate.serial == serial)) \
        if serial and len(serial) <= 60 else None


def latest_for_product(session: Session, product_id: int) -> RegistrationCertificate | None:
    """The product's newest certificate (the newest registration's newest period), if any."""
    return session.scalar(select(RegistrationCertificate).where(RegistrationCertificate.product_id == product_id)
                          .order_by(RegistrationCertificate.id.desc()).limit(1))


def standing(session: Session, certificate: RegistrationCertificate, now: datetime | None = None) -> Standing:
    """What the certificate is worth now: a delisted or suspended product marks it first, then a newer
    certificate of the same registration, then its expiry."""
    product = session.get(DataProduct, certificate.product_id)
    if product.status == ProductStatus.DELISTED:
        return Standing.DELISTED
    if product.status == ProductStatus.SUSPENDED:
        return Standing.SUSPENDED
    newer = session.scalar(select(RegistrationCertificate.id).where(
        RegistrationCertificate.registration_number == certificate.registration_number,
        RegistrationCertificate.sequence > certificate.sequence).limit(1))
    if newer is not None:
        return Standing.RENEWED
    if (now or utcnow()) >= certificate.valid_until:
        return Standing.EXPIRED
    return Standing.VALID


STANDING_WORDS = {
    Standing.VALID: lambda: _("Valid."),
    Standing.EXPIRED: lambda: _("Expired: the registration must be renewed before new licences are granted."),
    Standing.RENEWED: lambda: _("Replaced by a renewal: a newer certificate of this registration is current."),
    Standing.SUSPENDED: lambda: _("The product is suspended: it is not traded until a reviewer reinstates it."),
    Standing.DELISTED: lambda: _("The product is delisted: this registration no longer permits trading."),
}


def standing_words(value: Standing) -> str:
    return STANDING_WORDS[Standing(value)]()


def lapsed_words(session: Session, certificate: RegistrationCertificate) -> list[str]:
    """Each assessment the certificate rests on that no longer stands, in words."""
    return [_("Assessment %(number)s no longer stands: %(why)s", number=number, why=why)
            for number, why in lapsed_assessments(session, certificate).items()]


def _matches(session: Session, certificate: RegistrationCertificate, reason: str) -> str:
    """A certificate on record, in words: its signature's, what it is worth today unless simply in force (the
    verification already says valid), and the assessments it rests on that no longer stand."""
    now = standing(session, certificate)
    words = [_("%(reason)s It matches the registration certificate on record.", reason=reason)]
    return " ".join([*words, *([] if now == Standing.VALID else [standing_words(now)]),
                     *lapsed_words(session, certificate)])


def expired_words(certificate: RegistrationCertificate, now: datetime | None = None) -> str | None:
    """Why no new licence of the certificate's product may be requested now (it has expired), or None."""
    if (now or utcnow()) < certificate.valid_until:
        return None
    return _("The registration %(number)s of this product expired on %(day)s: new licences can be requested once the "
             "seller has renewed it.", number=certificate.registration_number, day=day(certificate.valid_until))


def refuse_if_expired(session: Session, product_id: int, now: datetime | None = None) -> None:
    """Refuse (Conflict) a new licence request while the product's newest registration certificate has expired.
    A product without a certificate (still on notice, or registered before certificates existed) is not refused."""
    latest = latest_for_product(session, product_id)
    expired = expired_words(latest, now) if latest is not None else None
    if expired:
        raise Conflict(expired)


# ---------------------------------------------------------------- renewal and reminders


def renewal_opens(certificate: RegistrationCertificate) -> datetime:
    return certificate.valid_until - timedelta(days=int(current_app.config["REGISTRATION_RENEWAL_WINDOW_DAYS"]))


def request_renewal(session: Session, user: User, certificate: RegistrationCertificate) -> RegistrationCertificate:
    """The holder's owner asks for the registration to be renewed. Refuses anyone but an owner of the holder, a
    certificate that is not the registration's newest, a delisted product, a request before the renewal window
    opens, and a second request while one waits."""
    require(user, Permission.MANAGE_ORGANIZATION, certificate)
    lock_row(session, certificate)
    _refuse_unrenewable(session, certificate)
    if certificate.renewal_requested_at is not None:
        raise InvalidTransition(_("Renewal was already asked for; a reviewer will confirm it."))
    now = utcnow()
    if now < renewal_opens(certificate):
        raise InvalidTransition(_("Renewal can be asked for from %(day)s.",
                                  day=day(renewal_opens(certificate))))
    certificate.renewal_requested_at, certificate.renewal_requested_by_id = now, user.id
    record(session, actor_id=user.id, action="registration.request_renewal", subject_type="registration",
           subject_id=certificate.id, payload={"serial": certificate.serial})
    session.flush()
    return certificate


def _refuse_unrenewable(session: Session, certificate: RegistrationCertificate) -> None:
    state = standing(session, certificate)
    if state == Standing.RENEWED:
        raise InvalidTransition(_("This certificate was already renewed."))
    if state == Standing.DELISTED:
        raise InvalidTransition(_("The product is delisted: its registration cannot be renewed."))


def confirm_renewal(session: Session, user: User, certificate: RegistrationCertificate) -> RegistrationCertificate:
    """A reviewer confirms the holder's request: the next certificate of the registration is issued, valid from now
    until a full period after the later of now and the old expiry. Refuses anyone but a reviewer outside the
    holder, a certificate without a request, and one already renewed (a concurrent confirmation won)."""
    require(user, Permission.REVIEW, certificate)
    lock_row(session, certificate)
    _refuse_unrenewable(session, certificate)
    if certificate.renewal_requested_at is None:
        raise InvalidTransition(_("The holder has not asked for renewal."))
    now = utcnow()
    renewed = _issue(session, certificate.version, None, certificate.sequence + 1, now,
                     max(now, certificate.valid_until) + _validity())
    record(session, actor_id=user.id, action="registration.renew", subject_type="registration",
           subject_id=renewed.id, payload={"serial": renewed.serial, "renews": certificate.serial,
                                           "valid_until": renewed.statement["valid_until"]})
    version = certificate.version
    notify_organization(
        session, certificate.organization,
        lambda: _("Registration renewed: %(number)s", number=certificate.registration_number),
        lambda: _("The registration %(number)s of \u201c%(title)s\u201d is renewed until %(day)s.",
                  number=certificate.registration_number, title=title_for_reader(version),
                  day=day(renewed.valid_until)),
        f"/registrations/{certificate.registration_number}")
    session.flush()
    return renewed


def reminder_days() -> list[int]:
    raw = str(current_app.config.get("REGISTRATION_REMINDER_DAYS") or "")
    return sorted({int(part) for part in raw.split(",") if part.strip().isdigit()}, reverse=True)


def _remind(session: Session, certificate: RegistrationCertificate) -> None:
    number, version, until = certificate.registration_number, certificate.version, certificate.valid_until
    notify_organization(
        session, certificate.organization, lambda: _("Registration expiring: %(number)s", number=number),
        lambda: _("The registration %(number)s of \u201c%(title)s\u201d expires on %(day)s. Ask for its renewal "
                  "before then: once it has expired, no new licences are granted.",
                  number=number, title=title_for_reader(version), day=day(until)),
        f"/registrations/{number}")


def remind_expiring(session: Session, now: datetime | None = None) -> int:
    """Remind each holder before its registration expires, once per configured day count; how many reminders were
    sent. One query reads the certificates that may be due (valid, the newest of their registration, of a product
    neither suspended nor delisted) with their versions and holders, locking them on PostgreSQL (the job's write
    intent serializes runs on SQLite), so concurrent runs send each reminder once."""
    now = now or utcnow()
    days = reminder_days()
    if not days:
        return 0
    newer = aliased(RegistrationCertificate)
    candidates = session.scalars(
        select(RegistrationCertificate)
        .join(DataProduct, DataProduct.id == RegistrationCertificate.product_id)
        .where(RegistrationCertificate.valid_until > now,
               RegistrationCertificate.valid_until <= now + timedelta(days=days[0]),
               DataProduct.status.not_in((ProductStatus.SUSPENDED, ProductStatus.DELISTED)),
               ~exists().where(newer.registration_number == RegistrationCertificate.registration_number,
                               newer.sequence > RegistrationCertificate.sequence))
        .order_by(RegistrationCertificate.id)
        .with_for_update(of=RegistrationCertificate)
        .options(selectinload(RegistrationCertificate.version), selectinload(RegistrationCertificate.organization))
        .execution_options(populate_existing=True)).all()
    sent = 0
    for certificate in candidates:
        left = certificate.valid_until - now
        due = [d for d in days if left <= timedelta(days=d) and d not in (certificate.reminders_sent or [])]
        if not due:
            continue
        certificate.reminders_sent = sorted({*(certificate.reminders_sent or []), *due}, reverse=True)
        _remind(session, certificate)
        sent += 1
    session.flush()
    return sent

register(DocumentKind(
    field="registration", type=STATEMENT_TYPE, version=STATEMENT_VERSION, serial_field="serial",
    find=by_serial, document=document,
    status=lambda session, certificate: standing(session, certificate).value,
    # A registration certificate is a certificate: only what it is not differs.
    changed_words=lambda: _("The signature does not match the certificate: it was changed after it was signed, or "
                            "it was signed with another key."),
    unknown_words=lambda: _("The signed document is not a registration certificate this verifier knows."),
    valid_words=lambda kid: _("The signature is valid: the certificate is exactly as issued, signed with key "
                              "%(kid)s.", kid=kid),
    not_issued_words=lambda: _("No registration certificate with this serial was issued here: the certificate is "
                               "signed, but this marketplace never issued it."),
    differs_words=lambda: _("The certificate does not match the registration certificate issued under this serial: "
                            "its content or signature differs from the one on record."),
    matches_words=lambda session, certificate, reason: _matches(session, certificate, reason),
))
