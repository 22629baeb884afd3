"""The automated pre-screen: the tedious part of a reviewer's work, as findings filed under checklist items.

It runs as a background job after a submission commits (``review/prescreen_runs.py``; its report, a
``prescreen_report.PrescreenReport``, is kept with the review round) and on demand for the seller. Each finding
passes, fails, or asks a person to look; a report's outcome is its worst finding. It reads every file through the
storage interface as a stream, with a row cap and a cell budget, so a large deliverable costs bounded time and
memory.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, has_app_context

from marketplace.crossborder.rules import UNBOUNDED, Facts, decide
from marketplace.db import utcnow
from marketplace.errors import UnsupportedFile
from marketplace.i18n import N_
from marketplace.listings.inference import infer_dictionary, looks_inferable
from marketplace.listings.models import Asset, ProductVersion
from marketplace.listings.vocab import (
    AssetKind,
    Classification,
    PersonalInfo,
    Portal,
    Prohibition,
    Region,
    Territory,
    UpdateFrequency,
)
from marketplace.places import Place
from marketplace.review import pii
from marketplace.review.checklist import ChecklistItem, PrescreenOutcome
from marketplace.review.licence_rules import check_licences, licence_profile
from marketplace.review.prescreen_report import PARTIAL_CLEAN, Finding, PrescreenReport, ScannedFile
from marketplace.review.prescreen_words import as_stored
from marketplace.storage import Storage

DEFAULT_MAX_ROWS = 200_000
COLUMN_ROWS = 1_000  # rows read to learn a file's columns (JSON keys can appear late)
PASS, REVIEW, FAIL = PrescreenOutcome.PASS, PrescreenOutcome.REVIEW, PrescreenOutcome.FAIL
I = ChecklistItem
MAINLAND_PORTALS = frozenset({Portal.SHANGHAI_PUBLIC_DATA, Portal.SODA, Portal.SHANGHAI_EV})
IDENTIFIER_KINDS = frozenset(pii.PII_KINDS) - {"column_name"}


def _named(file: str, kinds) -> dict:
    return {"file": file, "kinds": list(kinds)}


def _enum(cls, value):
    # Attributes a service just set hold plain strings until the row is reloaded.
    return cls(value) if value else None


def _shown(name: str) -> str:
    """A column or field name as the report shows it. A file without a header row has its first record read as
    the header, so a "column name" can be an identity number or phone number: it is shown masked, like a value."""
    found = pii.scan_text(name)
    return " ".join(found.values()) if found else name


@dataclass
class _FileFacts:
    asset: Asset
    scan: pii.ScanResult | None
    columns: list[str] | None
    columns_error: str | None
    kinds: tuple[str, ...] = ()  # every role the same bytes are uploaded in (sample, deliverable)

    @property
    def name(self) -> str:
        return f"{self.asset.filename} ({', '.join(self.kinds)})"


def _read_file(asset: Asset, storage: Storage, max_rows: int, max_cells: int,
               progress: Callable[[int], None] | None = None) -> _FileFacts:
    if not looks_inferable(asset.filename, asset.content_type):
        return _FileFacts(asset, None, None, None)
    with storage.open(asset.storage_key) as stream:
        scan = pii.scan_file(stream, filename=asset.filename, content_type=asset.content_type, max_rows=max_rows,
                             max_cells=max_cells, progress=progress)
    columns, error = None, None
    try:
        with storage.open(asset.storage_key) as stream:
            result = infer_dictionary(stream, filename=asset.filename, content_type=asset.content_type,
                                      max_rows=COLUMN_ROWS)
        columns = [f.name for f in result.fields]
    except UnsupportedFile as exc:
        error = exc.message
    return _FileFacts(asset, scan, columns, error)


def _configured(key: str, default: int) -> int:
    # The app's setting when there is an app (pages, API, CLI, the worker), else the scanner's default.
    return current_app.config.get(key, default) if has_app_context() else default


def run_prescreen(version: ProductVersion, storage: Storage, *, max_rows: int | None = None,
                  max_cells: int | None = None, progress: Callable[[int], None] | None = None) -> PrescreenReport:
    """Check a version against every automated rule and return the findings, grouped by checklist item.
    Each file's scan reads at most ``max_rows`` rows and ``max_cells`` values (PRESCREEN_MAX_ROWS and
    PRESCREEN_MAX_CELLS by default). ``progress`` is told the rows scanned so far, across files, as the scan goes."""
    by_content: dict[str, list[Asset]] = {}
    for asset in version.assets:  # the same bytes as sample and deliverable are read and reported once
        by_content.setdefault(asset.sha256, []).append(asset)
    files = []
    rows = max_rows or _configured("PRESCREEN_MAX_ROWS", DEFAULT_MAX_ROWS)
    cells = max_cells or _configured("PRESCREEN_MAX_CELLS", pii.MAX_CELLS)
    done = 0
    for same in by_content.values():
        file_progress = (lambda n, before=done: progress(before + n)) if progress else None
        facts = _read_file(same[0], storage, rows, cells, file_progress)
        facts.kinds = tuple(dict.fromkeys(a.kind.value for a in same))
        files.append(facts)
        done += facts.scan.rows_scanned if facts.scan else 0
        if progress:
            progress(done)
    findings = [
        *_source_legality(version), *_personal_information(version, files), *_classification(version),
        *_cross_border(version), *_licence_terms(version), *_quality(version, files),
    ]
    scanned = tuple(
        ScannedFile(f.asset.filename, ", ".join(f.kinds), f.scan.format if f.scan else None,
                    f.scan.rows_scanned if f.scan else 0, f.scan.truncated if f.scan else False,
                    (f.scan.error if f.scan else "not a CSV, JSON or GeoJSON file"),
                    f.scan.total_rows if f.scan else 0, f.scan.total_exact if f.scan else True,
                    f.scan.bytes_read if f.scan and f.scan.truncated else None, f.asset.size)
        for f in files
    )
    return PrescreenReport(tuple(findings), scanned, utcnow())


# ---------------------------------------------------------------- source legality


def _source_legality(version: ProductVersion) -> list[Finding]:
    if not version.sources:
        return [Finding(I.SOURCE_LEGALITY, "sources_cited", FAIL, "No upstream open data source is cited.",
                        text=N_("No upstream open data source is cited."))]
    out = [Finding(I.SOURCE_LEGALITY, "sources_cited", PASS, f"{len(version.sources)} upstream source(s) cited.",
                   text=N_("%(count)s upstream source(s) cited."), values={"count": len(version.sources)})]
    for source in version.sources:
        where = {"source": source.title, "licence_id": source.licence_id}
        problems = check_licences(version.plans, [source.licence_id], source.usage)
        for p in problems:
            out.append(Finding(I.SOURCE_LEGALITY, f"licence_{p.rule}", FAIL if p.outcome == "fail" else REVIEW,
                               f"{source.title}: {p.message}", {**where, "plan": p.plan_name},
                               text=N_("%(source)s: %(problem)s"),
                               values={"source": source.title, "problem": as_stored(p.said) or p.message}))
        if not problems:
            out.append(Finding(I.SOURCE_LEGALITY, "licence_compatible", PASS,
                               f"{source.title}: its licence ({source.licence_id}) allows every plan's terms.", where,
                               text=N_("%(source)s: its licence (%(licence)s) allows every plan's terms."),
                               values={"source": source.title, "licence": source.licence_id}))
        profile = licence_profile(source.licence_id)
        if profile is not None and profile.attribution and not (source.attribution or "").strip():
            out.append(Finding(I.SOURCE_LEGALITY, "attribution_text", REVIEW,
                               f"{source.title}: its licence requires attribution, but no attribution text is given.",
                               where, text=N_("%(source)s: its licence requires attribution, but no attribution text "
                                              "is given."), values={"source": source.title}))
    return out


# ---------------------------------------------------------------- personal information


def _personal_information(version: ProductVersion, files: list[_FileFacts]) -> list[Finding]:
    declared = _enum(PersonalInfo, version.personal_info)
    claims_none = declared in (PersonalInfo.NONE, PersonalInfo.ANONYMISED, None)
    out: list[Finding] = []
    named: set[str] = set()
    rows = 0
    partial: list[tuple] = []  # (name, scope, file, kinds, counts, by cells) of files scanned only in part
    for facts in files:
        name = facts.name
        named_as = {"file": facts.asset.filename, "kinds": list(facts.kinds)}
        if facts.scan is None:
            out.append(Finding(I.PERSONAL_INFORMATION, "file_not_scanned", REVIEW,
                               f"{name} is not a CSV, JSON or GeoJSON file, so it was not scanned: check it by hand.",
                               {"file": facts.asset.filename},
                               text=N_("%(name)s is not a CSV, JSON or GeoJSON file, so it was not scanned: check it "
                                       "by hand."), values=named_as))
            continue
        if facts.scan.error:  # what was read before the error is still reported below
            out.append(Finding(I.PERSONAL_INFORMATION, "file_not_scanned", REVIEW,
                               f"{name} could not be scanned to the end ({facts.scan.error}): check it by hand.",
                               {"file": facts.asset.filename},
                               text=N_("%(name)s could not be scanned to the end (%(error)s): check it by hand."),
                               values={**named_as, "error": facts.scan.error}))
        rows += facts.scan.rows_scanned
        if facts.scan.truncated:
            partial.append((name, facts.scan.scope, facts.asset.filename, facts.kinds,
                            (facts.scan.rows_scanned, facts.scan.total_rows, facts.scan.total_exact),
                            facts.scan.stopped_by == "cells"))
        for hit in facts.scan.findings:
            column = _shown(hit.column)
            details = {"file": facts.asset.filename, "column": column, "kind": hit.kind, "count": hit.count,
                       "example": hit.example}
            if hit.kind == "column_name":
                named.add(hit.column)
                if claims_none:
                    out.append(Finding(I.PERSONAL_INFORMATION, "personal_column_name", REVIEW,
                                       f"{name}: the column \u201c{column}\u201d sounds like personal data; "
                                       f"confirm it holds none.", details,
                                       text=N_("%(name)s: the column \u201c%(column)s\u201d sounds like personal "
                                               "data; confirm it holds none."), values={**named_as, "column": column}))
                continue
            label = pii.KIND_LABELS.get(hit.kind, hit.kind)
            message = f"{name}, column \u201c{column}\u201d: {hit.count} {label}(s), e.g. {hit.example}"
            found = {**named_as, "column": column, "count": hit.count, "pii": hit.kind, "example": hit.example,
                     "declared": declared.value if declared else ""}
            if claims_none:
                out.append(Finding(I.PERSONAL_INFORMATION, "personal_data_found", FAIL,
                                   f"{message}, but the version declares {declared.value if declared else 'nothing'}.",
                                   details, text=N_("%(name)s, column \u201c%(column)s\u201d: %(count)s %(pii)s(s), "
                                                    "e.g. %(example)s, but the version declares %(declared)s."),
                                   values=found))
            else:
                out.append(Finding(I.PERSONAL_INFORMATION, "personal_data_found", REVIEW,
                                   f"{message}; declared as {declared.value}: check the legal basis covers it.",
                                   details, text=N_("%(name)s, column \u201c%(column)s\u201d: %(count)s %(pii)s(s), "
                                                    "e.g. %(example)s; declared as %(declared)s: check the legal "
                                                    "basis covers it."), values=found))
    flagged = [_shown(f.name) for f in version.fields if f.personal_info]
    if flagged and declared == PersonalInfo.NONE:
        out.append(Finding(I.PERSONAL_INFORMATION, "dictionary_personal_fields", FAIL,
                           f"The dictionary marks {', '.join(flagged)} as personal information, but the version "
                           f"declares none.", {"fields": flagged},
                           text=N_("The dictionary marks %(fields)s as personal information, but the version declares "
                                   "none."), values={"fields": ", ".join(flagged)}))
    unflagged = [_shown(n) for n in pii.personal_column_names(f.name for f in version.fields if not f.personal_info)
                 if n not in named]
    if unflagged and claims_none:
        out.append(Finding(I.PERSONAL_INFORMATION, "personal_column_name", REVIEW,
                           f"Dictionary field(s) {', '.join(unflagged)} sound like personal data; confirm they hold "
                           f"none.", {"fields": unflagged},
                           text=N_("Dictionary field(s) %(fields)s sound like personal data; confirm they hold none."),
                           values={"fields": ", ".join(unflagged)}))
    if declared in (PersonalInfo.PERSONAL, PersonalInfo.SENSITIVE) and not (version.legal_basis or "").strip():
        out.append(Finding(I.PERSONAL_INFORMATION, "legal_basis", FAIL,
                           "Personal information is declared but no legal basis is stated.",
                           text=N_("Personal information is declared but no legal basis is stated.")))
    if declared not in (PersonalInfo.NONE, None):
        for plan in version.plans:
            if Prohibition.REIDENTIFICATION not in plan.prohibitions:
                out.append(Finding(I.PERSONAL_INFORMATION, "reidentification_prohibited", FAIL,
                                   f"Plan \u201c{plan.name}\u201d does not prohibit re-identification of "
                                   f"{declared.value} data.", {"plan": plan.name},
                                   text=N_("Plan \u201c%(plan)s\u201d does not prohibit re-identification of "
                                           "%(declared)s data."),
                                   values={"plan": plan.name, "declared": declared.value}))
    if not any(f.outcome != PASS for f in out):
        only = "".join(f"; {name} on {scope} only" for name, scope, *_rest in partial)
        scanned_files = sum(1 for f in files if f.scan and not f.scan.error)
        clean = {"files": scanned_files, "rows": rows, "declared": declared.value if declared else "none",
                 "partial": [[_named(file, kinds), counts] for _name, _scope, file, kinds, counts, _cells in partial]}
        if partial:  # what was scanned is clean, but a file read only in part never passes
            out.append(Finding(I.PERSONAL_INFORMATION, "scan_clean", REVIEW,
                               f"Scanned {scanned_files} file(s), {rows:,} row(s){only}: no personal information "
                               f"found in what was scanned; not checked beyond.",
                               text=PARTIAL_CLEAN, values=clean))
        else:
            out.append(Finding(I.PERSONAL_INFORMATION, "scan_clean", PASS,
                               f"Scanned {scanned_files} file(s), {rows:,} row(s): no personal information found, "
                               f"consistent with the declaration ({declared.value if declared else 'none'}).",
                               text=N_("Scanned %(files)s file(s), %(rows)s row(s): no personal information found, "
                                       "consistent with the declaration (%(declared)s)."), values=clean))
    for name, scope, file, kinds, counts, by_cells in partial:
        cap = "the cell budget" if by_cells else "the row cap"
        out.append(Finding(I.PERSONAL_INFORMATION, "scan_partial", REVIEW,
                           f"{name}: only {scope} were scanned ({cap}); the rows after them were not checked "
                           f"for personal information: check them by hand or scan the file again with a larger "
                           f"limit.", {"file": name, "scope": scope},
                           text=N_("%(name)s: only %(scope)s were scanned (the cell budget); the rows after them were "
                                   "not checked for personal information: check them by hand or scan the file again "
                                   "with a larger limit.") if by_cells else
                           N_("%(name)s: only %(scope)s were scanned (the row cap); the rows after them were not "
                              "checked for personal information: check them by hand or scan the file again with a "
                              "larger limit."),
                           values={"file": file, "kinds": list(kinds), "scope": list(counts)}))
    return out


# ---------------------------------------------------------------- classification and cross-border


def _outside_mainland(version: ProductVersion):
    return [p for p in version.plans if p.territory != Territory.MAINLAND_CHINA]


def _origin_territories(version: ProductVersion) -> set[Territory]:
    """Where the data comes from, as licence territories: a plan licensing use elsewhere moves it across a border."""
    origin = set()
    if Region.HONG_KONG in version.regions or Region.CROSS_CITY in version.regions:
        origin.add(Territory.HONG_KONG)
    if _mainland_origin(version) or Region.CROSS_CITY in version.regions:
        origin.add(Territory.MAINLAND_CHINA)
    return origin


def _classification(version: ProductVersion) -> list[Finding]:
    level = _enum(Classification, version.classification)
    if level == Classification.CORE:
        return [Finding(I.CLASSIFICATION, "core_never_listable", FAIL, "Core data is never listable.",
                        text=N_("Core data is never listable."))]
    if level == Classification.IMPORTANT:
        out = []
        if not (version.classification_reason or "").strip():
            out.append(Finding(I.CLASSIFICATION, "important_reason", FAIL, "Important data needs a stated reason.",
                               text=N_("Important data needs a stated reason.")))
        origin = _origin_territories(version)
        for plan in version.plans:
            if plan.territory not in origin:
                out.append(Finding(I.CLASSIFICATION, "important_cross_border", FAIL,
                                   f"Plan \u201c{plan.name}\u201d offers important data for use outside the "
                                   f"jurisdiction it comes from ({Territory(plan.territory).label}).",
                                   {"plan": plan.name},
                                   text=N_("Plan \u201c%(plan)s\u201d offers important data for use outside the "
                                           "jurisdiction it comes from (%(territory)s)."),
                                   values={"plan": plan.name, "territory": Territory(plan.territory).value}))
        if version.cross_border_transfer:
            out.append(Finding(I.CLASSIFICATION, "important_cross_border", FAIL,
                               "The version declares a cross-border transfer of important data.",
                               text=N_("The version declares a cross-border transfer of important data.")))
        return out or [Finding(I.CLASSIFICATION, "important_contained", PASS,
                               "Important data with a stated reason and no cross-border offer.",
                               text=N_("Important data with a stated reason and no cross-border offer."))]
    if level is None:
        return [Finding(I.CLASSIFICATION, "level_declared", FAIL, "No classification level is declared.",
                        text=N_("No classification level is declared."))]
    return [Finding(I.CLASSIFICATION, "level_declared", PASS, f"Declared {level.label.lower()} data.",
                    text=N_("Declared %(level)s data."), values={"level": level.value})]


def _mainland_origin(version: ProductVersion) -> bool:
    return Region.SHANGHAI in version.regions or any(s.portal in MAINLAND_PORTALS for s in version.sources)


def _collected_in_mainland(version: ProductVersion) -> bool:
    """Where the compliance profile says the data was collected; undeclared (a version stored before it was
    required), personal information is read as collected in the Mainland, other data by its regions and sources."""
    if version.collected_in:
        return Place(version.collected_in).in_mainland
    carries_pi = _enum(PersonalInfo, version.personal_info) in (PersonalInfo.PERSONAL, PersonalInfo.SENSITIVE)
    return carries_pi or _mainland_origin(version)


def _export_facts(version: ProductVersion, territory: Territory) -> Facts:
    """The facts the cross-boundary rules read of one trade of this version for use in ``territory``, by a buyer
    there, before any other trade of the seller this year (each trade is decided again with the seller's count)."""
    personal = _enum(PersonalInfo, version.personal_info) or PersonalInfo.NONE
    seller = version.product.organization.location
    individuals = version.individuals or UNBOUNDED  # personal information without a count weighs as large
    sensitive = personal == PersonalInfo.SENSITIVE
    return Facts(
        classification=_enum(Classification, version.classification) or Classification.GENERAL,
        personal_info=personal, collected_in_mainland=_collected_in_mainland(version), outbound=True,
        within_gba=bool(seller) and Place(seller).in_mainland_gba and territory == Territory.HONG_KONG,
        non_sensitive=0 if sensitive else individuals, sensitive=individuals if sensitive else 0)


def _cross_border(version: ProductVersion) -> list[Finding]:
    """Each plan licensing use outside the Mainland, decided by the cross-boundary rules from the compliance
    profile (personal information, where it was collected, how many individuals): a plan whose trades need a
    mechanism asks a reviewer to look (core data, which no trade may carry, fails under classification)."""
    out: list[Finding] = []
    for plan in _outside_mainland(version):
        if not plan.territory:  # the licence terms' check asks for one
            continue
        territory = Territory(plan.territory)
        rule = decide(_export_facts(version, territory))
        details = {"plan": plan.name, "territory": territory.value, "outcome": rule.outcome.value,
                   "clause": rule.clause}
        if rule.outcome.needs_evidence:
            out.append(Finding(I.CROSS_BORDER, "cross_border_offer", REVIEW,
                               f"Plan “{plan.name}” offers data for use in {territory.label} that needs "
                               f"a {rule.outcome.label.lower()} under {rule.clause}: each trade waits for the "
                               "buyer's evidence of it.", details,
                               text=N_("Plan “%(plan)s” offers data for use in %(territory)s that needs "
                                       "a %(outcome)s under %(clause)s: each trade waits for the buyer's evidence "
                                       "of it."), values=details))
    return out or [Finding(I.CROSS_BORDER, "cross_border_offer", PASS,
                           "No plan offers data that needs a cross-boundary mechanism by itself (a trade may still "
                           "need one once the seller's count of individuals this year reaches a threshold).",
                           text=N_("No plan offers data that needs a cross-boundary mechanism by itself (a trade "
                                   "may still need one once the seller's count of individuals this year reaches "
                                   "a threshold)."))]


# ---------------------------------------------------------------- licence terms


def _licence_terms(version: ProductVersion) -> list[Finding]:
    plans = version.plans
    if not plans:
        return [Finding(I.LICENCE_TERMS, "plans_offered", FAIL, "No pricing plan is offered.",
                        text=N_("No pricing plan is offered."))]
    out: list[Finding] = []
    for name, n in Counter(p.name.strip().lower() for p in plans).items():
        if n > 1:
            out.append(Finding(I.LICENCE_TERMS, "plan_names_unique", FAIL,
                               f"{n} plans are called \u201c{name}\u201d; buyers cannot tell them apart.",
                               text=N_("%(count)s plans are called \u201c%(plan)s\u201d; buyers cannot tell them "
                                       "apart."), values={"count": n, "plan": name}))
    for plan in plans:
        if not plan.permitted_uses or not plan.territory:
            out.append(Finding(I.LICENCE_TERMS, "terms_complete", FAIL,
                               f"Plan \u201c{plan.name}\u201d does not state its permitted uses and territory.",
                               {"plan": plan.name},
                               text=N_("Plan \u201c%(plan)s\u201d does not state its permitted uses and territory."),
                               values={"plan": plan.name}))
    if len({p.attribution_required for p in plans}) > 1:
        out.append(Finding(I.LICENCE_TERMS, "attribution_consistent", REVIEW,
                           "Some plans require attribution and others do not; the sources' attribution duty is the "
                           "same whichever plan a buyer takes.",
                           text=N_("Some plans require attribution and others do not; the sources' attribution duty "
                                   "is the same whichever plan a buyer takes.")))
    free = [p for p in plans if p.amount == 0]
    for paid in (p for p in plans if p.amount > 0):
        for gift in free:
            if set(paid.permitted_uses) <= set(gift.permitted_uses) and gift.territory in (paid.territory,
                                                                                         Territory.WORLDWIDE):
                out.append(Finding(I.LICENCE_TERMS, "plans_consistent", REVIEW,
                                   f"Free plan \u201c{gift.name}\u201d grants everything paid plan "
                                   f"\u201c{paid.name}\u201d sells.", {"plan": paid.name},
                                   text=N_("Free plan \u201c%(free)s\u201d grants everything paid plan "
                                           "\u201c%(paid)s\u201d sells."),
                                   values={"free": gift.name, "paid": paid.name}))
    for exclusive in (p for p in plans if p.licence_cap):
        for other in plans:
            if other is not exclusive and set(other.permitted_uses) & set(exclusive.permitted_uses):
                out.append(Finding(I.LICENCE_TERMS, "exclusivity_consistent", REVIEW,
                                   f"Capped plan \u201c{exclusive.name}\u201d shares uses with plan "
                                   f"\u201c{other.name}\u201d: say what the cap makes exclusive.",
                                   {"plan": exclusive.name},
                                   text=N_("Capped plan \u201c%(capped)s\u201d shares uses with plan "
                                           "\u201c%(other)s\u201d: say what the cap makes exclusive."),
                                   values={"capped": exclusive.name, "other": other.name}))
    return out or [Finding(I.LICENCE_TERMS, "terms_complete", PASS,
                           f"{len(plans)} plan(s) with complete, consistent licence terms.",
                           text=N_("%(count)s plan(s) with complete, consistent licence terms."),
                           values={"count": len(plans)})]


# ---------------------------------------------------------------- quality


def _quality(version: ProductVersion, files: list[_FileFacts]) -> list[Finding]:
    out: list[Finding] = []
    for kind, what, present, absent in (
        (AssetKind.SAMPLE, "sample", N_("A sample file is uploaded."), N_("No sample file is uploaded.")),
        (AssetKind.DELIVERABLE, "deliverable", N_("A deliverable file is uploaded."),
         N_("No deliverable file is uploaded.")),
    ):
        have = any(a.kind == kind for a in version.assets)
        out.append(Finding(I.QUALITY, f"{what}_present", PASS if have else FAIL,
                           f"A {what} file is uploaded." if have else f"No {what} file is uploaded.",
                           text=present if have else absent))
    frequency = _enum(UpdateFrequency, version.update_frequency)
    out.append(Finding(I.QUALITY, "update_frequency", PASS if frequency else FAIL,
                       f"Update frequency: {frequency.label.lower()}." if frequency
                       else "The update frequency is not stated.",
                       text=N_("Update frequency: %(frequency)s.") if frequency
                       else N_("The update frequency is not stated."),
                       values={"frequency": frequency.value} if frequency else {}))
    described = {f.name for f in version.fields}
    seen: set[str] = set()
    for facts in files:
        name = facts.name
        named_as = {"file": facts.asset.filename, "kinds": list(facts.kinds)}
        if facts.columns_error:
            out.append(Finding(I.QUALITY, "dictionary_matches_data", REVIEW,
                               f"The columns of {name} could not be read ({facts.columns_error}).",
                               {"file": facts.asset.filename},
                               text=N_("The columns of %(name)s could not be read (%(error)s)."),
                               values={**named_as, "error": facts.columns_error}))
        if not facts.columns:
            continue
        seen.update(facts.columns)
        missing = [_shown(c) for c in facts.columns if c not in described]
        if missing:
            out.append(Finding(I.QUALITY, "dictionary_covers_columns", FAIL,
                               f"{name} has column(s) the dictionary does not describe: {', '.join(missing)}.",
                               {"file": facts.asset.filename, "columns": missing},
                               text=N_("%(name)s has column(s) the dictionary does not describe: %(columns)s."),
                               values={**named_as, "columns": ", ".join(missing)}))
        else:
            out.append(Finding(I.QUALITY, "dictionary_covers_columns", PASS,
                               f"The dictionary describes every column of {name}.", {"file": facts.asset.filename},
                               text=N_("The dictionary describes every column of %(name)s."), values=named_as))
    if seen:
        extra = [_shown(f) for f in described if f not in seen]
        if extra:
            out.append(Finding(I.QUALITY, "dictionary_fields_in_data", REVIEW,
                               f"Dictionary field(s) found in no uploaded file: {', '.join(sorted(extra))}.",
                               {"fields": sorted(extra)},
                               text=N_("Dictionary field(s) found in no uploaded file: %(fields)s."),
                               values={"fields": ", ".join(sorted(extra))}))
    return out
