"""Lifecycles of products and versions: the one table of allowed moves each, and the one guard."""
from __future__ import annotations

import enum

from marketplace.errors import InvalidTransition


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    LISTED = "listed"
    SUPERSEDED = "superseded"


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"          # never listed
    LISTED = "listed"
    SUSPENDED = "suspended"  # hidden, licences kept
    DELISTED = "delisted"


class VersionAction(enum.StrEnum):
    SUBMIT = "submit"
    CLAIM = "claim"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REJECT = "reject"
    LIST = "list"
    SUPERSEDE = "supersede"


# (from, action) -> to. Who may act is checked by the service performing the move.
VERSION_TRANSITIONS: dict[tuple[VersionStatus, VersionAction], VersionStatus] = {
    (VersionStatus.DRAFT, VersionAction.SUBMIT): VersionStatus.SUBMITTED,
    (VersionStatus.CHANGES_REQUESTED, VersionAction.SUBMIT): VersionStatus.SUBMITTED,
    (VersionStatus.SUBMITTED, VersionAction.CLAIM): VersionStatus.IN_REVIEW,
    (VersionStatus.IN_REVIEW, VersionAction.REQUEST_CHANGES): VersionStatus.CHANGES_REQUESTED,
    (VersionStatus.IN_REVIEW, VersionAction.APPROVE): VersionStatus.APPROVED,
    (VersionStatus.IN_REVIEW, VersionAction.REJECT): VersionStatus.REJECTED,
    (VersionStatus.APPROVED, VersionAction.LIST): VersionStatus.LISTED,
    (VersionStatus.LISTED, VersionAction.SUPERSEDE): VersionStatus.SUPERSEDED,
}

# States in which the seller may still change a version's content.
EDITABLE_VERSION_STATES = frozenset({VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED})

# States of a product's latest version after which the seller may open a new version.
NEW_VERSION_AFTER_STATES = frozenset({
    VersionStatus.APPROVED, VersionStatus.LISTED, VersionStatus.REJECTED, VersionStatus.SUPERSEDED,
})


def next_version_status(current: VersionStatus, action: VersionAction) -> VersionStatus:
    """The state ``action`` leads to from ``current``; InvalidTransition if the table has no such move."""
    try:
        return VERSION_TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"Cannot {action.value.replace('_', ' ')} a version that is {current.value.replace('_', ' ')}."
        ) from None
