"""The admin's orders page filtered by status, and the overview's order counts each leading to the orders they
count."""
from __future__ import annotations

import re

import pytest

from marketplace.orders import services as orders
from tests import factories
from tests.admin.conftest import text


@pytest.fixture
def ordered(session, storage, seller, reviewer):
    """Orders in two statuses: a free licence (fulfilled) and two one-time plans waiting for payment."""
    from tests.licensing.conftest import SCENARIO

    product = factories.listed_product(session, storage, seller, reviewer, title="Harbour water quality", plans=[
        {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None}])
    session.commit()
    version = product.listed_version
    free = next(p for p in version.plans if p.name == "Open research")
    paid = next(p for p in version.plans if p.kind != "free")
    for n, plan in enumerate((free, paid, paid)):
        buyer = factories.user(session, email=f"buyer{n}@example.org", organization=f"Buyer Org {n}")
        orders.request_licence(session, buyer, orders.LicenceRequest(
            plan_id=plan.id, organization_id=buyer.memberships[0].organization.id, scenario=SCENARIO,
            accept_terms=True, idempotency_key=""))
        session.commit()
    return product


def rows(page: str) -> int:
    return len(re.findall(r'<tr id="order-\d+"', page))


def test_each_order_count_on_the_overview_equals_the_rows_its_link_shows(admin_client, ordered):
    overview = text(admin_client.get("/admin/"))
    box = overview[overview.index('id="overview-orders"'):]
    box = box[:box.index("</section>")]
    counts = re.findall(r'<a href="(/admin/orders\?status=[a-z_]+)"><span class="badge">[^<]+</span> '
                        r'<strong>(\d+)</strong>', box)
    assert len(counts) == 2 and sum(int(n) for _link, n in counts) == 3
    for link, count in counts:
        response = admin_client.get(link)
        assert response.status_code == 200 and rows(text(response)) == int(count), link
        status = link.split("=")[1]
        assert f'<option value="{status}" selected>' in text(response)


def test_the_orders_page_without_a_status_lists_them_all(admin_client, ordered):
    assert rows(text(admin_client.get("/admin/orders"))) == 3


@pytest.mark.parametrize("value", ["bogus", "FULFILLED", "<script>"])
def test_a_status_that_is_none_is_refused_beside_the_field(admin_client, ordered, value):
    response = admin_client.get("/admin/orders", query_string={"status": value})
    page = text(response)
    assert response.status_code == 400
    assert f"\u201c{value}\u201d is not an order status: choose one from the list." in page
    assert 'aria-invalid="true"' in page and rows(page) == 0
    assert "<script>" not in response.get_data(as_text=True)


def test_the_status_filter_is_for_admins_only(client, auth, reviewer, ordered):
    auth.login(reviewer.email)
    assert client.get("/admin/orders?status=fulfilled").status_code == 403


@pytest.mark.parametrize(("tag", "approved", "paid"), [("zh-Hans", "已批准", "已付款"),
                                                       ("zh-Hant-HK", "已批准", "已付款")])
def test_order_statuses_read_as_statuses_not_as_the_dates_of_the_same_words(admin_client, admin, session, tag,
                                                                           approved, paid):
    admin.locale = tag
    session.commit()
    page = text(admin_client.get("/admin/orders"))
    options = re.search(r'<select[^>]*name="status".*?</select>', page, re.S).group(0)
    assert f">{approved}</option>" in options and f">{paid}</option>" in options
    assert "日期" not in options and "时间" not in options and "時間" not in options
