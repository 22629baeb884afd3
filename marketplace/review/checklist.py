"""The reviewer's checklist, the answers it takes, the decisions a round ends with, and pre-screen outcomes."""
from __future__ import annotations

from flask_babel import gettext as _

from marketplace.i18n import N_
from marketplace.listings.vocab import LabelledEnum


class ChecklistItem(LabelledEnum):
    SOURCE_LEGALITY = "source_legality"
    PERSONAL_INFORMATION = "personal_information"
    CLASSIFICATION = "classification"
    CROSS_BORDER = "cross_border"
    LICENCE_TERMS = "licence_terms"
    QUALITY = "quality"

    @property
    def label(self) -> str:
        return _(CHECKLIST_QUESTIONS[self][0])

    @property
    def question(self) -> str:
        return _(CHECKLIST_QUESTIONS[self][1])


CHECKLIST_QUESTIONS = {
    ChecklistItem.SOURCE_LEGALITY: (
        N_("Source legality"),
        N_("Every upstream source is cited, each with a licence that allows the product's terms."),
    ),
    ChecklistItem.PERSONAL_INFORMATION: (
        N_("Personal information"),
        N_("The declared personal-information category matches what the data holds."),
    ),
    ChecklistItem.CLASSIFICATION: (
        N_("Classification (GB/T 43697-2024)"),
        N_("Core data is never listable; important data has a stated reason and no cross-border offer."),
    ),
    ChecklistItem.CROSS_BORDER: (
        N_("Cross-border"),
        N_("No plan offers mainland-origin personal or important data for use outside the mainland without grounds."),
    ),
    ChecklistItem.LICENCE_TERMS: (
        N_("Licence terms"),
        N_("Every plan's licence terms are complete, and the plans are consistent with each other."),
    ),
    ChecklistItem.QUALITY: (
        N_("Quality"),
        N_("The dictionary covers the deliverables' columns, a sample exists, the update frequency is stated."),
    ),
}


# The words a person reads for each answer, decision, outcome and state (translated where shown).
LABELS = {
    "pass": N_("Pass"), "fail": N_("Fail"), "not_applicable": N_("Not applicable"),
    "approve": N_("Approve"), "request_changes": N_("Request changes"), "reject": N_("Reject"),
    "review": N_("Review"), "queued": N_("Queued"), "running": N_("Running"), "done": N_("Done"),
    "failed": N_("Failed"),
}


class _Labelled(LabelledEnum):
    @property
    def label(self) -> str:
        return _(LABELS[self.value])


class ChecklistResult(_Labelled):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class Decision(_Labelled):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class PrescreenOutcome(_Labelled):
    """A finding's verdict, and a whole pre-screen's (its worst finding)."""

    PASS = "pass"      # the rule was checked and holds
    REVIEW = "review"  # a person must look: the rule could not be decided automatically
    FAIL = "fail"      # the rule is broken

    @property
    def rank(self) -> int:
        return {"pass": 0, "review": 1, "fail": 2}[self.value]


class PrescreenState(_Labelled):
    """Where a round's pre-screen is: it runs as a background job after the submission commits."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # every attempt failed; an admin can run it again from the jobs page
