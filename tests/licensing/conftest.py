"""Licensing fixtures: a listed product with one plan of each kind, and a buyer organization."""
from __future__ import annotations

import pytest

from marketplace.listings.models import PricingPlan
from tests import factories

SCENARIO = {
    "purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 5,
    "description": "Academic study of congestion on Hong Kong strategic roads.",
}

PLANS = [
    {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None},
    {"name": "Exclusive", "kind": "one_time", "amount": 500000, "licence_cap": 2},
    {"name": "By approval", "kind": "one_time", "amount": 90000, "requires_approval": True},
    {"name": "Monthly", "kind": "subscription", "billing_period": "month", "amount": 68000, "duration_days": None,
     "permitted_uses": ["research", "internal_analysis", "commercial_product"], "territory": "worldwide"},
    {"name": "Free by approval", "kind": "free", "amount": 0, "requires_approval": True},
]


@pytest.fixture
def buyer(session):
    user = factories.user(session, email="buyer@example.org", organization="Kowloon Research", name="Bo Buyer")
    session.commit()
    return user


@pytest.fixture
def buyer_org(buyer):
    return buyer.memberships[0].organization


@pytest.fixture
def offer(session, storage, seller, reviewer):
    """A listed product whose listed version offers the factory plan plus ``PLANS``; plans by name."""
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road speeds",
                                       plans=PLANS)
    session.commit()
    plans = {plan.name: plan for plan in product.listed_version.plans}
    return product, plans


@pytest.fixture
def plans(offer) -> dict[str, PricingPlan]:
    return offer[1]
