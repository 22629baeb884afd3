"""``flask notices end`` and ``flask registrations backfill``."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.errors import Conflict
from marketplace.review import public_notice as notices
from marketplace.review import registration
from marketplace.review.notice_models import NoticeStatus, PublicNotice, RegistrationCertificate
from tests import factories


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _listed(session, storage, seller, reviewer, title):
    product = factories.listed_product(session, storage, seller, reviewer, title=title)
    session.commit()
    return product


def test_notices_end_ends_due_notices_now(app, session, storage, seller, reviewer):
    product = _listed(session, storage, seller, reviewer, "Harbour tides")
    notice = notices.latest_notice(session, product.listed_version.registration_number)
    first = run(app, "notices", "end")
    assert first.exit_code == 0 and "0 notice(s) ended." in first.output  # still open for objections
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    ended = run(app, "notices", "end")
    assert ended.exit_code == 0 and f"notice {notice.id} ended" in ended.output, ended.output
    session.expire_all()
    assert session.get(PublicNotice, notice.id).status == NoticeStatus.ENDED
    assert registration.certificates_of(session, notice.registration_number)[0].notice_id == notice.id
    assert "0 notice(s) ended." in run(app, "notices", "end").output


def _listed_before_notices(session, product) -> None:
    """What a product listed before public notices existed looks like: no notice, no registration number."""
    version = product.listed_version
    session.execute(delete(PublicNotice).where(PublicNotice.version_id == version.id))
    version.registration_number = None
    session.commit()


def test_registrations_backfill_issues_one_certificate_per_old_listed_product(app, session, storage, seller,
                                                                              reviewer):
    old = _listed(session, storage, seller, reviewer, "Old listing")
    on_notice = _listed(session, storage, seller, reviewer, "On notice")
    _listed_before_notices(session, old)
    version = old.listed_version
    listed_at = session.scalar(select(AuditEvent.occurred_at).where(
        AuditEvent.action == "version.list", AuditEvent.subject_id == version.id))
    done = run(app, "registrations", "backfill")
    assert done.exit_code == 0 and "1 registration certificate(s) issued." in done.output, done.output
    session.expire_all()
    [certificate] = session.scalars(select(RegistrationCertificate)).all()
    assert certificate.product_id == old.id and certificate.notice_id is None
    assert version.registration_number == f"REG-{listed_at:%Y}-{version.id:06d}"
    assert certificate.valid_from == listed_at
    assert certificate.valid_until - certificate.valid_from == timedelta(days=app.config["REGISTRATION_VALIDITY_DAYS"])
    assert registration.standing(session, certificate) == registration.Standing.VALID
    assert registration.latest_for_product(session, on_notice.id) is None  # its notice issues its certificate
    again = run(app, "registrations", "backfill")
    assert again.exit_code == 0 and "0 registration certificate(s) issued." in again.output
    assert len(session.scalars(select(RegistrationCertificate)).all()) == 1


def test_a_backfilled_registration_whose_period_passed_refuses_new_licences(app, session, storage, seller,
                                                                            reviewer, monkeypatch):
    old = _listed(session, storage, seller, reviewer, "Long ago")
    _listed_before_notices(session, old)
    assert registration.refuse_if_expired(session, old.id) is None  # before: never refused
    monkeypatch.setitem(app.config, "REGISTRATION_VALIDITY_DAYS", 0)
    [certificate] = registration.backfill_certificates(session)
    session.commit()
    with pytest.raises(Conflict) as refused:
        registration.refuse_if_expired(session, old.id)
    assert certificate.registration_number in refused.value.message
