"""Review fixtures: a reviewer, an admin, and a complete version of the seller's product, submitted; its public
notice once approved, and an organization that may object to it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.review import services as review
from marketplace.review.notice_models import PublicNotice
from tests import factories

PASSING = {item: {"result": "pass", "comment": ""} for item in (
    "source_legality", "personal_information", "classification", "cross_border", "licence_terms", "quality")}


@pytest.fixture
def version(session, storage, seller):
    """A complete, unsubmitted version."""
    product = factories.product(session, seller, title="Strategic road detectors")
    version = factories.complete_version(session, storage, seller, product.latest_version)
    session.commit()
    return version


@pytest.fixture
def case(session, storage, seller, version):
    """The review case of the submitted version."""
    review.submit_version(session, seller, version, storage)
    session.commit()
    return review.case_for_version(session, version)


@pytest.fixture
def claimed(session, reviewer, case):
    review.claim_case(session, reviewer, case)
    session.commit()
    return case


class CheckedResponse:
    """The answer to GET of a check's result, its report standing for its body (what the tests read)."""

    def __init__(self, response):
        self.response, self.status_code = response, response.status_code

    def get_json(self):
        body = self.response.get_json()
        return body.get("report") if self.status_code == 200 and body.get("state") == "done" else body


def check_listing(api, url: str, **kwargs) -> CheckedResponse:
    """Ask for "check my listing" through the API (the job runs at once in tests) and read its result; an error of
    the POST is returned as it is."""
    posted = api.post(url, **kwargs)
    if posted.status_code != 202:
        return CheckedResponse(posted)
    return CheckedResponse(api.get(posted.headers["Location"], **kwargs))


@pytest.fixture
def notice(session, claimed, reviewer):
    """The public notice the version goes on when it is approved."""
    review.approve_version(session, reviewer, claimed, answers=PASSING)
    session.commit()
    return session.scalar(select(PublicNotice).where(PublicNotice.version_id == claimed.version.id))


@pytest.fixture
def objector(session):
    """A member of another organization, who may object to the seller's notice."""
    user = factories.user(session, email="objector@example.org", organization="Pearl River Data")
    session.commit()
    return user


def org_of(user):
    return user.memberships[0].organization
