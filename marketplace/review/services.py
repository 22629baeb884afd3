"""Compliance review: submission opens a round with a pre-screen, a reviewer claims it, answers the checklist and
decides; approval gives the version a registration number and puts it on public notice (``review/public_notice.py``:
listed at once or at the notice's end, as the platform is set); reviewers suspend, reinstate and delist products.

Every move goes through the version or product lifecycle table (``listings/states.py``) with the actor's role,
writes an audit event and, where the seller should know, notifies the seller organization. A reviewer never
reviews a product of an organization they belong to.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, member_organizations_query, member_role, require
from marketplace.accounts.models import Organization, User
from marketplace.assessments.services import approval_problems as assessment_problems
from marketplace.catalog.index import sync_product
from marketplace.db import utcnow
from marketplace.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.i18n import N_
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.services import readiness_problems
from marketplace.listings.states import (
    PRODUCT_LIFECYCLE,
    QUEUE_STATES,
    VERSION_LIFECYCLE,
    Actor,
    ProductAction,
    ProductStatus,
    VersionAction,
    VersionStatus,
    status_words,
)
from marketplace.listings.vocab import Classification
from marketplace.review.checklist import ChecklistItem, ChecklistResult, Decision, PrescreenOutcome, PrescreenState
from marketplace.review.models import ChecklistAnswer, ReviewCase, ReviewRound
from marketplace.review.notices import notify_decision, notify_product_change
from marketplace.review.prescreen_report import PrescreenReport
from marketplace.review.prescreen_runs import queue_prescreen, require_prescreen_done
from marketplace.review.public_notice import publish_approved
from marketplace.review.publication import HOLDERS_TASK, move_version
from marketplace.storage import Storage

MAX_COMMENT = 5000

# ---------------------------------------------------------------- who is acting


def require_reviewer(user: User) -> None:
    """Refuse (Forbidden) anyone who is not a compliance reviewer or admin."""
    require(user, Permission.REVIEW)


def conflicted(session: Session, user: User, organization_id: int) -> bool:
    """Whether ``user`` belongs to the seller organization, so must leave its products to another reviewer."""
    return member_role(user, organization_id, session) is not None


def _reviewer_for(session: Session, user: User, product: DataProduct) -> Actor:
    """A reviewer outside the seller organization (``accounts.access``), acting as the lifecycle's reviewer."""
    require(user, Permission.REVIEW, product)
    return Actor.REVIEWER


# ---------------------------------------------------------------- the moves


# What a missing or overlong text is called, by its field.
_MISSING = {"note": N_("The note is required."), "comment": N_("A comment for the seller is required."),
            "reason": N_("A reason is required.")}
_TOO_LONG = {"note": N_("The note is too long."), "comment": N_("A comment for the seller is too long."),
             "reason": N_("A reason is too long.")}


def _at_most() -> str:
    return _("At most %(num)s characters.", num=MAX_COMMENT)


def _text(value: str | None, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_(_MISSING[field]), {field: [_(_MISSING[field])]})
    if len(value) > MAX_COMMENT:
        raise ValidationFailed(_(_TOO_LONG[field]), {field: [_at_most()]})
    return value


# ---------------------------------------------------------------- seller side: submit


