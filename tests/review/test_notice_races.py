"""The periodic job that ends public notices, run by several workers at the same moment (two worker processes, or
a retry beside the first run), on a database of the module's own (SQLite, or PostgreSQL with TEST_DB=postgresql):
the notice ends once, one registration certificate is issued, one audit event is written, and no run fails."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import Organization, PlatformRole, User
from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow, write_intent
from marketplace.errors import Conflict, InvalidTransition
from marketplace.extensions import db
from marketplace.review import public_notice
from marketplace.review.notice_models import NoticeStatus, Objection, PublicNotice, RegistrationCertificate
from marketplace.uow import job_unit_of_work
from tests import factories
from tests.support.databases import own_database
from tests.support.races import in_app

pytestmark = pytest.mark.no_transaction

RACERS = 6


@pytest.fixture(scope="module")
def race_app(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("notice-races")
    with own_database(database_url, folder, "notice_races") as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(folder / "storage"),
                         LICENCE_SIGNING_KEY_FILE=str(folder / "licence-signing-key.pem"))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def _closed_notices(app, count: int) -> list[int]:
    """``count`` approved products whose notices closed a second ago, none with an objection waiting."""
    def build(session):
        storage = app.extensions["storage"]
        seller = factories.user(session, organization="Race Sellers")
        reviewer = factories.user(session, role=PlatformRole.REVIEWER)
        ids = []
        for n in range(count):
            product = factories.listed_product(session, storage, seller, reviewer, title=f"Race product {n}")
            notice = public_notice.latest_notice(session, product.listed_version.registration_number)
            notice.closes_at = utcnow() - timedelta(seconds=1)
            ids.append(notice.id)
        return ids

    return in_app(app, build)


def test_workers_ending_due_notices_at_once_end_each_once(race_app):
    ids = _closed_notices(race_app, 2)
    together = threading.Barrier(RACERS)

    def worker(_n):
        with race_app.app_context():
            try:
                together.wait(timeout=60)
                with job_unit_of_work(), write_intent():
                    return public_notice.end_due_notices(db.session)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(worker, range(RACERS)))  # a run that failed would raise here
    ended = sorted(i for result in results for i in result)
    assert ended == sorted(ids)

    def counts(session):
        statuses = {session.get(PublicNotice, i).status for i in ids}
        certificates = session.scalar(select(func.count()).select_from(RegistrationCertificate)
                                      .where(RegistrationCertificate.notice_id.in_(ids)))
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "notice.end", AuditEvent.subject_id.in_(ids)))
        return statuses, certificates, events

    assert in_app(race_app, counts) == ({NoticeStatus.ENDED}, len(ids), len(ids))
    # Run again: nothing is due any more.
    with race_app.app_context():
        try:
            with job_unit_of_work():
                assert public_notice.end_due_notices(db.session) == []
        finally:
            db.session.remove()


def test_two_reviewers_deciding_one_objection_at_once_one_wins(race_app):
    """One reviewer upholds while another dismisses the same objection: exactly one decision is recorded, the
    other is refused (409), and the notice follows the winner."""
    def build(session):
        storage = race_app.extensions["storage"]
        seller = factories.user(session, organization="Race Sellers Two")
        objector = factories.user(session, organization="Race Objectors")
        first = factories.user(session, role=PlatformRole.REVIEWER)
        second = factories.user(session, role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, first, title="Contested product")
        notice = public_notice.latest_notice(session, product.listed_version.registration_number)
        objection = public_notice.object_to(session, objector, notice, objector.memberships[0].organization,
                                            "Contested.")
        return notice.id, objection.id, first.id, second.id

    notice_id, objection_id, first_id, second_id = in_app(race_app, build)
    together = threading.Barrier(2)

    def decide(reviewer_id: int, decision: str) -> str:
        with race_app.test_request_context():
            try:
                together.wait(timeout=60)
                with job_unit_of_work(), write_intent():
                    public_notice.decide_objection(db.session, db.session.get(User, reviewer_id),
                                                   db.session.get(Objection, objection_id), decision, "Decided.")
                return decision
            except InvalidTransition:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(decide, (first_id, second_id), ("uphold", "dismiss")))
    assert outcomes in (["dismiss", "refused"], ["refused", "uphold"])
    winner = "uphold" if "uphold" in outcomes else "dismiss"

    def state(session):
        objection = session.get(Objection, objection_id)
        decisions = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.subject_type == "objection", AuditEvent.subject_id == objection_id,
            AuditEvent.action.in_(("objection.uphold", "objection.dismiss"))))
        return objection.status.value, session.get(PublicNotice, notice_id).status, decisions

    expected_notice = NoticeStatus.WITHDRAWN if winner == "uphold" else NoticeStatus.OPEN
    assert in_app(race_app, state) == ({"uphold": "upheld", "dismiss": "dismissed"}[winner], expected_notice, 1)


def test_an_objection_submitted_several_times_at_once_is_filed_once(race_app):
    """A double-clicked (or retried) objection: of the concurrent submissions of one organization exactly one is
    filed, the others are refused (409) with the reason, and one audit event is written."""
    def build(session):
        storage = race_app.extensions["storage"]
        seller = factories.user(session, organization="Race Sellers Three")
        objector = factories.user(session, organization="Race Double Clickers")
        reviewer = factories.user(session, role=PlatformRole.REVIEWER)
        product = factories.listed_product(session, storage, seller, reviewer, title="Doubly contested product")
        notice = public_notice.latest_notice(session, product.listed_version.registration_number)
        return notice.id, objector.id, objector.memberships[0].organization_id

    notice_id, objector_id, organization_id = in_app(race_app, build)
    together = threading.Barrier(RACERS)

    def submit(_n) -> str:
        with race_app.test_request_context():
            try:
                together.wait(timeout=60)
                with job_unit_of_work(), write_intent():
                    public_notice.object_to(db.session, db.session.get(User, objector_id),
                                            db.session.get(PublicNotice, notice_id),
                                            db.session.get(Organization, organization_id), "Filed once.")
                return "filed"
            except Conflict as exc:
                assert "already has an objection" in exc.message
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = sorted(pool.map(submit, range(RACERS)))
    assert outcomes == ["filed"] + ["refused"] * (RACERS - 1)

    def counts(session):
        objections = session.scalar(select(func.count()).select_from(Objection).where(
            Objection.notice_id == notice_id))
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "objection.file", AuditEvent.payload["notice_id"].as_integer() == notice_id))
        return objections, events

    assert in_app(race_app, counts) == (1, 1)
