"""The money API: balances and a month's statement for members of the seller organization, a seller's fee rate set
by a platform admin; bad months and bad rates refused in the API's error shape."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests import factories
from tests.ledger.test_finance_pages import sold  # noqa: F401 - an order paid and partly refunded

MONTH = f"{datetime.now(ZoneInfo('Asia/Hong_Kong')):%Y-%m}"
ORG = "/api/v1/organizations/harbour-analytics"


def test_a_member_reads_balances_and_the_statement(api, sold):  # noqa: F811
    response = api.get(f"{ORG}/balances")
    assert response.status_code == 200
    assert response.get_json() == [{"currency": "HKD", "pending": 359999, "available": 0, "held": 0,
                                    "in_payout": 0}]
    [sheet] = api.get(f"{ORG}/statements/{MONTH}").get_json()
    assert sheet["month"] == MONTH and sheet["opening"] == 0 and sheet["closing"] == 359999
    assert [(x["kind"], x["gross"], x["fee"], x["net"]) for x in sheet["lines"]] == [
        ("sale", 500000, 50000, 450000), ("refund", -100001, -10000, -90001)]
    assert all(x["order_id"] == sold.id for x in sheet["lines"])


def test_a_bad_month_is_404_in_the_error_shape(api):
    for month in ("2026-13", "1999-12", "june", "9999-12", "９９９９-１２"):
        response = api.get(f"{ORG}/statements/{month}")
        assert response.status_code == 404 and response.get_json()["code"] == "not_found", month


def test_strangers_get_nothing(client, session, seller_org):
    other = factories.user(session, email="stranger@example.org", organization="Stranger Org")
    token = factories.api_token(session, other)
    session.commit()
    stranger = factories.TokenClient(client, token)
    assert stranger.get(f"{ORG}/balances").status_code == 404
    assert stranger.put(f"{ORG}/fee", json={"fee_bps": 0}).status_code == 403


def test_an_admin_sets_and_clears_a_sellers_fee(client, session, admin, seller_org):
    api = factories.TokenClient(client, factories.api_token(session, admin))
    session.commit()
    response = api.put(f"{ORG}/fee", json={"fee_bps": 750})
    assert response.status_code == 200
    assert response.get_json() == {"organization": "harbour-analytics", "fee_bps": 750, "effective_fee_bps": 750,
                                   "default_fee_bps": 1000}
    assert api.put(f"{ORG}/fee", json={"fee_bps": None}).get_json()["effective_fee_bps"] == 1000
    for bad in (-1, 10001, "5", 2.5, True):
        refused = api.put(f"{ORG}/fee", json={"fee_bps": bad})
        assert refused.status_code == 422 and "fee_bps" in refused.get_json()["errors"], bad
    assert api.put("/api/v1/organizations/nobody/fee", json={"fee_bps": 1}).status_code == 404



def test_a_number_too_long_to_read_is_a_bad_request_in_the_error_shape(client, session, admin, seller_org):
    api = factories.TokenClient(client, factories.api_token(session, admin))
    session.commit()
    response = api.put(f"{ORG}/fee", data='{"fee_bps": 1' + "0" * 5000 + "}", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["code"] == "bad_request"
    assert "more digits" in response.get_json()["message"]
    assert api.put(f"{ORG}/fee", json={"fee_bps": 10**30}).status_code == 422  # long, but a number: out of range
