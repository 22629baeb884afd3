"""The evidence of a cross-boundary mechanism: the buyer submits it, the seller (or a reviewer) confirms or
rejects it, and a rejected one may be submitted again. A trade needing no mechanism needs no evidence."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.listings.vocab import LabelledEnum, labelled


@labelled({"not_needed": _l("Not needed"), "needed": _l("Needed"),
           "submitted": lazy_pgettext("evidence status", "Submitted"),
           "confirmed": _l("Confirmed"), "rejected": _l("Rejected")})
class EvidenceStatus(LabelledEnum):
    NOT_NEEDED = "not_needed"
    NEEDED = "needed"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class EvidenceActor(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"      # a member of the seller organization
    REVIEWER = "reviewer"  # a compliance reviewer outside the seller


class EvidenceAction(enum.StrEnum):
    SUBMIT = "submit"
    CONFIRM = "confirm"
    REJECT = "reject"


E, B, S, R = EvidenceStatus, EvidenceActor.BUYER, EvidenceActor.SELLER, EvidenceActor.REVIEWER
EVIDENCE_LIFECYCLE: Lifecycle[EvidenceStatus, EvidenceAction] = Lifecycle("cross-boundary evidence", {
    (E.NEEDED, EvidenceAction.SUBMIT): move(E.SUBMITTED, B),
    (E.REJECTED, EvidenceAction.SUBMIT): move(E.SUBMITTED, B),
    (E.SUBMITTED, EvidenceAction.CONFIRM): move(E.CONFIRMED, S, R),
    (E.SUBMITTED, EvidenceAction.REJECT): move(E.REJECTED, S, R),
}, Subject("cross_boundary", status="evidence_status", facts=lambda p: {"order_id": p.order_id}),
    words=Words(_l("a cross-boundary evidence"), {EvidenceAction.SUBMIT: _l("submit"),
                                                 EvidenceAction.CONFIRM: _l("confirm"),
                                                 EvidenceAction.REJECT: _l("reject")},
                {B: _l("a buyer"), S: _l("a seller"), R: _l("a reviewer")},
                # The statuses' own labels are headings ("Submitted" is also a column of dates): these read in a
                # sentence.
                {E.NOT_NEEDED: _l("not needed"), E.NEEDED: _l("needed"), E.SUBMITTED: _l("submitted"),
                 E.CONFIRMED: _l("confirmed"), E.REJECTED: _l("rejected")},
                refusals={
                    (E.SUBMITTED, EvidenceAction.SUBMIT): _l(
                        "The evidence was already submitted and waits for the seller's or a reviewer's decision."),
                    (E.CONFIRMED, EvidenceAction.SUBMIT): _l("The evidence was already confirmed: none more is "
                                                             "needed."),
                    **{(E.NEEDED, decision): _l("No evidence was submitted yet, so there is none to decide.")
                       for decision in (EvidenceAction.CONFIRM, EvidenceAction.REJECT)},
                    **{(E.REJECTED, decision): _l("The evidence was rejected; the buyer has not submitted new "
                                                  "evidence yet.")
                       for decision in (EvidenceAction.CONFIRM, EvidenceAction.REJECT)},
                    **{(E.CONFIRMED, decision): _l("The evidence was already confirmed.")
                       for decision in (EvidenceAction.CONFIRM, EvidenceAction.REJECT)},
                }))
del E, B, S, R
