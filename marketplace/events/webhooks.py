"""An organization's webhook endpoints: its owners register a URL and the event types it receives, see the signing
secret once (at creation and when they roll it; it is kept encrypted, ``events.signing``), disable, enable and
delete endpoints, read each one's delivery log and replay a delivery. Members of other organizations find none."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import NotFound, ValidationFailed
from marketplace.events import signing
from marketplace.events.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from marketplace.events.targets import RefusedTarget, check_url
from marketplace.lifecycle import lock_row

MAX_DESCRIPTION = 200
DELIVERY_LOG = 50  # deliveries shown per endpoint, newest first


@dataclass(frozen=True)
class WithSecret:
    """An endpoint just created or rolled, and its signing secret: shown this once."""
    endpoint: WebhookEndpoint
    secret: str


def organization_for(session: Session, user: User, organization_id: int) -> Organization:
    """The organization whose endpoints ``user`` manages: its owners only (NotFound for non-members)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(_("No such organization."))
    require(user, Permission.MANAGE_ORGANIZATION, organization)
    return organization


def endpoint_for(session: Session, user: User, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint of an organization ``user`` owns; NotFound for any other."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(_("No such webhook endpoint."))
    try:
        require(user, Permission.MANAGE_ORGANIZATION, endpoint)
    except NotFound:
        raise NotFound(_("No such webhook endpoint.")) from None
    return endpoint


def organization_endpoints(session: Session, user: User,
                           organization_id: int) -> tuple[Organization, list[WebhookEndpoint]]:
    """The organization ``user`` owns and its endpoints, checked once."""
    organization = organization_for(session, user, organization_id)
    return organization, list(session.scalars(select(WebhookEndpoint)
                                              .where(WebhookEndpoint.organization_id == organization.id)
                                              .order_by(WebhookEndpoint.id)))


def endpoints_of(session: Session, user: User, organization_id: int) -> list[WebhookEndpoint]:
    return organization_endpoints(session, user, organization_id)[1]


def _checked(url: str, event_types: list[str], description: str) -> tuple[str, list[str], str]:
    """The inputs stripped, or ValidationFailed naming each bad field."""
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = [_("A URL is required.")]
    else:
        try:
            check_url(url, allow_private=bool(current_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"]))
        except RefusedTarget as exc:
            errors["url"] = [str(exc)]
    known = [t.value for t in EventType]
    chosen = list(dict.fromkeys(event_types or []))
    if not chosen:
        errors["event_types"] = [_("Choose at least one event type.")]
    elif any(t not in known for t in chosen):
        errors["event_types"] = [_("Unknown event type; choose from: %(types)s.", types=", ".join(known))]
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("The description is too long (at most %(max)d characters).",
                                   max=MAX_DESCRIPTION)]
    if errors:
        raise ValidationFailed(_("The webhook endpoint was not saved."), errors)
    return url, [t for t in known if t in chosen], description


def create_endpoint(session: Session, user: User, organization_id: int, url: str, event_types: list[str],
                    description: str = "") -> WithSecret:
    """Register ``url`` for the organization's events of ``event_types``, with a new signing secret (returned this
    once). Refuses a non-owner, a URL that is not http(s) or leads to a private or reserved address, no or unknown
    event types, and more than WEBHOOK_MAX_ENDPOINTS endpoints."""
    organization = organization_for(session, user, organization_id)
    url, event_types, description = _checked(url, event_types, description)
    limit = int(current_app.config["WEBHOOK_MAX_ENDPOINTS"])
    count = session.scalar(select(func.count(WebhookEndpoint.id))
                           .where(WebhookEndpoint.organization_id == organization.id)) or 0
    if count >= limit:
        raise ValidationFailed(_("An organization may register at most %(max)d webhook endpoints.", max=limit),
                               {"url": [_("Delete an endpoint first.")]})
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(organization_id=organization.id, url=url, event_types=event_types,
                               description=description, secret_encrypted=signing.seal(secret),
                               created_by_id=user.id, created_at=utcnow())
    session.add(endpoint)
    session.flush()
    _audit(session, user, endpoint, "webhook_endpoint.created", url=url, event_types=event_types)
    return WithSecret(endpoint, secret)


def roll_secret(session: Session, user: User, endpoint_id: int) -> WithSecret:
    """Give the endpoint a new signing secret (returned this once); the old one signs nothing from now on."""
    endpoint = endpoint_for(session, user, endpoint_id)
    secret = signing.new_secret()
    endpoint.secret_encrypted, endpoint.secret_rolled_at = signing.seal(secret), utcnow()
    session.flush()
    _audit(session, user, endpoint, "webhook_endpoint.secret_rolled")
    return WithSecret(endpoint, secret)


def set_enabled(session: Session, user: User, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    """Enable or disable the endpoint: a disabled one receives no new event and its pending deliveries stop."""
    endpoint = endpoint_for(session, user, endpoint_id)
    endpoint.enabled = bool(enabled)
    session.flush()
    _audit(session, user, endpoint, "webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled")
    return endpoint


def delete_endpoint(session: Session, user: User, endpoint_id: int) -> int:
    """Delete the endpoint with its delivery log; the id of the organization it belonged to."""
    endpoint = endpoint_for(session, user, endpoint_id)
    _audit(session, user, endpoint, "webhook_endpoint.deleted", url=endpoint.url)
    session.delete(endpoint)
    session.flush()
    return endpoint.organization_id


def deliveries_of(session: Session, user: User, endpoint_id: int, limit: int = DELIVERY_LOG) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries with their attempts, newest first."""
    return _latest_deliveries(session, endpoint_for(session, user, endpoint_id), limit)


def endpoint_page(session: Session, user: User, endpoint_id: int,
                  ) -> tuple[WebhookEndpoint, Organization, list[WebhookDelivery]]:
    """An endpoint ``user`` manages, its organization and its latest deliveries, checked once."""
    endpoint = endpoint_for(session, user, endpoint_id)
    return endpoint, session.get(Organization, endpoint.organization_id), _latest_deliveries(session, endpoint)


def _latest_deliveries(session: Session, endpoint: WebhookEndpoint, limit: int = DELIVERY_LOG) -> list:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                .options(selectinload(WebhookDelivery.tries), selectinload(WebhookDelivery.event))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def replay(session: Session, user: User, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery of the endpoint again now (whatever its state), retried for a new period if it fails. The
    receiver sees the same event ``id`` again."""
    from marketplace.events.delivery import TASK
    from marketplace.jobs.outbox import enqueue_after_commit

    endpoint = endpoint_for(session, user, endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(_("No such delivery."))
    lock_row(session, delivery)  # a worker's claim and this replay never both send it
    now = utcnow()
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now
    if delivery.locked_until is not None and delivery.locked_until <= now:
        delivery.locked_until = None  # a lapsed claim; a live one is left to its worker, whose answer stands
    delivery.retry_until = now + timedelta(seconds=int(current_app.config["WEBHOOK_RETRY_FOR_SECONDS"]))
    session.flush()
    _audit(session, user, endpoint, "webhook_endpoint.replayed", delivery_id=delivery.id)
    enqueue_after_commit(session, TASK, delivery.id)
    return delivery


def _audit(session: Session, user: User, endpoint: WebhookEndpoint, action: str, **payload) -> None:
    record(session, actor_id=user.id, action=action, subject_type="webhook_endpoint", subject_id=endpoint.id,
           payload={"organization_id": endpoint.organization_id, **payload})
