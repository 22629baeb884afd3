"""Webhook endpoints over real HTTP: a receiver on loopback checks the documented signature; a new version of a held
product reaches it; an endpoint that answers 500 or is down gets the event once it is back, the log showing the
failed attempts; a repeated job sends nothing twice; private addresses are refused; other organizations see no
endpoint; bad input is a clear 4xx."""
from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select

from marketplace.events import delivery as deliveries
from marketplace.events import webhooks
from marketplace.events.models import DeliveryStatus, WebhookDelivery
from marketplace.events.targets import RefusedTarget, check_url
from marketplace.worker.tasks import sweep_lost_jobs
from tests import factories
from tests.events.conftest import Receiver
from tests.events.test_holder_events import list_version_2
from tests.licensing.test_downloads import buy

ALL_TYPES = ["product.version_listed", "product.dictionary_changed", "product.delisted"]


def endpoint_for(session, buyer, buyer_org, receiver, types=ALL_TYPES):
    made = webhooks.create_endpoint(session, buyer, buyer_org.id, receiver.url, types)
    session.commit()
    receiver.secret = made.secret
    return made.endpoint


def delivery_rows(session, endpoint) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                .order_by(WebhookDelivery.id)))


def run_due(session) -> None:
    """What the worker's sweep does for deliveries whose retry is due (their scheduled job in a real queue)."""
    time.sleep(1.1)
    sweep_lost_jobs(overdue=__import__("datetime").timedelta(0))
    session.commit()


def test_a_new_version_of_a_held_product_reaches_the_endpoint_signed(
        session, storage, seller, reviewer, buyer, buyer_org, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    endpoint = endpoint_for(session, buyer, buyer_org, receiver)

    list_version_2(session, storage, seller, reviewer, offer[0])

    assert [event["type"] for event in receiver.received] == ["product.version_listed",
                                                             "product.dictionary_changed"]
    assert receiver.valid == [True, True]
    listed = receiver.received[0]
    assert listed["id"].startswith("evt_") and isinstance(listed["created"], int)
    assert listed["data"]["version"] == {"label": "2.0", "changelog": "Adds the speed column.",
                                         "registration_number": listed["data"]["version"]["registration_number"]}
    changed = receiver.received[1]["data"]["dictionary"]
    assert changed["added"] == [{"name": "Speed", "type": "number"}]
    assert {"name": "Latitude", "from": "number", "to": "string"} in changed["retyped"]
    rows = delivery_rows(session, endpoint)
    assert [row.status for row in rows] == [DeliveryStatus.SUCCEEDED] * 2
    assert [(a.status_code, a.error) for a in rows[0].tries] == [(200, "")]


def test_an_endpoint_answering_500_gets_the_event_after_it_recovers(
        session, reviewer, buyer, buyer_org, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    endpoint = endpoint_for(session, buyer, buyer_org, receiver)
    receiver.status = 500

    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()
    (row,) = delivery_rows(session, endpoint)
    assert row.status == DeliveryStatus.PENDING and row.tries[0].status_code == 500
    assert row.tries[0].next_retry_at is not None

    receiver.status = 200
    run_due(session)

    (row,) = delivery_rows(session, endpoint)
    assert row.status == DeliveryStatus.SUCCEEDED
    assert [a.status_code for a in row.tries] == [500, 200] and row.tries[0].error == "HTTP 500"
    assert len(receiver.unique_events()) == 1 and len(receiver.received) == 2 and all(receiver.valid)


def test_an_endpoint_down_for_a_while_gets_the_event_once_it_is_back(
        session, reviewer, buyer, buyer_org, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    endpoint = endpoint_for(session, buyer, buyer_org, receiver)
    port, secret = receiver.port, receiver.secret
    receiver.stop()  # connections are refused now

    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()
    (row,) = delivery_rows(session, endpoint)
    assert row.tries[0].status_code is None and "Connection" in row.tries[0].error

    back = Receiver(port)
    back.secret = secret
    try:
        run_due(session)
        (row,) = delivery_rows(session, endpoint)
        assert row.status == DeliveryStatus.SUCCEEDED and [a.status_code for a in row.tries] == [None, 200]
        assert len(back.received) == 1 and back.valid == [True]
        deliveries.deliver(row.id)  # the same job run twice: nothing more is sent
        deliveries.deliver(row.id)
        session.commit()
        assert len(back.received) == 1
    finally:
        back.stop()


def test_a_replay_sends_the_same_event_again(session, reviewer, buyer, buyer_org, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    endpoint = endpoint_for(session, buyer, buyer_org, receiver)
    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()
    (row,) = delivery_rows(session, endpoint)

    webhooks.replay(session, buyer, endpoint.id, row.id)
    session.commit()

    assert len(receiver.received) == 2 and len(receiver.unique_events()) == 1
    assert [a.status_code for a in delivery_rows(session, endpoint)[0].tries] == [200, 200]


def _resolving_to(monkeypatch, address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def getaddrinfo(host, port, *args, **kwargs):
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                                 "http://[::1]/hook", "http://192.168.0.9/", "http://224.0.0.1/", "http://0.0.0.0/"])
def test_private_and_reserved_addresses_are_refused(app, url):
    with pytest.raises(RefusedTarget):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"])
def test_a_host_name_whose_dns_answer_is_private_is_refused(app, monkeypatch, address):
    _resolving_to(monkeypatch, address)
    with pytest.raises(RefusedTarget, match="private or reserved"):
        check_url("https://hooks.example.com/in", allow_private=False)


def test_a_public_answer_is_accepted_and_other_schemes_are_not(app, monkeypatch):
    _resolving_to(monkeypatch, "93.184.216.34")
    assert check_url("https://hooks.example.com/in", allow_private=False)
    for url in ("ftp://hooks.example.com/", "file:///etc/passwd", "javascript:alert(1)", "https://u:p@example.com/",
                "https://" + "a" * 2100 + ".com/"):
        with pytest.raises(RefusedTarget):
            check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://[2002:7f00:1::]/hook", "http://[2002:a00:1::]/",  # 6to4 of 127/8, 10/8
                                 "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"])  # Teredo, client 192.0.2.45
def test_a_private_ipv4_address_inside_an_ipv6_one_is_refused(app, url):
    with pytest.raises(RefusedTarget, match="private or reserved"):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:5099/a b", "http://127.0.0.1:5099/x\r\nX-Evil: 1",
                                 "http://127.0.0.1:5099/\u00e9", "http://b\u00fccher.example/", "http://8.8.8.8/ x",
                                 "http://127.0.0.1:5099/\x7f"])
