"""The webhook endpoint pages: an owner registers an endpoint and sees its secret once, reads the delivery log,
replays, rolls, disables and deletes; bad input re-shows the form with messages and the input kept; another
organization's member finds nothing (404); the pages read in Chinese too."""
from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.events import webhooks
from marketplace.events.models import WebhookDelivery, WebhookEndpoint
from marketplace.review import services as review
from tests import factories
from tests.licensing.test_downloads import buy


def test_an_owner_registers_an_endpoint_sees_the_secret_once_and_replays_a_delivery(
        session, client, auth, buyer, buyer_org, reviewer, offer, plans, receiver):
    auth.login(buyer.email)
    page = client.get(f"/organizations/{buyer_org.id}/webhooks")
    assert page.status_code == 200 and "New endpoint" in page.get_data(as_text=True)

    created = client.post(f"/organizations/{buyer_org.id}/webhooks",
                          data={"url": receiver.url, "event_types": ["product.delisted"]})
    assert created.status_code == 200
    text = created.get_data(as_text=True)
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.organization_id == buyer_org.id))
    secret = text.split('<code class="mono">', 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_") and "shown this once" in text
    assert secret not in client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    receiver.secret = secret

    buy(session, buyer, buyer_org, plans["Open research"])
    review.delist_product(session, reviewer, offer[0], "Withdrawn.")
    session.commit()
    log = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "product.delisted" in log and "HTTP 200, " in log
    # Attempts are dated with the month's name, as elsewhere: "6/12/2026" reads as June in some countries.
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, [0-9:]+\s*(?:[ap]m)?: HTTP 200", log), log

    row = session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    assert client.post(f"/webhooks/{endpoint.id}/deliveries/{row.id}/replay").status_code == 302
    assert len(receiver.received) == 2 and receiver.valid == [True, True]

    rolled = client.post(f"/webhooks/{endpoint.id}/roll").get_data(as_text=True)
    assert "whsec_" in rolled and secret not in rolled
    assert client.post(f"/webhooks/{endpoint.id}/disable").status_code == 302
    session.expire_all()
    assert session.get(WebhookEndpoint, endpoint.id).enabled is False
    assert client.post(f"/webhooks/{endpoint.id}/delete").status_code == 302
    assert client.get(f"/webhooks/{endpoint.id}").status_code == 404


def test_bad_input_reshows_the_form_with_messages_and_the_input_kept(client, auth, buyer, buyer_org):
    auth.login(buyer.email)
    answer = client.post(f"/organizations/{buyer_org.id}/webhooks",
                         data={"url": "ftp://files.example.org/in", "description": "x" * 300})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "must start with https://" in text and "Choose at least one event type." in text
    assert 'value="ftp://files.example.org/in"' in text


def test_another_organization_finds_no_endpoint(session, client, auth, buyer, buyer_org, receiver):
    made = webhooks.create_endpoint(session, buyer, buyer_org.id, receiver.url, ["licence.ending"])
    stranger = factories.user(session, email="stranger@example.org", organization="Strangers")
    session.commit()
    auth.login(stranger.email)
    endpoint_id = made.endpoint.id
    for method, path in [("get", f"/organizations/{buyer_org.id}/webhooks"), ("get", f"/webhooks/{endpoint_id}"),
                         ("post", f"/webhooks/{endpoint_id}/roll"), ("post", f"/webhooks/{endpoint_id}/delete"),
                         ("post", f"/webhooks/{endpoint_id}/deliveries/1/replay"),
                         ("get", "/webhooks/2147483647")]:
        assert getattr(client, method)(path).status_code == 404, (method, path)


def test_the_pages_read_in_chinese(session, client, auth, buyer, buyer_org):
    buyer.locale = "zh-Hant-HK"
    session.commit()
    auth.login(buyer.email)
    text = client.get(f"/organizations/{buyer_org.id}/webhooks").get_data(as_text=True)
    assert "Webhook 端點" in text and "New endpoint" not in text