def submit_version(
    session: Session, user: User, version: ProductVersion, storage: Storage | None = None, *, note: str = "",
) -> ReviewRound:
    """Submit an editable, complete version for compliance review: it becomes read-only, a review round opens
    (the case is created on the first submission) and its pre-screen is queued, to run as a job once this
    transaction commits (``review/prescreen_runs.py``; ``storage`` is no longer read here).

    Refuses an incomplete version (ValidationFailed listing what is missing), a version that is not draft or
    changes-requested (InvalidTransition), a delisted product, and anyone outside the seller organization.
    """
    product = version.product
    require(user, Permission.SUBMIT_PRODUCT, product)
    if product.status == ProductStatus.DELISTED:
        raise InvalidTransition(_("This product was delisted; it cannot be submitted again."))
    VERSION_LIFECYCLE.next(version.status, VersionAction.SUBMIT, Actor.SELLER)  # refuse before any work
    problems = readiness_problems(version)
    if problems:
        raise ValidationFailed(_("This version is not ready for review."), problems)
    note = _text(note, "note", required=False)
    move_version(session, user, version, VersionAction.SUBMIT, Actor.SELLER, prescreen=PrescreenState.QUEUED.value)
    now = utcnow()
    version.submitted_at, version.submitted_by_id = now, user.id
    case = session.scalar(select(ReviewCase).where(ReviewCase.version_id == version.id))
    if case is None:
        case = ReviewCase(version=version, product_id=product.id, organization_id=product.organization_id)
        session.add(case)
    case.reviewer_id, case.decision, case.decided_at = None, None, None
    case.submitted_at = now
    round_ = ReviewRound(number=len(case.rounds) + 1, submitted_at=now, submitted_by_id=user.id, seller_note=note)
    case.rounds.append(round_)
    session.flush()
    queue_prescreen(session, case, round_)
    return round_


def case_for_version(session: Session, version: ProductVersion) -> ReviewCase | None:
    """The review case of a version, with its rounds and answers (for the seller's page)."""
    return session.scalar(
        select(ReviewCase).where(ReviewCase.version_id == version.id)
        .options(selectinload(ReviewCase.rounds).selectinload(ReviewRound.answers))
    )


# ---------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None          # "submitted", "in_review", "mine", "decided", or None for the open queue
    organization_id: int | None = None
    organization_slug: str | None = None  # the API names organizations by slug; an unknown slug matches nothing
    category: str | None = None
    prescreen: str | None = None


def review_queue(session: Session, user: User, filters: QueueFilters = QueueFilters(), *,
                 limit: int = 50, offset: int = 0) -> tuple[list[ReviewCase], int]:
    """Cases for a reviewer, oldest submission first, with filters; cases of the reviewer's own organizations
    are left out (someone else reviews them). Returns the page and the total count."""
    require_reviewer(user)
    own = member_organizations_query(user)
    query = (select(ReviewCase).join(ReviewCase.version)
             .where(ReviewCase.organization_id.not_in(own)))
    if filters.status == "mine":
        query = query.where(ReviewCase.reviewer_id == user.id, ProductVersion.status == VersionStatus.IN_REVIEW)
    elif filters.status == "decided":
        query = query.where(ReviewCase.decision.is_not(None))
    elif filters.status in QUEUE_STATES:
        query = query.where(ProductVersion.status == filters.status)
    else:
        query = query.where(ProductVersion.status.in_(QUEUE_STATES))
    if filters.organization_id:
        query = query.where(ReviewCase.organization_id == filters.organization_id)
    if filters.organization_slug:
        query = query.where(ReviewCase.organization_id.in_(
            select(Organization.id).where(Organization.slug == filters.organization_slug)))
    if filters.category:
        query = query.where(ProductVersion.category == filters.category)
    if filters.prescreen:
        query = query.where(ReviewCase.prescreen_outcome == filters.prescreen)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = ReviewCase.decided_at.desc() if filters.status == "decided" else ReviewCase.submitted_at.asc()
    cases = session.scalars(
        query.order_by(order, ReviewCase.id).limit(limit).offset(offset)
        .options(selectinload(ReviewCase.version), selectinload(ReviewCase.organization),
                 selectinload(ReviewCase.reviewer))
    ).all()
    return list(cases), total


def queue_organizations(session: Session, user: User) -> list[Organization]:
    """The seller organizations the reviewer may filter by: those with a case, other than their own."""
    require_reviewer(user)
    own = member_organizations_query(user)
    return list(session.scalars(
        select(Organization).where(Organization.id.in_(select(ReviewCase.organization_id)),
                                   Organization.id.not_in(own)).order_by(Organization.name)))


