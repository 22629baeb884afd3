"""Public notice (公示): an approved version is published for ``PUBLIC_NOTICE_DAYS`` before its registration
certificate is issued; any other organization may object meanwhile.

``TRADING_STARTS_AT`` decides when buyers can trade: "approval" lists the version at once and the notice runs
beside it; "notice_end" keeps the version ``on_notice`` and lists it when the notice ends. A reviewer decides each
objection: upheld, the notice is withdrawn and the version goes back to review for a new round (a listed version's
product is suspended until the reviewer decides again); dismissed, with a reason. A notice ends (``end_due_notices``,
a periodic job) once it has closed and no objection waits for a decision: the version is listed if it was waiting,
and its registration certificate is issued (``review/registration.py``). Every move is one locked transition of the
notice's or the objection's lifecycle table below, audited; the seller and the objector are told.
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, member_organizations_query, member_role, permits, require
from marketplace.accounts.models import Organization, User
from marketplace.assessments.services import standing_failure
from marketplace.audit.services import record
from marketplace.catalog.index import sync_product
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from marketplace.i18n import N_
from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.listings.models import ProductVersion
from marketplace.listings.states import (
    ACTOR_WORDS,
    PRODUCT_LIFECYCLE,
    PRODUCT_REASONS,
    REINSTATED_AFTER_OBJECTION,
    SUSPENDED_FOR_OBJECTION,
    Actor,
    ProductAction,
    ProductStatus,
    VersionAction,
    VersionStatus,
)
from marketplace.recorded_text import RecordedText
from marketplace.review.models import ReviewCase, ReviewRound
from marketplace.review.notice_evidence import store_evidence
from marketplace.review.notice_models import NoticeStatus, Objection, ObjectionStatus, PublicNotice, TradingStart
from marketplace.review.notices import tell_notice_step
from marketplace.review.prescreen_runs import queue_prescreen
from marketplace.review.publication import HOLDERS_TASK, list_version, mark_approved, move_version
from marketplace.storage import Storage

MAX_REASONS = 5000


class NoticeAction(enum.StrEnum):
    END = "end"
    WITHDRAW = "withdraw"


class ObjectionAction(enum.StrEnum):
    UPHOLD = "uphold"
    DISMISS = "dismiss"
    SUPERSEDE = "supersede"


N, B = NoticeStatus, ObjectionStatus
# What the refusals call the notice's and the objection's actions and states.
NOTICE_WORDS = Words(_l("a public notice"), {NoticeAction.END: _l("end"), NoticeAction.WITHDRAW: _l("withdraw")},
                     ACTOR_WORDS, {N.OPEN: _l("open"), N.ENDED: _l("ended"), N.WITHDRAWN: _l("withdrawn")})
OBJECTION_WORDS = Words(_l("an objection"), {ObjectionAction.UPHOLD: _l("uphold"),
                                             ObjectionAction.DISMISS: _l("dismiss"),
                                             ObjectionAction.SUPERSEDE: _l("close as superseded")},
                        ACTOR_WORDS, {B.PENDING: _l("waiting for the reviewer"), B.UPHELD: _l("upheld"),
                                      B.DISMISSED: _l("dismissed"), B.SUPERSEDED: _l("superseded")})
NOTICE_LIFECYCLE: Lifecycle[NoticeStatus, NoticeAction] = Lifecycle("public notice", {
    (N.OPEN, NoticeAction.END): move(N.ENDED, Actor.SYSTEM),
    (N.OPEN, NoticeAction.WITHDRAW): move(N.WITHDRAWN, Actor.REVIEWER),
}, Subject("notice", stamps=(), facts=lambda n: {"version_id": n.version_id, "product_id": n.product_id}),
    words=NOTICE_WORDS)
OBJECTION_LIFECYCLE: Lifecycle[ObjectionStatus, ObjectionAction] = Lifecycle("objection", {
    (B.PENDING, ObjectionAction.UPHOLD): move(B.UPHELD, Actor.REVIEWER),
    (B.PENDING, ObjectionAction.DISMISS): move(B.DISMISSED, Actor.REVIEWER),
    # Another objection to the notice was upheld: the version is back in review, the notice withdrawn.
    (B.PENDING, ObjectionAction.SUPERSEDE): move(B.SUPERSEDED, Actor.SYSTEM),
}, Subject("objection", stamps=("decided_at",), facts=lambda o: {"notice_id": o.notice_id}),
    words=OBJECTION_WORDS)
del N, B

def trading_start() -> TradingStart:
    """The platform's setting: trading starts at approval (the default) or at the notice's end."""
    value = str(current_app.config.get("TRADING_STARTS_AT") or "approval").strip().lower()
    return TradingStart.NOTICE_END if value == TradingStart.NOTICE_END else TradingStart.APPROVAL


# ---------------------------------------------------------------- approval opens a notice


def publish_approved(session: Session, user: User, version: ProductVersion, now: datetime) -> PublicNotice:
    """After approval: give the version its registration number, list it at once or put it on notice (as the
    platform is set), and open its public notice. A product suspended by an upheld objection to this version
    trades again."""
    mark_approved(version, user, now)
    start = trading_start()
    if start == TradingStart.APPROVAL:
        list_version(session, version)
    else:
        move_version(session, None, version, VersionAction.NOTICE, Actor.SYSTEM,
                     registration_number=version.registration_number)
    notice = PublicNotice(version=version, product_id=version.product_id,
                          organization_id=version.product.organization_id,
                          registration_number=version.registration_number, trading_starts_at=start, opens_at=now,
                          closes_at=now + timedelta(days=int(current_app.config["PUBLIC_NOTICE_DAYS"])))
    session.add(notice)
    session.flush()
    record(session, actor_id=user.id, action="notice.open", subject_type="notice", subject_id=notice.id,
           payload={"version_id": version.id, "product_id": version.product_id,
                    "registration_number": notice.registration_number, "trading_starts_at": start.value,
                    "closes_at": notice.closes_at.isoformat()})
    _reinstate_after_objection(session, user, version)
    return notice


def _reinstate_after_objection(session: Session, user: User, version: ProductVersion) -> None:
    product = version.product
    if product.status != ProductStatus.SUSPENDED or product.listed_version_id != version.id:
        return
    upheld = session.scalar(select(func.count()).select_from(PublicNotice).where(
        PublicNotice.version_id == version.id, PublicNotice.status == NoticeStatus.WITHDRAWN))
    if not upheld:
        return
    reason = PRODUCT_REASONS.english(REINSTATED_AFTER_OBJECTION)

    def keep_reason(_state: ProductStatus) -> dict:
        product.status_reason = reason
        return {"reason": reason}

    PRODUCT_LIFECYCLE.apply(session, product, ProductAction.REINSTATE, Actor.REVIEWER, user=user, check=keep_reason)
    sync_product(session, product)


# ---------------------------------------------------------------- reading notices


def notices(session: Session, *, state: str | None = None, limit: int = 20, offset: int = 0,
            now: datetime | None = None) -> tuple[list[PublicNotice], int]:
    """Public notices, newest first: "open" (objections still taken), "recent" (closed), or all. Returns the page
    and the total count."""
    now = now or utcnow()
    query = select(PublicNotice)
    if state == "open":
        query = query.where(PublicNotice.status == NoticeStatus.OPEN, PublicNotice.closes_at > now)
    elif state == "recent":
        query = query.where((PublicNotice.status != NoticeStatus.OPEN) | (PublicNotice.closes_at <= now))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(PublicNotice.opens_at.desc(), PublicNotice.id.desc())
                           .limit(limit).offset(offset)
                           .options(selectinload(PublicNotice.version), selectinload(PublicNotice.organization),
                                    selectinload(PublicNotice.objections)))
    return list(page), total


def notice_by_id(session: Session, notice_id: int) -> PublicNotice:
    """A public notice by id; NotFound if there is none."""
    notice = session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound(_("No such public notice."))
    return notice


def latest_notice(session: Session, registration_number: str) -> PublicNotice | None:
    """The newest notice under a registration number, if any."""
    return session.scalar(select(PublicNotice).where(PublicNotice.registration_number == registration_number[:40])
                          .order_by(PublicNotice.id.desc()).limit(1))


def taking_objections(notice: PublicNotice, now: datetime | None = None) -> bool:
    """Whether the notice still takes objections: open, and not past its closing time."""
    return notice.status == NoticeStatus.OPEN and (now or utcnow()) < notice.closes_at


def notices_with_objections(session: Session, user: User) -> list[PublicNotice]:
    """Open notices with an objection waiting for a reviewer (the review queue's notices), oldest first; a
    reviewer's own organizations' notices are left out."""
    require(user, Permission.REVIEW)
    return list(session.scalars(
        select(PublicNotice).where(PublicNotice.status == NoticeStatus.OPEN, _objection_waits(PublicNotice.id),
                                   PublicNotice.organization_id.not_in(member_organizations_query(user)))
        .order_by(PublicNotice.closes_at, PublicNotice.id)))


# ---------------------------------------------------------------- objecting


def _reasons(text: str | None, field: str = "reasons") -> str:
    text = (text or "").strip()
    if not text:
        message = _("Give your reasons.") if field == "reasons" else _("A reason is required.")
        raise ValidationFailed(message, {field: [message]})
    if len(text) > MAX_REASONS:
        message = _("At most %(num)s characters.", num=MAX_REASONS)
        raise ValidationFailed(message, {field: [message]})
    return text


def object_to(session: Session, user: User, notice: PublicNotice, organization: Organization, reasons: str,
              evidence: tuple[str, BinaryIO] | None = None, storage: Storage | None = None) -> Objection:
    """File an objection to a notice for ``organization``: reasons (required) and optional evidence (a file name
    and stream, checked by type and size, kept in storage). Refuses anyone outside ``organization``, the seller's
    own organization, a notice that no longer takes objections (it closed, or was withdrawn), and a second
    objection of ``organization`` while its first waits for a reviewer (a double submission). The reviewers' queue
    shows it; the seller and the objector are told."""
    require(user, Permission.OBJECT, organization)
    if organization.id == notice.organization_id:
        raise ValidationFailed(_("An organization cannot object to its own product's notice."),
                               {"organization_id": [_("Choose another of your organizations.")]})
    reasons = _reasons(reasons)
    NOTICE_LIFECYCLE.lock(session, notice)  # re-read under the lock: a concurrent withdrawal or end is seen
    if not taking_objections(notice):
        if notice.status == NoticeStatus.WITHDRAWN:
            raise InvalidTransition(_("The public notice of %(number)s was withdrawn when an objection was upheld: "
                                      "objections are no longer taken.", number=notice.registration_number))
        raise InvalidTransition(_("The public notice of %(number)s has ended: objections are no longer taken.",
                                  number=notice.registration_number))
    if session.scalar(select(_objection_waits(notice.id).where(Objection.organization_id == organization.id))):
        message = _("%(organization)s already has an objection to this notice waiting for a reviewer's decision: "
                    "add to it once it is decided.", organization=organization.name)
        raise Conflict(message, {"organization_id": [message]})
    objection = Objection(organization_id=organization.id, user_id=user.id, reasons=reasons)
    if evidence is not None:
        store_evidence(objection, evidence, storage)
    notice.objections.append(objection)
    session.flush()
    record(session, actor_id=user.id, action="objection.file", subject_type="objection", subject_id=objection.id,
           payload={"notice_id": notice.id, "organization_id": organization.id,
                    "evidence_sha256": objection.evidence_sha256})
    tell_notice_step(session, notice, objection, "filed")
    return objection


def attach_evidence(session: Session, user: User, objection: Objection, filename: str, stream: BinaryIO,
                    storage: Storage | None = None) -> Objection:
    """Attach an evidence file (checked by type and size, kept in storage) to a waiting objection filed without one:
    the API files the objection, then sends its evidence. Refuses anyone outside the objecting organization, an
    objection already decided, a notice that no longer takes objections, and a second file."""
    require(user, Permission.ADD_EVIDENCE, objection)
    notice = objection.notice
    NOTICE_LIFECYCLE.lock(session, notice, objection)
    if objection.status != ObjectionStatus.PENDING or not taking_objections(notice):
        raise InvalidTransition(_("Evidence can be added only while the objection waits and the notice takes "
                                  "objections."))
    if objection.evidence_key:
        message = _("This objection already has its evidence file.")
        raise Conflict(message, {"evidence": [message]})
    store_evidence(objection, (filename, stream), storage)
    session.flush()
    record(session, actor_id=user.id, action="objection.evidence", subject_type="objection", subject_id=objection.id,
           payload={"notice_id": notice.id, "evidence_sha256": objection.evidence_sha256,
                    "evidence_size": objection.evidence_size})
    return objection


# ---------------------------------------------------------------- deciding objections


def decide_objection(session: Session, user: User, objection: Objection, decision: str, reason: str) -> Objection:
    """A reviewer upholds or dismisses an objection, with a reason. Upheld, an open notice is withdrawn and the
    version returns to review in a new round (its product suspended from trading meanwhile if it was listed).
    Refuses anyone but a reviewer outside the seller organization, an objection already decided (a concurrent
    decision won) and an unknown decision."""
    notice = objection.notice
    require(user, Permission.REVIEW, notice.product)
    try:
        action = ObjectionAction(decision)
    except ValueError:
        raise ValidationFailed(_("Unknown decision."),
                               {"decision": [_("Choose uphold or dismiss.")]}) from None
    reason = _reasons(reason, "reason")

    def keep(_state: ObjectionStatus) -> dict:
        objection.decided_by_id, objection.decision_reason = user.id, reason
        return {"reason": reason}

    OBJECTION_LIFECYCLE.apply(session, objection, action, Actor.REVIEWER, user=user, check=keep)
    if action == ObjectionAction.UPHOLD and NOTICE_LIFECYCLE.lock(session, notice) == NoticeStatus.OPEN:
        NOTICE_LIFECYCLE.apply(session, notice, NoticeAction.WITHDRAW, Actor.REVIEWER, user=user,
                               payload={"objection_id": objection.id})
        notice.ended_at = utcnow()
        _reopen(session, user, notice, reason)
        _supersede_waiting(session, notice, objection)
    tell_notice_step(session, notice, objection, action.value)
    session.flush()
    return objection


# Why an objection closed without a reviewer's words, recorded in English as the audit trail keeps it; the notice
# page shows it in the reader's language (a reviewer's own reason as it was written).
SUPERSEDED = N_("Another objection to this notice was upheld: the version returned to review and the notice was "
                "withdrawn.")
OBJECTION_REASONS = RecordedText(SUPERSEDED)


def decision_reason_in_words(objection: Objection) -> str:
    """An objection's recorded decision reason in the reader's language."""
    return OBJECTION_REASONS.shown(objection.decision_reason)


def _supersede_waiting(session: Session, notice: PublicNotice, upheld: Objection) -> None:
    """Close the notice's other waiting objections as superseded (audited; each objector told): the version is
    back in review and the notice withdrawn, so there is nothing left for a reviewer to decide on them."""
    reason = OBJECTION_REASONS.english(SUPERSEDED)
    waiting = session.scalars(select(Objection).where(Objection.notice_id == notice.id,
                                                      Objection.status == ObjectionStatus.PENDING,
                                                      Objection.id != upheld.id).order_by(Objection.id)).all()
    for other in waiting:
        def keep(_state: ObjectionStatus, other: Objection = other) -> dict:
            other.decision_reason = reason
            return {"reason": reason, "upheld_objection_id": upheld.id}

        OBJECTION_LIFECYCLE.apply(session, other, ObjectionAction.SUPERSEDE, Actor.SYSTEM, check=keep)
        tell_notice_step(session, notice, other, "superseded")


def _reopen(session: Session, user: User, notice: PublicNotice, reason: str) -> None:
    """The version back in the review queue in a new round; its product suspended if the version trades."""
    version = notice.version
    was_listed = version.status == VersionStatus.LISTED
    move_version(session, user, version, VersionAction.REOPEN, Actor.REVIEWER, notice_id=notice.id, reason=reason)
    case = session.scalar(select(ReviewCase).where(ReviewCase.version_id == version.id))
    now = utcnow()
    case.reviewer_id, case.decision, case.decided_at, case.submitted_at = None, None, None, now
    round_ = ReviewRound(number=len(case.rounds) + 1, submitted_at=now,
                         seller_note=_("Objection upheld during public notice: %(reason)s", reason=reason))
    case.rounds.append(round_)
    session.flush()
    queue_prescreen(session, case, round_)
    product = version.product
    if was_listed and product.status == ProductStatus.LISTED and product.listed_version_id == version.id:
        words = PRODUCT_REASONS.english(SUSPENDED_FOR_OBJECTION, reason=reason)

        def keep_reason(_state: ProductStatus) -> dict:
            product.status_reason = words
            return {"reason": words, "notice_id": notice.id}

        PRODUCT_LIFECYCLE.apply(session, product, ProductAction.SUSPEND, Actor.REVIEWER, user=user, check=keep_reason)
        sync_product(session, product)
        from marketplace.jobs.outbox import enqueue_after_commit

        enqueue_after_commit(session, HOLDERS_TASK, product.id, ProductAction.SUSPEND.value, words)


# ---------------------------------------------------------------- ending notices


def end_notice(session: Session, notice: PublicNotice, now: datetime | None = None) -> bool:
    """End a closed notice with no objection waiting: list the version if it waited for the notice, and issue its
    registration certificate. False (nothing done) when the notice is not due, an objection waits, a compliance
    report concluding fail stands against the version (the reviewers were told when it was signed: the notice
    waits for their decision), or another process ended or withdrew it first."""
    from marketplace.review.registration import issue_certificate

    now = now or utcnow()
    status = NOTICE_LIFECYCLE.lock(session, notice)
    if status != NoticeStatus.OPEN or now < notice.closes_at or _pending(session, notice) \
            or standing_failure(session, notice.version):
        return False
    NOTICE_LIFECYCLE.apply(session, notice, NoticeAction.END, Actor.SYSTEM)
    notice.ended_at = now
    version = notice.version
    if version.status == VersionStatus.ON_NOTICE:
        list_version(session, version)
    issue_certificate(session, notice, now)
    tell_notice_step(session, notice, None, "ended")
    session.flush()
    return True


def _objection_waits(notice_id):
    """Whether an objection to the notice waits for a reviewer's decision (an EXISTS clause)."""
    return exists().where(Objection.notice_id == notice_id, Objection.status == ObjectionStatus.PENDING)


def _pending(session: Session, notice: PublicNotice) -> bool:
    return bool(session.scalar(select(_objection_waits(notice.id))))


def end_due_notices(session: Session, now: datetime | None = None) -> list[int]:
    """End every open notice past its closing time with no objection waiting and no failing compliance report
    standing (the periodic job, see ``end_notice``): idempotent, and
    safe to run concurrently (each notice ends under its row lock, once). The ids of the notices ended."""
    now = now or utcnow()
    due = session.scalars(select(PublicNotice.id).where(PublicNotice.status == NoticeStatus.OPEN,
                                                        PublicNotice.closes_at <= now)
                          .order_by(PublicNotice.closes_at)).all()
    ended = []
    for notice_id in due:
        notice = session.get(PublicNotice, notice_id)
        if notice is not None and end_notice(session, notice, now):
            ended.append(notice_id)
    return ended


def evidence_for(session: Session, user: User, objection: Objection) -> Objection:
    """The objection whose evidence ``user`` may download: a reviewer outside the seller, or a member of the
    objecting organization; NotFound for anyone else and when there is no evidence."""
    allowed = permits(user, Permission.REVIEW, objection.notice.product) or (
        getattr(user, "is_authenticated", False) and member_role(user, objection.organization_id, session))
    if not allowed or not objection.evidence_key:
        raise NotFound(_("No such evidence."))
    return objection
