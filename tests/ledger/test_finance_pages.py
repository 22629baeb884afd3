"""The money pages: a seller's balances and monthly statement (with its CSV and printable version), the sales
dashboard's ledger balances, the platform admin's finance page and fee rates; bad months and strangers refused."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.orders.refunds import record_partial_refund
from tests import factories
from tests.licensing.test_seller_views import SELLER_ORG, buy, text

NOW = datetime.now(ZoneInfo("Asia/Hong_Kong"))
MONTH = f"{NOW:%Y-%m}"


@pytest.fixture
def sold(session, buyer, buyer_org, plans):
    """An "Exclusive" order (HKD 5,000.00, 10 % fee) paid, and 1,000.01 of it refunded."""
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    record_partial_refund(session, order, 100001, 500000, "the Stripe Dashboard")
    session.commit()
    return order


def test_the_statement_shows_opening_lines_and_closing_from_the_ledger(client, auth, seller, sold):
    auth.login(seller.email)
    response = client.get(f"{SELLER_ORG}/statements")
    assert response.status_code == 302 and response.location.endswith(f"{SELLER_ORG}/statements/{MONTH}")
    page = text(client.get(f"{SELLER_ORG}/statements/{MONTH}"))
    assert "The platform keeps 10 % of each sale" in page
    assert sold.number in page and f'href="{SELLER_ORG}/orders/{sold.id}"' in page
    # Sale: 5,000.00 gross, 500.00 fee, 4,500.00 net; refund of 1,000.01: 100.00 fee back, 900.01 net back.
    for shown in ("HK$5,000.00", "HK$500.00", "HK$4,500.00", "-HK$1,000.01", "-HK$100.00", "-HK$900.01", "HK$3,599.99"):
        assert shown in page, shown
    assert "<caption>" in page and 'scope="col"' in page


def test_the_statement_exports_as_csv_and_prints(client, auth, seller, sold):
    auth.login(seller.email)
    response = client.get(f"{SELLER_ORG}/statements/{MONTH}/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["kind"] for row in rows] == ["opening_balance", "sale", "refund", "closing_balance"]
    assert [row["net"] for row in rows] == ["0", "450000", "-90001", "359999"]
    assert rows[1]["order"] == sold.number and rows[1]["fee"] == "50000"
    printed = client.get(f"{SELLER_ORG}/statements/{MONTH}/print")
    assert printed.status_code == 200 and "statement-print" in text(printed) and "Download CSV" not in text(printed)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "1999-01", "12-2026", "2026-1", "x", "2026-12-01",
                                   "9999-12", "９９９９-１２", "２０２６-０１", "0000-01"])
def test_a_bad_month_is_not_found_never_an_error(client, auth, seller, month):
    auth.login(seller.email)
    for url in (f"{SELLER_ORG}/statements/{month}", f"{SELLER_ORG}/statements/{month}/csv",
                f"{SELLER_ORG}/statements/{month}/print", f"{SELLER_ORG}/statements?month={month}"):
        assert client.get(url).status_code == 404, url


def test_the_first_and_last_months_link_to_no_month_beyond(client, auth, seller):
    auth.login(seller.email)
    first = text(client.get(f"{SELLER_ORG}/statements/2000-01"))
    last = text(client.get(f"{SELLER_ORG}/statements/9998-12"))
    assert "1999-12" not in first and "Previous month" not in first and "2000-02" in first
    assert "9999-01" not in last and "Next month" not in last and "9998-11" in last


def test_strangers_see_no_statement(client, auth, session, sold):
    factories.user(session, email="other@example.org", organization="Other Org")
    session.commit()
    auth.login("other@example.org")
    assert client.get(f"{SELLER_ORG}/statements/{MONTH}").status_code == 404
    assert client.get("/admin/finance").status_code == 403


def test_the_sales_dashboard_shows_the_ledger_balances(client, auth, seller, sold):
    auth.login(seller.email)
    page = text(client.get(f"{SELLER_ORG}/sales"))
    assert "Owed to you" in page and "HK$3,599.99" in page and "10 % of each sale" in page


def test_the_admin_sees_fee_revenue_and_sets_a_sellers_fee(client, auth, session, admin, seller, seller_org, sold):
    auth.login(admin.email)
    page = text(client.get("/admin/finance"))
    assert "HK$400.00" in page  # 500.00 fee less 100.00 given back
    assert "Every paid order has its sale in the ledger." in page
    refused = client.post(f"/admin/finance/fees/{seller_org.id}", data={"fee_bps": "12.5"})
    assert refused.status_code == 422 and 'value="12.5"' in refused.get_data(as_text=True)
    assert client.post(f"/admin/finance/fees/{seller_org.id}", data={"fee_bps": "10001"}).status_code == 422
    for odd in ("²", "١٢٣", "０", "9" * 5000, "-1", "1e3"):  # digits int() refuses, other scripts', too long
        refused = client.post(f"/admin/finance/fees/{seller_org.id}", data={"fee_bps": odd})
        assert refused.status_code == 422, odd
    saved = client.post(f"/admin/finance/fees/{seller_org.id}", data={"fee_bps": "250"})
    assert saved.status_code == 302
    session.expire_all()
    assert seller_org.fee_bps == 250
    assert session.scalar(select(AuditEvent.payload).where(AuditEvent.action == "organization.fee_set"))["after"] == 250


def test_a_paid_order_missing_from_the_ledger_needs_attention(client, auth, session, admin, buyer, buyer_org,
                                                              plans):
    from marketplace.ledger.models import LedgerTransaction
    from marketplace.licensing.models import Voucher

    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    session.delete(session.scalars(select(Voucher).where(Voucher.order_id == order.id)).one())
    session.flush()
    for txn in session.scalars(select(LedgerTransaction).where(LedgerTransaction.order_id == order.id)):
        session.delete(txn)  # as an order paid before the ledger (and its vouchers) existed
    session.commit()
    auth.login(admin.email)
    assert order.number in text(client.get("/admin/finance"))
    from marketplace.orders.money import backfill

    assert backfill(session) == 1
    session.commit()
    voucher = session.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()  # issued late, once
    assert voucher.statement["amount"] == order.amount and backfill(session) == 1
    assert session.scalars(select(Voucher).where(Voucher.order_id == order.id)).all() == [voucher]
    assert "Every paid order has its sale in the ledger." in text(client.get("/admin/finance"))
