"""Data service providers and assessment requests: the rules.

An owner applies for the organization to be a provider (declared services, qualifications, an optional document);
a platform admin approves or rejects it with a reason, and may suspend an approved provider (it leaves the
directory, and may neither accept nor sign) and reinstate it. A member of a product's seller organization asks an
approved provider for a compliance, quality or valuation assessment of a submitted version (never a draft); the
provider's members accept or decline it, and while it is open they may read that version, and nothing else of the
seller's. Drafting, signing and withdrawing the report are in ``reports``. Every move is one locked transition,
audited, and the other side is notified.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.accounts.access import Permission, member_organizations_query, member_role, require
from marketplace.accounts.models import Membership, Organization, User
from marketplace.assessments import fees
from marketplace.assessments.models import Assessment, ServiceProvider, file_list, files_digest
from marketplace.assessments.states import (
    ASSESSMENT_LIFECYCLE,
    OPEN_STATES,
    PROVIDER_LIFECYCLE,
    REPORT_KINDS,
    REPORT_STATES,
    Actor,
    AssessmentAction,
    AssessmentKind,
    AssessmentStatus,
    Conclusion,
    ProviderAction,
    ProviderStatus,
)
from marketplace.audit.services import record
from marketplace.bilingual import lazy_title_of
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.lifecycle import lock_row
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.listings.services import touch
from marketplace.listings.states import VersionStatus
from marketplace.notifications.services import notify_organization
from marketplace.storage import HeadThenRest, Storage
from marketplace.storage.filetypes import document_type

MAX_TEXT = 5000
# A version is assessed once the seller has submitted it: in review, or approved (and listed), never a draft.
ASSESSABLE_STATES = frozenset({VersionStatus.SUBMITTED, VersionStatus.IN_REVIEW, VersionStatus.APPROVED,
                               VersionStatus.LISTED})


def text(value: str | None, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """``value`` stripped; refused (ValidationFailed on ``field``) when required and empty, or longer than
    ``limit``."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_("This field is required."), {field: [_("This field is required.")]})
    if len(value) > limit:
        message = _("At most %(limit)s characters.", limit=limit)
        raise ValidationFailed(message, {field: [message]})
    return value


# ---------------------------------------------------------------- providers


def provider_of(session: Session, organization: Organization) -> ServiceProvider | None:
    """The organization's provider application (any status), or None."""
    return session.scalar(select(ServiceProvider).where(ServiceProvider.organization_id == organization.id))


def _services(values: Iterable[str]) -> list[str]:
    chosen = []
    for value in values or ():
        try:
            kind = AssessmentKind(value)
        except ValueError:
            raise ValidationFailed(_("Unknown service."), {"services": [_("Choose from the services listed.")]}) \
                from None
        if kind.value not in chosen:
            chosen.append(kind.value)
    if not chosen:
        raise ValidationFailed(_("Declare at least one service."), {"services": [_("Declare at least one service.")]})
    return chosen