def test_a_url_with_spaces_controls_or_letters_outside_ascii_is_refused(app, url):
    for allow_private in (True, False):
        with pytest.raises(RefusedTarget, match="ASCII"):
            check_url(url, allow_private=allow_private)


def test_an_address_http_cannot_send_to_is_a_failed_attempt_not_an_error(app, receiver):
    # An endpoint stored before URLs were checked for letters outside ASCII: its delivery fails and says why.
    answer = deliveries.post(receiver.url + "/\u00e9", b"{}", {"Content-Type": "application/json"})
    assert answer.status_code is None and answer.error.startswith("refused:") and "ASCII" in answer.error


def test_a_name_that_turns_private_after_registration_is_refused_at_delivery(
        app, session, reviewer, buyer, buyer_org, offer, plans, monkeypatch):
    buy(session, buyer, buyer_org, plans["Open research"])
    _resolving_to(monkeypatch, "93.184.216.34")
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
    made = webhooks.create_endpoint(session, buyer, buyer_org.id, "http://hooks.example.com/in", ALL_TYPES)
    session.commit()
    _resolving_to(monkeypatch, "169.254.169.254")  # the name now points at the metadata service

    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()

    (row,) = delivery_rows(session, made.endpoint)
    assert row.tries[0].status_code is None and "private or reserved" in row.tries[0].error


@pytest.fixture
def buyer_api(client, session, buyer):
    token = factories.api_token(session, buyer)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_the_api_registers_shows_the_secret_once_and_manages_the_endpoint(buyer_api, buyer_org, receiver):
    created = buyer_api.post("/api/v1/webhook-endpoints", json={
        "organization_id": buyer_org.id, "url": receiver.url, "event_types": ["licence.ending"]})
    assert created.status_code == 201, created.get_json()
    body = {**created.get_json()["endpoint"], "secret": created.get_json()["secret"]}
    assert body["secret"].startswith("whsec_") and body["url"] == receiver.url
    shown = buyer_api.get(f"/api/v1/webhook-endpoints/{body['id']}").get_json()
    assert "secret" not in shown and shown["event_types"] == ["licence.ending"]
    rolled = buyer_api.post(f"/api/v1/webhook-endpoints/{body['id']}/roll-secret").get_json()
    assert rolled["secret"].startswith("whsec_") and rolled["secret"] != body["secret"]
    assert buyer_api.patch(f"/api/v1/webhook-endpoints/{body['id']}", json={"enabled": False}).get_json()[
        "enabled"] is False
    listed = buyer_api.get(f"/api/v1/webhook-endpoints?organization_id={buyer_org.id}").get_json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert buyer_api.get(f"/api/v1/webhook-endpoints/{body['id']}/deliveries").get_json() == []
    assert buyer_api.delete(f"/api/v1/webhook-endpoints/{body['id']}").status_code == 204
    assert buyer_api.get(f"/api/v1/webhook-endpoints/{body['id']}").status_code == 404


