"""The admin follows the review backlog: each product's review state on the products page, a count per state on the
overview leading to the products in it, status choices in the page's words, and filters that are not choices
refused beside their field."""
from __future__ import annotations

import re

import pytest

from marketplace.review import services as review
from tests import factories
from tests.admin.conftest import text
from tests.admin.test_products import row_of


@pytest.fixture
def backlog(session, storage, seller, reviewer, listed):
    """One product in each review state, besides the listed one."""
    made = {}
    for state in ("draft", "submitted", "in_review", "changes_requested", "rejected"):
        p = factories.product(session, seller, title=f"Backlog {state}")
        made[state] = p
        if state == "draft":
            continue
        version = factories.complete_version(session, storage, seller, p.latest_version)
        case = factories.submit(session, seller, version, storage).case
        if state == "submitted":
            continue
        review.claim_case(session, reviewer, case)
        if state == "changes_requested":
            review.request_changes(session, reviewer, case, comment="Name the owners.")
        elif state == "rejected":
            review.reject_version(session, reviewer, case, comment="Not open data.")
        session.commit()
    session.commit()
    return made


def test_the_products_page_shows_each_products_review_state(admin_client, backlog, listed):
    page = text(admin_client.get("/admin/products"))
    for state, product in backlog.items():
        row = row_of(page, product)
        assert f"badge-{state}" in row, state
        assert "badge-draft" not in row or state == "draft"
    assert "badge-listed" in row_of(page, listed)


def test_each_review_count_on_the_overview_equals_the_products_its_link_shows(admin_client, backlog):
    page = text(admin_client.get("/admin/"))
    box = page[page.index('id="overview-review"'):]
    box = box[:box.index("</ul>")]
    counts = re.findall(r'<a href="(/admin/products\?review=([a-z_]+))">.*?<strong>(\d+)</strong>', box)
    assert [state for _link, state, _n in counts] == ["submitted", "in_review", "changes_requested", "rejected",
                                                        "draft"]
    for link, state, count in counts:
        assert int(count) == 1, state
        shown = text(admin_client.get(link))
        assert len(re.findall(r'<tr id="product-\d+"', shown)) == int(count)
        assert f'id="product-{backlog[state].id}"' in shown


def test_the_status_choices_read_as_the_status_column_does(admin_client, listed):
    page = text(admin_client.get("/admin/products"))
    for value, words in (("draft", "Draft"), ("listed", "Listed"), ("suspended", "Suspended"),
                         ("delisted", "Delisted"), ("in_review", "In review")):
        assert f'<option value="{value}">{words}</option>' in page


@pytest.mark.parametrize("field", ["status", "review", "organization"])
def test_a_filter_that_is_not_a_choice_is_refused_beside_its_field(admin_client, listed, field):
    response = admin_client.get(f"/admin/products?{field}=zzz&q=road")
    page = text(response)
    assert response.status_code == 400
    assert "\u201czzz\u201d is not one of the choices: pick one from the list." in page
    assert f'aria-describedby="{field}-errors"' in page and 'aria-invalid="true"' in page
    assert f'id="product-{listed.id}"' not in page  # no list that looks filtered and is not
    assert 'value="road"' in page  # the rest of the form is kept