def apply_as_provider(session: Session, user: User, organization: Organization, *, services: Iterable[str],
                      qualifications: str, storage: Storage | None = None, document: BinaryIO | None = None,
                      filename: str = "") -> ServiceProvider:
    """An owner's application for ``organization`` to be a data service provider. Refuses a non-owner, no service,
    no qualifications, a document that is empty or not what its name says (a PDF, PNG or JPEG file or plain
    text, judged by its first bytes), and an organization already applied or approved (a rejected one may apply
    again)."""
    require(user, Permission.MANAGE_ORGANIZATION, organization)
    chosen = _services(services)
    qualifications = text(qualifications, "qualifications")
    lock_row(session, organization)  # one application at a time per organization: the check below holds
    provider = provider_of(session, organization)
    if provider is not None and provider.status != ProviderStatus.REJECTED:
        raise Conflict(_("%(name)s has already applied to be a data service provider.", name=organization.name)
                       if provider.status == ProviderStatus.APPLIED else
                       _("%(name)s is suspended as a data service provider: the platform reinstates it, it does "
                         "not apply again.", name=organization.name)
                       if provider.status == ProviderStatus.SUSPENDED else
                       _("%(name)s is already a data service provider.", name=organization.name))
    if provider is None:
        provider = ServiceProvider(organization_id=organization.id, status=ProviderStatus.APPLIED)
        session.add(provider)
        session.flush()
        record(session, actor_id=user.id, action="provider.apply", subject_type="provider", subject_id=provider.id,
               payload={"organization_id": organization.id, "from": None, "to": ProviderStatus.APPLIED.value,
                        "services": chosen})
    else:
        PROVIDER_LIFECYCLE.apply(session, provider, ProviderAction.APPLY, Actor.APPLICANT, user=user,
                                 payload={"services": chosen})
        provider.decided_at, provider.decided_by_id, provider.decision_reason = None, None, ""
    provider.services, provider.qualifications = chosen, qualifications
    provider.applied_by_id, provider.applied_at = user.id, utcnow()
    if document is not None and storage is not None and filename:
        head = document.read(8192)
        if not head:
            message = _("The document %(name)s is empty.", name=filename)
            raise ValidationFailed(message, {"document": [message]})
        content_type = document_type(filename, head, "document",
                                     _("The document may be a PDF, PNG or JPEG file or plain text."))
        key = f"providers/{provider.id}/{secrets.token_hex(8)}"
        stored = storage.save(key, HeadThenRest(head, document), content_type=content_type,
                              max_bytes=current_app.config["PROVIDER_DOCUMENT_MAX_BYTES"])
        provider.document_key, provider.document_filename = key, filename[:255]
        provider.document_content_type, provider.document_size = content_type, stored.size
    session.flush()
    return provider


def applications(session: Session, user: User) -> list[ServiceProvider]:
    """Every provider application, those waiting first (admins only)."""
    require(user, Permission.ADMIN)
    return list(session.scalars(select(ServiceProvider).options(selectinload(ServiceProvider.organization))
                                .order_by(ServiceProvider.status != ProviderStatus.APPLIED,
                                          ServiceProvider.applied_at.desc())))


def application(session: Session, user: User, provider_id: int) -> ServiceProvider:
    require(user, Permission.ADMIN)
    provider = session.get(ServiceProvider, provider_id)
    if provider is None:
        raise NotFound(_("No such provider application."))
    return provider


def decide_application(session: Session, user: User, provider: ServiceProvider, *, approve: bool,
                       reason: str = "") -> ServiceProvider:
    """A platform admin approves or rejects an application (a reason is required to reject); the organization is
    told. Refuses anyone but an admin and an application already decided."""
    require(user, Permission.ADMIN)
    reason = text(reason, "reason", required=not approve)
    action = ProviderAction.APPROVE if approve else ProviderAction.REJECT
    PROVIDER_LIFECYCLE.apply(session, provider, action, Actor.ADMIN, user=user, payload={"reason": reason})
    provider.decided_by_id, provider.decided_at, provider.decision_reason = user.id, utcnow(), reason
    name = provider.organization.name
    if approve:
        notify_organization(session, provider.organization,
                            lambda: _("%(name)s is now a data service provider", name=name),
                            lambda: _("The platform approved your application: sellers can now ask you for "
                                      "assessments."), f"/provider/{provider.organization.slug}/assessments")
    else:
        notify_organization(session, provider.organization,
                            lambda: _("Your data service provider application was rejected"),
                            lambda: _("Reason: %(reason)s", reason=reason),
                            f"/seller/{provider.organization.slug}/provider")
    session.flush()
    return provider


