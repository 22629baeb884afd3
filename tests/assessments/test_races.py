"""Assessment decisions raced: RACERS threads, each with a session and unit of work of its own, on a database of
the module's own (SQLite, or PostgreSQL with TEST_DB=postgresql), make the same request, accept the same request,
or sign the same report at one moment. Exactly one wins each time; the others are refused with a clear conflict,
and what was decided is recorded once."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import MemberRole, Membership, PlatformRole, User
from marketplace.assessments import reports, services
from marketplace.assessments.models import Assessment, ServiceProvider
from marketplace.audit.models import AuditEvent
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.listings.models import ProductVersion
from marketplace.uow import unit_of_work
from tests import factories
from tests.assessments.conftest import COMPLIANCE_REPORT
from tests.support.databases import own_database
from tests.support.races import in_app

pytestmark = pytest.mark.no_transaction

RACERS = 6


@pytest.fixture(scope="module")
def race_app(database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("assessment-races")
    with own_database(database_url, folder, "assessment_races") as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_LOCAL_ROOT=str(folder / "storage"),
                         LICENCE_SIGNING_KEY_FILE=str(folder / "licence-signing-key.pem"))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def world(race_app) -> dict:
    def build(session):
        storage = race_app.extensions["storage"]
        seller = factories.user(session, email="seller@race.example", organization="Race Seller")
        admin = factories.user(session, email="admin@race.example", role=PlatformRole.ADMIN)
        owner = factories.user(session, email="owner@race.example", organization="Race Assessors")
        org = owner.memberships[0].organization
        assessors = [factories.user(session, email=f"assessor{n}@race.example") for n in range(RACERS)]
        session.add_all(Membership(user_id=u.id, organization_id=org.id, role=MemberRole.MEMBER) for u in assessors)
        product = factories.product(session, seller, title="Raced roads")
        version = factories.complete_version(session, storage, seller, product.latest_version)
        from marketplace.review import services as review

        review.submit_version(session, seller, version, storage)
        provider = services.apply_as_provider(session, owner, org, services=["compliance"], qualifications="Q.")
        services.decide_application(session, admin, provider, approve=True)
        session.flush()
        return {"seller": seller.id, "version": version.id, "provider": provider.id,
                "assessors": [u.id for u in assessors]}

    return in_app(race_app, build)


def race(app, calls) -> Counter:
    """Run each of ``calls`` (a function of the session) in a thread of its own, all released at once; the
    outcomes counted: "ok", or the refusal's class name."""
    start = threading.Barrier(len(calls))

    def one(call):
        with app.app_context():
            try:
                start.wait(timeout=30)
                with unit_of_work():
                    call(db.session)
                return "ok"
            except DomainError as exc:
                return type(exc).__name__
            finally:
                db.session.remove()

    with ThreadPoolExecutor(len(calls)) as pool:
        return Counter(pool.map(one, calls))


def test_one_request_one_acceptance_one_signature(race_app, world):
    def ask(session):
        services.request_assessment(session, session.get(User, world["seller"]),
                                    session.get(ProductVersion, world["version"]),
                                    session.get(ServiceProvider, world["provider"]), "compliance")

    outcomes = race(race_app, [ask] * RACERS)
    assert outcomes == {"ok": 1, "Conflict": RACERS - 1}, outcomes
    number = in_app(race_app, lambda s: s.scalars(select(Assessment.number)).one())

    def decide(user_id, accept):
        def call(session):
            assessment = session.scalar(select(Assessment).where(Assessment.number == number))
            services.decide_request(session, session.get(User, user_id), assessment, accept=accept,
                                    reason="" if accept else "Busy.")
        return call

    outcomes = race(race_app, [decide(u, n % 2 == 0) for n, u in enumerate(world["assessors"])])
    assert outcomes == {"ok": 1, "InvalidTransition": RACERS - 1}, outcomes
    status = in_app(race_app, lambda s: s.scalar(select(Assessment.status)))
    if status == "declined":  # the decline won: ask again and accept, to race the signatures
        race(race_app, [ask])
        number = in_app(race_app, lambda s: s.scalar(select(Assessment.number).where(Assessment.status ==
                                                                                      "requested")))
        race(race_app, [decide(world["assessors"][0], True)])

    def sign(user_id):
        def call(session):
            assessment = session.scalar(select(Assessment).where(Assessment.number == number))
            reports.sign_report(session, session.get(User, user_id), assessment, COMPLIANCE_REPORT)
        return call

    outcomes = race(race_app, [sign(u) for u in world["assessors"]])
    assert outcomes == {"ok": 1, "InvalidTransition": RACERS - 1}, outcomes

    def recorded(session):
        signed = session.scalar(select(Assessment).where(Assessment.number == number))
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "assessment.sign", AuditEvent.subject_id == signed.id))
        return signed.status, signed.statement["signed_by"]["id"] == signed.signed_by_id, events

    assert in_app(race_app, recorded) == ("signed", True, 1)


def test_one_application_of_an_organization_at_a_time(race_app):
    """Its owners apply at one moment: one application, the others refused with a conflict (never a 500)."""
    def build(session):
        owner = factories.user(session, email="owner@racing-applicants.example", organization="Racing Applicants")
        org = owner.memberships[0].organization
        owners = [owner.id]
        for n in range(RACERS - 1):
            other = factories.user(session, email=f"owner{n}@racing-applicants.example")
            session.add(Membership(user_id=other.id, organization_id=org.id, role=MemberRole.OWNER))
            owners.append(other.id)
        return {"organization": org.id, "owners": owners}

    applicants = in_app(race_app, build)

    def apply(user_id):
        def call(session):
            from marketplace.accounts.models import Organization

            services.apply_as_provider(session, session.get(User, user_id),
                                       session.get(Organization, applicants["organization"]),
                                       services=["quality"], qualifications="Auditors.")
        return call

    outcomes = race(race_app, [apply(u) for u in applicants["owners"]])
    assert outcomes == {"ok": 1, "Conflict": RACERS - 1}, outcomes
    count = in_app(race_app, lambda s: s.scalar(select(func.count()).select_from(ServiceProvider).where(
        ServiceProvider.organization_id == applicants["organization"])))
    assert count == 1
