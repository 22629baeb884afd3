"""Fixtures of the seller's pages: a signed-in seller and a draft product of theirs."""
from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def seller_client(client, auth, seller):
    auth.login(seller.email)
    return client


@pytest.fixture
def draft(session, seller):
    product = factories.product(session, seller, title="Traffic detectors")
    session.commit()
    return product
