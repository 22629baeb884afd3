"""A product page's state read from the loaded product and its approved versions is the state the one indexed read
gives (on SQLite, and on PostgreSQL with TEST_DB=postgresql): a page rendered from the objects is cached under the
same tuple the next request reads."""
from __future__ import annotations

from marketplace.catalog.services import approved_versions, page_state_of, product_page_state
from marketplace.listings import services as listings
from tests import factories
from tests.catalog.test_product_page import approve


def test_the_state_of_the_loaded_versions_is_the_state_read_by_one_query(session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Stations")
    session.commit()
    for number in ("2.0", "3.0"):
        approve(session, storage, seller, reviewer, listings.new_version(session, seller, product, number, "More."))
        session.commit()
    listings.new_version(session, seller, product, "4.0", "A draft: not on the page.")
    session.commit()
    session.expire_all()

    versions = approved_versions(session, product)
    state = page_state_of(product, versions)

    assert len(versions) == 3 and state[4] == 3 and state[5] is not None
    assert state == product_page_state(session, product.slug)
