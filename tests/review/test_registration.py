"""Registration certificates: issued at the notice's end, signed and verifiable online and offline, renewed on the
holder's request and a reviewer's confirmation, reminded before expiry, refusing new trades once expired, marked by
suspension and delisting while the signed text stays as issued."""
from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidTransition, NotFound
from marketplace.i18n import day
from marketplace.licensing.certificates import check_certificate
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.requests import registration_warning
from marketplace.review import public_notice as notices
from marketplace.review import registration
from marketplace.review import services as review
from marketplace.review.notice_models import PublicNotice
from marketplace.signing.services import published_jwks
from tests import factories
from tests.review.conftest import PASSING


def _certify(session, claimed, reviewer):
    review.approve_version(session, reviewer, claimed, answers=PASSING)
    session.commit()
    notice = session.scalar(select(PublicNotice).where(PublicNotice.version_id == claimed.version.id))
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    return registration.certificates_of(session, notice.registration_number)[0]


@pytest.fixture
def certificate(session, claimed, reviewer):
    return _certify(session, claimed, reviewer)


@pytest.fixture
def buyer(session):
    user = factories.user(session, email="buyer@example.org", organization="Kowloon Buyers")
    session.commit()
    return user


def _request(session, buyer, certificate, key="k1"):
    plan = certificate.version.plans[0]
    return orders.request_licence(session, buyer, orders.LicenceRequest(
        plan_id=plan.id, organization_id=buyer.memberships[0].organization_id, accept_terms=True,
        idempotency_key=key, scenario={"purpose": "research", "sector": "academia", "territory": "hong_kong",
                                       "expected_users": 3,
                                       "description": "Academic study of congestion on Hong Kong strategic roads."}))


def _verify(session, certificate):
    return check_certificate(session, json.dumps(registration.document(certificate)))


def test_the_statement_names_number_holder_scope_assessments_and_validity(app, certificate):
    s = certificate.statement
    version = certificate.version
    assert s["type"] == "RegistrationCertificate" and s["serial"] == f"{version.registration_number}-1"
    assert s["holder"]["name"] == version.product.organization.name
    assert s["scope"]["version"] == {"number": version.number, "label": version.label}
    assert s["scope"]["categories"] == ["transport"] and s["scope"]["territories"] == ["hong_kong"]
    assert s["assessments"] == [] and s["notice"]["closed_at"]
    days = (certificate.valid_until - certificate.valid_from).days
    assert days == app.config["REGISTRATION_VALIDITY_DAYS"] == 1095


def test_verified_online_and_offline_and_tampering_is_caught(app, session, certificate, tmp_path):
    result, found = _verify(session, certificate)
    assert result.valid and result.kind == "registration" and found is certificate
    assert result.reason.endswith("It matches the registration certificate on record.")  # in force: said once
    changed = copy.deepcopy(registration.document(certificate))
    changed["registration"]["holder"]["name"] = "Someone Else"
    result, found = check_certificate(session, json.dumps(changed))
    assert not result.valid and found is None
    as_licence = {"certificate": certificate.statement, "signature": registration.document(certificate)["signature"]}
    assert not check_certificate(session, json.dumps(as_licence))[0].valid  # its type says what it is
    path, keys = tmp_path / "registration.json", tmp_path / "keys.json"
    path.write_text(json.dumps(registration.document(certificate)), encoding="utf-8")
    keys.write_text(json.dumps(published_jwks(session, app)), encoding="utf-8")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["licences", "verify", str(path), "--keys", str(keys)])
    assert ok.exit_code == 0 and f"VALID: {certificate.serial}" in ok.output, ok.output
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert runner.invoke(args=["licences", "verify", str(path), "--keys", str(keys)]).exit_code == 1


def test_suspension_and_delisting_mark_the_certificate_not_its_signed_text(session, certificate, reviewer):
    signed = json.dumps(registration.document(certificate), sort_keys=True)
    review.suspend_product(session, reviewer, certificate.product, "Under investigation.")
    session.commit()
    assert registration.standing(session, certificate) == registration.Standing.SUSPENDED
    result, _found = _verify(session, certificate)
    assert result.valid and "suspended" in result.reason
    review.delist_product(session, reviewer, certificate.product, "Withdrawn for good.")
    session.commit()
    assert registration.standing(session, certificate) == registration.Standing.DELISTED
    assert json.dumps(registration.document(certificate), sort_keys=True) == signed


def test_an_expired_registration_refuses_new_licence_requests_until_renewed(app, session, certificate, buyer,
                                                                             seller, reviewer):
    certificate.valid_until = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Conflict) as refused:
        _request(session, buyer, certificate)
    assert certificate.registration_number in refused.value.message and "renewed" in refused.value.message
    with pytest.raises(InvalidTransition):
        registration.confirm_renewal(session, reviewer, certificate)  # nothing asked yet
    registration.request_renewal(session, seller, certificate)
    session.commit()
    with pytest.raises(InvalidTransition):
        registration.request_renewal(session, seller, certificate)
    renewed = registration.confirm_renewal(session, reviewer, certificate)
    session.commit()
    assert renewed.sequence == 2 and renewed.serial.endswith("-2")
    assert renewed.valid_until - renewed.valid_from >= timedelta(days=app.config["REGISTRATION_VALIDITY_DAYS"])
    assert registration.standing(session, certificate) == registration.Standing.RENEWED
    assert registration.certificates_of(session, certificate.registration_number)[0] is renewed
    assert _verify(session, renewed)[0].valid
    with pytest.raises(InvalidTransition):
        registration.confirm_renewal(session, reviewer, certificate)
    assert _request(session, buyer, certificate).id


def test_renewal_is_asked_by_an_owner_within_the_window_and_confirmed_by_a_reviewer(session, certificate, seller,
                                                                                    buyer, reviewer):
    with pytest.raises(InvalidTransition):
        registration.request_renewal(session, seller, certificate)  # three years ahead: too early
    with pytest.raises(NotFound):
        registration.request_renewal(session, buyer, certificate)
    certificate.valid_until = utcnow() + timedelta(days=30)
    session.commit()
    with pytest.raises(Forbidden):
        registration.confirm_renewal(session, seller, certificate)
    registration.request_renewal(session, seller, certificate)
    renewed = registration.confirm_renewal(session, reviewer, certificate)
    # A renewal before expiry loses none of the period left.
    assert renewed.valid_until >= certificate.valid_until + timedelta(days=1095)


def test_holders_are_reminded_once_per_reminder_day(session, certificate, seller):
    certificate.valid_until = utcnow() + timedelta(days=10)
    session.commit()
    assert registration.remind_expiring(session) == 1
    session.commit()
    assert certificate.reminders_sent == [60, 14]
    assert registration.remind_expiring(session) == 0
    told = session.scalars(select(Notification).where(Notification.user_id == seller.id,
                                                      Notification.subject.like("Registration expiring%"))).all()
    assert len(told) == 1


def test_expiry_and_renewal_words_write_the_day_as_the_warning_does(session, certificate, seller, reviewer):
    soon = utcnow() + timedelta(days=2)
    certificate.valid_until = soon
    session.commit()
    assert day(soon) in registration_warning(session, certificate.product_id)
    expired = registration_warning(session, certificate.product_id, now=soon + timedelta(days=1))
    assert day(soon) in expired and "expired" in expired
    with pytest.raises(Conflict) as refused:
        registration.refuse_if_expired(session, certificate.product_id, now=soon + timedelta(days=1))
    assert day(soon) in refused.value.message
    reminded = registration.remind_expiring(session, now=utcnow())
    assert reminded == 1
    body = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert day(soon) in body.body
