"""The lifecycle tables, written out here independently of the code: every state x action x actor."""
from __future__ import annotations

import itertools

import pytest

from marketplace.listings.states import (
    PRODUCT_LIFECYCLE,
    VERSION_LIFECYCLE,
    Actor,
    ProductAction,
    ProductStatus,
    VersionAction,
    VersionStatus,
)
from marketplace.review.notice_models import NoticeStatus, ObjectionStatus
from marketplace.review.public_notice import NOTICE_LIFECYCLE, OBJECTION_LIFECYCLE, NoticeAction, ObjectionAction
from tests.support.lifecycle import check_move

V, A, P, PA = VersionStatus, VersionAction, ProductStatus, ProductAction
SELLER, REVIEWER, SYSTEM = Actor.SELLER, Actor.REVIEWER, Actor.SYSTEM

# (state, action) -> (next state, the one actor allowed). Everything not here is a 409.
EXPECTED_VERSION = {
    (V.DRAFT, A.SUBMIT): (V.SUBMITTED, SELLER),
    (V.CHANGES_REQUESTED, A.SUBMIT): (V.SUBMITTED, SELLER),
    (V.SUBMITTED, A.CLAIM): (V.IN_REVIEW, REVIEWER),
    (V.IN_REVIEW, A.RELEASE): (V.SUBMITTED, REVIEWER),
    (V.IN_REVIEW, A.REQUEST_CHANGES): (V.CHANGES_REQUESTED, REVIEWER),
    (V.IN_REVIEW, A.APPROVE): (V.APPROVED, REVIEWER),
    (V.IN_REVIEW, A.REJECT): (V.REJECTED, REVIEWER),
    (V.APPROVED, A.LIST): (V.LISTED, SYSTEM),
    (V.APPROVED, A.NOTICE): (V.ON_NOTICE, SYSTEM),
    (V.ON_NOTICE, A.LIST): (V.LISTED, SYSTEM),
    (V.ON_NOTICE, A.REOPEN): (V.SUBMITTED, REVIEWER),
    (V.LISTED, A.REOPEN): (V.SUBMITTED, REVIEWER),
    (V.LISTED, A.SUPERSEDE): (V.SUPERSEDED, SYSTEM),
}
EXPECTED_PRODUCT = {
    (P.DRAFT, PA.LIST): (P.LISTED, SYSTEM),
    (P.LISTED, PA.SUSPEND): (P.SUSPENDED, REVIEWER),
    (P.SUSPENDED, PA.REINSTATE): (P.LISTED, REVIEWER),
    (P.LISTED, PA.DELIST): (P.DELISTED, REVIEWER),
    (P.SUSPENDED, PA.DELIST): (P.DELISTED, REVIEWER),
}


@pytest.mark.parametrize(("state", "action", "actor"), list(itertools.product(VersionStatus, VersionAction, Actor)))
def test_version_moves(state, action, actor):
    check_move(VERSION_LIFECYCLE, EXPECTED_VERSION, state, action, actor)


@pytest.mark.parametrize(("state", "action", "actor"), list(itertools.product(ProductStatus, ProductAction, Actor)))
def test_product_moves(state, action, actor):
    check_move(PRODUCT_LIFECYCLE, EXPECTED_PRODUCT, state, action, actor)


def test_tables_hold_nothing_the_expected_tables_do_not():
    assert {k: (m.to, set(m.by)) for k, m in VERSION_LIFECYCLE.table.items()} == \
        {k: (to, {who}) for k, (to, who) in EXPECTED_VERSION.items()}
    assert {k: (m.to, set(m.by)) for k, m in PRODUCT_LIFECYCLE.table.items()} == \
        {k: (to, {who}) for k, (to, who) in EXPECTED_PRODUCT.items()}


def test_actions_offered_to_a_reviewer_in_review():
    assert set(VERSION_LIFECYCLE.actions_from(V.IN_REVIEW, [REVIEWER])) == {
        A.RELEASE, A.REQUEST_CHANGES, A.APPROVE, A.REJECT}
    assert VERSION_LIFECYCLE.actions_from(V.IN_REVIEW, [SELLER]) == []


# The public notice's and the objection's tables (review/public_notice.py).
EXPECTED_NOTICE = {
    (NoticeStatus.OPEN, NoticeAction.END): (NoticeStatus.ENDED, SYSTEM),
    (NoticeStatus.OPEN, NoticeAction.WITHDRAW): (NoticeStatus.WITHDRAWN, REVIEWER),
}
EXPECTED_OBJECTION = {
    (ObjectionStatus.PENDING, ObjectionAction.UPHOLD): (ObjectionStatus.UPHELD, REVIEWER),
    (ObjectionStatus.PENDING, ObjectionAction.DISMISS): (ObjectionStatus.DISMISSED, REVIEWER),
    (ObjectionStatus.PENDING, ObjectionAction.SUPERSEDE): (ObjectionStatus.SUPERSEDED, SYSTEM),
}


@pytest.mark.parametrize(("state", "action", "actor"), list(itertools.product(NoticeStatus, NoticeAction, Actor)))
def test_notice_moves(state, action, actor):
    check_move(NOTICE_LIFECYCLE, EXPECTED_NOTICE, state, action, actor)


@pytest.mark.parametrize(("state", "action", "actor"),
                         list(itertools.product(ObjectionStatus, ObjectionAction, Actor)))
def test_objection_moves(state, action, actor):
    check_move(OBJECTION_LIFECYCLE, EXPECTED_OBJECTION, state, action, actor)
