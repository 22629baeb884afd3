"""Lifecycles of products and versions: the one table of allowed moves each, with who may make them.

Version: draft -> submitted -> in_review -> (changes_requested -> submitted) | approved | rejected;
an approved version goes on public notice (review/public_notice.py). Trading at approval, it is listed at once and
the notice runs beside it; trading at the notice's end, it waits ``on_notice`` and is listed when the notice ends.
An objection upheld during the notice reopens it (back to ``submitted``, a new review round), listed or not.
Listing a newer version supersedes the old one.
Product: draft -> listed (its first approved version) -> suspended (hidden, licences kept) <-> listed; listed or
suspended -> delisted (final).
"""
from __future__ import annotations

import enum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.i18n import N_
from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.recorded_text import RecordedText


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ON_NOTICE = "on_notice"  # approved, on public notice, not yet tradable (trading starts at the notice's end)
    LISTED = "listed"
    SUPERSEDED = "superseded"


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"          # never listed
    LISTED = "listed"
    SUSPENDED = "suspended"  # hidden, licences kept
    DELISTED = "delisted"


class Actor(enum.StrEnum):
    SELLER = "seller"      # a member of the product's seller organization
    REVIEWER = "reviewer"  # a platform reviewer or admin
    SYSTEM = "system"      # the platform itself, as the consequence of another move


class VersionAction(enum.StrEnum):
    SUBMIT = "submit"
    CLAIM = "claim"
    RELEASE = "release"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REJECT = "reject"
    LIST = "list"
    SUPERSEDE = "supersede"
    NOTICE = "notice"  # put on public notice, listed only when the notice ends
    REOPEN = "reopen"  # an objection upheld: back to review


class ProductAction(enum.StrEnum):
    LIST = "list"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    DELIST = "delist"


# Who acts and what they do, as the lifecycles' refusals say it ("Only a reviewer may approve a version.").
ACTOR_WORDS = {Actor.SELLER: _l("a seller"), Actor.REVIEWER: _l("a reviewer"), Actor.SYSTEM: _l("the platform")}
VERSION_ACTION_WORDS = {
    VersionAction.SUBMIT: _l("submit"), VersionAction.CLAIM: _l("claim"), VersionAction.RELEASE: _l("release"),
    VersionAction.REQUEST_CHANGES: _l("request changes to"), VersionAction.APPROVE: _l("approve"),
    VersionAction.REJECT: _l("reject"), VersionAction.LIST: _l("list"), VersionAction.SUPERSEDE: _l("supersede"),
    VersionAction.NOTICE: _l("put on public notice"), VersionAction.REOPEN: _l("reopen"),
}
PRODUCT_ACTION_WORDS = {ProductAction.LIST: _l("list"), ProductAction.SUSPEND: _l("suspend"),
                        ProductAction.REINSTATE: _l("reinstate"), ProductAction.DELIST: _l("delist")}

V, P = VersionStatus, ProductStatus
VERSION_LIFECYCLE: Lifecycle[VersionStatus, VersionAction] = Lifecycle("version", {
    (V.DRAFT, VersionAction.SUBMIT): move(V.SUBMITTED, Actor.SELLER),
    (V.CHANGES_REQUESTED, VersionAction.SUBMIT): move(V.SUBMITTED, Actor.SELLER),
    (V.SUBMITTED, VersionAction.CLAIM): move(V.IN_REVIEW, Actor.REVIEWER),
    (V.IN_REVIEW, VersionAction.RELEASE): move(V.SUBMITTED, Actor.REVIEWER),
    (V.IN_REVIEW, VersionAction.REQUEST_CHANGES): move(V.CHANGES_REQUESTED, Actor.REVIEWER),
    (V.IN_REVIEW, VersionAction.APPROVE): move(V.APPROVED, Actor.REVIEWER),
    (V.IN_REVIEW, VersionAction.REJECT): move(V.REJECTED, Actor.REVIEWER),
    (V.APPROVED, VersionAction.LIST): move(V.LISTED, Actor.SYSTEM),
    (V.APPROVED, VersionAction.NOTICE): move(V.ON_NOTICE, Actor.SYSTEM),
    (V.ON_NOTICE, VersionAction.LIST): move(V.LISTED, Actor.SYSTEM),
    (V.ON_NOTICE, VersionAction.REOPEN): move(V.SUBMITTED, Actor.REVIEWER),
    (V.LISTED, VersionAction.REOPEN): move(V.SUBMITTED, Actor.REVIEWER),
    (V.LISTED, VersionAction.SUPERSEDE): move(V.SUPERSEDED, Actor.SYSTEM),
}, words=Words(_l("a version"), VERSION_ACTION_WORDS, ACTOR_WORDS, lambda state: status_words(state)))

