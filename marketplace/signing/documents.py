"""The kinds of signed documents the platform issues, each registered by the package that issues it: licensing's
licence certificates and transaction vouchers, assessments' reports, review's registration certificates.

A document is ``{"<field>": statement, "signature": {...}}``; its outer field names its kind, and the statement's
``type`` and ``version`` must agree with it, so one kind never passes for another. Verification
(``licensing.certificates``) finds the kind here by the field and asks it for the record issued under the
statement's serial, that record's document, the words of each outcome and what the record is worth today, so that
it imports none of the issuing packages.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DocumentKind:
    """One kind of signed document, as verification needs it. The ``*_words`` give each outcome in the reader's
    language (called when the outcome is written)."""

    field: str                                 # the document's outer field: "certificate", "voucher" ...
    type: str                                  # the signed statement's "type" and "version"
    version: int
    serial_field: str                          # the statement's field holding its serial ("serial", "number")
    find: Callable[[Session, str], Any]        # the record issued under a serial, or None
    document: Callable[[Any], dict]            # the record's signed document as issued
    status: Callable[[Session, Any], str]      # what the record is worth today ("active", "valid", "signed" ...)
    changed_words: Callable[[], str]           # the signature does not match the statement
    unknown_words: Callable[[], str]           # signed, but a statement type this verifier does not know
    valid_words: Callable[[str], str]          # the signature is valid (given the key id)
    not_issued_words: Callable[[], str]        # validly signed, but nothing was issued here under its serial
    differs_words: Callable[[], str]           # validly signed, but not what is on record under its serial
    matches_words: Callable[[Session, Any, str], str]  # on record (given the signature's words)


KINDS: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> DocumentKind:
    """Add a kind of signed document (at import of the package issuing it); registering a field again replaces it."""
    KINDS[kind.field] = kind
    return kind
