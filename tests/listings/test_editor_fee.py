"""The seller sees the platform fee before listing: on the plans step and on the review-and-submit step, at the
platform's default rate or at the rate a platform admin gave the organization."""
from __future__ import annotations

from marketplace.ledger.fees import set_fee_override
from tests.listings.test_views import text, vurl


def test_the_plans_and_review_steps_say_what_the_platform_keeps(seller_client, session, admin, seller, draft):
    for suffix in ("/plans", ""):
        assert "The platform keeps 10 % of each sale" in text(seller_client.get(vurl(draft, suffix)))
    set_fee_override(session, admin, seller.memberships[0].organization, 1250)
    session.commit()
    for suffix in ("/plans", ""):
        assert "The platform keeps 12.5 % of each sale" in text(seller_client.get(vurl(draft, suffix)))
