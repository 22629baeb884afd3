"""Buyers holding a licence of a product are told when it is suspended (downloads paused) and reinstated
(downloads resumed): every member of each holding organization, in the app and by e-mail through the outbox, in
their own language, naming the product by its title, with the reason. Organizations whose licence ended, and
organizations that never bought it, are not told."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import MemberRole, Membership
from marketplace.notifications.models import Notification
from marketplace.review import services as review
from tests import factories
from tests.licensing.test_downloads import buy


def notes(session, organization_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.organization_id == organization_id)
                                .order_by(Notification.id)))


def test_every_member_of_a_holding_organization_is_told_of_the_suspension_and_the_reinstatement(
        session, reviewer, buyer, buyer_org, offer, plans, outbox):
    colleague = factories.user(session, email="colleague@example.org")
    colleague.locale = "zh-Hant-HK"
    session.add(Membership(user_id=colleague.id, organization_id=buyer_org.id, role=MemberRole.MEMBER))
    session.commit()
    buy(session, buyer, buyer_org, plans["Open research"])
    product = offer[0]
    before = len(notes(session, buyer_org.id))  # the order's own notices

    review.suspend_product(session, reviewer, product, "Personal data found in the deliverable.")
    session.commit()

    told = notes(session, buyer_org.id)[before:]
    assert [n.user_id for n in told] == [buyer.id, colleague.id]
    english, chinese = told
    assert english.subject == "Downloads paused: Strategic road speeds"
    assert "Strategic road speeds" in english.body and "Personal data found in the deliverable." in english.body
    assert "paused" in english.body and english.link == f"/products/{product.slug}"
    assert "paused" not in chinese.subject and "香港交通数据" in chinese.subject  # the title in their language too
    assert "Personal data found in the deliverable." in chinese.body
    mails = {m.to: m for m in outbox if m.subject in (english.subject, chinese.subject)}
    assert mails[buyer.email].subject == english.subject and f"/products/{product.slug}" in mails[buyer.email].body
    assert mails[colleague.email].subject == chinese.subject  # each in their own language

    review.reinstate_product(session, reviewer, product, "The deliverable was cleaned.")
    session.commit()

    resumed = notes(session, buyer_org.id)[before + 2:]
    assert [n.subject for n in resumed][0] == "Downloads resumed: Strategic road speeds"
    assert "The deliverable was cleaned." in resumed[0].body and len(resumed) == 2


def test_organizations_without_a_current_licence_are_not_told(session, reviewer, buyer, buyer_org, offer, plans):
    bystander = factories.user(session, email="bystander@example.org", organization="Bystanders")
    session.commit()

    review.suspend_product(session, reviewer, offer[0], "Upstream licence under query.")
    session.commit()

    assert notes(session, buyer_org.id) == []
    assert notes(session, bystander.memberships[0].organization_id) == []


def test_a_delisting_tells_the_seller_and_the_holders(session, reviewer, seller, buyer, buyer_org, offer, plans):
    buy(session, buyer, buyer_org, plans["Open research"])
    before = notes(session, buyer_org.id)

    review.delist_product(session, reviewer, offer[0], "Withdrawn by the seller.")
    session.commit()

    assert [n.subject for n in notes(session, buyer_org.id)[len(before):]] == ["Delisted: Strategic road speeds"]
    assert notes(session, seller.memberships[0].organization_id)[-1].subject.startswith("Delisted")
