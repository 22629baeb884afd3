"""A holder's notice is sent only if the product is still in the move it speaks of when its job runs: a suspension
reinstated before its notice went out tells nobody "paused", whichever order the two jobs run in."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.notifications.models import Notification
from marketplace.review import services as review
from marketplace.worker.tasks import notify_licence_holders
from tests.licensing.test_downloads import buy
from tests.support.held_jobs import hold_jobs


@pytest.fixture
def held(monkeypatch):
    """The holders' jobs queued after a commit, kept instead of run: what a worker would find in its queue."""
    return hold_jobs(monkeypatch, review.HOLDERS_TASK)


def subjects(session, organization_id: int) -> list[str]:
    return list(session.scalars(select(Notification.subject).where(Notification.organization_id == organization_id)
                                .order_by(Notification.id)))


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in order", "reinstatement first"])
def test_a_suspension_reinstated_before_its_notice_went_out_tells_nobody_it_paused(
        session, reviewer, buyer, buyer_org, offer, plans, held, order):
    buy(session, buyer, buyer_org, plans["Open research"])
    product = offer[0]
    before = len(subjects(session, buyer_org.id))
    review.suspend_product(session, reviewer, product, "Personal data found in the deliverable.")
    session.commit()
    review.reinstate_product(session, reviewer, product, "The deliverable was cleaned.")
    session.commit()
    assert [args[1] for args in held] == ["suspend", "reinstate"]

    told = [notify_licence_holders.call_local(*held[i]) for i in order]
    session.expire_all()

    assert dict(zip(order, told)) == {0: 0, 1: 1}
    assert subjects(session, buyer_org.id)[before:] == ["Downloads resumed: Strategic road speeds"]


def test_a_suspension_still_in_force_is_told(session, reviewer, buyer, buyer_org, offer, plans, held):
    buy(session, buyer, buyer_org, plans["Open research"])
    before = len(subjects(session, buyer_org.id))
    review.suspend_product(session, reviewer, offer[0], "Upstream licence under query.")
    session.commit()

    assert notify_licence_holders.call_local(*held[0]) == 1
    session.expire_all()
    assert subjects(session, buyer_org.id)[before:] == ["Downloads paused: Strategic road speeds"]
