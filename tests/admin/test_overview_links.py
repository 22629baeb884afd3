"""The admin's overview links into the products page, filtered by each status it counts."""
from __future__ import annotations

import re

from tests.admin.conftest import text


def test_overview_counts_link_to_the_products_page_filtered(admin_client, listed):
    page = text(admin_client.get("/admin/"))
    links = set(re.findall(r'href="(/admin/products[^"]*)"', page))
    assert "/admin/products" in links and "/admin/products?status=listed" in links
    for link in links:
        assert admin_client.get(link).status_code == 200
    listed_page = text(admin_client.get("/admin/products?status=listed"))
    assert f'id="product-{listed.id}"' in listed_page
