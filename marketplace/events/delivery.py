"""Sending an event to a webhook endpoint: one claimed attempt at a time, signed, to an address checked after DNS
resolution, the answer's status, latency and error kept in the delivery log; a failure is retried after
WEBHOOK_RETRY_SECONDS, doubling (at most WEBHOOK_RETRY_MAX_SECONDS), until WEBHOOK_RETRY_FOR_SECONDS after the
event, then the delivery is failed (a replay tries again).

The same delivery is never sent by two workers at once (a claim, committed before the call, like the outbox), and a
delivery that succeeded is not sent again by a repeated job. A worker killed after the endpoint answered but before
the success was saved sends it once more: receivers dedup by the event's ``id`` (also in the ``Webhook-Id``
header)."""
from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import or_, select

from marketplace.db import utcnow, write_intent
from marketplace.events import signing
from marketplace.events.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from marketplace.events.targets import RefusedTarget, parse_url, resolve
from marketplace.extensions import db
from marketplace.jobs.outbox import claim_due, doubling_delay, enqueue_after_commit
from marketplace.jobs.queue import TASKS
from marketplace.uow import commit_before

log = logging.getLogger(__name__)

TASK = "webhooks.deliver"
USER_AGENT = "DataMarketplace-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address resolved and checked beforehand, verifying the certificate for the URL's host name."""

    def __init__(self, host: str, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` at an address its host resolves to now, allowed by ``targets.resolve``; reads at
    most WEBHOOK_MAX_RESPONSE_BYTES of the answer and follows no redirect. Never raises: a refusal, a timeout or a
    connection error is the answer's ``error``."""
    config = current_app.config
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port = parse_url(url)
        address = resolve(host, port, allow_private=bool(config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"]))[0]
    except RefusedTarget as exc:
        return Answer(None, elapsed(), f"refused: {exc}")
    timeout = float(config["WEBHOOK_TIMEOUT_SECONDS"])
    if scheme == "https":
        connection = _PinnedHTTPSConnection(host, address, port=port, timeout=timeout,
                                            context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(host, address, port=port, timeout=timeout)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(int(config["WEBHOOK_MAX_RESPONSE_BYTES"]))
        return Answer(response.status, elapsed())
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a URL http.client refuses
        return Answer(None, elapsed(), f"{type(exc).__name__}: {exc}"[:1000])
    finally:
        connection.close()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: WEBHOOK_RETRY_SECONDS doubling, capped."""
    config = current_app.config
    return doubling_delay(attempts, int(config["WEBHOOK_RETRY_SECONDS"]), int(config["WEBHOOK_RETRY_MAX_SECONDS"]))


def _claim(delivery_id: int, now: datetime) -> tuple[str, str, dict] | None:
    """Claim a due pending delivery for this worker (committed at once, before the call): its URL, sealed secret
    and event payload, or None when it is not ours to send (sent, failed, claimed, not yet due, gone)."""
    commit_before(db.session, "claiming a webhook delivery")  # a SQLite write must begin its transaction
    with write_intent():
        claimed = claim_due(WebhookDelivery, delivery_id, DeliveryStatus.PENDING, now)
        found = None
        if claimed:
            delivery = db.session.get(WebhookDelivery, delivery_id)
            if delivery.endpoint.enabled:
                found = (delivery.endpoint.url, delivery.endpoint.secret_encrypted, delivery.event.payload())
            else:  # disabled since: nothing is sent; a replay after enabling it sends it
                delivery.status, delivery.locked_until, delivery.next_attempt_at = DeliveryStatus.FAILED, None, None
                db.session.add(WebhookAttempt(delivery_id=delivery.id, error="endpoint disabled"))
        commit_before(db.session, "a webhook delivery's call")  # every worker sees the claim first
    return found


def deliver(delivery_id: int) -> str:
    """Make the delivery's next attempt if it is due and nobody holds it: "succeeded", "retry", "failed" or
    "skipped"."""
    claimed = _claim(delivery_id, utcnow())
    if claimed is None:
        return "skipped"
    url, sealed, payload = claimed
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        secret = signing.unseal(sealed)
    except InvalidToken:  # sealed under another SECRET_KEY: logged like any failed attempt, retried until it ends
        answer = Answer(None, 0, "the endpoint's secret cannot be read: roll it")
    else:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   signing.EVENT_ID_HEADER: payload["id"],
                   signing.SIGNATURE_HEADER: signing.signature(secret, int(time.time()), body)}
        answer = post(url, body, headers)  # no transaction is open meanwhile
    with write_intent():
        return _record(db.session.get(WebhookDelivery, delivery_id), answer)


def _record(delivery: WebhookDelivery, answer: Answer) -> str:
    now = utcnow()
    attempt = WebhookAttempt(delivery_id=delivery.id, attempted_at=now, status_code=answer.status_code,
                             latency_ms=answer.latency_ms,
                             error=answer.error or ("" if answer.ok else f"HTTP {answer.status_code}"))
    db.session.add(attempt)
    delivery.locked_until = None
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
        outcome = "succeeded"
    elif now + (delay := retry_delay(delivery.attempts)) > delivery.retry_until:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        outcome = "failed"
    else:
        delivery.next_attempt_at = attempt.next_retry_at = now + delay
        schedule_retry(delivery.id, delay)
        outcome = "retry"
    db.session.flush()
    log.info("webhook delivery %s attempt %s: %s %s", delivery.id, delivery.attempts, outcome,
             answer.status_code or answer.error)
    return outcome


def schedule_retry(delivery_id: int, delay: timedelta) -> None:
    """Queue the delivery's next attempt ``delay`` from now, after the commit (the sweep finds it if lost)."""
    enqueue_after_commit(db.session, lambda: TASKS[TASK].schedule((delivery_id,), delay=delay.total_seconds()))


def sweep(*, overdue: timedelta) -> list[int]:
    """Pending deliveries whose turn came more than ``overdue`` ago and that nobody holds: their job was lost."""
    now = utcnow()
    return list(db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now - overdue,
               or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now))
        .order_by(WebhookDelivery.id)))
