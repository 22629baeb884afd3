"""Admin fixtures: a signed-in admin and listed products of two seller organizations."""
from __future__ import annotations

import html

import pytest

from tests import factories


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin_client(client, auth, admin):
    auth.login(admin.email)
    return client


@pytest.fixture
def listed(session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road detectors")
    session.commit()
    return product


@pytest.fixture
def other_listed(session, storage, reviewer):
    other = factories.user(session, email="other@example.org", organization="Kowloon Data Works")
    product = factories.listed_product(session, storage, other, reviewer, title="Parking vacancy feed")
    session.commit()
    return product
