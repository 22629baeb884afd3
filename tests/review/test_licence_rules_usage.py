"""How a product uses a source (verbatim copy, unaltered subset, derived work) in the licence rules, from the rules
themselves to the pre-screen of a version built with the real services."""
from __future__ import annotations

import pytest

from marketplace.listings import services as listings
from marketplace.listings.vocab import SourceUsage
from marketplace.review.checklist import ChecklistItem as I
from marketplace.review.checklist import PrescreenOutcome
from marketplace.review.licence_rules import check_licences, check_plan
from marketplace.review.prescreen import run_prescreen
from tests import factories
from tests.review.test_licence_rules_cases import PLANS


def rules(plan: str, licence_id: str, usage) -> set[tuple[str, str]]:
    return {(f.rule, f.outcome) for f in check_plan(PLANS[plan], licence_id, usage)}


@pytest.mark.parametrize("usage", [None, "", "rewritten", SourceUsage.DERIVED, "derived"])
def test_a_missing_or_unknown_usage_reads_as_derived(usage):
    assert rules("paid_open_nd", "CC-BY-ND-4.0", usage) == {("no_derivatives", "fail")}


@pytest.mark.parametrize("usage", [SourceUsage.VERBATIM, "verbatim"])
def test_usage_as_enum_or_value(usage):
    assert rules("paid_open_nd", "CC-BY-ND-4.0", usage) == set()


def test_no_derivatives_turns_on_the_usage():
    derived = check_plan(PLANS["paid_open_nd"], "CC-BY-ND-4.0")
    assert [f.plan_name for f in derived] == [None] and "transforms" in derived[0].message
    [subset] = check_plan(PLANS["paid_open_nd"], "CC-BY-ND-4.0", "subset")
    assert (subset.outcome, subset.plan_name) == ("review", None) and "whole, unaltered" in subset.message
    # A verbatim copy sold with restrictions: charging is fine, the restrictions are not.
    [restricted] = check_plan(PLANS["paid_restricted_nd"], "CC-BY-ND-4.0", "verbatim")
    assert (restricted.rule, restricted.outcome) == ("source_terms", "fail")
    assert "s.2(a)(5)(C)" in restricted.message and "charging for the copy is allowed" in restricted.message
    assert "not prohibit redistribution and not prohibit resale" in restricted.message


def test_the_plans_derivatives_are_what_the_buyer_may_do():
    [finding] = check_plan(PLANS["paid_open"], "CC-BY-ND-4.0", "verbatim")
    assert (finding.rule, finding.outcome, finding.plan_name) == ("no_derivatives", "fail", "paid_open")
    assert "must not allow derivatives" in finding.message
    # A licence that allows derivatives makes a plan forbidding them a restriction on a copy, not on a derived work.
    assert rules("paid_open_nd", "CC-BY-4.0", "derived") == set()
    assert rules("paid_open_nd", "CC-BY-4.0", "verbatim") == {("source_terms", "fail")}


def test_share_alike_binds_copies_and_derived_works_for_different_reasons():
    [derived] = check_plan(PLANS["paid_open"], "ODbL-1.0", "derived")
    [copy] = check_plan(PLANS["paid_open"], "ODbL-1.0", "verbatim")
    assert derived.rule == copy.rule == "share_alike" and derived.outcome == copy.outcome == "fail"
    assert "derived from the source" in derived.message
    assert "verbatim copy of the source under ODbL-1.0 itself" in copy.message


def test_copyleft_software_licences_get_a_definite_verdict():
    [gpl] = check_plan(PLANS["paid_internal"], "GPL-3.0-only", "derived")
    assert (gpl.rule, gpl.outcome) == ("share_alike", "fail")
    assert "GPL-3.0-only s.10" in gpl.message and "be marked share-alike" in gpl.message
    assert "GPL-2.0-only s.6" in check_plan(PLANS["paid_internal"], "GPL-2.0-only")[0].message
    assert rules("paid_share_alike", "GPL-3.0-only", "verbatim") == set()
    assert rules("paid_share_alike", "AGPL-3.0-or-later", "derived") == {("copyleft_source", "review")}
    # MPL-2.0 is file-level: whether a derived table modifies the covered files is for a person.
    [mpl] = check_plan(PLANS["paid_internal"], "MPL-2.0", "derived")
    assert mpl.outcome == "review" and "s.3.3" in mpl.message
    assert rules("paid_internal", "MPL-2.0", "subset") == {("share_alike", "fail")}


def test_check_licences_passes_the_usage_to_every_pair():
    plans = [PLANS["paid_open_nd"], PLANS["paid_restricted_nd"]]
    assert [(f.rule, f.outcome, f.plan_name) for f in check_licences(plans, ["CC-BY-ND-4.0"], "verbatim")] == [
        ("source_terms", "fail", "paid_restricted_nd")]
    assert [(f.rule, f.plan_name) for f in check_licences(plans, ["CC-BY-ND-4.0"])] == [("no_derivatives", None)]


# ---------------------------------------------------------------- the pre-screen reads each source's usage


@pytest.fixture
def run(storage):
    return lambda version: run_prescreen(version, storage)


def for_source(report, title: str) -> set[tuple[str, PrescreenOutcome]]:
    return {(f.rule, f.outcome) for f in report.findings_for(I.SOURCE_LEGALITY) if f.details.get("source") == title}


def test_prescreen_judges_each_source_by_its_own_usage(session, seller, version, run):
    plan = version.plans[0]  # the factory's paid plan: resale prohibited, Hong Kong only, a year
    listings.update_plan(session, seller, version, plan.id, {"derivatives_allowed": False, "prohibitions": []})
    base = factories.SOURCE | {"licence_id": "CC-BY-ND-4.0", "attribution": "Source: example"}
    listings.add_source(session, seller, version, base | {"title": "Copied", "url": "https://example.org/a",
                                                          "usage": "verbatim"})
    listings.add_source(session, seller, version, base | {"title": "Transformed", "url": "https://example.org/b",
                                                          "usage": "derived"})
    report = run(version)
    assert for_source(report, "Transformed") == {("licence_no_derivatives", PrescreenOutcome.FAIL)}
    # The copy is not a derivative; the plan's Hong Kong territory, end date and narrow uses are for a person.
    assert for_source(report, "Copied") == {("licence_source_terms", PrescreenOutcome.REVIEW)}
    [copied] = [f for f in report.findings_for(I.SOURCE_LEGALITY) if f.details.get("source") == "Copied"]
    assert "limits the territory to Hong Kong" in copied.message and "leaves out AI / model training" in copied.message


def test_demo_usages_name_cited_sources():
    from marketplace.demo_catalog import PRODUCTS

    said = 0
    for product in PRODUCTS:
        cited = [*product.get("hk", []), *product.get("sh", []), *product.get("other", [])]
        for key, usage in product.get("usage", {}).items():
            assert key in cited and SourceUsage(usage) is not SourceUsage.DERIVED, (product["key"], key)
            said += 1
    assert said >= 4
