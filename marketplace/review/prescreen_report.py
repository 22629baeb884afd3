"""A pre-screen's report: its findings filed under checklist items, the files it read and how far, and its outcome
in words. A finding keeps its message in English (as stored and as the API gives it) and its catalog id and values,
to be shown in the reader's language (``prescreen_words``)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace.db import utcnow
from marketplace.i18n import N_, in_locale_of
from marketplace.listings.view_helpers import filesize
from marketplace.review.checklist import ChecklistItem, PrescreenOutcome
from marketplace.review.prescreen_words import KIND_WORDS, readable, scope_words

PASS, REVIEW, FAIL = PrescreenOutcome.PASS, PrescreenOutcome.REVIEW, PrescreenOutcome.FAIL
# A clean scan of files read only in part: what was read, never a pass.
PARTIAL_CLEAN = N_("Scanned %(files)s file(s), %(rows)s row(s)%(partial)s: no personal information found in what was "
                   "scanned; not checked beyond.")


@dataclass(frozen=True)
class Finding:
    item: ChecklistItem
    rule: str
    outcome: PrescreenOutcome
    message: str  # in English, as stored and as the API gives it
    details: dict = field(default_factory=dict)
    # The message as a catalog id and its values, to be shown in the reader's language (empty in old reports).
    text: str = ""
    values: dict = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The message in the reader's language."""
        locale = get_locale()
        if not self.text or locale is None or locale.language == "en":
            return self.message
        return _(self.text, **readable(self.values))


@dataclass(frozen=True)
class ScannedFile:
    filename: str
    kind: str
    format: str | None
    rows_scanned: int
    truncated: bool
    error: str | None = None
    total_rows: int | None = None  # rows the file holds; None when not known (a report from before they were counted)
    total_exact: bool = False  # False: the file holds more than total_rows (or than rows_scanned)
    bytes_scanned: int | None = None  # how far into the file the scan read, when it stopped early (if known)
    size: int | None = None  # the file's size in bytes (None in reports from before sizes were kept)

    @property
    def scope(self) -> str:
        """ "" when the whole file was scanned, else "the first 200,000 of 1,234,567 rows" (or "of more than ..."),
        with how much of the file that is when known: "... (about 12.0 MiB of 80.5 MiB)"."""
        if not self.truncated:
            return ""
        rows = scope_words(self.rows_scanned, max(self.total_rows or self.rows_scanned, self.rows_scanned),
                           self.total_exact)
        if self.bytes_scanned and self.size and self.bytes_scanned < self.size:
            return _("%(rows)s (about %(scanned)s of %(size)s)", rows=rows, scanned=filesize(self.bytes_scanned),
                     size=filesize(self.size))
        return rows


@dataclass(frozen=True)
class PrescreenReport:
    findings: tuple[Finding, ...]
    files: tuple[ScannedFile, ...]
    ran_at: datetime

    @property
    def outcome(self) -> PrescreenOutcome:
        return max((f.outcome for f in self.findings), key=lambda o: o.rank, default=PASS)

    def findings_for(self, item: ChecklistItem) -> list[Finding]:
        return [f for f in self.findings if f.item == item]

    def outcome_for(self, item: ChecklistItem) -> PrescreenOutcome:
        return max((f.outcome for f in self.findings_for(item)), key=lambda o: o.rank, default=PASS)

    @property
    def complete(self) -> bool:
        """Whether every file was scanned to its end (none stopped at the row cap)."""
        return not any(f.truncated for f in self.files)

    def summary(self) -> str:
        """The outcome in words, saying what a partial scan covered: "passed", or "scanned the first 200,000 rows
        of 1,234,567 of big.csv (deliverable); not checked beyond, so it needs review" (a partial scan never
        passes)."""
        words = {PASS: N_("passed"), REVIEW: N_("needs review"), FAIL: N_("failed")}
        partial = [_("%(scope)s of %(file)s (%(kinds)s)", scope=f.scope, file=f.filename,
                     kinds=_(", ").join(_(KIND_WORDS.get(k, k)) for k in f.kind.split(", ")))
                   for f in self.files if f.truncated]
        if not partial:
            return _(words[self.outcome])
        scanned = max((f.outcome for f in self.findings if f.rule not in ("scan_partial", "scan_clean")),
                      key=lambda o: o.rank, default=PASS)
        if scanned == FAIL:
            return _("failed on %(files)s; not checked beyond", files="; ".join(partial))
        return _("scanned %(files)s; not checked beyond, so it needs review", files="; ".join(partial))

    def counts(self) -> dict[str, int]:
        counted = Counter(f.outcome.value for f in self.findings)
        return {o.value: counted.get(o.value, 0) for o in PrescreenOutcome}

    def to_dict(self) -> dict:
        with in_locale_of("en"):  # stored and given by the API in English, as the findings' messages are
            summary = self.summary()
        return {
            "outcome": self.outcome.value, "summary": summary, "complete": self.complete,
            "ran_at": self.ran_at.isoformat(),
            "findings": [{**asdict(f), "item": f.item.value, "outcome": f.outcome.value} for f in self.findings],
            "files": [asdict(f) for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PrescreenReport:
        findings = tuple(_partial_never_passes(
            Finding(ChecklistItem(f["item"]), f["rule"], PrescreenOutcome(f["outcome"]), f["message"],
                    f.get("details") or {}, f.get("text") or "", f.get("values") or {}))
            for f in data.get("findings", [])
        )
        ran_at = datetime.fromisoformat(data["ran_at"]) if data.get("ran_at") else utcnow()
        fields_ = {f.name for f in ScannedFile.__dataclass_fields__.values()}
        files = tuple(ScannedFile(**{k: v for k, v in f.items() if k in fields_}) for f in data.get("files", []))
        return cls(findings, files, ran_at)


def _partial_never_passes(finding: Finding) -> Finding:
    """A report stored when a clean partial scan still passed reads as one saved today: what was scanned, for review."""
    if finding.rule != "scan_clean" or finding.outcome != PASS or not finding.values.get("partial"):
        return finding
    with in_locale_of("en"):
        message = _(PARTIAL_CLEAN, **readable(finding.values))
    return Finding(finding.item, finding.rule, REVIEW, message, finding.details, PARTIAL_CLEAN, finding.values)
