"""The reason the platform writes when an upheld objection suspends a product is stored in English and shown in the
reader's language: on the licences, licence, order and product pages and in the holders' notification; the
reviewer's own words inside it stay as typed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.i18n import in_locale_of
from marketplace.notifications.models import Notification
from marketplace.review import public_notice as notices
from marketplace.review.notice_models import PublicNotice
from tests import factories
from tests.licensing.test_downloads import buy

TYPED = "Names in row 2 confirmed."


@pytest.mark.parametrize(("tag", "words"), [("zh-Hans", "异议成立，重新审核期间暂停交易"),
                                            ("zh-Hant-HK", "異議成立，重新審核期間暫停交易")])
def test_an_objections_suspension_reason_is_recorded_in_english_and_shown_in_the_readers_words(
        client, auth, session, reviewer, buyer, buyer_org, offer, plans, tag, words):
    buyer.locale = tag
    order = buy(session, buyer, buyer_org, plans["Open research"])
    product = offer[0]
    notice = session.scalar(select(PublicNotice).where(PublicNotice.version_id == product.listed_version_id))
    objector = factories.user(session, email="objector@example.org", organization="Pearl River Data")
    session.commit()
    objection = notices.object_to(session, objector, notice, objector.memberships[0].organization, "Names.")
    session.commit()
    with in_locale_of(tag):  # the reviewer who upholds reads Chinese: the record stays English
        notices.decide_objection(session, reviewer, objection, "uphold", TYPED)
    session.commit()
    assert product.status_reason == f"Suspended while an upheld objection is reviewed: {TYPED}"

    told = session.scalars(select(Notification).where(Notification.user_id == buyer.id)
                           .order_by(Notification.id.desc())).first()
    assert words in told.body and TYPED in told.body and "Suspended while" not in told.body
    auth.login(buyer.email)
    for url in ("/licences", f"/licences/{order.licence.id}", f"/orders/{order.id}", f"/products/{product.slug}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert words in page.text and TYPED in page.text and "Suspended while" not in page.text, url
