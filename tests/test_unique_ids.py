"""No page repeats an element id (a skip link, a label's for= and an in-page link must each find one element)."""
from __future__ import annotations

import re
from collections import Counter

from tests import factories


def repeated_ids(html: str) -> list[str]:
    return [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if n > 1]


def test_the_review_case_and_the_catalog_repeat_no_id(client, auth, session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Strategic road detectors")
    session.commit()
    for url in ("/catalog", f"/products/{product.slug}"):
        assert repeated_ids(client.get(url).get_data(as_text=True)) == [], url
    auth.login(reviewer.email)
    queue = client.get("/review/?status=decided").get_data(as_text=True)
    assert repeated_ids(queue) == []
    cases = set(re.findall(r'href="/review/cases/(\d+)"', queue))
    assert cases
    for case_id in cases:
        page = client.get(f"/review/cases/{case_id}").get_data(as_text=True)
        assert repeated_ids(page) == [], case_id
