"""Reading registrations costs a fixed number of queries: the expiry reminders read their certificates in one query
whatever their number, and the notice page reads only the newest certificate."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.review import public_notice as notices
from marketplace.review import registration
from tests import factories


@contextmanager
def statements():
    """The SQL statements run meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _registered(session, storage, seller, reviewer, count: int) -> list:
    """``count`` registrations whose certificates expire in ten days."""
    found = []
    for n in range(count):
        product = factories.listed_product(session, storage, seller, reviewer, title=f"Registered {n}")
        notice = notices.latest_notice(session, product.listed_version.registration_number)
        notice.closes_at = utcnow() - timedelta(seconds=1)
        assert notices.end_notice(session, notice)
        certificate = registration.current_certificate(session, notice.registration_number)
        certificate.valid_until = utcnow() + timedelta(days=10)
        found.append(certificate)
    session.commit()
    return found


def _reads_of_certificates(seen: list[str]) -> int:
    return sum(1 for s in seen if re.match(r"\s*SELECT", s) and "registration_certificates" in s)


def test_reminders_read_their_certificates_in_one_query_however_many(session, storage, seller, reviewer):
    _registered(session, storage, seller, reviewer, 1)
    with statements() as one:
        assert registration.remind_expiring(session) == 1
    session.commit()
    _registered(session, storage, seller, reviewer, 3)
    with statements() as three:
        assert registration.remind_expiring(session) == 3
    session.commit()
    assert _reads_of_certificates(one) == _reads_of_certificates(three) == 1
    # And the products' standing is not read one by one either.
    assert sum("FROM data_products" in s for s in three) == sum("FROM data_products" in s for s in one)


def test_the_notice_page_reads_only_the_newest_certificate(client, session, storage, seller, reviewer):
    [certificate] = _registered(session, storage, seller, reviewer, 1)
    notice = notices.latest_notice(session, certificate.registration_number)
    with statements() as seen:
        page = client.get(f"/notices/{notice.id}")
    assert page.status_code == 200 and f"/registrations/{certificate.registration_number}" in page.text
    reads = [s for s in seen if "FROM registration_certificates" in s]
    assert reads and all("LIMIT" in s for s in reads)
    assert client.get(f"/registrations/{certificate.registration_number}.json?sequence=99999999999").status_code \
        == 404


def test_a_certificate_is_asked_for_by_a_whole_sequence_or_none(client, session, storage, seller, reviewer):
    [certificate] = _registered(session, storage, seller, reviewer, 1)
    url = f"/registrations/{certificate.registration_number}.json"
    assert client.get(url).get_json()["registration"]["serial"] == certificate.serial
    assert client.get(f"{url}?sequence={certificate.sequence}").status_code == 200
    for wrong in ("0", "abc", "-1", "", "１"):
        assert client.get(f"{url}?sequence={wrong}").status_code == 404, wrong
