"""The admin's audit page: actors by name, objects by title with links, filters by actor, object, product, action
and date range (days in the admin's time zone), pages that keep the filters, and the filtered events as CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from marketplace.licensing.models import Licence
from marketplace.orders import services as orders
from tests import factories
from tests.admin.conftest import text
from tests.audit.test_views import table


@pytest.fixture
def licensed(session, storage, seller, reviewer):
    """A listed product with a free plan and a buyer organization holding a licence to it."""
    from tests.licensing.conftest import SCENARIO

    product = factories.listed_product(session, storage, seller, reviewer, title="Harbour water quality", plans=[
        {"name": "Open research", "kind": "free", "amount": 0, "duration_days": None}])
    session.commit()
    plan = next(p for p in product.listed_version.plans if p.name == "Open research")
    buyer = factories.user(session, email="buyer@example.org", organization="Buyer Org", name="Bo Buyer")
    orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=buyer.memberships[0].organization.id, scenario=SCENARIO,
        accept_terms=True, idempotency_key=""))
    session.commit()
    return product


def events_of(session, **where) -> list[AuditEvent]:
    query = select(AuditEvent)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(session.scalars(query))


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("role", [PlatformRole.NONE, PlatformRole.REVIEWER])
def test_the_export_is_for_admins_only(client, auth, session, role):
    user = factories.user(session, email="someone@example.org", role=role)
    session.commit()
    auth.login(user.email)
    assert client.get("/admin/audit.csv").status_code == 403


def test_the_export_requires_login(client):
    response = client.get("/admin/audit.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- names and links


def test_entries_name_the_actor_and_link_the_objects(admin_client, session, licensed):
    page = table(text(admin_client.get("/admin/audit")))
    version = licensed.listed_version
    # The name shown, the address in a title beside it.
    assert "Grace Reviewer" in page and "Bo Buyer" in page and 'title="reviewer@example.org"' in page
    assert f"Harbour water quality v{version.label}" in page and f"version #{version.id}" not in page
    assert f'href="/review/products/{licensed.id}"' in page and "/review/cases/" in page
    order_id = events_of(session, action="order.request")[0].subject_id
    assert f"ORD-{order_id:08d} · Harbour water quality" in page and f'href="/orders/{order_id}"' in page
    serial = session.scalar(select(Licence.serial))
    assert f"{serial} · Harbour water quality" in page and f'href="/certificates/{serial}"' in page


# ---------------------------------------------------------------- filters


def test_filter_by_actor_name_or_address(admin_client, licensed):
    page = table(text(admin_client.get("/admin/audit?actor=bo+buy")))
    assert "Bo Buyer" in page and "Grace Reviewer" not in page and "order.request" in page
    page = table(text(admin_client.get("/admin/audit?actor=reviewer@example.org")))
    assert "Grace Reviewer" in page and "Bo Buyer" not in page
    response = admin_client.get("/admin/audit?actor=nobody-at-all")
    assert response.status_code == 400
    assert "No user's name or e-mail address contains “nobody-at-all”." in text(response)
    assert 'value="nobody-at-all"' in text(response)  # the input kept


def test_filter_by_product_takes_its_versions_files_orders_and_licences(admin_client, session, storage, seller,
                                                                       reviewer, licensed):
    other = factories.listed_product(session, storage, seller, reviewer, title="Ferry timetables")
    session.commit()
    page = table(text(admin_client.get(f"/admin/audit?product={licensed.slug}")))
    for action in ("product.created", "version.approve", "asset.uploaded", "order.request", "licence.issue"):
        assert action in page
    assert "Ferry timetables" not in page
    page = table(text(admin_client.get(f"/admin/audit?product={other.id}")))
    assert "Ferry timetables" in page and "Harbour water quality" not in page
    page = table(text(admin_client.get(f"/admin/audit?product={licensed.slug}&object_type=order")))
    assert "order.request" in page and "version.approve" not in page
    response = admin_client.get("/admin/audit?product=no-such-product")
    assert response.status_code == 400 and "No product has the slug or number “no-such-product”." in text(response)


def test_filter_by_object_type_and_number(admin_client, session, licensed):
    version = licensed.listed_version
    page = table(text(admin_client.get(f"/admin/audit?object_type=version&object_id={version.id}")))
    assert "version.approve" in page and "product.created" not in page and "order.request" not in page
    page = table(text(admin_client.get("/admin/audit?object_type=order")))
    assert "order.request" in page and "version.approve" not in page
    for query, message in (("object_id=5", "Choose the type of the object numbered 5."),
                           ("object_type=version&object_id=x1", "“x1” is not an object number."),
                           ("object_type=spaceship", "“spaceship” is not a type of object in the trail.")):
        response = admin_client.get(f"/admin/audit?{query}")
        assert response.status_code == 400 and message in text(response), query


def test_filter_by_action_from_the_list(admin_client, licensed):
    page = text(admin_client.get("/admin/audit?action=order."))
    # the actions the trail holds, offered as the field's list, each with its words
    assert '<option value="order.request" label="Licence requested">' in page
    assert "order.request" in table(page) and "version.approve" not in table(page)


def test_filter_by_days_in_the_admins_time_zone(admin_client, session, admin):
    admin.timezone = "Asia/Hong_Kong"  # UTC+8
    late = record(session, actor_id=admin.id, action="test.late", subject_type="thing", subject_id=1)
    early = record(session, actor_id=admin.id, action="test.early", subject_type="thing", subject_id=2)
    session.flush()
    # 2024-03-31 17:00 UTC is 2024-04-01 01:00 in Hong Kong; 2024-03-31 15:00 UTC is still 23:00 on the 31st.
    session.execute(update(AuditEvent).where(AuditEvent.id == late.id)
                    .values(occurred_at=datetime(2024, 3, 31, 17, tzinfo=UTC)))
    session.execute(update(AuditEvent).where(AuditEvent.id == early.id)
                    .values(occurred_at=datetime(2024, 3, 31, 15, tzinfo=UTC)))
    session.commit()
    page = table(text(admin_client.get("/admin/audit?since=2024-04-01&until=2024-04-01")))
    assert "test.late" in page and "test.early" not in page
    page = table(text(admin_client.get("/admin/audit?since=2024-03-31&until=2024-03-31")))
    assert "test.early" in page and "test.late" not in page


@pytest.mark.parametrize(("query", "message"), [
    ("since=yesterday", "“yesterday” is not a date: write it as 2024-03-31."),
    ("until=2024-02-30", "“2024-02-30” is not a date"),
    ("since=2024-05-02&until=2024-05-01", "The end date is before the start date."),
    ("action=no.such.thing", "No action starts with “no.such.thing”"),
])
def test_bad_filters_reshow_the_form_with_a_message(admin_client, licensed, query, message):
    response = admin_client.get(f"/admin/audit?{query}")
    page = text(response)
    assert response.status_code == 400 and message in page and 'aria-invalid="true"' in page
    assert "audit-events" not in page  # no list that looks filtered and is not
    assert admin_client.get(f"/admin/audit.csv?{query}").status_code == 400


@pytest.mark.parametrize("named", ["²", "١٢", "٣"])  # digits to str.isdigit() that int() does not read
def test_a_product_named_by_other_digits_is_looked_up_by_slug_never_an_error(admin_client, licensed, named):
    response = admin_client.get(f"/admin/audit?product={named}")
    assert response.status_code in (200, 400)


def test_older_pages_keep_the_filters(admin_client, session, admin):
    for i in range(105):
        record(session, actor_id=admin.id, action="bulk.move", subject_type="thing", subject_id=i)
    record(session, actor_id=admin.id, action="other.move", subject_type="thing", subject_id=1)
    session.commit()
    page = text(admin_client.get("/admin/audit?action=bulk.&actor=admin%40example.org"))
    older = page[page.index('rel="next"'):][:300]
    assert "action=bulk." in older and "actor=admin@example.org" in older and "before=" in older
    href = older[older.index('href="') + 6:]
    href = href[:href.index('"')].replace("&amp;", "&")
    older_page = table(text(admin_client.get(href)))
    assert older_page.count(">bulk.move<") == 5 and "other.move" not in older_page


# ---------------------------------------------------------------- CSV


def test_the_csv_holds_the_filtered_entries_in_stable_columns(admin_client, session, licensed):
    response = admin_client.get(f"/admin/audit.csv?product={licensed.slug}&object_type=order")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"] and response.is_streamed
    rows = csv_rows(response)
    assert list(rows[0]) == ["event_id", "occurred_at_utc", "actor_id", "actor_email", "actor_name", "action",
                             "subject_type", "subject_id", "subject_label", "product_id", "payload", "hash",
                             "prev_hash"]
    assert all(r["subject_type"] == "order" for r in rows)
    [request] = [r for r in rows if r["action"] == "order.request"]
    assert request["actor_email"] == "buyer@example.org" and request["actor_name"] == "Bo Buyer"
    assert request["subject_label"].endswith("· Harbour water quality") and request["product_id"] == str(licensed.id)


def test_the_csv_takes_every_page_not_only_the_first(admin_client, session, admin):
    for i in range(620):
        record(session, actor_id=admin.id, action="bulk.move", subject_type="thing", subject_id=i)
    session.commit()
    rows = csv_rows(admin_client.get("/admin/audit.csv?action=bulk."))
    assert len(rows) == 620 and rows[0]["subject_id"] == "619" and rows[-1]["subject_id"] == "0"


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert(admin_client, session, admin, start):
    admin.display_name = f"{start}HYPERLINK(\"http://evil.example\")"
    record(session, actor_id=admin.id, action="test.csv", subject_type="thing", subject_id=1,
           payload={"note": "=1+1"})
    session.commit()
    [row] = csv_rows(admin_client.get("/admin/audit.csv?action=test.csv"))
    assert row["actor_name"] == f"'{start}HYPERLINK(\"http://evil.example\")"
    assert row["payload"] == '{"note": "=1+1"}'  # starts with "{": a spreadsheet reads text
