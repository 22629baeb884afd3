"""The role a signed-in page shows is worked out once a session, not on every page: a signed-in catalog page
issues as few queries as it can, and the role follows when the user's organizations change."""
from __future__ import annotations

from flask import g
from sqlalchemy import event

from marketplace.accounts.models import Membership
from marketplace.extensions import db
from tests import factories
from tests.support.report import report

# The catalog's own queries (a fixed number, tests/catalog), the signed-in user, their memberships and unread
# notices, and nothing about the role once the session knows it (two EXISTS queries on every page before).
SIGNED_IN_CATALOG_QUERIES = 6


def statements(client, url: str) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    g.pop("current_role", None)  # the tests share one app context: each request works its role out anew
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def role_queries(seen: list[str]) -> list[str]:
    return [s for s in seen if "EXISTS" in s.upper()]


def test_a_signed_in_catalog_page_asks_nothing_about_the_role_once_known(client, auth, seller):
    anonymous = len(statements(client, "/catalog"))
    auth.login(seller.email)
    first = statements(client, "/catalog")
    again = statements(client, "/catalog")
    report(f"catalog page: {anonymous} queries for a visitor, {len(first)} on the first signed-in page, "
           f"{len(again)} on each page after")
    assert role_queries(again) == []
    assert len(again) <= SIGNED_IN_CATALOG_QUERIES, again


def test_the_role_follows_when_the_user_joins_an_organization(session, client, auth):
    user = factories.user(session, email="newcomer@example.org")
    session.commit()
    auth.login(user.email)
    g.pop("current_role", None)
    assert client.get("/").headers["Location"] == "/catalog"  # a buyer: no organization
    owner = factories.user(session, email="owner@example.org", organization="Kowloon Kerbside Data")
    org_id = owner.memberships[0].organization_id
    session.add(Membership(user_id=user.id, organization_id=org_id))
    session.commit()
    g.pop("current_role", None)
    assert client.get("/").headers["Location"] == "/seller/"  # a new organization's first product is the work


def test_a_page_view_leaves_the_session_unwritten_once_the_role_is_known(client, auth, seller):
    auth.login(seller.email)
    g.pop("current_role", None)
    client.get("/catalog")
    g.pop("current_role", None)
    again = client.get("/catalog")
    assert not [c for c in again.headers.getlist("Set-Cookie") if c.startswith("session=")]
