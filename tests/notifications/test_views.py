"""Notifications: counted in the top bar, listed on their page, opened and marked read."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Membership, User
from marketplace.notifications import services
from tests import factories


@pytest.fixture
def note(session, seller, seller_org):
    created = services.notify_organization(session, seller_org, "Approved and listed: Roads 1.0",
                                           "Your version is listed.", "/seller/")
    session.commit()
    return created[0]


def test_every_member_gets_a_notification_and_an_email(session, seller, seller_org, outbox):
    member = factories.user(session)
    session.add(Membership(user=member, organization=seller_org, role="member"))
    session.flush()
    notes = services.notify_organization(session, seller_org, "Subject", "Body", "/seller/")
    assert {n.user_id for n in notes} == {seller.id, member.id}
    assert outbox == []  # nothing leaves before the commit
    session.commit()
    assert {m.to for m in outbox} == {seller.email, member.email}
    assert outbox[0].body.endswith("http://127.0.0.1:5000/seller/")


def test_unread_count_in_the_top_bar_and_the_list(client, auth, seller, note):
    auth.login(seller.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Approved and listed: Roads 1.0" in page and 'aria-label="1 unread"' in page


def test_opening_marks_read_and_follows_the_link(session, client, auth, seller, note):
    auth.login(seller.email)
    response = client.post(f"/notifications/{note.id}/open")
    assert response.status_code == 302 and response.headers["Location"].endswith("/seller/")
    assert services.unread_count(session, seller) == 0


def test_another_users_notification_is_404(session, client, auth, note):
    other = factories.user(session)
    session.commit()
    auth.login(other.email)
    assert client.post(f"/notifications/{note.id}/open").status_code == 404
    assert client.post("/notifications/999999/open").status_code == 404
    assert services.unread_count(session, session.get(User, note.user_id)) == 1  # still unread for its owner


def test_mark_all_read(session, client, auth, seller, note):
    auth.login(seller.email)
    assert client.post("/notifications/read").status_code == 302
    assert services.unread_count(session, seller) == 0


def test_notifications_need_login(client):
    assert client.get("/notifications/").status_code == 302
