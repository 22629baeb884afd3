"""Recording an event for an organization once, telling its members (in the app and by e-mail, each in their own
language) and queueing it for the organization's webhook endpoints that chose its type; and the events licence
holders hear: a new version of a product they hold (with its data dictionary's changes), the product suspended,
reinstated or delisted, and their licence nearing its end."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Organization
from marketplace.db import utcnow
from marketplace.events import words
from marketplace.events.dictionary import dictionary_diff
from marketplace.events.models import EventType, OrganizationEvent, WebhookDelivery, WebhookEndpoint
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.states import ProductAction, ProductStatus
from marketplace.notifications.services import notify_organization

# Days before a licence's end its holders are reminded, each once.
REMINDER_DAYS = (14, 3)
# The product moves holders hear of, the event each is, and the status the product must still be in when told.
PRODUCT_MOVES = {ProductAction.SUSPEND: (EventType.SUSPENDED, ProductStatus.SUSPENDED),
                 ProductAction.REINSTATE: (EventType.REINSTATED, ProductStatus.LISTED),
                 ProductAction.DELIST: (EventType.DELISTED, ProductStatus.DELISTED)}


def record_event(session: Session, organization: Organization, event_type: EventType, key: str, data: dict,
                 tell: Callable[[], None] | None = None) -> OrganizationEvent | None:
    """Record the event ``key`` for ``organization`` unless it is recorded already (then None: a job run twice, or
    two at once, tells it once); then ``tell`` the members and queue a delivery to each enabled endpoint that chose
    ``event_type``."""
    if session.scalar(select(OrganizationEvent.id).where(OrganizationEvent.organization_id == organization.id,
                                                         OrganizationEvent.key == key)) is not None:
        return None
    event = OrganizationEvent(organization_id=organization.id, type=event_type.value, key=key, data=data,
                              created_at=utcnow())
    try:
        with session.begin_nested():  # a concurrent run recorded it a moment ago: theirs stands
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    if tell is not None:
        tell()
    queue_deliveries(session, event)
    return event


def queue_deliveries(session: Session, event: OrganizationEvent) -> list[WebhookDelivery]:
    """A pending delivery of ``event`` to each enabled endpoint of its organization that chose its type, sent by a
    job after the commit."""
    from marketplace.events.delivery import TASK
    from marketplace.jobs.outbox import enqueue_after_commit

    endpoints = session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id == event.organization_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)).all()
    period = timedelta(seconds=int(current_app.config["WEBHOOK_RETRY_FOR_SECONDS"]))
    deliveries = [WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=event.created_at,
                                  retry_until=event.created_at + period)
                  for endpoint in endpoints if endpoint.wants(event.type)]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        enqueue_after_commit(session, TASK, delivery.id)
    return deliveries


def holder_organizations(session: Session, product: DataProduct, now: datetime | None = None) -> list[Organization]:
    """The organizations holding a current licence of ``product``, the seller's own excepted."""
    holding = (select(Licence.buyer_organization_id)
               .where(Licence.product_id == product.id, Licence.status == LicenceStatus.ACTIVE,
                      or_(Licence.valid_until.is_(None), Licence.valid_until > (now or utcnow())),
                      Licence.buyer_organization_id != product.organization_id))
    return list(session.scalars(select(Organization).where(Organization.id.in_(holding)).order_by(Organization.id)))


def _product_data(product: DataProduct) -> dict:
    return {"product": {"id": product.uuid, "slug": product.slug, "status": product.status.value}}


def tell_product_move(session: Session, product_id: int, action: str, reason: str) -> int:
    """Tell every organization holding a current licence of the product that it was suspended, reinstated or
    delisted, and why; how many organizations heard it now. A move the product is no longer in is not told
    (suspended, then reinstated before the job ran); a move already told is not told again."""
    product = session.get(DataProduct, product_id)
    move = PRODUCT_MOVES.get(ProductAction(action))
    if product is None or move is None or product.status != move[1]:
        return 0
    event_type = move[0]
    key = f"{event_type.value}:{product.id}:{product.status_changed_at.isoformat()}"
    data = {**_product_data(product), "reason": reason}
    told = 0
    for organization in holder_organizations(session, product):
        def tell(organization=organization) -> None:
            subject, body = words.product_move(product, event_type, reason)
            notify_organization(session, organization, subject, body, f"/products/{product.slug}")
        told += record_event(session, organization, event_type, key, data, tell) is not None
    return told


def previous_listed_version(session: Session, version: ProductVersion) -> ProductVersion | None:
    """The version of the same product listed before ``version`` (the newest approved one before it)."""
    return session.scalar(select(ProductVersion).where(
        ProductVersion.product_id == version.product_id, ProductVersion.number < version.number,
        ProductVersion.approved_at.is_not(None)).order_by(ProductVersion.number.desc()).limit(1))


def tell_version_listed(session: Session, version_id: int) -> int:
    """Tell every organization holding a current licence of the product that ``version`` is listed (its label and
    changelog) and, when its data dictionary differs from the version listed before, how (a second event type for
    webhooks; the notice carries both). How many organizations heard it now; each hears it once."""
    version = session.get(ProductVersion, version_id)
    if version is None or version.approved_at is None:
        return 0
    product = version.product
    previous = previous_listed_version(session, version)
    if previous is None:
        return 0  # a first listing: nobody holds it yet
    diff = dictionary_diff([(f.name, f.type.value) for f in previous.fields],
                           [(f.name, f.type.value) for f in version.fields])
    data = {**_product_data(product), "version": {"label": version.label, "changelog": version.changelog,
                                                  "registration_number": version.registration_number},
            "previous_version": {"label": previous.label}}
    told = 0
    for organization in holder_organizations(session, product):
        def tell(organization=organization) -> None:
            subject, body = words.version_listed(version, previous, diff)
            notify_organization(session, organization, subject, body, f"/products/{product.slug}")
        told += record_event(session, organization, EventType.VERSION_LISTED, f"version:{version.id}", data,
                             tell) is not None
        if diff:
            record_event(session, organization, EventType.DICTIONARY_CHANGED, f"dictionary:{version.id}",
                         {**data, "dictionary": diff.as_data()})
    return told


def remind_licences_ending(session: Session, now: datetime | None = None) -> int:
    """Remind the holders of each active licence ending within one of ``REMINDER_DAYS`` (14, then 3 days before
    ``valid_until``), each reminder once per licence and end date (a renewed licence is reminded again before its
    new end); how many reminders were recorded."""
    now = now or utcnow()
    licences = session.scalars(select(Licence).where(
        Licence.status == LicenceStatus.ACTIVE, Licence.valid_until.is_not(None), Licence.valid_until > now,
        Licence.valid_until <= now + timedelta(days=max(REMINDER_DAYS))).order_by(Licence.id)
        .options(selectinload(Licence.product), selectinload(Licence.buyer_organization))).all()
    reminded = 0
    for licence in licences:
        days = min(d for d in REMINDER_DAYS if licence.valid_until <= now + timedelta(days=d))
        key = f"ending:{licence.id}:{days}:{licence.valid_until.isoformat()}"
        data = {"licence": {"serial": licence.serial, "valid_until": licence.valid_until.isoformat()},
                "product": {"id": licence.product.uuid, "slug": licence.product.slug}, "days_before": days}

        def tell(licence=licence) -> None:
            subject, body = words.licence_ending(licence)
            notify_organization(session, licence.buyer_organization, subject, body, f"/licences/{licence.id}")
        reminded += record_event(session, licence.buyer_organization, EventType.LICENCE_ENDING, key, data,
                                 tell) is not None
    return reminded