def suspend_provider(session: Session, user: User, provider: ServiceProvider, *, suspend: bool,
                     reason: str) -> ServiceProvider:
    """A platform admin suspends an approved provider, or reinstates a suspended one, with a reason; the
    organization is told. While suspended it is out of the directory, may neither accept a request nor sign a
    report, and its signed reports say so. Refuses anyone but an admin, no reason, and a provider in another
    state."""
    require(user, Permission.ADMIN)
    reason = text(reason, "reason")
    action = ProviderAction.SUSPEND if suspend else ProviderAction.REINSTATE
    PROVIDER_LIFECYCLE.apply(session, provider, action, Actor.ADMIN, user=user, payload={"reason": reason})
    provider.suspended_at, provider.suspension_reason = (utcnow(), reason) if suspend else (None, reason)
    for assessment in session.scalars(select(Assessment).where(
            Assessment.provider_id == provider.id, Assessment.status == AssessmentStatus.SIGNED)
            .options(selectinload(Assessment.version).selectinload(ProductVersion.product))):
        touch(assessment.version)  # its reports no longer (or again) show as "assessed by": kept pages are stale
    name = provider.organization.name
    notify_organization(session, provider.organization,
                        (lambda: _("%(name)s is suspended as a data service provider", name=name)) if suspend else
                        (lambda: _("%(name)s is reinstated as a data service provider", name=name)),
                        lambda: _("Reason: %(reason)s", reason=reason),
                        f"/seller/{provider.organization.slug}/provider")
    session.flush()
    return provider


def require_active(provider: ServiceProvider) -> None:
    """Refuse (409) the work of a provider the platform suspended."""
    if provider.status == ProviderStatus.SUSPENDED:
        raise Conflict(_("The platform suspended %(name)s as a data service provider: it cannot accept requests or "
                         "sign reports until it is reinstated.", name=provider.organization.name))


def approved_providers(session: Session, kind: AssessmentKind | None = None) -> list[ServiceProvider]:
    """The public directory: approved providers by name; only those offering ``kind`` when given."""
    query = (select(ServiceProvider).join(Organization).where(ServiceProvider.status == ProviderStatus.APPROVED)
             .options(selectinload(ServiceProvider.organization)).order_by(Organization.name))
    if kind is not None:
        # The services are a JSON list of kind values, none a part of another: its text holds '"quality"'.
        query = query.where(cast(ServiceProvider.services, String).contains(f'"{kind.value}"'))
    return list(session.scalars(query))


def approved_provider(session: Session, slug: str) -> ServiceProvider:
    """The approved provider of the organization ``slug``; NotFound for any other (applied, rejected, none)."""
    provider = session.scalar(select(ServiceProvider).join(Organization).where(
        Organization.slug == slug[:80], ServiceProvider.status == ProviderStatus.APPROVED))
    if provider is None:
        raise NotFound(_("No such data service provider."))
    return provider


def signed_by(session: Session, provider: ServiceProvider) -> list[Assessment]:
    """The provider's signed reports, withdrawn ones too (marked so), newest first (public)."""
    return list(session.scalars(select(Assessment).where(Assessment.provider_id == provider.id,
                                                         Assessment.status.in_(REPORT_STATES))
                                .order_by(Assessment.signed_at.desc())))


# ---------------------------------------------------------------- requests


def _number() -> str:
    return f"AS-{utcnow():%Y}-{secrets.token_hex(5).upper()}"


