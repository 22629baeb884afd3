"""A Shanghai seller's listed product with personal information of a declared number of individuals, and Hong Kong
buyers."""
from __future__ import annotations

import itertools

import pytest

from tests import factories

SCENARIO = {
    "purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 5,
    "description": "Academic study of commuting between Shanghai and Hong Kong.",
}
PLANS = [{"name": "Open research", "kind": "free", "amount": 0, "duration_days": None, "territory": "worldwide"},
         {"name": "Paid research", "kind": "one_time", "amount": 90000, "duration_days": None,
          "territory": "worldwide"}]
_names = itertools.count(1)


def make_buyer(session, place: str = "hong_kong"):
    n = next(_names)
    user = factories.user(session, email=f"hk-buyer{n}@example.org", organization=f"Harbour Analytics {n}")
    user.memberships[0].organization.location = place
    session.flush()
    return user


def with_profile(product, *, pi: str = "personal", individuals: int | None = 60_000,
                 classification: str = "general", collected: str = "shanghai"):
    """The listed version's declared profile (as the seller declared it in the editor's compliance step)."""
    version = product.listed_version
    version.personal_info, version.individuals = pi, individuals
    version.classification, version.collected_in = classification, collected
    return product


@pytest.fixture
def shanghai_product(session, storage, seller, reviewer):
    seller.memberships[0].organization.location = "shanghai"
    product = factories.listed_product(session, storage, seller, reviewer, title="Cross-boundary commuters",
                                       plans=PLANS)
    with_profile(product)
    session.commit()
    return product


@pytest.fixture
def plans(shanghai_product):
    return {plan.name: plan for plan in shanghai_product.listed_version.plans}


@pytest.fixture
def other_plans(session, storage, seller, reviewer, shanghai_product):
    """The plans of a second product of the same seller, with the same profile: other individuals."""
    product = factories.listed_product(session, storage, seller, reviewer, title="Cross-boundary cyclists",
                                       plans=PLANS)
    with_profile(product)
    session.commit()
    return {plan.name: plan for plan in product.listed_version.plans}
