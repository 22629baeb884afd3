"""Review rules in the services: submission rounds, claiming, the checklist, decisions, listing, live products."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import PlatformRole
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import verify_chain
from marketplace.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.listings import services as listings
from marketplace.listings.states import ProductStatus, VersionStatus
from marketplace.notifications.models import Notification
from marketplace.review import services as review
from marketplace.review.checklist import Decision, PrescreenOutcome
from tests import factories
from tests.review.conftest import PASSING


def _events(session, subject_id, subject_type="version"):
    return [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.subject_id == subject_id, AuditEvent.subject_type == subject_type)
        .order_by(AuditEvent.id))]


# ---------------------------------------------------------------- submission


def test_submission_opens_a_case_with_a_prescreen(session, case, version, seller):
    assert version.status == VersionStatus.SUBMITTED
    assert case.organization_id == version.product.organization_id and case.reviewer_id is None
    assert [r.number for r in case.rounds] == [1]
    first = case.rounds[0]
    assert first.submitted_by_id == seller.id
    assert first.prescreen["findings"] and first.prescreen_outcome in PrescreenOutcome
    assert case.prescreen_outcome == first.prescreen_outcome
    assert "version.submit" in _events(session, version.id)


def test_outsider_cannot_submit(session, storage, version):
    stranger = factories.user(session, organization="Elsewhere Ltd")
    with pytest.raises(NotFound):
        review.submit_version(session, stranger, version, storage)
    assert version.status == VersionStatus.DRAFT


def test_incomplete_version_is_refused_with_what_is_missing(session, storage, seller):
    draft = factories.product(session, seller).latest_version
    with pytest.raises(ValidationFailed) as err:
        review.submit_version(session, seller, draft, storage)
    assert "sources" in err.value.errors and draft.status == VersionStatus.DRAFT


# ---------------------------------------------------------------- claiming


def test_claim_assigns_the_case(session, claimed, reviewer):
    assert claimed.version.status == VersionStatus.IN_REVIEW
    assert claimed.reviewer_id == reviewer.id and claimed.current_round.claimed_at is not None


def test_non_reviewer_cannot_claim(session, case, seller):
    buyer = factories.user(session, organization="Buyer Co")
    for user in (buyer, seller):
        with pytest.raises(Forbidden):
            review.claim_case(session, user, case)
    assert case.version.status == VersionStatus.SUBMITTED


def test_reviewer_in_the_seller_organization_cannot_review_it(session, case, seller):
    seller.platform_role = PlatformRole.REVIEWER
    with pytest.raises(Forbidden, match="another reviewer"):
        review.claim_case(session, seller, case)


def test_a_claimed_case_cannot_be_claimed_again(session, claimed, admin):
    with pytest.raises(InvalidTransition):
        review.claim_case(session, admin, claimed)


def test_only_the_claimant_or_an_admin_releases(session, claimed, admin):
    other = factories.user(session, role=PlatformRole.REVIEWER)
    with pytest.raises(Forbidden):
        review.release_case(session, other, claimed)
    review.release_case(session, admin, claimed)
    assert claimed.version.status == VersionStatus.SUBMITTED and claimed.reviewer_id is None


@pytest.mark.parametrize("state", [s for s in VersionStatus if s != VersionStatus.SUBMITTED])
def test_claim_from_any_other_state_is_refused(session, case, reviewer, state):
    case.version.status = state  # arranging the precondition; the services never do this
    with pytest.raises(InvalidTransition):
        review.claim_case(session, reviewer, case)
    assert case.version.status == state


# ---------------------------------------------------------------- checklist and decisions


def test_checklist_only_by_the_claimant(session, claimed):
    other = factories.user(session, role=PlatformRole.REVIEWER)
    with pytest.raises(Forbidden):
        review.save_checklist(session, other, claimed, PASSING)


def test_checklist_before_claiming_is_refused(session, case, reviewer):
    with pytest.raises(InvalidTransition):
        review.save_checklist(session, reviewer, case, PASSING)


def test_failed_item_needs_a_comment_and_unknown_items_are_refused(session, claimed, reviewer):
    with pytest.raises(ValidationFailed) as err:
        review.save_checklist(session, reviewer, claimed, {
            "quality": {"result": "fail", "comment": " "}, "colour": {"result": "pass"},
            "cross_border": {"result": "maybe"}})
    assert set(err.value.errors) == {"quality", "colour", "cross_border"}
    assert claimed.current_round.answers == []


def test_answers_are_kept_and_updated(session, claimed, reviewer):
    review.save_checklist(session, reviewer, claimed, {"quality": {"result": "fail", "comment": "No sample."}})
    review.save_checklist(session, reviewer, claimed, {"quality": {"result": "pass", "comment": "Fixed."}})
    answers = claimed.current_round.answers
    assert [(a.item.value, a.result.value, a.comment) for a in answers] == [("quality", "pass", "Fixed.")]


def test_approval_needs_every_item_and_no_failures(session, claimed, reviewer):
    with pytest.raises(ValidationFailed) as err:
        review.decide(session, reviewer, claimed, "approve", answers={"quality": {"result": "pass"}})
    assert "source_legality" in err.value.errors and "quality" not in err.value.errors
    failing = {**PASSING, "cross_border": {"result": "fail", "comment": "Worldwide plan."}}
    with pytest.raises(ValidationFailed) as err:
        review.decide(session, reviewer, claimed, "approve", answers=failing)
    assert list(err.value.errors) == ["cross_border"]
    assert claimed.version.status == VersionStatus.IN_REVIEW


def test_approval_lists_the_version_with_a_registration_number(session, claimed, reviewer, seller, outbox):
    review.decide(session, reviewer, claimed, "approve", "Clean.", answers=PASSING)
    version, product = claimed.version, claimed.product
    assert version.status == VersionStatus.LISTED and product.status == ProductStatus.LISTED
    assert product.listed_version_id == version.id
    assert version.registration_number == f"REG-{version.approved_at:%Y}-{version.id:06d}"
    assert version.approved_by_id == reviewer.id
    assert claimed.decision == Decision.APPROVE and claimed.current_round.decision_comment == "Clean."
    assert _events(session, version.id)[-5:] == [
        "version.submit", "version.prescreened", "version.claim", "version.approve", "version.list"]
    assert _events(session, product.id, "product") == ["product.created", "product.list"]
    note = session.scalar(select(Notification).where(Notification.user_id == seller.id))
    assert note.subject.startswith("Approved and listed") and version.registration_number in note.body
    session.commit()
    assert outbox[-1].to == seller.email and version.registration_number in outbox[-1].body
    assert verify_chain(session).ok


def test_core_data_is_never_approved(session, claimed, reviewer):
    claimed.version.classification = "core"
    with pytest.raises(ValidationFailed) as err:
        review.decide(session, reviewer, claimed, "approve", answers=PASSING)
    assert "Core data is never listable." in err.value.errors["classification"]


def test_overriding_a_prescreen_failure_needs_a_comment(session, storage, seller, reviewer, version):
    listings.replace_dictionary(session, seller, version, [{"name": "AID_ID_Number", "type": "string"}])
    round_ = factories.submit(session, seller, version, storage)  # Latitude is now undescribed: quality fails
    case = round_.case
    assert case.prescreen_outcome == PrescreenOutcome.FAIL
    review.claim_case(session, reviewer, case)
    with pytest.raises(ValidationFailed) as err:
        review.decide(session, reviewer, case, "approve", answers=PASSING)
    assert "say why" in err.value.errors["quality"][0]
    review.decide(session, reviewer, case, "approve", answers={
        **PASSING, "quality": {"result": "pass", "comment": "Latitude is described in the README deliverable."}})
    assert case.version.status == VersionStatus.LISTED


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_changes_and_rejection_need_a_comment(session, claimed, reviewer, decision):
    with pytest.raises(ValidationFailed) as err:
        review.decide(session, reviewer, claimed, decision, "  ")
    assert "comment" in err.value.errors and claimed.version.status == VersionStatus.IN_REVIEW


def test_unknown_decision_is_refused(session, claimed, reviewer):
    with pytest.raises(ValidationFailed):
        review.decide(session, reviewer, claimed, "maybe", "hmm")


def test_changes_requested_round_trip_keeps_every_round(session, storage, claimed, reviewer, seller, outbox):
    review.decide(session, reviewer, claimed, "request_changes", "Cite the detector locations dataset.",
                  answers={**PASSING, "source_legality": {"result": "fail", "comment": "One source is missing."}})
    version = claimed.version
    assert version.status == VersionStatus.CHANGES_REQUESTED
    session.commit()
    assert "Cite the detector locations dataset." in outbox[-1].body
    listings.update_metadata(session, seller, version, {"changelog": "Added the second source."})  # editable again
    review.submit_version(session, seller, version, storage, note="Second source cited.")
    case = review.case_for_version(session, version)
    assert [r.number for r in case.rounds] == [1, 2]
    first, second = case.rounds
    assert first.decision == Decision.REQUEST_CHANGES and first.answer("source_legality").comment
    assert second.seller_note == "Second source cited." and second.decision is None and second.answers == []
    assert case.reviewer_id is None and case.decision is None and version.status == VersionStatus.SUBMITTED


def test_rejection_is_final_for_the_version(session, claimed, reviewer, seller):
    review.decide(session, reviewer, claimed, "reject", "Built on a non-open source.")
    assert claimed.version.status == VersionStatus.REJECTED and claimed.product.status == ProductStatus.DRAFT
    with pytest.raises(InvalidTransition):
        review.submit_version(session, seller, claimed.version, None)
    listings.new_version(session, seller, claimed.product, "2.0", "Rebuilt on open sources only.")


def _approve(session, storage, reviewer, seller, version):
    round_ = factories.submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.decide(session, reviewer, round_.case, "approve", answers={
        k: {**v, "comment": "ok"} for k, v in PASSING.items()})
    return round_.case


def test_a_newer_approved_version_supersedes_the_listed_one(session, storage, reviewer, seller, version):
    _approve(session, storage, reviewer, seller, version)
    product = version.product
    second = listings.new_version(session, seller, product, "1.1", "2025 data.")
    listings.set_compliance(session, seller, second, factories.COMPLIANCE, attest=True, attested_by_name="Ada")
    assert product.listed_version_id == version.id  # the old one stays listed while the new one is reviewed
    _approve(session, storage, reviewer, seller, second)
    assert version.status == VersionStatus.SUPERSEDED and second.status == VersionStatus.LISTED
    assert product.listed_version_id == second.id and product.status == ProductStatus.LISTED
    assert second.registration_number != version.registration_number
    assert "version.supersede" in _events(session, version.id)


# ---------------------------------------------------------------- live products


@pytest.fixture
def listed(session, storage, reviewer, seller, version):
    _approve(session, storage, reviewer, seller, version)
    return version.product


def test_suspend_and_reinstate_with_reasons(session, listed, reviewer, seller, outbox):
    review.change_product_status(session, reviewer, listed, "suspend", "Upstream licence under query.")
    assert listed.status == ProductStatus.SUSPENDED and listed.status_reason == "Upstream licence under query."
    assert listed.listed_version.status == VersionStatus.LISTED  # what was bought stays bought
    session.commit()
    assert outbox[-1].subject.startswith("Suspended") and "Upstream licence under query." in outbox[-1].body
    review.change_product_status(session, reviewer, listed, "reinstate", "Licence confirmed.")
    assert listed.status == ProductStatus.LISTED
    assert _events(session, listed.id, "product") == [
        "product.created", "product.list", "product.suspend", "product.reinstate"]


def test_status_changes_need_a_reason_and_a_reviewer(session, listed, reviewer, seller):
    with pytest.raises(ValidationFailed):
        review.change_product_status(session, reviewer, listed, "suspend", "")
    with pytest.raises(Forbidden):
        review.change_product_status(session, seller, listed, "suspend", "I want to")
    with pytest.raises(ValidationFailed):
        review.change_product_status(session, reviewer, listed, "explode", "why not")
    with pytest.raises(ValidationFailed):  # listing is the system's move, never a reviewer's
        review.change_product_status(session, reviewer, listed, "list", "again")
    with pytest.raises(InvalidTransition):
        review.change_product_status(session, reviewer, listed, "reinstate", "not suspended")
    assert listed.status == ProductStatus.LISTED


def test_a_delisted_product_takes_no_new_versions(session, listed, reviewer, seller):
    review.change_product_status(session, reviewer, listed, "delist", "Seller asked to withdraw.")
    assert listed.status == ProductStatus.DELISTED
    with pytest.raises(InvalidTransition):
        listings.new_version(session, seller, listed, "2.0", "again")
    with pytest.raises(InvalidTransition):
        review.change_product_status(session, reviewer, listed, "reinstate", "changed my mind")


# ---------------------------------------------------------------- the queue


def test_queue_is_oldest_first_and_filters(session, storage, reviewer, seller):
    other_seller = factories.user(session, organization="Pudong Data Co")
    versions = []
    for owner, category in ((seller, "transport"), (other_seller, "environment"), (seller, "environment")):
        v = factories.complete_version(session, storage, owner, factories.product(session, owner).latest_version)
        listings.update_metadata(session, owner, v, {"category": category})
        factories.submit(session, owner, v, storage)
        versions.append(v)
    cases, total = review.review_queue(session, reviewer)
    assert total == 3 and [c.version_id for c in cases] == [v.id for v in versions]
    by_org, _ = review.review_queue(session, reviewer, review.QueueFilters(
        organization_id=other_seller.memberships[0].organization_id))
    assert [c.version_id for c in by_org] == [versions[1].id]
    env, _ = review.review_queue(session, reviewer, review.QueueFilters(category="environment"))
    assert [c.version_id for c in env] == [versions[1].id, versions[2].id]
    outcome = cases[0].prescreen_outcome
    same, _ = review.review_queue(session, reviewer, review.QueueFilters(prescreen=outcome.value))
    assert cases[0] in same and all(c.prescreen_outcome == outcome for c in same)
    review.claim_case(session, reviewer, cases[0])
    mine, _ = review.review_queue(session, reviewer, review.QueueFilters(status="mine"))
    waiting, _ = review.review_queue(session, reviewer, review.QueueFilters(status="submitted"))
    assert mine == [cases[0]] and cases[0] not in waiting
    page, total = review.review_queue(session, reviewer, limit=1, offset=1)
    assert total == 3 and page == [cases[1]]


def test_queue_hides_cases_of_the_reviewers_own_organization(session, case, seller):
    seller.platform_role = PlatformRole.REVIEWER
    assert review.review_queue(session, seller) == ([], 0)


def test_queue_is_for_reviewers_only(session, case, seller):
    with pytest.raises(Forbidden):
        review.review_queue(session, seller)


def test_buyers_see_only_listed_products_and_only_until_suspended(session, storage, reviewer, seller, version):
    def visible():
        return list(session.scalars(listings.buyer_visible()))

    assert visible() == []  # a draft
    _approve(session, storage, reviewer, seller, version)
    product = version.product
    assert visible() == [product]
    review.change_product_status(session, reviewer, product, "suspend", "Under query.")
    assert visible() == []
    review.change_product_status(session, reviewer, product, "reinstate", "Cleared.")
    assert visible() == [product]
    review.change_product_status(session, reviewer, product, "delist", "Withdrawn.")
    assert visible() == []


def test_the_listed_product_factory_goes_through_review(session, storage, seller, reviewer):
    listed = factories.listed_product(session, storage, seller, reviewer, title="Harbour tides", category="weather")
    assert listed.status == ProductStatus.LISTED and listed.listed_version.registration_number
    assert listed.listed_version.category == "weather"