def prescreen_counts(session: Session, cases: list[ReviewCase]) -> dict[int, dict]:
    """Finding counts of each case's latest pre-screen, in one query for the whole page; a partial scan's counts
    also hold its summary under "partial"."""
    latest: dict[int, dict] = {}
    rows = session.execute(select(ReviewRound.case_id, ReviewRound.prescreen)
                           .where(ReviewRound.case_id.in_([c.id for c in cases])).order_by(ReviewRound.number))
    for case_id, prescreen in rows:
        latest[case_id] = prescreen or {}
    out: dict[int, dict] = {}
    for case_id, data in latest.items():
        report = PrescreenReport.from_dict(data)
        out[case_id] = report.counts()
        if not report.complete:  # a partial scan says what it covered, beside the outcome
            out[case_id]["partial"] = report.summary()
    return out


def case_for_reviewer(session: Session, user: User, case_id: int) -> ReviewCase:
    """A case by id for a reviewer; NotFound if there is none."""
    require_reviewer(user)
    case = session.get(ReviewCase, case_id)
    if case is None:
        raise NotFound(_("No such review case."))
    return case


# ---------------------------------------------------------------- reviewer moves


def _lock_case(session: Session, case: ReviewCase) -> VersionStatus:
    """Lock the case's version (every case move locks it first) and re-read the version and the case: the
    version's status and the claimant are then what they are, until this transaction ends."""
    return VERSION_LIFECYCLE.lock(session, case.version, case, case.current_round)


def claim_case(session: Session, user: User, case: ReviewCase) -> ReviewCase:
    """Take a submitted case off the queue to review it; refused if someone has it (a concurrent claim won) or it
    is not submitted."""
    actor = _reviewer_for(session, user, case.product)
    move_version(session, user, case.version, VersionAction.CLAIM, actor, also=(case,), case_id=case.id)
    case.reviewer_id = user.id
    round_ = case.current_round
    round_.reviewer_id, round_.claimed_at = user.id, utcnow()
    return case


def release_case(session: Session, user: User, case: ReviewCase) -> ReviewCase:
    """Put a claimed case back on the queue; only its reviewer or an admin may. The round's checklist answers are
    cleared, so the next reviewer starts from their own judgement and never submits another's as theirs; the
    release's audit event keeps what was cleared."""
    actor = _reviewer_for(session, user, case.product)
    _lock_case(session, case)
    # An unclaimed case is the lifecycle's refusal (nothing to release), not a question of who.
    if case.reviewer_id is not None and case.reviewer_id != user.id and not user.is_admin:
        raise Forbidden(_("Only the reviewer who claimed this case, or an admin, may release it."))
    round_ = case.current_round
    cleared = [{"item": a.item.value, "result": a.result.value, "comment": a.comment,
                "answered_by_id": a.answered_by_id} for a in round_.answers]
    move_version(session, user, case.version, VersionAction.RELEASE, actor, case_id=case.id,
                  cleared_answers=cleared)
    round_.answers.clear()
    case.reviewer_id = None
    round_.reviewer_id = None
    round_.claimed_at = None
    session.flush()
    return case


def _require_claimant(session: Session, user: User, case: ReviewCase) -> Actor:
    """The claimant's role, with the case locked and re-read (``_lock_case``); refused for anyone else and for a
    case that is not in review."""
    actor = _reviewer_for(session, user, case.product)
    status = _lock_case(session, case)
    if status == VersionStatus.SUBMITTED:
        raise InvalidTransition(_("Claim the case before working on it."))
    if status != VersionStatus.IN_REVIEW:
        raise InvalidTransition(_("This case is closed: the version is %(status)s.",
                                  status=status_words(status)))
    if case.reviewer_id != user.id:
        raise Forbidden(_("Another reviewer has claimed this case."))
    return actor