def assessable_versions(session: Session, user: User, organization: Organization) -> list[ProductVersion]:
    """The organization's versions a seller may ask an assessment of (submitted or later, not superseded)."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    return list(session.scalars(select(ProductVersion).join(DataProduct, DataProduct.id == ProductVersion.product_id)
                                .where(
        DataProduct.organization_id == organization.id, ProductVersion.status.in_(ASSESSABLE_STATES))
        .order_by(ProductVersion.id.desc())))


def request_assessment(session: Session, user: User, version: ProductVersion, provider: ServiceProvider,
                       kind: str, note: str = "") -> Assessment:
    """A seller's request to ``provider`` for a ``kind`` assessment of ``version``. Refuses a user outside the
    product's organization, a draft (or otherwise unsubmitted) version, a provider not approved or not offering
    the kind, the seller's own organization as provider or one sharing a member with it, and a second open or
    signed request of the same kind to the same provider for the version (checked with the version locked, so two
    at once make one)."""
    require(user, Permission.EDIT_PRODUCT, version.product)
    try:
        kind = AssessmentKind(kind)
    except ValueError:
        kind = None
    if kind not in REPORT_KINDS:
        raise ValidationFailed(_("Choose a compliance, quality or valuation assessment."),
                               {"kind": [_("Choose a compliance, quality or valuation assessment.")]})
    note = text(note, "note", required=False)
    lock_row(session, version)  # one request at a time per version: the duplicate check below holds
    if version.status not in ASSESSABLE_STATES:
        raise Conflict(_("Submit the version for review first: a provider assesses a submitted version, never a "
                         "draft."), {"version": [_("This version is not submitted.")]})
    if provider.status != ProviderStatus.APPROVED or kind.value not in provider.services:
        raise ValidationFailed(_("This provider does not offer that assessment."),
                               {"provider": [_("Choose an approved provider offering this assessment.")]})
    if provider.organization_id == version.product.organization_id:
        raise ValidationFailed(_("An organization cannot assess its own product."),
                               {"provider": [_("Choose another provider.")]})
    if shares_members(session, provider.organization_id, version.product.organization_id):
        raise ValidationFailed(_("A member of %(provider)s is also a member of %(seller)s: a provider cannot "
                                 "assess a product of its own people.", provider=provider.organization.name,
                                 seller=version.product.organization.name),
                               {"provider": [_("Choose a provider none of whose members belongs to your "
                                               "organization.")]})
    duplicate = session.scalar(select(Assessment.number).where(
        Assessment.version_id == version.id, Assessment.provider_id == provider.id, Assessment.kind == kind,
        Assessment.status.in_(OPEN_STATES | {AssessmentStatus.SIGNED})))
    if duplicate is not None:
        raise Conflict(_("You already asked this provider for this assessment of this version (%(number)s).",
                         number=duplicate))
    assessment = Assessment(number=_number(), kind=kind, version_id=version.id, provider_id=provider.id,
                            seller_organization_id=version.product.organization_id, requested_by_id=user.id,
                            note=note, status=AssessmentStatus.REQUESTED)
    session.add(assessment)
    session.flush()
    record(session, actor_id=user.id, action="assessment.request", subject_type="assessment",
           subject_id=assessment.id, payload={"number": assessment.number, "version_id": version.id,
                                              "provider_id": provider.id, "kind": kind.value,
                                              "from": None, "to": AssessmentStatus.REQUESTED.value})
    title, seller = lazy_title_of(version), version.product.organization.name
    notify_organization(session, provider.organization,
                        lambda: _("Assessment requested: %(title)s", title=title),
                        lambda: _("%(seller)s asks you for a %(kind)s of %(title)s.", seller=seller,
                                  kind=kind.label.lower(), title=title),
                        f"/provider/{provider.organization.slug}/assessments/{assessment.number}")
    return assessment


def seller_requests(session: Session, user: User, organization: Organization) -> list[Assessment]:
    """The organization's assessment requests, newest first (its members only), with what tells whether a signed
    report still stands (its version's files, its provider)."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    return list(session.scalars(select(Assessment).where(Assessment.seller_organization_id == organization.id)
                                .options(selectinload(Assessment.version).selectinload(ProductVersion.assets),
                                         joinedload(Assessment.provider))  # whether each report still stands
                                .order_by(Assessment.id.desc())))


def provider_requests(session: Session, user: User, organization: Organization) -> list[Assessment]:
    """The requests made to the organization as a provider, open ones first (its members only)."""
    require(user, Permission.VIEW_ORGANIZATION, organization)
    provider = provider_of(session, organization)
    if provider is None:
        return []
    return list(session.scalars(select(Assessment).where(Assessment.provider_id == provider.id)
                                .order_by(Assessment.status.not_in(OPEN_STATES), Assessment.id.desc())))