def test_another_organization_cannot_see_or_replay_the_endpoints(
        session, client, buyer, buyer_org, reviewer, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    endpoint = endpoint_for(session, buyer, buyer_org, receiver)
    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()
    (row,) = delivery_rows(session, endpoint)
    stranger = factories.user(session, email="stranger@example.org", organization="Strangers")
    token = factories.api_token(session, stranger)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    for method, path in [("get", f"/api/v1/webhook-endpoints/{endpoint.id}"),
                         ("get", f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries"),
                         ("post", f"/api/v1/webhook-endpoints/{endpoint.id}/roll-secret"),
                         ("post", f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/{row.id}/replay"),
                         ("delete", f"/api/v1/webhook-endpoints/{endpoint.id}"),
                         ("get", f"/api/v1/webhook-endpoints?organization_id={buyer_org.id}")]:
        answer = getattr(client, method)(path, headers=headers)
        assert answer.status_code == 404, (method, path, answer.status_code)
    assert len(receiver.received) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://example.org/", "event_types": ["licence.ending"]}, "url"),
    ({"url": "http://169.254.169.254/", "event_types": ["licence.ending"]}, "url"),
    ({"url": "", "event_types": ["licence.ending"]}, "url"),
    ({"url": "http://x/" + "a" * 3000, "event_types": ["licence.ending"]}, "url"),
    ({"url": "https://hooks.example.com/", "event_types": []}, "event_types"),
    ({"url": "https://hooks.example.com/", "event_types": ["nope"]}, "event_types"),
    ({"url": "https://hooks.example.com/", "event_types": "licence.ending"}, "event_types"),
    ({"url": 7, "event_types": ["licence.ending"]}, "url"),
    ({"url": "https://hooks.example.com/", "event_types": ["licence.ending"], "description": "x" * 300},
     "description"),
])
def test_bad_input_is_a_clear_error(app, buyer_api, buyer_org, monkeypatch, body, field):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
    _resolving_to(monkeypatch, "93.184.216.34")
    answer = buyer_api.post("/api/v1/webhook-endpoints", json={"organization_id": buyer_org.id, **body})
    assert answer.status_code in (400, 422), answer.status_code
    assert field in str(answer.get_json()["errors"]), answer.get_json()


def test_an_organization_may_register_only_so_many_endpoints(app, session, buyer, buyer_org, monkeypatch, receiver):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ENDPOINTS", 2)
    for _ in range(2):
        webhooks.create_endpoint(session, buyer, buyer_org.id, receiver.url, ["licence.ending"])
    from marketplace.errors import ValidationFailed
    with pytest.raises(ValidationFailed, match="at most 2"):
        webhooks.create_endpoint(session, buyer, buyer_org.id, receiver.url, ["licence.ending"])


def test_production_refuses_private_webhook_targets():
    from marketplace.config_check import production_problems

    problems = production_problems({"WEBHOOKS_ALLOW_PRIVATE_TARGETS": True})
    assert any("WEBHOOKS_ALLOW_PRIVATE_TARGETS" in problem for problem in problems)
    assert not any("WEBHOOKS" in problem for problem in production_problems({}))


def test_the_openapi_document_describes_the_events_and_their_signature(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    event = spec["components"]["schemas"]["WebhookEvent"]
    assert set(event["required"]) == {"id", "type", "created", "data"}
    assert set(spec["x-webhooks"]) == {"product.version_listed", "product.dictionary_changed", "product.suspended",
                                       "product.reinstated", "product.delisted", "licence.ending"}
    listed = spec["x-webhooks"]["product.version_listed"]["post"]
    assert {p["name"] for p in listed["parameters"]} == {"Webhook-Signature", "Webhook-Id"}
    assert "/api/v1/webhook-endpoints" in spec["paths"]


def test_a_disabled_endpoint_receives_nothing_and_one_that_did_not_choose_the_type_neither(
        session, reviewer, buyer, buyer_org, offer, plans, receiver):
    buy(session, buyer, buyer_org, plans["Open research"])
    disabled = endpoint_for(session, buyer, buyer_org, receiver)
    webhooks.set_enabled(session, buyer, disabled.id, False)
    other = endpoint_for(session, buyer, buyer_org, receiver, types=["licence.ending"])
    session.commit()

    from marketplace.review import services as review
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()

    assert receiver.received == []
    assert delivery_rows(session, disabled) == [] and delivery_rows(session, other) == []