def save_checklist(session: Session, user: User, case: ReviewCase,
                   answers: Mapping[str, Mapping[str, str | None]]) -> ReviewRound:
    """Record the claimant's answers for this round: ``{item: {"result": pass|fail|not_applicable, "comment"}}``.

    Items left out keep their earlier answer. Refuses unknown items or results, a failed item without a comment
    (the seller must learn what to fix), and anyone but the reviewer who claimed the case.
    """
    _require_claimant(session, user, case)
    errors: dict[str, list[str]] = {}
    parsed: dict[ChecklistItem, tuple[ChecklistResult, str]] = {}
    for key, value in answers.items():
        try:
            item = ChecklistItem(key)
        except ValueError:
            errors[key] = [_("Not a checklist item.")]
            continue
        value = value or {}
        try:
            result = ChecklistResult(value.get("result") or "")
        except ValueError:
            errors[key] = [_("Choose pass, fail or not applicable.")]
            continue
        comment = (value.get("comment") or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[key] = [_at_most()]
        elif result == ChecklistResult.FAIL and not comment:
            errors[key] = [_("Say what fails, so the seller knows what to fix.")]
        else:
            parsed[item] = (result, comment)
    if errors:
        raise ValidationFailed(_("The checklist has errors."), errors)
    round_ = case.current_round
    for item, (result, comment) in parsed.items():
        answer = round_.answer(item)
        if answer is None:
            answer = ChecklistAnswer(item=item)
            round_.answers.append(answer)
        answer.result, answer.comment = result, comment
        answer.answered_by_id, answer.answered_at = user.id, utcnow()
    session.flush()
    return round_


def _approval_problems(case: ReviewCase) -> dict[str, list[str]]:
    """What stands between this round and an approval."""
    problems: dict[str, list[str]] = {}
    round_ = case.current_round
    report = PrescreenReport.from_dict(round_.prescreen)
    for item in ChecklistItem:
        answer = round_.answer(item)
        if answer is None:
            problems[item.value] = [_("Answer this item before approving.")]
        elif answer.result == ChecklistResult.FAIL:
            problems[item.value] = [_("This item fails; request changes or reject instead.")]
        elif report.outcome_for(item) == PrescreenOutcome.FAIL and not answer.comment:
            problems[item.value] = [_("The pre-screen failed this item: say why it passes anyway.")]
    if case.version.classification == Classification.CORE:
        problems.setdefault(ChecklistItem.CLASSIFICATION.value, []).append(_("Core data is never listable."))
    return problems


Answers = Mapping[str, Mapping[str, str | None]]


def _end_round(session: Session, user: User, case: ReviewCase, decision: Decision, action: VersionAction,
               comment: str, answers: Answers | None) -> ReviewCase:
    if answers:
        save_checklist(session, user, case, answers)
    actor = _require_claimant(session, user, case)
    # Approval is checked against the pre-screen's report, so it waits for one; sending a version back needs no
    # report, but still waits while one is coming.
    require_prescreen_done(case.current_round, allow_failed=decision != Decision.APPROVE)
    comment = _text(comment, "comment", required=decision != Decision.APPROVE)
    if decision == Decision.APPROVE:
        problems = {**_approval_problems(case), **assessment_problems(session, case.version)}
        if problems:
            raise ValidationFailed(_("This version cannot be approved yet."), problems)
    version = case.version
    move_version(session, user, version, action, actor, case_id=case.id, comment=comment)
    now = utcnow()
    round_ = case.current_round
    round_.decision, round_.decision_comment, round_.decided_at = decision, comment, now
    case.decision, case.decided_at = decision, now
    if decision == Decision.APPROVE:
        publish_approved(session, user, version, now)
    notify_decision(session, case, decision, comment)
    session.flush()
    return case


def approve_version(session: Session, user: User, case: ReviewCase, comment: str = "",
                    answers: Answers | None = None) -> ReviewCase:
    """Approve the claimed case's version under a registration number and put it on public notice, listing it at
    once or at the notice's end (``TRADING_STARTS_AT``), superseding the version listed before; ``answers`` are
    saved first. Refuses an unanswered or failed checklist item, an automated failure passed without a comment, and
    core data (never listable)."""
    return _end_round(session, user, case, Decision.APPROVE, VersionAction.APPROVE, comment, answers)


def request_changes(session: Session, user: User, case: ReviewCase, comment: str = "",
                    answers: Answers | None = None) -> ReviewCase:
    """Send the claimed case's version back to the seller, editable again; refused without a comment."""
    return _end_round(session, user, case, Decision.REQUEST_CHANGES, VersionAction.REQUEST_CHANGES, comment, answers)


def reject_version(session: Session, user: User, case: ReviewCase, comment: str = "",
                   answers: Answers | None = None) -> ReviewCase:
    """Reject the claimed case's version for good (the seller may start a new version); refused without a reason."""
    return _end_round(session, user, case, Decision.REJECT, VersionAction.REJECT, comment, answers)


DECISIONS = {Decision.APPROVE: approve_version, Decision.REQUEST_CHANGES: request_changes,
             Decision.REJECT: reject_version}


def decide(session: Session, user: User, case: ReviewCase, decision: str, comment: str = "",
           answers: Answers | None = None) -> ReviewCase:
    """The decision named by ``decision`` (as the pages and the API receive it); an unknown one is refused."""
    try:
        move = DECISIONS[Decision(decision)]
    except ValueError:
        raise ValidationFailed(_("Unknown decision."),
                               {"decision": [_("Choose approve, request changes or reject.")]}) from None
    return move(session, user, case, comment, answers)


# ---------------------------------------------------------------- live products


def product_for_reviewer(session: Session, user: User, product_id: int) -> DataProduct:
    require_reviewer(user)
    product = session.get(DataProduct, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def _change_product(session: Session, user: User, product: DataProduct, action: ProductAction,
                    reason: str) -> DataProduct:
    actor = _reviewer_for(session, user, product)
    reason = _text(reason, "reason")

    def keep_reason(_state: ProductStatus) -> dict:
        product.status_reason = reason
        return {"reason": reason}

    PRODUCT_LIFECYCLE.apply(session, product, action, actor, user=user, check=keep_reason)
    sync_product(session, product)
    notify_product_change(session, product, action, reason)
    from marketplace.jobs.outbox import enqueue_after_commit

    enqueue_after_commit(session, HOLDERS_TASK, product.id, action.value, reason)  # the licence holders, after commit
    session.flush()
    return product


def check_status_reason(reason: str | None) -> str:
    """The reason given for suspending, reinstating or delisting a product, stripped; refuses one missing or too
    long (``ValidationFailed`` on ``reason``), so a form can show it with its other errors before any move."""
    return _text(reason, "reason")


def suspend_product(session: Session, user: User, product: DataProduct, reason: str) -> DataProduct:
    """Hide a listed product from buyers (licences already sold stay valid); a reviewer, with a reason."""
    return _change_product(session, user, product, ProductAction.SUSPEND, reason)


def reinstate_product(session: Session, user: User, product: DataProduct, reason: str) -> DataProduct:
    """List a suspended product again; a reviewer, with a reason."""
    return _change_product(session, user, product, ProductAction.REINSTATE, reason)


def delist_product(session: Session, user: User, product: DataProduct, reason: str) -> DataProduct:
    """Take a listed or suspended product off the exchange for good; a reviewer, with a reason."""
    return _change_product(session, user, product, ProductAction.DELIST, reason)


PRODUCT_MOVES = {ProductAction.SUSPEND: suspend_product, ProductAction.REINSTATE: reinstate_product,
                 ProductAction.DELIST: delist_product}


def change_product_status(session: Session, user: User, product: DataProduct, action: str, reason: str) -> DataProduct:
    """The product move named by ``action`` (suspend, reinstate, delist); listing is the system's, on approval."""
    move = PRODUCT_MOVES.get(action)
    if move is None:
        raise ValidationFailed(_("Unknown action."), {"action": [_("Choose suspend, reinstate or delist.")]})
    return move(session, user, product, reason)