def shares_members(session: Session, provider_organization_id: int, seller_organization_id: int) -> bool:
    """Whether anyone is a member of both organizations: a conflict of interest is of people, not only of
    organizations."""
    sellers = select(Membership.user_id).where(Membership.organization_id == seller_organization_id)
    return session.scalar(select(Membership.id).where(Membership.organization_id == provider_organization_id,
                                                      Membership.user_id.in_(sellers)).limit(1)) is not None


def refuse_seller_member(session: Session, user: User, assessment: Assessment) -> None:
    """Refuse (403) a member of the seller's organization the provider's work: nobody assesses their own
    product."""
    if member_role(user, assessment.seller_organization_id, session) is not None:
        raise Forbidden(_("You are a member of %(seller)s: you cannot assess its product.",
                          seller=assessment.seller_organization.name))


def assessment_for_provider(session: Session, user: User, number: str) -> Assessment:
    """The assessment ``number`` for a member of its provider; NotFound to anyone else (its existence does not
    leak)."""
    assessment = session.scalar(select(Assessment).join(ServiceProvider).where(
        Assessment.number == number[:40],
        ServiceProvider.organization_id.in_(member_organizations_query(user))))
    if assessment is None:
        raise NotFound(_("No such assessment."))
    return assessment


def assessment_for_party(session: Session, user: User, number: str) -> Assessment:
    """The assessment ``number`` for a member of its provider or of its seller, in any state; NotFound to anyone
    else (its existence does not leak)."""
    mine = member_organizations_query(user)
    assessment = session.scalar(select(Assessment).join(ServiceProvider).where(
        Assessment.number == number[:40],
        ServiceProvider.organization_id.in_(mine) | Assessment.seller_organization_id.in_(mine)))
    if assessment is None:
        raise NotFound(_("No such assessment."))
    return assessment


def _provider_member(session: Session, user: User, assessment: Assessment) -> None:
    if member_role(user, assessment.provider.organization_id, session) is None:
        raise NotFound(_("No such assessment."))


def decide_request(session: Session, user: User, assessment: Assessment, *, accept: bool, reason: str = "",
                   fee: int | None = None, currency: str | None = None, after_accepting: bool = False) -> Assessment:
    """The provider accepts a request, stating its fee if it charges one (minor units and currency: the seller pays
    it as an order, see ``fees``), or declines it with a reason; declining a request it accepted is asked for with
    ``after_accepting`` (an unpaid fee's order is then cancelled, a paid one refunded). The seller is told. Refuses
    anyone outside the provider (404), a member of the seller accepting (403) and a request already decided (or
    signed)."""
    _provider_member(session, user, assessment)
    if accept:
        require_active(assessment.provider)
        refuse_seller_member(session, user, assessment)
    reason = text(reason, "reason", required=not accept)
    fee, currency = fees.checked_fee(fee, currency) if accept else (None, None)
    action = AssessmentAction.ACCEPT if accept else AssessmentAction.DECLINE
    ASSESSMENT_LIFECYCLE.apply(session, assessment, action, Actor.PROVIDER, user=user,
                               payload={"reason": reason, "fee": fee, "currency": currency},
                               check=None if accept else fees.declining(session, user, assessment, reason,
                                                                        after_accepting))
    assessment.decided_at, assessment.decline_reason = utcnow(), reason
    if accept:
        assessment.fee_amount, assessment.fee_currency = fee, currency
        fees.on_accept(session, assessment)
    provider, title = assessment.provider.organization.name, lazy_title_of(assessment.version)
    if accept:
        subject = lambda: _("%(provider)s accepted your assessment request", provider=provider)  # noqa: E731
        body = lambda: _("%(provider)s will assess %(title)s.", provider=provider, title=title)  # noqa: E731
    else:
        subject = lambda: _("%(provider)s declined your assessment request", provider=provider)  # noqa: E731
        body = lambda: _("Reason: %(reason)s", reason=reason)  # noqa: E731
    notify_organization(session, assessment.seller_organization, subject, body,
                        f"/seller/{assessment.seller_organization.slug}/assessments")
    session.flush()
    return assessment


