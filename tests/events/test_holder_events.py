"""Licence holders hear of a new version (with its data dictionary's changes), of a delisting, and of their licence
nearing its end: every member, in the app and by e-mail, once per event however often the job runs."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.events import services as events
from marketplace.events.models import OrganizationEvent
from marketplace.licensing.models import Licence
from marketplace.listings import services as listings
from marketplace.listings.assets import upload_asset
from marketplace.notifications.models import Notification
from marketplace.review import services as review
from tests import factories
from tests.licensing.test_downloads import buy


def notes(session, organization_id: int) -> list[Notification]:
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.organization_id == organization_id)
                                .order_by(Notification.id)))


def list_version_2(session, storage, seller, reviewer, product):
    """Version 2.0, its dictionary changed (Latitude retyped, AID_ID_Number removed, Speed added), listed."""
    newer = listings.new_version(session, seller, product, "2.0", "Adds the speed column.")
    listings.replace_dictionary(session, seller, newer, [
        {"name": "Latitude", "type": "string", "unit": "degree"},
        {"name": "Speed", "type": "number", "unit": "km/h"},
    ])
    for kind in ("sample", "deliverable"):
        upload_asset(session, storage, seller, newer, kind=kind, filename="speeds.csv",
                     stream=io.BytesIO(b"Latitude,Speed\n22.3,80\n"), content_type="text/csv", max_bytes=10_000)
    listings.set_compliance(session, seller, newer, factories.COMPLIANCE, attest=True, attested_by_name="Ada Seller")
    round_ = factories.submit(session, seller, newer, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.commit()
    return newer


def test_holders_hear_of_a_new_version_with_its_changelog_and_dictionary_difference_once(
        session, storage, seller, reviewer, buyer, buyer_org, offer, plans, outbox):
    buy(session, buyer, buyer_org, plans["Open research"])
    before = len(notes(session, buyer_org.id))

    newer = list_version_2(session, storage, seller, reviewer, offer[0])

    told = notes(session, buyer_org.id)[before:]
    assert [n.subject for n in told] == ["New version 2.0: Strategic road speeds"]
    body = told[0].body
    assert "Adds the speed column." in body and "(before: 1.0)" in body
    assert "+ Speed (number): added" in body and "AID_ID_Number (string): removed" in body
    assert "~ Latitude: type number \u2192 string" in body
    assert any(m.to == buyer.email and m.subject == told[0].subject for m in outbox)
    assert "新版本" in told[0].texts["zh-Hans"]["subject"]
    kinds = session.scalars(select(OrganizationEvent.type).where(OrganizationEvent.organization_id == buyer_org.id)
                            .order_by(OrganizationEvent.id)).all()
    assert kinds == ["product.version_listed", "product.dictionary_changed"]

    assert events.tell_version_listed(session, newer.id) == 0  # the job run again tells nobody again
    session.commit()
    assert len(notes(session, buyer_org.id)) == before + 1


def test_a_delisting_tells_the_holders_once(session, reviewer, buyer, buyer_org, offer, plans):
    buy(session, buyer, buyer_org, plans["Open research"])
    before = len(notes(session, buyer_org.id))

    review.delist_product(session, reviewer, offer[0], "Withdrawn by the seller.")
    session.commit()

    told = notes(session, buyer_org.id)[before:]
    assert [n.subject for n in told] == ["Delisted: Strategic road speeds"]
    assert "Withdrawn by the seller." in told[0].body and "stays valid" in told[0].body
    assert events.tell_product_move(session, offer[0].id, "delist", "Withdrawn by the seller.") == 0


def test_a_licence_is_reminded_14_and_3_days_before_its_end_each_once(session, buyer, buyer_org, offer, plans):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    licence = session.scalar(select(Licence).where(Licence.order_id == order.id))
    end = licence.valid_until
    before = len(notes(session, buyer_org.id))

    assert events.remind_licences_ending(session, now=end - timedelta(days=20)) == 0
    assert events.remind_licences_ending(session, now=end - timedelta(days=13)) == 1
    assert events.remind_licences_ending(session, now=end - timedelta(days=12)) == 0
    assert events.remind_licences_ending(session, now=end - timedelta(days=2)) == 1
    assert events.remind_licences_ending(session, now=end - timedelta(days=1)) == 0
    session.commit()

    told = notes(session, buyer_org.id)[before:]
    assert len(told) == 2 and all(licence.serial in n.body for n in told)
    assert told[0].subject.startswith("Licence ends on") and told[0].link == f"/licences/{licence.id}"
    assert end > utcnow()