PRODUCT_LIFECYCLE: Lifecycle[ProductStatus, ProductAction] = Lifecycle("product", {
    (P.DRAFT, ProductAction.LIST): move(P.LISTED, Actor.SYSTEM),
    (P.LISTED, ProductAction.SUSPEND): move(P.SUSPENDED, Actor.REVIEWER),
    (P.SUSPENDED, ProductAction.REINSTATE): move(P.LISTED, Actor.REVIEWER),
    (P.LISTED, ProductAction.DELIST): move(P.DELISTED, Actor.REVIEWER),
    (P.SUSPENDED, ProductAction.DELIST): move(P.DELISTED, Actor.REVIEWER),
}, words=Words(_l("a product"), PRODUCT_ACTION_WORDS, ACTOR_WORDS, lambda state: status_words(state)))
del V, P

# A version's events name its product; a product's moves stamp ``status_changed_at``.
VERSION_LIFECYCLE.maps = Subject("version", facts=lambda version: {"product_id": version.product_id})
PRODUCT_LIFECYCLE.maps = Subject("product", stamps=("status_changed_at",))

# States in which the seller may still change a version's content.
EDITABLE_VERSION_STATES = frozenset({VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED})

# States of a product's latest version after which the seller may open a new version.
NEW_VERSION_AFTER_STATES = frozenset({
    VersionStatus.APPROVED, VersionStatus.LISTED, VersionStatus.REJECTED, VersionStatus.SUPERSEDED,
})

# States a reviewer's queue shows: waiting for a reviewer, or being reviewed.
QUEUE_STATES = frozenset({VersionStatus.SUBMITTED, VersionStatus.IN_REVIEW})


# A version's or product's status in words (the value itself stays English): the one table of them.
STATUS_WORDS = {
    "draft": N_("draft"), "submitted": N_("submitted"), "in_review": N_("in review"),
    "changes_requested": N_("changes requested"), "approved": N_("approved"), "rejected": N_("rejected"),
    "on_notice": N_("on public notice"),
    "listed": N_("listed"), "superseded": N_("superseded"), "suspended": N_("suspended"), "delisted": N_("delisted"),
}


def status_words(status: object) -> str:
    """A version's or product's status (an enum member or its value) in the reader's language."""
    value = str(getattr(status, "value", status))
    return _(STATUS_WORDS[value]) if value in STATUS_WORDS else value.replace("_", " ")


# A listed version stays the product's ``listed_version`` after a suspension or delisting (the licences sold keep
# it), so its own status still reads "listed": what it is to anyone reading is the product's status.
WITHDRAWN_PRODUCT_STATES = frozenset({ProductStatus.SUSPENDED, ProductStatus.DELISTED})


def version_status_shown(version_status: object, product_status: object) -> str:
    """A version's status as pages show it (the value): a listed version of a suspended or delisted product is
    "suspended" or "delisted", not "listed"."""
    value = str(getattr(version_status, "value", version_status))
    product = str(getattr(product_status, "value", product_status))
    if value == VersionStatus.LISTED and product in WITHDRAWN_PRODUCT_STATES:
        return product
    return value


# A product's status reason the platform writes (stored in English, shown in the reader's words); a reason an admin
# typed is shown as typed.
SUSPENDED_FOR_OBJECTION = N_("Suspended while an upheld objection is reviewed: %(reason)s")
REINSTATED_AFTER_OBJECTION = N_("Approved again after an upheld objection.")
PRODUCT_REASONS = RecordedText(SUSPENDED_FOR_OBJECTION, REINSTATED_AFTER_OBJECTION)


def product_reason_in_words(reason: str | None) -> str:
    """A product's recorded status reason in the reader's language."""
    return PRODUCT_REASONS.shown(reason)
