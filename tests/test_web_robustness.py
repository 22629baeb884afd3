"""No input reaches a 500 on the pages either: every form endpoint (every POST route outside the API), fed junk as
the buyer, the seller, a reviewer and an admin, with the URL naming real rows and rows that do not exist, answers
below 500."""
from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import PlatformRole
from marketplace.orders import services as orders
from marketplace.payments import SimulatedPayments
from tests import factories
from tests.licensing.conftest import PLANS, SCENARIO

JUNK_FORMS = [
    {},
    {"decision": "x" * 20_000, "message": "y" * 20_000, "reason": "z" * 20_000},
    {"card_number": "\u202e4242", "organization_id": "-1", "purpose": "💥", "expected_users": "1e309",
     "territory": "atlantis", "accept_terms": "maybe", "idempotency_key": "k" * 500},
    {"organization_id": "99999999999999999999", "expected_users": "-5", "sector": ["a", "b"], "pay": "1",
     "cancel": "1", "document": "{not json", "status": "suspended", "action": "delist"},
]
# Posting these would end the session or is not a page (the webhook answers in JSON and is tested on its own).
SKIPPED = {"accounts.logout", "stripe_webhooks.stripe_webhook"}


@pytest.fixture
def world(session, storage, seller, reviewer):
    """A listed product with plans, and orders of a buyer: one waiting for the seller, one fulfilled and paid."""
    buyer = factories.user(session, email="junk-buyer@example.org", organization="Junk Buyers")
    admin = factories.user(session, email="junk-admin@example.org", role=PlatformRole.ADMIN)
    product = factories.listed_product(session, storage, seller, reviewer, title="Junk target", plans=PLANS)
    plans = {p.name: p for p in product.listed_version.plans}
    org = buyer.memberships[0].organization

    def place(plan):
        return orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=org.id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))

    waiting = place(plans["By approval"])
    paid = place(plans["Exclusive"])
    orders.start_checkout(session, buyer, paid, SimulatedPayments(), success_url="/", cancel_url="/")
    orders.pay_with_test_card(session, buyer, paid, "4242424242424242")
    session.commit()
    real = {
        "slug": product.slug, "org_slug": seller.memberships[0].organization.slug, "product_id": product.id,
        "number": 1, "plan_id": plans["Exclusive"].id, "order_id": waiting.id, "licence_id": paid.licence.id,
        "asset_id": product.listed_version.assets[0].id, "source_id": product.listed_version.sources[0].id,
    }
    # Each URL with the order waiting for the seller, with the fulfilled one, and with rows that do not exist.
    return {"users": [buyer, seller, reviewer, admin], "values": [real, {**real, "order_id": paid.id}, {}]}


def _urls(app, value_sets: list[dict]) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in SKIPPED:
            continue
        for values in value_sets:
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, values=values: str(values.get(m.group(1), 2_000_000)),
                         rule.rule)
            out.append((rule.endpoint, url))
    return out


def test_every_form_endpoint_answers_junk_below_500(app, client, auth, world):
    urls = sorted(set(_urls(app, world["values"])))
    assert len(urls) >= 60
    seen = 0
    for user in world["users"]:
        auth.login(user.email)
        for endpoint, url in urls:
            for form in JUNK_FORMS:
                response = client.post(url, data=form)
                assert response.status_code < 500, (user.email, endpoint, url, form, response.status_code)
                seen += 1
        auth.logout()
    assert seen == len(urls) * len(JUNK_FORMS) * len(world["users"])
