"""The admin's audit page: the chain's verdict up front, the latest events, a filter by action, paging back."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import update

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from tests import factories


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def table(page: str) -> str:
    """The events' table of an audit page (the filters above it list every action)."""
    if "audit-events" not in page:
        return ""
    return page[page.index('<table class="table audit-events"'):page.index("</table>")]


@pytest.fixture
def admin_client(client, auth, admin):
    auth.login(admin.email)
    return client


def _events(session, actor, n=3, prefix="test"):
    events = [record(session, actor_id=actor.id, action=f"{prefix}.{i}", subject_type="thing", subject_id=i,
                     payload={"i": i}) for i in range(n)]
    session.commit()
    return events


def test_audit_page_requires_login(client):
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [PlatformRole.NONE, PlatformRole.REVIEWER])
def test_audit_page_is_for_admins_only(client, auth, session, role):
    user = factories.user(session, email="someone@example.org", role=role)
    session.commit()
    auth.login(user.email)
    response = client.get("/admin/audit")
    assert response.status_code == 403 and "Only admins" in text(response)


def test_intact_chain_and_the_latest_events(admin_client, session, admin):
    events = _events(session, admin)
    page = text(admin_client.get("/admin/audit"))
    assert "Chain intact:" in page and "events verified" in page
    page = table(page)
    assert "test.2" in page and "admin@example.org" in page and events[2].hash[:10] in page
    assert page.index("test.2") < page.index("test.0")  # newest first


def test_a_tampered_row_is_reported_where_the_chain_breaks(admin_client, session, admin):
    events = _events(session, admin)
    # The admin's log-in is the first event.
    assert "Chain intact: 4 events verified." in text(admin_client.get("/admin/audit"))
    session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id).values(payload={"i": 99}))
    session.commit()
    session.expire_all()
    page = text(admin_client.get("/admin/audit"))
    assert f"Broken at event #{events[1].id}: event content altered" in page and "Chain intact" not in page
    assert 'class="audit-broken"' in page


def test_filter_by_action_prefix(admin_client, session, admin):
    _events(session, admin, prefix="alpha")
    _events(session, admin, prefix="beta")
    page = table(text(admin_client.get("/admin/audit?action=beta.")))
    assert "beta.1" in page and "alpha.1" not in page
    response = admin_client.get("/admin/audit?action=%_")  # an action nobody did: said beside the field
    assert response.status_code == 400 and "No action starts with “%_”: pick one from the list." in text(response)
    assert admin_client.get("/admin/audit?action=be%00ta").status_code == 400  # NUL refused app-wide


def test_paging_back_by_event_id(admin_client, session, admin):
    events = _events(session, admin, n=105)
    page = text(admin_client.get("/admin/audit"))
    assert f"before={events[5].id}" in page and "Older events" in page  # the 100th newest is #5
    older = text(admin_client.get(f"/admin/audit?before={events[5].id}"))
    assert "test.4" in older and "test.5<" not in older and "Older events" not in older


@pytest.mark.parametrize("before", ["abc", "-1", "0", "9" * 40, "9" * 5000, "²"])
def test_a_bad_before_is_ignored_with_a_notice(admin_client, session, admin, before):
    _events(session, admin, n=1)
    response = admin_client.get(f"/admin/audit?before={before}")
    assert response.status_code == 200
    assert "is not an event number" in text(response) and "test.0" in text(response)


def test_a_rewritten_chain_shows_the_checkpoint_it_breaks(admin_client, app, session, admin):
    from marketplace.audit.checkpoints import make_checkpoint
    from tests.audit.test_checkpoints import _rewrite_chain

    events = _events(session, admin, n=4)
    make_checkpoint(session)
    session.commit()
    assert "signed checkpoint problem" not in text(admin_client.get("/admin/audit"))
    session.execute(AuditEvent.__table__.delete().where(AuditEvent.id.in_([events[1].id, events[2].id])))
    session.commit()
    session.expire_all()
    _rewrite_chain(session)
    page = text(admin_client.get("/admin/audit"))
    assert "Chain intact" in page  # the links alone hold after the rewrite ...
    assert "signed checkpoint problem" in page and "the chain was rewritten" in page  # ... the signed head does not
