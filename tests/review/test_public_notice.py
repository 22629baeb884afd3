"""Public notice after approval: trading at approval or at the notice's end, objections upheld or dismissed, the
notice ending into a signed registration certificate."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.errors import Forbidden, InvalidTransition, UnsupportedFile, UploadTooLarge, ValidationFailed
from marketplace.listings.states import ProductStatus, VersionStatus
from marketplace.notifications.models import Notification
from marketplace.review import public_notice as notices
from marketplace.review import services as review
from marketplace.review.notice_models import NoticeStatus, ObjectionStatus, PublicNotice, RegistrationCertificate
from tests.review.conftest import PASSING, org_of


def _approve(session, reviewer, claimed):
    review.approve_version(session, reviewer, claimed, answers=PASSING)
    session.commit()
    return session.scalar(select(PublicNotice).where(PublicNotice.version_id == claimed.version.id)
                          .order_by(PublicNotice.id.desc()))


def _actions(session, subject_type, subject_id):
    return [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id).order_by(AuditEvent.id))]


def _close(session, notice):
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()


def test_approval_lists_at_once_and_opens_a_notice_by_default(session, app, claimed, reviewer):
    notice = _approve(session, reviewer, claimed)
    version = claimed.version
    assert version.status == VersionStatus.LISTED and version.product.status == ProductStatus.LISTED
    assert notice.status == NoticeStatus.OPEN and notice.registration_number == version.registration_number
    assert notice.closes_at - notice.opens_at == timedelta(days=app.config["PUBLIC_NOTICE_DAYS"])
    assert _actions(session, "notice", notice.id) == ["notice.open"]


def test_trading_at_notice_end_waits_on_notice_then_lists(session, app, monkeypatch, client, claimed, reviewer,
                                                          seller):
    monkeypatch.setitem(app.config, "TRADING_STARTS_AT", "notice_end")
    notice = _approve(session, reviewer, claimed)
    version = claimed.version
    assert version.status == VersionStatus.ON_NOTICE and version.product.status == ProductStatus.DRAFT
    assert client.get(f"/products/{version.product.slug}").status_code == 404  # not tradable yet
    told = session.scalars(select(Notification.subject).where(Notification.user_id == seller.id)).all()
    assert any(subject.startswith("Approved, on public notice") for subject in told)
    assert notices.end_due_notices(session) == []  # not due yet
    _close(session, notice)
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    assert version.status == VersionStatus.LISTED and version.product.status == ProductStatus.LISTED
    assert notice.status == NoticeStatus.ENDED
    assert client.get(f"/products/{version.product.slug}").status_code == 200
    assert notices.end_due_notices(session) == []  # idempotent
    certificates = session.scalars(select(RegistrationCertificate)).all()
    assert [c.serial for c in certificates] == [f"{version.registration_number}-1"]


def test_an_objection_is_taken_with_evidence_and_both_sides_are_told(session, storage, claimed, reviewer, objector,
                                                                   seller):
    notice = _approve(session, reviewer, claimed)
    evidence = ("letter.pdf", io.BytesIO(b"%PDF-1.4\nthe upstream licence forbids resale\n"))
    objection = notices.object_to(session, objector, notice, org_of(objector), "  The source forbids resale. ",
                                  evidence, storage)
    session.commit()
    assert objection.reasons == "The source forbids resale." and objection.status == ObjectionStatus.PENDING
    assert objection.evidence_size > 0 and len(objection.evidence_sha256) == 64
    assert storage.open(objection.evidence_key).read().startswith(b"%PDF-")
    assert notice in notices.notices_with_objections(session, reviewer)
    told = {n.user_id for n in session.scalars(select(Notification).where(
        Notification.subject.like("Objection to the public notice%")))}
    assert {seller.id, objector.id} <= told
    assert _actions(session, "objection", objection.id) == ["objection.file"]


@pytest.mark.parametrize("filename, data, error", [
    ("script.exe", b"MZ\x90\x00", UnsupportedFile),
    ("letter.pdf", b"not a pdf at all", UnsupportedFile),
    ("photo.png", b"\xff\xd8\xff\xe0 a jpeg named png", UnsupportedFile),
    ("notes.txt", b"\x00\x01\x02binary", UnsupportedFile),
    ("big.txt", b"a" * 3000, UploadTooLarge),
])
def test_evidence_of_the_wrong_type_or_size_is_refused(session, app, monkeypatch, storage, claimed, reviewer,
                                                       objector, filename, data, error):
    monkeypatch.setitem(app.config, "NOTICE_EVIDENCE_MAX_BYTES", 2000)
    notice = _approve(session, reviewer, claimed)
    with pytest.raises(error) as refused:
        notices.object_to(session, objector, notice, org_of(objector), "Reasons.", (filename, io.BytesIO(data)),
                          storage)
    assert "evidence" in refused.value.errors
    assert not notice.objections


def test_objection_refused_to_the_seller_outsiders_empty_reasons_and_after_the_notice(session, claimed, reviewer,
                                                                                      objector, seller):
    notice = _approve(session, reviewer, claimed)
    with pytest.raises(ValidationFailed):
        notices.object_to(session, seller, notice, org_of(seller), "My own product.")
    with pytest.raises(Forbidden):
        notices.object_to(session, objector, notice, org_of(seller), "Not my organization.")
    with pytest.raises(ValidationFailed) as empty:
        notices.object_to(session, objector, notice, org_of(objector), "   ")
    assert "reasons" in empty.value.errors
    _close(session, notice)
    with pytest.raises(InvalidTransition):
        notices.object_to(session, objector, notice, org_of(objector), "Too late.")
    assert not notice.objections


def test_dismissed_objection_lets_the_notice_end_with_a_certificate(session, claimed, reviewer, objector):
    notice = _approve(session, reviewer, claimed)
    objection = notices.object_to(session, objector, notice, org_of(objector), "The sample has names in it.")
    session.commit()
    _close(session, notice)
    assert notices.end_due_notices(session) == []  # an objection waits for the reviewer
    with pytest.raises(ValidationFailed):
        notices.decide_objection(session, reviewer, objection, "dismiss", "")
    notices.decide_objection(session, reviewer, objection, "dismiss", "The names are of public bodies.")
    session.commit()
    assert objection.status == ObjectionStatus.DISMISSED and objection.decided_by_id == reviewer.id
    with pytest.raises(InvalidTransition):
        notices.decide_objection(session, reviewer, objection, "uphold", "Changed my mind.")
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    assert notice.status == NoticeStatus.ENDED
    assert _actions(session, "objection", objection.id) == ["objection.file", "objection.dismiss"]
    assert _actions(session, "notice", notice.id) == ["notice.open", "notice.end"]


def test_upheld_objection_returns_a_listed_version_to_review_and_suspends_its_product(session, claimed, reviewer,
                                                                                      objector, seller):
    notice = _approve(session, reviewer, claimed)
    version, product = claimed.version, claimed.product
    objection = notices.object_to(session, objector, notice, org_of(objector), "It holds personal data.")
    session.commit()
    notices.decide_objection(session, reviewer, objection, "uphold", "Personal data confirmed in the sample.")
    session.commit()
    assert notice.status == NoticeStatus.WITHDRAWN
    assert version.status == VersionStatus.SUBMITTED and product.status == ProductStatus.SUSPENDED
    with pytest.raises(InvalidTransition, match="was withdrawn when an objection was upheld"):
        notices.object_to(session, objector, notice, org_of(objector), "And another thing.")
    session.rollback()
    assert [r.number for r in claimed.rounds] == [1, 2] and claimed.decision is None
    _close(session, notice)
    assert notices.end_due_notices(session) == []  # a withdrawn notice never ends into a certificate
    assert session.scalar(select(RegistrationCertificate)) is None
    # Reviewed again and approved: a new notice, and the product trades again.
    review.claim_case(session, reviewer, claimed)
    second = _approve(session, reviewer, claimed)
    assert second.id != notice.id and second.status == NoticeStatus.OPEN
    assert version.status == VersionStatus.LISTED and product.status == ProductStatus.LISTED


def test_a_reviewer_of_the_seller_organization_cannot_decide(session, claimed, reviewer, objector, seller):
    notice = _approve(session, reviewer, claimed)
    objection = notices.object_to(session, objector, notice, org_of(objector), "Reasons.")
    with pytest.raises(Forbidden):
        notices.decide_objection(session, seller, objection, "dismiss", "Mine.")
    with pytest.raises(ValidationFailed):
        notices.decide_objection(session, reviewer, objection, "shrug", "Reason.")
    assert objection.status == ObjectionStatus.PENDING
