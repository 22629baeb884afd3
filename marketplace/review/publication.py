"""How an approved version goes live: its registration number, the version's moves, and listing it (superseding
the version listed before). Shared by the review decisions (``review/services.py``) and the end of a public
notice (``review/public_notice.py``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.index import sync_product
from marketplace.listings.models import ProductVersion
from marketplace.listings.services import touch
from marketplace.listings.states import (
    PRODUCT_LIFECYCLE,
    VERSION_LIFECYCLE,
    Actor,
    ProductAction,
    ProductStatus,
    VersionAction,
)

# marketplace.worker's jobs (marketplace.events tells licence holders; it sits above review and reads the licences).
VERSION_LISTED_TASK = "events.version_listed"
HOLDERS_TASK = "review.notify_licence_holders"


def move_version(session: Session, user: User | None, version: ProductVersion, action: VersionAction,
                 actor: Actor, *, also=(), **payload) -> None:
    """The version's locked transition (``Lifecycle.apply``), marking its product as changed."""
    VERSION_LIFECYCLE.apply(session, version, action, actor, user=user, payload=payload, also=also)
    touch(version)


def registration_number(version: ProductVersion, at: datetime | None = None) -> str:
    """The registration number of an approved version: year of approval (or of ``at``, for a version listed before
    registration numbers) and the version's id (unique)."""
    return f"REG-{at or version.approved_at:%Y}-{version.id:06d}"


def mark_approved(version: ProductVersion, user: User, now: datetime) -> None:
    """Stamp the approval and give the version its registration number (kept if approved again)."""
    version.approved_at, version.approved_by_id = now, user.id
    version.registration_number = version.registration_number or registration_number(version)


def list_version(session: Session, version: ProductVersion) -> None:
    """List an approved (or noticed) version: supersede the product's listed version, list the product if it was
    never listed, and tell holders of the product after commit."""
    product = version.product
    previous = product.listed_version
    if previous is not None and previous.id != version.id:
        move_version(session, None, previous, VersionAction.SUPERSEDE, Actor.SYSTEM, by_version_id=version.id)
    move_version(session, None, version, VersionAction.LIST, Actor.SYSTEM,
                 registration_number=version.registration_number)
    product.listed_version = version
    if previous is not None and previous.id != version.id:  # the holders of the product hear of it, after commit
        from marketplace.jobs.outbox import enqueue_after_commit

        enqueue_after_commit(session, VERSION_LISTED_TASK, version.id)
    if product.status == ProductStatus.DRAFT:
        PRODUCT_LIFECYCLE.apply(session, product, ProductAction.LIST, Actor.SYSTEM, payload={"version_id": version.id})
    sync_product(session, product)
