"""The seller's editor as steps: details, sources, files, dictionary, plans, compliance, then review and submit.

Each step is a page of its own holding only its own forms, so saving one step never drops what was typed in
another. Whether a step is complete is read from the version through the same readiness rules submission applies
(``services.readiness_problems``): the progress indicator and the submit check never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import session, url_for
from flask_babel import lazy_gettext as _l

from marketplace.listings import services
from marketplace.listings.models import ProductVersion
from marketplace.listings.states import EDITABLE_VERSION_STATES


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    endpoint: str
    fields: tuple[str, ...] = ()  # the readiness problems (by field) this step answers


STEPS = (
    Step("details", _l("Details"), "seller.step_details",
         ("title_en", "title_zh", "description_en", "description_zh", "category", "regions", "update_frequency",
          "delivery_methods", "formats")),
    Step("sources", _l("Sources"), "seller.step_sources", ("sources",)),
    Step("files", _l("Files"), "seller.step_files", ("assets",)),
    Step("dictionary", _l("Data dictionary"), "seller.step_dictionary", ("fields",)),
    Step("plans", _l("Pricing plans"), "seller.step_plans", ("plans",)),
    Step("compliance", _l("Compliance"), "seller.step_compliance",
         ("personal_info", "classification", "classification_reason", "source_legality", "cross_border_transfer",
          "collected_in", "individuals", "attestation")),
)
# The last step is the version's own address (links in notifications point there).
REVIEW = Step("review", _l("Review and submit"), "seller.version")
ALL_STEPS = (*STEPS, REVIEW)
BY_KEY = {step.key: step for step in ALL_STEPS}

# Which step shows a form of the editor, by the form's key.
FORM_STEPS = {"metadata": "details", "source": "sources", "source_edit": "sources", "lookup": "sources",
              "upload": "files", "dictionary": "dictionary", "plan": "plans", "compliance": "compliance",
              "new_version": "review"}
# The section anchors the editor used when it was one page, mapped to their steps.
ANCHOR_STEPS = {"overview": "details", "prescreen": "review", "submit": "review", "versions": "review"}


# The steps that answer a review checklist item the reviewer failed (the items by their value: review builds on
# listings, never the reverse).
REVIEW_ITEM_STEPS = {
    "source_legality": ("sources",), "personal_information": ("compliance", "dictionary"),
    "classification": ("compliance",), "cross_border": ("compliance",), "licence_terms": ("plans",),
    "quality": ("files", "dictionary"),
}
_VISITED = "editor_visited"
_VISITED_VERSIONS = 20  # the session keeps the visits of the last versions opened only


def visit(version: ProductVersion, key: str) -> set[str]:
    """Note that the seller opened step ``key`` of the version (in their session); the steps opened so far."""
    visited = dict(session.get(_VISITED) or {})
    mine = list(visited.pop(str(version.id), []))
    if key in mine:  # nothing new: the session (and its cookie) is left as it is
        return set(mine)
    mine.append(key)
    visited[str(version.id)] = mine
    session[_VISITED] = dict(list(visited.items())[-_VISITED_VERSIONS:])
    return set(mine)


def failed_steps(requested) -> set[str]:
    """The steps of the items a review round with requested changes failed."""
    if requested is None:
        return set()
    return {key for answer in requested.answers if str(getattr(answer.result, "value", answer.result)) == "fail"
            for key in REVIEW_ITEM_STEPS.get(str(getattr(answer.item, "value", answer.item)), ())}


def step_url(version: ProductVersion, key: str) -> str:
    return url_for(BY_KEY[key].endpoint, product_id=version.product_id, number=version.number)


def step_for(forms: dict | None = None, anchor: str | None = None) -> str:
    """The step a page should show: the one of the form being corrected, else of the anchor, else review."""
    for name in forms or {}:
        if name in FORM_STEPS:
            return FORM_STEPS[name]
    if anchor in BY_KEY:
        return anchor
    return ANCHOR_STEPS.get(anchor or "", "review")


def next_step(key: str) -> str:
    keys = [step.key for step in ALL_STEPS]
    return keys[min(keys.index(key) + 1, len(keys) - 1)]


def readiness(version: ProductVersion) -> list[dict]:
    """The submission checklist: each step but the last with the problems the service still reports for it."""
    problems = services.readiness_problems(version)
    known = {name for step in STEPS for name in step.fields}
    checklist = []
    for step in STEPS:
        messages = [m for name in step.fields for m in problems.get(name, [])]
        if step.key == "details":
            messages += [m for name, ms in problems.items() if name not in known for m in ms]
        checklist.append({"anchor": step.key, "title": step.title, "problems": messages,
                          "url": step_url(version, step.key)})
    return checklist


def progress(version: ProductVersion, current: str, checklist: list[dict], visited: set[str] = frozenset(),
             requested=None) -> list[dict]:
    """The progress indicator: every step with its address, whether it is complete, whether the seller opened it
    and left it incomplete, whether the reviewer asked for changes on it, and whether it is shown now."""
    complete = {item["anchor"]: not item["problems"] for item in checklist}
    submitted = version.status not in EDITABLE_VERSION_STATES
    failed = failed_steps(requested)
    found = []
    for index, step in enumerate(ALL_STEPS, start=1):
        done = complete[step.key] if step.key in complete else submitted
        needs_changes = step.key in failed
        found.append({"key": step.key, "number": index, "title": step.title, "url": step_url(version, step.key),
                      "current": step.key == current, "complete": done and not needs_changes,
                      "needs_changes": needs_changes,
                      "incomplete": not done and step.key in complete and step.key in visited})
    return found
