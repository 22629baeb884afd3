"""The sales dashboard draws the seller's revenue over the last twelve months as an SVG chart per currency, and
names products by their title."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.ledger.models import LedgerTransaction
from tests.licensing import test_seller_views
from tests.licensing.test_seller_views import SELLER_ORG, buy, text

usd_plan = test_seller_views.usd_plan  # the fixture: a second product, priced in US dollars


def _chart(body: str) -> str:
    return body.split('class="card sales-chart"')[1].split("</section>")[0]


def test_revenue_is_charted_per_month_and_currency(session, client, auth, seller, buyer, buyer_org, plans, usd_plan):
    research = buy(session, buyer, buyer_org, plans["Research licence"])  # HK$1,200.00, this month
    earlier = buy(session, buyer, buyer_org, plans["Exclusive"])  # HK$5,000.00, paid three months ago
    earlier.paid_at = utcnow() - timedelta(days=95)
    sale = session.scalar(select(LedgerTransaction).where(LedgerTransaction.order_id == earlier.id))
    sale.occurred_at = earlier.paid_at  # as if it had been paid then
    buy(session, buyer, buyer_org, usd_plan)  # US$250.00
    session.commit()
    auth.login(seller.email)

    body = text(client.get(f"{SELLER_ORG}/sales"))

    chart = _chart(body)
    assert chart.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-timeline"') == 2
    hkd, usd = chart.split("<h3>")[1:]
    assert hkd.startswith("HKD") and usd.startswith("USD")
    assert hkd.count('class="chart-bar"') == 12 and 'role="img"' in hkd
    assert "Revenue per month in HKD" in hkd and ": HK$1,200.00" in hkd and ": HK$5,000.00" in hkd
    assert "<desc" in hkd and "US$250.00" in usd
    # Products are named by their title, not their slug.
    orders = body.split("Recent orders")[1]
    assert research.product.slug not in orders and "EV charging sessions" in orders


def test_no_chart_before_the_first_sale(client, auth, seller, plans):
    auth.login(seller.email)
    body = text(client.get(f"{SELLER_ORG}/sales"))
    assert "sales-chart" not in body and "No paid orders yet." in body