def require_open(assessment: Assessment) -> None:
    """Refuse (403) reading the version once the request is declined or signed: access lasts while it is open."""
    if assessment.status not in OPEN_STATES:
        raise Forbidden(_("This request is closed: its version is no longer open to you."))


def assessed_asset(assessment: Assessment, asset_id: int) -> Asset:
    """A file of the assessment's version (and of no other version); NotFound otherwise. Refused (403) while the
    platform has suspended the provider."""
    require_open(assessment)
    if assessment.provider.status == ProviderStatus.SUSPENDED:
        raise Forbidden(_("The platform suspended %(name)s as a data service provider: the version's files are "
                          "closed to it until it is reinstated.", name=assessment.provider.organization.name))
    fees.require_paid(assessment)
    for asset in assessment.version.assets:
        if asset.id == asset_id:
            return asset
    raise NotFound(_("No such file."))


# ---------------------------------------------------------------- what others read of assessments


def signed_assessment(session: Session, number: str) -> Assessment:
    """A signed report (withdrawn or not), public; NotFound for one not signed (yet)."""
    assessment = session.scalar(select(Assessment).where(Assessment.number == number[:40],
                                                         Assessment.status.in_(REPORT_STATES)))
    if assessment is None:
        raise NotFound(_("No such assessment report."))
    return assessment


def signed_for_versions(session: Session, version_ids: Iterable[int]) -> list[Assessment]:
    """The signed reports of the versions (not withdrawn), oldest first; each says whether its version's files
    changed since (``files_changed``)."""
    ids = list(version_ids)
    if not ids:
        return []
    return list(session.scalars(select(Assessment).where(Assessment.version_id.in_(ids),
                                                         Assessment.status == AssessmentStatus.SIGNED)
                                .options(joinedload(Assessment.provider).joinedload(ServiceProvider.organization))
                                .order_by(Assessment.signed_at)))


def _compliance_standing(version: ProductVersion):
    """The ids of the compliance reports of ``version`` that stand (signed, not withdrawn, of a provider not
    suspended, of the files the version has now: ``reports.standing`` in SQL), reading no signed text."""
    return select(Assessment.id).join(ServiceProvider).where(
        Assessment.version_id == version.id, Assessment.kind == AssessmentKind.COMPLIANCE,
        Assessment.status == AssessmentStatus.SIGNED, ServiceProvider.status != ProviderStatus.SUSPENDED,
        Assessment.files_digest == files_digest(file_list(version.assets)))


def standing_failure(session: Session, version: ProductVersion) -> bool:
    """Whether a compliance report of ``version`` that stands concludes fail: until a reviewer decides (or it stops
    standing), the version's public notice does not end and it gets no registration."""
    return session.scalar(_compliance_standing(version).where(Assessment.conclusion == Conclusion.FAIL.value)
                          .limit(1)) is not None


def approval_problems(session: Session, version: ProductVersion) -> dict[str, list[str]]:
    """What the assessment rules say against approving ``version``: with REQUIRE_COMPLIANCE_ASSESSMENT on, a
    version needs a compliance assessment that stands (signed, not withdrawn, of a provider not suspended, of the
    files the version has now: ``reports.standing`` in SQL) and does not conclude fail. Review asks this before
    approving."""
    if not current_app.config.get("REQUIRE_COMPLIANCE_ASSESSMENT"):
        return {}
    passing = session.scalar(_compliance_standing(version).where(Assessment.conclusion != Conclusion.FAIL.value)
                             .limit(1))
    if passing is not None:
        return {}
    return {"decision": [_("This version needs a signed compliance assessment by a data service provider, "
                             "concluding pass or pass with conditions, before it can be approved.")]}
