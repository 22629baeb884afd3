"""Licences: what a licence covers, expiry and revocation, the gated downloads, and reading a buyer's licences.

Orders (``marketplace.orders``) issue licences; this package never reaches back into orders. Every licence move
goes through ``LICENCE_LIFECYCLE`` and writes an audit event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, organization_ids, require
from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Forbidden, InvalidTransition, NotFound
from marketplace.i18n import N_
from marketplace.licensing.missing_files import report_missing_file
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LICENCE_LIFECYCLE, LicenceAction, LicenceActor, LicenceStatus
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.listings.states import ProductStatus, product_reason_in_words
from marketplace.listings.vocab import AssetKind, PlanKind
from marketplace.recorded_text import RecordedText
from marketplace.storage import Storage


def member_organization_ids(session: Session, user: User) -> list[int]:
    return sorted(organization_ids(user, session))

# ---------------------------------------------------------------- who is acting


def move_licence(session: Session, licence: Licence, action: LicenceAction, reason: str) -> None:
    """The licence's locked transition (``Lifecycle.apply``) by the platform, with the reason kept on the licence
    and in the event ``licence.<action>``. Lock order: a licence is locked after its order."""
    def keep_reason(_state: LicenceStatus) -> dict:
        licence.status_reason = reason
        return {"reason": reason}

    LICENCE_LIFECYCLE.apply(session, licence, action, LicenceActor.SYSTEM, check=keep_reason)


# Why a licence moved, recorded in English as the audit trail keeps it; pages show it in the reader's language (a
# refund's own reason as it was written).
PERIOD_ENDED = N_("The licence period ended.")
REFUNDED = N_("Order refunded: %(reason)s")
REFUNDED_AT_PROVIDER = N_("Refunded in %(where)s.")
DISPUTE_LOST = N_("The buyer's bank decided the payment's dispute for the buyer.")
LICENCE_REASONS = RecordedText(PERIOD_ENDED, REFUNDED, REFUNDED_AT_PROVIDER, N_("the Stripe Dashboard"), DISPUTE_LOST)


def status_reason_in_words(reason: str | None) -> str:
    """A licence's recorded status reason in the reader's language."""
    return LICENCE_REASONS.shown(reason)


def expire_licences(session: Session, now: datetime | None = None) -> list[Licence]:
    """Expire active licences whose period has ended. Each licence is locked and re-read before it moves: one that
    moved meanwhile (revoked, or expired by a concurrent run) is left alone."""
    now = now or utcnow()
    lapsed = session.scalars(
        select(Licence).where(Licence.status == LicenceStatus.ACTIVE, Licence.valid_until.is_not(None),
                              Licence.valid_until <= now).order_by(Licence.id)  # id order: runs lock alike
    ).all()
    expired = []
    for licence in lapsed:
        try:
            move_licence(session, licence, LicenceAction.EXPIRE, PERIOD_ENDED)
        except InvalidTransition:
            continue
        expired.append(licence)
    return expired


def covers(licence: Licence, version: ProductVersion) -> bool:
    """Whether a licence covers a version: the versions it names, and for a subscription also the versions listed
    while it is in its period. A newer version never takes away what was bought."""
    if licence.product_id != version.product_id:
        return False
    if version.id in licence.version_ids:
        return True
    return (licence.plan_kind == PlanKind.SUBSCRIPTION and version.approved_at is not None
            and licence.in_period(version.approved_at))


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DownloadGrant:
    asset: Asset
    licence: Licence | None  # None for a public sample


def _download_refusal(licences: list[Licence], version: ProductVersion, now: datetime) -> Forbidden:
    covering = [lic for lic in licences if covers(lic, version)]
    if not licences:
        return Forbidden(_("Your organization has no licence for this product."))
    if not covering:
        return Forbidden(_("Your licence does not cover this version of the product."))
    if any(lic.status == LicenceStatus.REVOKED for lic in covering) and not any(
            lic.status == LicenceStatus.ACTIVE for lic in covering):
        return Forbidden(_("Your licence was revoked."))
    if any(lic.status == LicenceStatus.ACTIVE and now < lic.valid_from for lic in covering):
        return Forbidden(_("Your licence period has not started yet."))
    return Forbidden(_("Your licence has expired."))


def traded_product(session: Session, slug: str) -> DataProduct:
    """A product that has been listed, whatever its status now (licences outlive suspension and delisting);
    NotFound for drafts and unknown slugs."""
    product = session.scalar(select(DataProduct).where(DataProduct.slug == slug)) if len(slug) <= 120 else None
    if product is None or product.status == ProductStatus.DRAFT:
        raise NotFound(_("No such product in the catalog."))
    return product


def listed_file_id(session: Session, product: DataProduct, file_uuid: str) -> int:
    """The asset id of the listed version's copy of a file, by the file's UUID (read in either case, RFC 9562);
    NotFound when the listed version has no such file."""
    asset_id = session.scalar(select(Asset.id).where(Asset.version_id == product.listed_version_id,
                                                     Asset.uuid == file_uuid.lower())) \
        if product.listed_version_id is not None and len(file_uuid) <= 36 else None
    if asset_id is None:
        raise NotFound(_("No such file in the listed version."))
    return asset_id


def authorize_download(session: Session, storage: Storage, user: User | None, product: DataProduct,
                       asset_id: int, *, fetching: bool = True) -> DownloadGrant:
    """Who may fetch an asset of a product page: anyone for a listed version's sample; for a deliverable, a member
    of an organization with an active licence covering its version, while the product is not suspended. A file
    whose stored object is gone is refused with FileMissing (recorded, its seller told) and never counted as a
    licensed download. ``fetching`` False asks only whether the file may be fetched (an HTTP HEAD): the same checks,
    no download recorded."""
    asset = session.scalar(select(Asset).where(Asset.id == asset_id).options(selectinload(Asset.version)))
    if asset is None or asset.version.product_id != product.id:
        raise NotFound(_("No such file."))
    if asset.kind == AssetKind.SAMPLE:
        if product.status != ProductStatus.LISTED or asset.version_id != product.listed_version_id:
            raise NotFound(_("No such file."))
        _require_stored(session, storage, asset, actor_id=user.id if user is not None and user.is_authenticated
                        else None)
        return DownloadGrant(asset, None)
    if user is None or not user.is_authenticated:
        raise Forbidden(_("Sign in with an organization that holds a licence to download this file."))
    if product.status == ProductStatus.SUSPENDED:
        raise Forbidden(_("Downloads are paused while the product is suspended by compliance review."))
    orgs = member_organization_ids(session, user)
    licences = list(session.scalars(
        select(Licence).where(Licence.product_id == product.id, Licence.buyer_organization_id.in_(orgs))
    )) if orgs else []
    now = utcnow()
    for licence in licences:
        if licence.status == LicenceStatus.ACTIVE and licence.in_period(now) and covers(licence, asset.version):
            _require_stored(session, storage, asset, actor_id=user.id)
            if not fetching:
                return DownloadGrant(asset, licence)
            record(session, actor_id=user.id, action="asset.download", subject_type="asset", subject_id=asset.id,
                   payload={"product_id": product.id, "version_id": asset.version_id, "licence": licence.serial,
                            "sha256": asset.sha256})
            return DownloadGrant(asset, licence)
    raise _download_refusal(licences, asset.version, now)


def _require_stored(session: Session, storage: Storage, asset: Asset, *, actor_id: int | None) -> None:
    """FileMissing (404 ``file_missing``) if the asset's stored object is gone: said as such, never a redirect to
    nothing (``report_missing_file`` records it and tells the seller)."""
    if not storage.exists(asset.storage_key):
        raise report_missing_file(session, asset, actor_id=actor_id)


# ---------------------------------------------------------------- reading


def buyer_licences(session: Session, user: User) -> list[Licence]:
    """The licences of every organization ``user`` belongs to, newest first, with what a list shows."""
    orgs = member_organization_ids(session, user)
    return list(session.scalars(
        select(Licence).where(Licence.buyer_organization_id.in_(orgs))
        .options(selectinload(Licence.product).selectinload(DataProduct.listed_version),
                 selectinload(Licence.plan), selectinload(Licence.buyer_organization), selectinload(Licence.order))
        .order_by(Licence.id.desc())
    )) if orgs else []


def licence_for(session: Session, user: User, licence_id: int) -> Licence:
    licence = session.get(Licence, licence_id)
    if licence is None:
        raise NotFound(_("No such licence."))
    require(user, Permission.VIEW_ORDER, licence)
    return licence


def licensed_assets(session: Session, licences: list[Licence]) -> dict[int, list[Asset]]:
    """The deliverables each licence covers (by licence id), across its product's approved versions, newest
    version first; one query for every licence of a list."""
    product_ids = {licence.product_id for licence in licences}
    versions = session.scalars(
        select(ProductVersion).where(ProductVersion.product_id.in_(product_ids),
                                     ProductVersion.approved_at.is_not(None))
        .options(selectinload(ProductVersion.assets)).order_by(ProductVersion.number.desc())
    ).all() if product_ids else []
    return {licence.id: [asset for version in versions if covers(licence, version)
                         for asset in version.assets if asset.kind == AssetKind.DELIVERABLE]
            for licence in licences}


def active_licence_count(session: Session, organization_id: int) -> int:
    return session.scalar(select(func.count(Licence.id)).where(
        Licence.seller_organization_id == organization_id, Licence.status == LicenceStatus.ACTIVE)) or 0


# ---------------------------------------------------------------- what an organization holds


def held_licences(session: Session, organization_ids: list[int] | set[int], product_id: int | None = None, *,
                  plan_id: int | None = None) -> list[Licence]:
    """The active licences the organizations hold (in their period or starting later) for a product, or for one
    plan with ``plan_id``: the one ending last first (no expiry counts as ending last)."""
    if not organization_ids or product_id is None and plan_id is None:
        return []
    query = select(Licence).where(Licence.buyer_organization_id.in_(organization_ids),
                                  Licence.status == LicenceStatus.ACTIVE,
                                  (Licence.valid_until.is_(None)) | (Licence.valid_until > utcnow()))
    if product_id is not None:
        query = query.where(Licence.product_id == product_id)
    if plan_id is not None:
        query = query.where(Licence.plan_id == plan_id)
    found = session.scalars(query.options(selectinload(Licence.plan)).order_by(Licence.id.desc())).all()
    return sorted(found, key=lambda lic: (lic.valid_until is not None,
                                          -lic.valid_until.timestamp() if lic.valid_until else 0))


def held_plan_licence(session: Session, organization_id: int, plan_id: int) -> Licence | None:
    """The organization's active licence for a plan that ends last (one with no expiry first), if it holds one:
    what decides whether the plan may be ordered again (only renewed, or nothing to order)."""
    return next(iter(held_licences(session, [organization_id], plan_id=plan_id)), None)


def renewable(licence: Licence) -> bool:
    """Whether another period of a licence can be bought: an active or expired licence with an end (a licence with
    no expiry never needs one; a revoked one is not continued)."""
    return licence.valid_until is not None and licence.status in (LicenceStatus.ACTIVE, LicenceStatus.EXPIRED)


def downloads_paused(product: DataProduct) -> str | None:
    """Why a product's licensed downloads are paused (the reason the reviewer gave for suspending it), or None while
    they run."""
    if product.status != ProductStatus.SUSPENDED:
        return None
    return product_reason_in_words(product.status_reason) or _("The product is suspended by compliance review.")


@dataclass(frozen=True)
class Holding:
    """A licence an organization of the user holds for a product, with its files and whether downloads pause."""

    licence: Licence
    files: list[Asset]
    paused: str | None


def product_holdings(session: Session, user: User, product: DataProduct) -> list[Holding]:
    """The active licences the user's organizations hold for a product (a renewal waiting to start included), the
    one ending last first, each with the files it covers; none for a visitor."""
    if user is None or not user.is_authenticated:
        return []
    held = held_licences(session, member_organization_ids(session, user), product.id)
    files = licensed_assets(session, held)
    paused = downloads_paused(product)
    return [Holding(licence, files[licence.id], paused) for licence in held]


def held_by_plan(holdings: list[Holding]) -> dict[int, Licence]:
    """The licence held for each plan (the one ending last), by plan id."""
    found: dict[int, Licence] = {}
    for holding in holdings:  # already the one ending last first
        found.setdefault(holding.licence.plan_id, holding.licence)
    return found
