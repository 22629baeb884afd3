"""The automated compliance pre-screen: every rule, shown to fire and to stay quiet, on versions built with the
real services (sources, dictionary, files, plans and the compliance profile), never on hand-made findings."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from marketplace.listings import services as listings
from marketplace.listings.assets import delete_asset
from marketplace.review.checklist import ChecklistItem as I
from marketplace.review.checklist import PrescreenOutcome
from marketplace.review.licence_rules import RULES as LICENCE_RULES
from marketplace.review.prescreen import run_prescreen
from marketplace.review.prescreen_report import PrescreenReport
from tests import factories

PASS, REVIEW, FAIL = PrescreenOutcome.PASS, PrescreenOutcome.REVIEW, PrescreenOutcome.FAIL
PRESCREEN_SOURCE = Path(__file__).resolve().parents[2] / "marketplace" / "review" / "prescreen.py"

# Every rule id the pre-screen files, by checklist item; each has tests below that make it fire and stay quiet.
RULES = {
    I.SOURCE_LEGALITY: {"sources_cited", "licence_compatible", "attribution_text",
                        *(f"licence_{r}" for r in LICENCE_RULES)},
    I.PERSONAL_INFORMATION: {"file_not_scanned", "personal_data_found", "personal_column_name",
                             "dictionary_personal_fields", "legal_basis", "reidentification_prohibited",
                             "scan_clean", "scan_partial"},
    I.CLASSIFICATION: {"core_never_listable", "important_reason", "important_cross_border", "important_contained",
                       "level_declared"},
    I.CROSS_BORDER: {"cross_border_offer"},
    I.LICENCE_TERMS: {"plans_offered", "plan_names_unique", "terms_complete", "attribution_consistent",
                      "plans_consistent", "exclusivity_consistent"},
    I.QUALITY: {"sample_present", "deliverable_present", "update_frequency", "dictionary_matches_data",
                "dictionary_covers_columns", "dictionary_fields_in_data"},
}


# ---------------------------------------------------------------- helpers


def resident_id(born: date, seq: int, region: str = "310101") -> str:
    """A valid 18-character mainland resident identity number (GB 11643), computed independently of the scanner:
    weights 2^(17-k) mod 11, check (12 - sum) mod 11, 10 written X."""
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    check = (12 - sum(int(d) * pow(2, 17 - k, 11) for k, d in enumerate(body)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def wrong_check_digit(valid: str) -> str:
    last = valid[-1]
    return valid[:-1] + ("0" if last == "X" else str((int(last) + 1) % 10))


VALID_IDS = [resident_id(date(1960 + i * 7, 1 + i, 3 + i), 100 + i) for i in range(5)]
INVALID_IDS = [wrong_check_digit(v) for v in VALID_IDS]


def csv_bytes(header: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(r) for r in (header, *rows)).encode("utf-8") + b"\n"


def upload(session, storage, seller, version, filename: str, body: bytes, kind: str = "deliverable"):
    return factories.upload(session, storage, seller, version, kind=kind, filename=filename, data=body)


def declare(session, seller, version, **changes):
    """Change the compliance profile (the factory's: no personal information, general, no transfer); personal
    information is collected in Hong Kong from 1,000 people unless said otherwise."""
    if changes.get("personal_info") in ("personal", "sensitive"):
        changes = {"collected_in": "hong_kong", "individuals": 1_000} | changes
    listings.set_compliance(session, seller, version, factories.COMPLIANCE | changes, attest=False,
                            attested_by_name=None)


def cite(session, seller, version, licence_id: str, **changes):
    return listings.add_source(session, seller, version, factories.SOURCE | {
        "title": f"A {licence_id} dataset", "url": f"https://example.org/datasets/{licence_id}",
        "licence_id": licence_id} | changes)


def edit_plan(session, seller, version, **changes):
    """Change the version's first plan (the factory's paid, hong_kong-only "Research licence")."""
    return listings.update_plan(session, seller, version, version.plans[0].id, changes)


def add_plan(session, seller, version, **changes):
    return listings.add_plan(session, seller, version, factories.PLAN | changes)


FREE = {"kind": "free", "amount": 0}


def findings(report: PrescreenReport, rule: str, outcome: PrescreenOutcome | None = None):
    return [f for f in report.findings if f.rule == rule and (outcome is None or f.outcome == outcome)]


def verdicts(report: PrescreenReport, item: I) -> set[tuple[str, PrescreenOutcome]]:
    return {(f.rule, f.outcome) for f in report.findings_for(item)}


def for_source(report: PrescreenReport, licence_id: str) -> set[tuple[str, PrescreenOutcome]]:
    return {(f.rule, f.outcome) for f in report.findings_for(I.SOURCE_LEGALITY)
            if f.details.get("licence_id") == licence_id}


@pytest.fixture
def run(storage):
    return lambda version, **kw: run_prescreen(version, storage, **kw)


# ---------------------------------------------------------------- the rules table itself


def test_every_rule_the_prescreen_files_is_covered_here():
    text = PRESCREEN_SOURCE.read_text(encoding="utf-8")
    literal = set(re.findall(r'Finding\(I\.\w+,\s*"(\w+)"', text))
    templated = re.findall(r'Finding\(I\.\w+,\s*f"([^"]+)"', text)
    assert sorted(templated) == ["licence_{p.rule}", "{what}_present"]  # expanded in RULES
    assert literal | {f"licence_{r}" for r in LICENCE_RULES} | {"sample_present", "deliverable_present"} \
        == set().union(*RULES.values())


def test_a_complete_clean_version_passes_every_item(version, run):
    report = run(version)
    assert report.outcome == PASS
    for item in I:
        assert report.findings_for(item), item
        assert report.outcome_for(item) == PASS
    assert {f.rule for f in report.findings} == {
        "sources_cited", "licence_compatible", "scan_clean", "level_declared", "cross_border_offer", "terms_complete",
        "sample_present", "deliverable_present", "update_frequency", "dictionary_covers_columns"}
    for item, rules in RULES.items():  # every finding is filed under its own item
        assert {f.rule for f in report.findings_for(item)} <= rules


# ---------------------------------------------------------------- source legality


def test_a_version_citing_no_source_fails(session, seller, version, run):
    assert verdicts(run(version), I.SOURCE_LEGALITY) == {("sources_cited", PASS), ("licence_compatible", PASS)}
    listings.remove_source(session, seller, version, version.sources[0].id)
    assert verdicts(run(version), I.SOURCE_LEGALITY) == {("sources_cited", FAIL)}


def test_a_licence_allowing_every_plan_is_compatible(version, run):
    [compatible] = findings(run(version), "licence_compatible")
    assert compatible.outcome == PASS
    assert compatible.details == {"source": factories.SOURCE["title"], "licence_id": "LicenseRef-DATA.GOV.HK-Terms"}


def test_non_commercial_source_cannot_back_a_paid_plan(session, seller, version, run):
    cite(session, seller, version, "CC-BY-NC-4.0")
    report = run(version)
    [finding] = findings(report, "licence_non_commercial")
    assert finding.outcome == FAIL and finding.item == I.SOURCE_LEGALITY
    assert finding.details == {"source": "A CC-BY-NC-4.0 dataset", "licence_id": "CC-BY-NC-4.0",
                               "plan": "Research licence"}
    assert "charges money" in finding.message
    # The other source is judged on its own.
    assert for_source(report, "LicenseRef-DATA.GOV.HK-Terms") == {("licence_compatible", PASS)}

    # A free plan for research only is what a non-commercial licence allows.
    edit_plan(session, seller, version, **FREE, permitted_uses=["research"])
    report = run(version)
    assert not findings(report, "licence_non_commercial")
    assert for_source(report, "CC-BY-NC-4.0") == {("licence_compatible", PASS)}


def test_non_commercial_source_behind_a_free_business_plan_needs_a_reviewer(session, seller, version, run):
    cite(session, seller, version, "CC-BY-NC-4.0")
    edit_plan(session, seller, version, **FREE, permitted_uses=["research", "internal_analysis"])
    [finding] = findings(run(version), "licence_non_commercial")
    assert finding.outcome == REVIEW and "internal_analysis" in finding.message


def test_share_alike_source_needs_a_share_alike_plan(session, seller, version, run):
    cite(session, seller, version, "ODbL-1.0")
    [finding] = findings(run(version), "licence_share_alike")
    assert finding.outcome == FAIL and finding.details["plan"] == "Research licence"
    assert "be marked share-alike" in finding.message

    # Share-alike terms that still forbid resale of a commercial-use source are not enough.
    edit_plan(session, seller, version, share_alike=True)
    [finding] = findings(run(version), "licence_share_alike")
    assert finding.outcome == FAIL and "not prohibit resale" in finding.message
    assert "be marked share-alike" not in finding.message

    edit_plan(session, seller, version, share_alike=True, prohibitions=["reidentification"])
    report = run(version)
    assert not findings(report, "licence_share_alike")
    assert for_source(report, "ODbL-1.0") == {("licence_compatible", PASS)}


def test_no_derivatives_source_fails_under_any_plan(session, seller, version, run):
    cite(session, seller, version, "CC-BY-ND-4.0")
    report = run(version)
    [finding] = findings(report, "licence_no_derivatives")
    assert finding.outcome == FAIL
    assert finding.details == {"source": "A CC-BY-ND-4.0 dataset", "licence_id": "CC-BY-ND-4.0", "plan": None}
    assert ("licence_compatible", PASS) not in for_source(report, "CC-BY-ND-4.0")

    # The same conditions without ND: nothing to say.
    cite(session, seller, version, "CC-BY-4.0")
    report = run(version)
    assert len(findings(report, "licence_no_derivatives")) == 1
    assert for_source(report, "CC-BY-4.0") == {("licence_compatible", PASS)}


def test_attribution_source_needs_plans_requiring_attribution(session, seller, version, run):
    cite(session, seller, version, "CC0-1.0", attribution="")
    edit_plan(session, seller, version, attribution_required=False)
    report = run(version)
    [finding] = findings(report, "licence_attribution")
    assert finding.outcome == FAIL
    assert finding.details == {"source": factories.SOURCE["title"], "licence_id": "LicenseRef-DATA.GOV.HK-Terms",
                               "plan": "Research licence"}
    # A public-domain source asks for no credit (and no attribution text).
    assert for_source(report, "CC0-1.0") == {("licence_compatible", PASS)}

    edit_plan(session, seller, version, attribution_required=True)
    assert not findings(run(version), "licence_attribution")


@pytest.mark.parametrize("licence_id", ["Zlib", "AGPL-1.0"], ids=["outside-the-table", "deprecated-id"])
def test_unknown_licence_goes_to_a_reviewer(session, seller, version, run, licence_id):
    assert not findings(run(version), "licence_unknown_licence")
    cite(session, seller, version, licence_id)
    report = run(version)
    [finding] = findings(report, "licence_unknown_licence")
    assert finding.outcome == REVIEW and finding.details["plan"] is None
    assert for_source(report, licence_id) == {("licence_unknown_licence", REVIEW)}
    assert report.outcome_for(I.SOURCE_LEGALITY) == REVIEW


def test_data_shanghai_terms_behind_a_paid_plan_are_unverified(session, seller, version, run):
    cite(session, seller, version, "LicenseRef-DataShanghai-Terms", portal="shanghai_public_data",
         attribution="来源：上海市公共数据开放平台")
    [finding] = findings(run(version), "licence_unverified_terms")
    assert finding.outcome == REVIEW and finding.details["plan"] == "Research licence"

    edit_plan(session, seller, version, **FREE, permitted_uses=["research"])
    report = run(version)
    assert not findings(report, "licence_unverified_terms")
    assert for_source(report, "LicenseRef-DataShanghai-Terms") == {("licence_compatible", PASS)}


@pytest.mark.parametrize("attribution", ["", "   "])
def test_source_without_attribution_text_needs_a_reviewer(session, seller, version, run, attribution):
    assert not findings(run(version), "attribution_text")
    cite(session, seller, version, "CC-BY-4.0", attribution=attribution)
    [finding] = findings(run(version), "attribution_text")
    assert finding.outcome == REVIEW and finding.details["licence_id"] == "CC-BY-4.0"


# ---------------------------------------------------------------- personal information


def upload_ids(session, storage, seller, version, ids: list[str], column: str = "record"):
    return upload(session, storage, seller, version, "people.csv",
                  csv_bytes([column, "district"], *([v, "Huangpu"] for v in ids)))


def test_identity_numbers_in_data_declared_none_fail_without_revealing_them(session, storage, seller, version, run):
    upload_ids(session, storage, seller, version, VALID_IDS)
    report = run(version)
    [finding] = findings(report, "personal_data_found")
    assert finding.outcome == FAIL and finding.item == I.PERSONAL_INFORMATION
    assert finding.details["file"] == "people.csv" and finding.details["column"] == "record"
    assert finding.details["kind"] == "cn_resident_id" and finding.details["count"] == len(VALID_IDS)
    example = finding.details["example"]
    assert re.fullmatch(r"310101\*{8}[\dX]{4}", example) and example[-4:] in {v[-4:] for v in VALID_IDS}
    assert "declares none" in finding.message and example in finding.message
    assert not findings(report, "scan_clean")
    dumped = json.dumps(report.to_dict(), ensure_ascii=False)
    for raw in VALID_IDS:
        assert raw not in dumped and raw[6:14] not in dumped  # neither the number nor its birth date


def test_identity_numbers_read_as_a_header_stay_masked(session, storage, seller, version, run):
    # A file without a header row has its first record read as the header: that "column name" is an identity
    # number, and the report must not carry it raw either (the personal and the quality findings name columns).
    upload(session, storage, seller, version, "people.csv", csv_bytes(*([v, "Huangpu"] for v in VALID_IDS)))
    report = run(version)
    [finding] = findings(report, "personal_data_found")
    assert finding.details["column"] == VALID_IDS[0][:6] + "*" * 8 + VALID_IDS[0][-4:]
    assert finding.details["count"] == len(VALID_IDS) - 1
    [columns] = findings(report, "dictionary_covers_columns", FAIL)
    assert columns.details["columns"] == [finding.details["column"], "Huangpu"]
    dumped = json.dumps(report.to_dict(), ensure_ascii=False)
    assert not any(raw in dumped or raw[6:14] in dumped for raw in VALID_IDS)


def test_identity_numbers_declared_personal_with_a_legal_basis_go_to_a_reviewer(session, storage, seller, version,
                                                                               run):
    upload_ids(session, storage, seller, version, VALID_IDS)
    declare(session, seller, version, personal_info="personal", legal_basis="Consent under PIPL art. 13(1)")
    report = run(version)
    [finding] = findings(report, "personal_data_found")
    assert finding.outcome == REVIEW and "declared as personal" in finding.message
    assert report.outcome_for(I.PERSONAL_INFORMATION) == REVIEW


def test_identity_numbers_with_wrong_check_digits_are_not_personal_data(session, storage, seller, version, run):
    upload_ids(session, storage, seller, version, INVALID_IDS)
    report = run(version)
    assert verdicts(report, I.PERSONAL_INFORMATION) == {("scan_clean", PASS)}
    [clean] = report.findings_for(I.PERSONAL_INFORMATION)
    # the factory's sample and deliverable are the same bytes (read once, one row), and this file
    assert "2 file(s), 6 row(s)" in clean.message


def test_email_addresses_in_data_declared_none_fail(session, storage, seller, version, run):
    upload(session, storage, seller, version, "feedback.csv",
           csv_bytes(["notes", "score"], ["mail chan.tai.man@example.com.hk", "4"], ["no contact", "5"]))
    [finding] = findings(run(version), "personal_data_found")
    assert finding.outcome == FAIL
    assert {k: finding.details[k] for k in ("column", "kind", "count", "example")} == {
        "column": "notes", "kind": "email", "count": 1, "example": "c***@example.com.hk"}


def test_personal_column_name_declared_none_needs_a_reviewer(session, storage, seller, version, run):
    upload(session, storage, seller, version, "staff.csv", csv_bytes(["姓名", "district"], ["陈大文", "中西区"]))
    [finding] = findings(run(version), "personal_column_name")
    assert finding.outcome == REVIEW
    assert finding.details["column"] == "姓名" and finding.details["kind"] == "column_name"

    declare(session, seller, version, personal_info="personal", legal_basis="Consent")
    report = run(version)
    assert not findings(report, "personal_column_name")
    assert verdicts(report, I.PERSONAL_INFORMATION) == {("scan_clean", PASS)}


def test_personal_sounding_dictionary_field_declared_none_needs_a_reviewer(session, seller, version, run):
    fields = [{"name": "AID_ID_Number", "type": "string"}, {"name": "Latitude", "type": "number"},
              {"name": "contact_phone", "type": "string"}]
    listings.replace_dictionary(session, seller, version, fields)
    [finding] = findings(run(version), "personal_column_name")
    assert finding.outcome == REVIEW and finding.details == {"fields": ["contact_phone"]}

    # Flagged as personal it is the dictionary rule's business instead (below).
    listings.replace_dictionary(session, seller, version, [*fields[:2], {**fields[2], "personal_info": True}])
    assert not findings(run(version), "personal_column_name")


def test_dictionary_field_flagged_personal_contradicts_declaring_none(session, seller, version, run):
    listings.replace_dictionary(session, seller, version, [
        {"name": "AID_ID_Number", "type": "string", "personal_info": True}, {"name": "Latitude", "type": "number"}])
    [finding] = findings(run(version), "dictionary_personal_fields")
    assert finding.outcome == FAIL and finding.details == {"fields": ["AID_ID_Number"]}

    declare(session, seller, version, personal_info="personal", legal_basis="Consent")
    assert not findings(run(version), "dictionary_personal_fields")


@pytest.mark.parametrize("declared", ["personal", "sensitive"])
def test_personal_data_needs_a_legal_basis(session, seller, version, run, declared):
    declare(session, seller, version, personal_info=declared, legal_basis="  ")
    [finding] = findings(run(version), "legal_basis")
    assert finding.outcome == FAIL and finding.item == I.PERSONAL_INFORMATION

    declare(session, seller, version, personal_info=declared, legal_basis="Consent under PIPL art. 13(1)")
    assert not findings(run(version), "legal_basis")


def test_anonymised_data_needs_every_plan_to_prohibit_reidentification(session, seller, version, run):
    edit_plan(session, seller, version, prohibitions=["resale"])
    # Nothing personal declared: nothing to re-identify.
    assert not findings(run(version), "reidentification_prohibited")

    declare(session, seller, version, personal_info="anonymised")
    [finding] = findings(run(version), "reidentification_prohibited")
    assert finding.outcome == FAIL and finding.details == {"plan": "Research licence"}

    edit_plan(session, seller, version, prohibitions=["resale", "reidentification"])
    report = run(version)
    assert not findings(report, "reidentification_prohibited")
    assert verdicts(report, I.PERSONAL_INFORMATION) == {("scan_clean", PASS)}


def test_a_pdf_deliverable_is_not_scanned_and_goes_to_a_reviewer(session, storage, seller, version, run):
    upload(session, storage, seller, version, "report.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    report = run(version)
    [finding] = findings(report, "file_not_scanned")
    assert finding.outcome == REVIEW and finding.details == {"file": "report.pdf"}
    assert "not a CSV, JSON or GeoJSON file" in finding.message
    [pdf] = [f for f in report.files if f.filename == "report.pdf"]
    assert (pdf.kind, pdf.format, pdf.rows_scanned, pdf.error) == ("deliverable", None, 0,
                                                                   "not a CSV, JSON or GeoJSON file")
    assert not findings(report, "dictionary_matches_data")  # its columns were never expected to be read
    assert not findings(report, "scan_clean")


MALFORMED = {
    "csv": ("broken.csv", b'AID_ID_Number,Latitude\nAID01101,"' + b"x" * 140_000 + b'"\n'),
    "json": ("broken.json", b'[{"AID_ID_Number": "AID01101", "Latitude": 22.3}, {"AID_ID_Number": '),
}


@pytest.mark.parametrize("name, body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_file_goes_to_a_reviewer(session, storage, seller, version, run, name, body):
    upload(session, storage, seller, version, name, body)
    report = run(version)
    [finding] = findings(report, "file_not_scanned")
    assert finding.outcome == REVIEW and finding.details == {"file": name}
    assert "could not be scanned to the end" in finding.message
    [scanned] = [f for f in report.files if f.filename == name]
    assert scanned.error
    [columns] = findings(report, "dictionary_matches_data")
    assert columns.outcome == REVIEW and columns.item == I.QUALITY and columns.details == {"file": name}
    assert not findings(report, "scan_clean")


def test_what_was_read_before_a_file_broke_is_still_reported(session, storage, seller, version, run):
    ids = VALID_IDS * 6  # past the rows read to find the header
    body = csv_bytes(["record"], *([v] for v in ids)) + b'"' + b"x" * 140_000 + b'"\n'
    upload(session, storage, seller, version, "partial.csv", body)
    report = run(version)
    assert {f.rule for f in report.findings_for(I.PERSONAL_INFORMATION)} == {"file_not_scanned",
                                                                             "personal_data_found"}
    assert findings(report, "personal_data_found")[0].details["count"] == len(ids)
    [scanned] = [f for f in report.files if f.filename == "partial.csv"]
    assert scanned.rows_scanned == len(ids) and "malformed" in scanned.error


# ---------------------------------------------------------------- classification


def test_core_data_is_never_listable(session, seller, version, run):
    declare(session, seller, version, classification="core")
    assert verdicts(run(version), I.CLASSIFICATION) == {("core_never_listable", FAIL)}


def test_general_data_passes_and_an_undeclared_level_fails(session, seller, version, run):
    [finding] = run(version).findings_for(I.CLASSIFICATION)
    assert (finding.rule, finding.outcome) == ("level_declared", PASS) and "general" in finding.message
    declare(session, seller, version, classification=None)
    assert verdicts(run(version), I.CLASSIFICATION) == {("level_declared", FAIL)}


def test_important_data_needs_a_reason(session, seller, version, run):
    declare(session, seller, version, classification="important", classification_reason=" ")
    assert verdicts(run(version), I.CLASSIFICATION) == {("important_reason", FAIL)}
    declare(session, seller, version, classification="important", classification_reason="Critical road network")
    assert verdicts(run(version), I.CLASSIFICATION) == {("important_contained", PASS)}


@pytest.mark.parametrize("regions, territory, outcome", [
    (["hong_kong"], "hong_kong", PASS),
    (["hong_kong"], "worldwide", FAIL),
    (["hong_kong"], "mainland_china", FAIL),
    (["shanghai"], "mainland_china", PASS),
    (["shanghai"], "hong_kong", FAIL),
    (["cross_city"], "hong_kong", PASS),
    (["cross_city"], "mainland_china", PASS),
])
def test_important_data_stays_in_the_jurisdiction_it_comes_from(session, seller, version, run, regions, territory,
                                                                outcome):
    listings.update_metadata(session, seller, version, {"regions": regions})
    declare(session, seller, version, classification="important", classification_reason="Critical road network")
    edit_plan(session, seller, version, territory=territory)
    report = run(version)
    if outcome == PASS:
        assert verdicts(report, I.CLASSIFICATION) == {("important_contained", PASS)}
    else:
        [finding] = report.findings_for(I.CLASSIFICATION)
        assert (finding.rule, finding.outcome) == ("important_cross_border", FAIL)
        assert finding.details == {"plan": "Research licence"}


def test_important_data_declared_as_crossing_borders_fails(session, seller, version, run):
    declare(session, seller, version, classification="important", classification_reason="Critical road network",
            cross_border_transfer=True)
    [finding] = run(version).findings_for(I.CLASSIFICATION)
    assert (finding.rule, finding.outcome, finding.details) == ("important_cross_border", FAIL, {})


# ---------------------------------------------------------------- cross-border


def shanghai_personal(session, seller, version, individuals=150_000, pi="personal"):
    declare(session, seller, version, personal_info=pi, legal_basis="Consent", collected_in="shanghai",
            individuals=individuals)


@pytest.mark.parametrize("territory", ["worldwide", "hong_kong"])
def test_mainland_personal_data_offered_outside_the_mainland_needs_a_reviewer(session, seller, version, run,
                                                                               territory):
    shanghai_personal(session, seller, version)
    edit_plan(session, seller, version, territory=territory)
    [finding] = run(version).findings_for(I.CROSS_BORDER)
    assert (finding.rule, finding.outcome) == ("cross_border_offer", REVIEW)
    assert finding.details == {"plan": "Research licence", "territory": territory,
                               "outcome": "contract_or_certification", "clause": "Art. 8"}


@pytest.mark.parametrize(("individuals", "pi", "expected"), [
    (99_999, "personal", {("cross_border_offer", PASS)}),
    (100_000, "personal", {("cross_border_offer", REVIEW)}),
    (1, "sensitive", {("cross_border_offer", REVIEW)}),
])
def test_the_flag_reads_the_number_of_individuals(session, seller, version, run, individuals, pi, expected):
    shanghai_personal(session, seller, version, individuals, pi)
    assert verdicts(run(version), I.CROSS_BORDER) == expected


def test_mainland_personal_data_offered_in_the_mainland_passes(session, seller, version, run):
    shanghai_personal(session, seller, version)
    edit_plan(session, seller, version, territory="mainland_china")
    assert verdicts(run(version), I.CROSS_BORDER) == {("cross_border_offer", PASS)}


def test_personal_data_collected_in_hong_kong_passes(session, seller, version, run):
    listings.update_metadata(session, seller, version, {"regions": ["shanghai"]})
    declare(session, seller, version, personal_info="personal", legal_basis="Consent", collected_in="hong_kong",
            individuals=5_000_000)
    edit_plan(session, seller, version, territory="worldwide")
    assert verdicts(run(version), I.CROSS_BORDER) == {("cross_border_offer", PASS)}


def test_a_version_stored_without_its_collection_place_is_read_as_mainland_data(session, seller, version, run):
    shanghai_personal(session, seller, version)
    version.collected_in = None  # stored before the place was required
    [finding] = run(version).findings_for(I.CROSS_BORDER)
    assert (finding.rule, finding.outcome) == ("cross_border_offer", REVIEW)


def test_the_old_yes_no_declaration_is_not_what_the_flag_reads(session, seller, version, run):
    listings.update_metadata(session, seller, version, {"regions": ["shanghai"]})
    edit_plan(session, seller, version, territory="worldwide")
    declare(session, seller, version, cross_border_transfer=False)
    assert verdicts(run(version), I.CROSS_BORDER) == {("cross_border_offer", PASS)}  # no personal information
    shanghai_personal(session, seller, version)
    declare(session, seller, version, personal_info="personal", legal_basis="Consent", collected_in="shanghai",
            individuals=150_000, cross_border_transfer=False)
    assert verdicts(run(version), I.CROSS_BORDER) == {("cross_border_offer", REVIEW)}


# ---------------------------------------------------------------- licence terms


def test_a_version_offering_no_plan_fails(session, seller, version, run):
    listings.remove_plan(session, seller, version, version.plans[0].id)
    assert verdicts(run(version), I.LICENCE_TERMS) == {("plans_offered", FAIL)}


def test_plan_names_must_be_unique(session, seller, version, run):
    add_plan(session, seller, version, name="  research LICENCE ", amount=240000)
    [finding] = findings(run(version), "plan_names_unique")
    assert finding.outcome == FAIL and "research licence" in finding.message

    listings.update_plan(session, seller, version, version.plans[1].id, {"name": "Research licence (2 years)"})
    report = run(version)
    assert not findings(report, "plan_names_unique")
    assert verdicts(report, I.LICENCE_TERMS) == {("terms_complete", PASS)}


def test_plan_without_uses_or_territory_is_incomplete(session, seller, version, run):
    # Arranging a state the services refuse: a plan must grant a use and name a territory.
    version.plans[0].permitted_uses = []
    [finding] = findings(run(version), "terms_complete", FAIL)
    assert finding.details == {"plan": "Research licence"}
    version.plans[0].permitted_uses, version.plans[0].territory = ["research"], None
    assert findings(run(version), "terms_complete", FAIL)
    version.plans[0].territory = "hong_kong"
    assert verdicts(run(version), I.LICENCE_TERMS) == {("terms_complete", PASS)}


def test_attribution_inconsistent_across_plans_needs_a_reviewer(session, seller, version, run):
    add_plan(session, seller, version, name="Commercial licence", amount=500000,
             permitted_uses=["commercial_product"], attribution_required=False)
    [finding] = findings(run(version), "attribution_consistent")
    assert finding.outcome == REVIEW and finding.item == I.LICENCE_TERMS

    listings.update_plan(session, seller, version, version.plans[1].id, {"attribution_required": True})
    assert not findings(run(version), "attribution_consistent")


def test_a_free_plan_granting_everything_a_paid_plan_sells_needs_a_reviewer(session, seller, version, run):
    add_plan(session, seller, version, **FREE, name="Open licence",
             permitted_uses=["research", "internal_analysis", "ai_training"], territory="worldwide")
    [finding] = findings(run(version), "plans_consistent")
    assert finding.outcome == REVIEW and finding.details == {"plan": "Research licence"}
    assert "Open licence" in finding.message


@pytest.mark.parametrize("uses, territory", [
    (["research"], "worldwide"),  # grants less
    (["research", "internal_analysis"], "mainland_china"),  # elsewhere
])
def test_a_free_plan_granting_less_or_elsewhere_is_consistent(session, seller, version, run, uses, territory):
    add_plan(session, seller, version, **FREE, name="Open licence", permitted_uses=uses, territory=territory)
    assert not findings(run(version), "plans_consistent")


def test_a_capped_plan_sharing_uses_with_another_needs_a_reviewer(session, seller, version, run):
    add_plan(session, seller, version, name="Exclusive", amount=9_000_000, licence_cap=1,
             permitted_uses=["commercial_product", "research"])
    [finding] = findings(run(version), "exclusivity_consistent")
    assert finding.outcome == REVIEW and finding.details == {"plan": "Exclusive"}
    assert "Research licence" in finding.message

    listings.update_plan(session, seller, version, version.plans[1].id, {"permitted_uses": ["commercial_product"]})
    report = run(version)
    assert not findings(report, "exclusivity_consistent")
    assert verdicts(report, I.LICENCE_TERMS) == {("terms_complete", PASS)}


# ---------------------------------------------------------------- quality


@pytest.mark.parametrize("kind", ["sample", "deliverable"])
def test_a_missing_sample_or_deliverable_fails(session, storage, seller, version, run, kind):
    assert findings(run(version), f"{kind}_present", PASS)
    [asset] = [a for a in version.assets if a.kind == kind]
    delete_asset(session, storage, seller, version, asset.id)
    report = run(version)
    assert findings(report, f"{kind}_present", FAIL)
    other = "deliverable" if kind == "sample" else "sample"
    assert findings(report, f"{other}_present", PASS)


def test_the_update_frequency_must_be_stated(session, seller, version, run):
    [finding] = findings(run(version), "update_frequency")
    assert finding.outcome == PASS and "hourly" in finding.message
    listings.update_metadata(session, seller, version, {"update_frequency": None})
    assert findings(run(version), "update_frequency", FAIL)


def test_a_column_the_dictionary_does_not_describe_fails(session, storage, seller, version, run):
    upload(session, storage, seller, version, "speeds.csv",
           csv_bytes(["AID_ID_Number", "Latitude", "Speed", "Valid"], ["AID01101", "22.3", "61", "Y"]))
    report = run(version)
    [finding] = findings(report, "dictionary_covers_columns", FAIL)
    assert finding.details == {"file": "speeds.csv", "columns": ["Speed", "Valid"]}
    assert "Speed, Valid" in finding.message
    # the factory's sample and deliverable are one file in two roles: one finding names both
    [same] = findings(report, "dictionary_covers_columns", PASS)
    assert "(sample, deliverable)" in same.message

    listings.replace_dictionary(session, seller, version, [
        {"name": n, "type": "string"} for n in ("AID_ID_Number", "Latitude", "Speed", "Valid")])
    assert verdicts(run(version), I.QUALITY) == {("sample_present", PASS), ("deliverable_present", PASS),
                                                 ("update_frequency", PASS), ("dictionary_covers_columns", PASS)}


def test_a_dictionary_field_found_in_no_file_needs_a_reviewer(session, seller, version, run):
    listings.replace_dictionary(session, seller, version, [
        {"name": n, "type": "string"} for n in ("Speed", "AID_ID_Number", "Latitude", "Occupancy")])
    [finding] = findings(run(version), "dictionary_fields_in_data")
    assert finding.outcome == REVIEW and finding.details == {"fields": ["Occupancy", "Speed"]}


def test_json_file_columns_are_compared_flattened_one_level(session, storage, seller, version, run):
    body = json.dumps([{"station": "CWB", "reading": {"pm25": 12, "no2": 40}},
                       {"station": "KC", "reading": {"pm25": 9, "no2": 31}}]).encode()
    upload(session, storage, seller, version, "air.json", body)
    [finding] = findings(run(version), "dictionary_covers_columns", FAIL)
    assert finding.details == {"file": "air.json", "columns": ["station", "reading.pm25", "reading.no2"]}

    listings.replace_dictionary(session, seller, version, [
        {"name": n, "type": "string"} for n in ("AID_ID_Number", "Latitude", "station", "reading.pm25")])
    [finding] = findings(run(version), "dictionary_covers_columns", FAIL)
    assert finding.details["columns"] == ["reading.no2"]


def test_geojson_file_columns_are_its_properties_and_geometry(session, storage, seller, version, run):
    body = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.17, 22.3]},
         "properties": {"AID_ID_Number": "AID01101", "Latitude": 22.3, "lane_count": 3}}]}).encode()
    upload(session, storage, seller, version, "detectors.geojson", body)
    report = run(version)
    [finding] = findings(report, "dictionary_covers_columns", FAIL)
    assert finding.details == {"file": "detectors.geojson", "columns": ["lane_count", "geometry"]}
    [scanned] = [f for f in report.files if f.filename == "detectors.geojson"]
    assert (scanned.format, scanned.rows_scanned, scanned.error) == ("geojson", 1, None)

    listings.replace_dictionary(session, seller, version, [
        {"name": "AID_ID_Number", "type": "string"}, {"name": "Latitude", "type": "number"},
        {"name": "lane_count", "type": "integer"}, {"name": "geometry", "type": "geometry"}])
    report = run(version)
    assert not findings(report, "dictionary_covers_columns", FAIL)
    assert not findings(report, "dictionary_fields_in_data")  # geometry counts as found in the data


# ---------------------------------------------------------------- the report


def test_the_outcome_is_the_worst_finding(session, seller, version, run):
    assert run(version).outcome == PASS
    cite(session, seller, version, "Zlib")  # a review, nothing failing
    report = run(version)
    assert report.outcome == REVIEW and report.counts()["fail"] == 0
    declare(session, seller, version, classification="core")
    report = run(version)
    assert report.outcome == FAIL and report.counts()["review"] >= 1
    assert PrescreenReport((), (), report.ran_at).outcome == PASS  # nothing found is nothing wrong


def test_counts_tally_every_outcome(session, storage, seller, version, run):
    assert run(version).counts() == {"pass": 10, "review": 0, "fail": 0}
    upload(session, storage, seller, version, "report.pdf", b"%PDF-1.4\n%%EOF\n")
    declare(session, seller, version, classification="core")
    report = run(version)
    counts = report.counts()
    assert list(counts) == ["pass", "review", "fail"]
    assert counts == {o.value: sum(1 for f in report.findings if f.outcome == o) for o in PrescreenOutcome}
    assert counts["review"] == 1 and counts["fail"] == 1 and sum(counts.values()) == len(report.findings)


def test_findings_and_outcomes_per_item(session, storage, seller, version, run):
    upload(session, storage, seller, version, "report.pdf", b"%PDF-1.4\n%%EOF\n")
    declare(session, seller, version, classification="core")
    report = run(version)
    assert report.outcome_for(I.CLASSIFICATION) == FAIL
    assert report.outcome_for(I.PERSONAL_INFORMATION) == REVIEW
    for item in (I.SOURCE_LEGALITY, I.CROSS_BORDER, I.LICENCE_TERMS, I.QUALITY):
        assert report.outcome_for(item) == PASS
    per_item = [f for item in I for f in report.findings_for(item)]
    assert sorted(per_item, key=report.findings.index) == list(report.findings)
    assert all(f.item == item for item in I for f in report.findings_for(item))


def test_the_report_round_trips_through_json(session, storage, seller, version, run):
    upload_ids(session, storage, seller, version, VALID_IDS)
    upload(session, storage, seller, version, "report.pdf", b"%PDF-1.4\n%%EOF\n")
    cite(session, seller, version, "ODbL-1.0")
    edit_plan(session, seller, version, territory="worldwide")
    report = run(version)
    assert report.outcome == FAIL and {f.outcome for f in report.findings} == {PASS, REVIEW, FAIL}
    data = json.loads(json.dumps(report.to_dict()))
    assert data["outcome"] == "fail" and len(data["findings"]) == len(report.findings)
    back = PrescreenReport.from_dict(data)
    assert back.findings == report.findings and back.files == report.files and back.ran_at == report.ran_at
    assert back.outcome == report.outcome and back.counts() == report.counts()
    assert all(isinstance(f.item, I) and isinstance(f.outcome, PrescreenOutcome) for f in back.findings)
    assert back.to_dict() == data


def test_the_row_cap_bounds_the_scan(session, storage, seller, version, run):
    upload_ids(session, storage, seller, version, VALID_IDS)
    report = run(version, max_rows=2)
    [scanned] = [f for f in report.files if f.filename == "people.csv"]
    assert (scanned.rows_scanned, scanned.truncated) == (2, True)
    assert findings(report, "personal_data_found")[0].details["count"] == 2
    [scanned] = [f for f in run(version).files if f.filename == "people.csv"]
    assert (scanned.rows_scanned, scanned.truncated) == (5, False)

