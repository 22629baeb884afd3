"""Licence compatibility rules: source licence x plan terms -> findings."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace

import pytest

from marketplace.listings.licences import DATA_DIR, PORTAL_TERMS
from marketplace.review.licence_rules import (
    EXPLICIT_PROFILES,
    LicenceFinding,
    check_licences,
    check_plan,
    licence_profile,
)


@dataclass(frozen=True)
class Plan:
    """A stand-in for PricingPlan: only the attributes the rules read."""

    name: str = "Basic"
    kind: str = "free"
    amount: int = 0
    permitted_uses: tuple = ("research",)
    prohibitions: tuple = ()
    territory: str = "global"
    attribution_required: bool = True
    derivatives_allowed: bool = True
    share_alike: bool = False


PAID = {"kind": "one_time", "amount": 9900, "permitted_uses": ("internal_analysis",)}
SUB_COMMERCIAL = {
    "kind": "subscription", "amount": 50000, "permitted_uses": ("commercial_product", "internal_analysis"),
}
FREE_COMMERCIAL = {"permitted_uses": ("commercial_product",)}
FREE_INTERNAL = {"permitted_uses": ("internal_analysis",)}
FREE_AI = {"permitted_uses": ("research", "ai_training")}
NO_ATTR = {"attribution_required": False}
NO_DERIV = {"derivatives_allowed": False}
SA = {"share_alike": True}

NC_FAIL, NC_REVIEW = ("non_commercial", "fail"), ("non_commercial", "review")
SA_FAIL, ND_FAIL, ATTR_FAIL = ("share_alike", "fail"), ("no_derivatives", "fail"), ("attribution", "fail")
UNKNOWN, UNVERIFIED = ("unknown_licence", "review"), ("unverified_terms", "review")


def terms(*parts: dict, **extra) -> dict:
    out: dict = {}
    for p in parts:
        out.update(p)
    out.update(extra)
    return out


CASES = [
    # Creative Commons: attribution only, incl. older versions, ports and IGO.
    ("CC-BY-4.0", terms(), set()),
    ("CC-BY-4.0", terms(SUB_COMMERCIAL), set()),
    ("CC-BY-4.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("CC-BY-4.0", terms(NO_DERIV, PAID), set()),
    ("CC-BY-3.0-IGO", terms(PAID), set()),
    ("CC-BY-2.5-AU", terms(NO_ATTR, PAID), {ATTR_FAIL}),
    ("CC-BY-1.0", terms(FREE_COMMERCIAL), set()),
    # Non-commercial.
    ("CC-BY-NC-4.0", terms(), set()),
    ("CC-BY-NC-4.0", terms(PAID), {NC_FAIL}),
    ("CC-BY-NC-4.0", terms(FREE_COMMERCIAL), {NC_FAIL}),
    ("CC-BY-NC-4.0", terms(FREE_INTERNAL), {NC_REVIEW}),
    ("CC-BY-NC-4.0", terms(FREE_AI, NO_ATTR), {NC_REVIEW, ATTR_FAIL}),
    ("CC-BY-NC-3.0-DE", terms(SUB_COMMERCIAL, NO_ATTR), {NC_FAIL, ATTR_FAIL}),
    ("CC-BY-NC-1.0", terms(), set()),
    ("CC-BY-NC-2.5", terms(amount=1), {NC_FAIL}),
    # Share-alike.
    ("CC-BY-SA-4.0", terms(), {SA_FAIL}),
    ("CC-BY-SA-4.0", terms(SA), set()),
    ("CC-BY-SA-4.0", terms(SA, SUB_COMMERCIAL), set()),
    ("CC-BY-SA-4.0", terms(SA, NO_DERIV), {SA_FAIL}),
    ("CC-BY-SA-4.0", terms(SA, prohibitions=("redistribution",)), {SA_FAIL}),
    ("CC-BY-SA-4.0", terms(SA, prohibitions=("resale",)), {SA_FAIL}),
    ("CC-BY-SA-4.0", terms(SA, prohibitions=("reidentification",)), set()),
    ("CC-BY-SA-3.0-IGO", terms(SA, PAID), set()),
    ("CC-BY-SA-3.0-IGO", terms(PAID), {SA_FAIL}),
    ("CC-BY-SA-2.1-JP", terms(SA, NO_ATTR), {ATTR_FAIL}),
    ("CC-BY-NC-SA-4.0", terms(SA), set()),
    ("CC-BY-NC-SA-4.0", terms(SA, prohibitions=("resale",)), set()),  # NC already forbids commercial resale
    ("CC-BY-NC-SA-4.0", terms(SA, PAID), {NC_FAIL}),
    ("CC-BY-NC-SA-4.0", terms(PAID, prohibitions=("redistribution",)), {NC_FAIL, SA_FAIL}),
    ("CC-BY-NC-SA-2.0-UK", terms(SA, FREE_INTERNAL), {NC_REVIEW}),
    # No derivatives: the product always transforms the source.
    ("CC-BY-ND-4.0", terms(), {ND_FAIL}),
    ("CC-BY-ND-4.0", terms(NO_DERIV, prohibitions=("redistribution", "resale")), {ND_FAIL}),
    ("CC-BY-ND-2.0", terms(PAID), {ND_FAIL}),
    ("CC-BY-NC-ND-2.0", terms(PAID), {ND_FAIL, NC_FAIL}),
    ("CC-BY-NC-ND-3.0-IGO", terms(NO_ATTR), {ND_FAIL, ATTR_FAIL}),
    # Public domain.
    ("CC0-1.0", terms(SUB_COMMERCIAL, NO_ATTR, NO_DERIV, prohibitions=("resale", "redistribution")), set()),
    ("CC-PDDC", terms(PAID, NO_ATTR), set()),
    ("CC-PDM-1.0", terms(PAID, NO_ATTR), set()),
    ("PDDL-1.0", terms(NO_ATTR, FREE_COMMERCIAL), set()),
    # Open Data Commons.
    ("ODC-By-1.0", terms(PAID), set()),
    ("ODC-By-1.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("ODbL-1.0", terms(PAID), {SA_FAIL}),
    ("ODbL-1.0", terms(SA, SUB_COMMERCIAL), set()),
    ("ODbL-1.0", terms(SA, NO_ATTR, prohibitions=("redistribution",)), {SA_FAIL, ATTR_FAIL}),
    ("DbCL-1.0", terms(SA), {UNKNOWN}),  # not in the shipped SPDX list
    # Government licences.
    ("OGL-UK-3.0", terms(SUB_COMMERCIAL), set()),
    ("OGL-UK-2.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("OGL-UK-1.0", terms(PAID), set()),
    ("OGL-Canada-2.0", terms(NO_ATTR, PAID), {ATTR_FAIL}),
    ("OGDL-Taiwan-1.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("etalab-2.0", terms(SUB_COMMERCIAL), set()),
    ("DL-DE-BY-2.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("DL-DE-ZERO-2.0", terms(NO_ATTR, SUB_COMMERCIAL), set()),
    ("NLOD-2.0", terms(PAID), set()),
    ("NLOD-1.0", terms(NO_ATTR), {ATTR_FAIL}),
    # Data licence agreements.
    ("CDLA-Permissive-1.0", terms(PAID), set()),
    ("CDLA-Permissive-2.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("CDLA-Sharing-1.0", terms(SA, PAID), set()),
    ("CDLA-Sharing-1.0", terms(SA, prohibitions=("resale",)), {SA_FAIL}),
    ("O-UDA-1.0", terms(SUB_COMMERCIAL), set()),
    ("O-UDA-1.0", terms(NO_ATTR), {ATTR_FAIL}),
    ("C-UDA-1.0", terms(SA, PAID), {UNVERIFIED}),
    ("C-UDA-1.0", terms(SA), set()),
    ("C-UDA-1.0", terms(), {SA_FAIL}),
    # Portal terms.
    ("LicenseRef-DATA.GOV.HK-Terms", terms(SUB_COMMERCIAL), set()),
    ("LicenseRef-DATA.GOV.HK-Terms", terms(NO_ATTR), {ATTR_FAIL}),
    ("LicenseRef-DataShanghai-Terms", terms(PAID), {UNVERIFIED}),
    ("LicenseRef-DataShanghai-Terms", terms(), set()),
    ("LicenseRef-DataShanghai-Terms", terms(FREE_COMMERCIAL, NO_ATTR), {UNVERIFIED, ATTR_FAIL}),
    ("LicenseRef-SODA-Data-Licence", terms(SUB_COMMERCIAL), {UNVERIFIED}),
    ("LicenseRef-SODA-Data-Licence", terms(FREE_INTERNAL), set()),
    # Software licences cited for data.
    ("MIT", terms(SUB_COMMERCIAL), set()),
    ("MIT", terms(NO_ATTR), {ATTR_FAIL}),
    ("Apache-2.0", terms(NO_ATTR, PAID), {ATTR_FAIL}),
    ("BSD-2-Clause", terms(NO_ATTR), {ATTR_FAIL}),
    ("BSD-3-Clause", terms(PAID), set()),
    ("ISC", terms(NO_ATTR), {ATTR_FAIL}),
    ("Unlicense", terms(NO_ATTR, PAID), set()),
    ("0BSD", terms(NO_ATTR, SUB_COMMERCIAL), set()),
    # Copyleft software licences cited for data: the work and its copies stay under the same licence.
    ("GPL-3.0-only", terms(), {SA_FAIL}),
    ("AGPL-3.0-or-later", terms(PAID, NO_ATTR), {SA_FAIL, ATTR_FAIL}),
    ("MPL-2.0", terms(SA), set()),
    ("LGPL-2.1-or-later", terms(), {SA_FAIL}),
    ("GPL-2.0", terms(), {SA_FAIL}),  # deprecated SPDX id, read as its successor GPL-2.0-only
    ("LGPL-2.1+", terms(), {SA_FAIL}),  # deprecated, read as LGPL-2.1-or-later
    ("CC-SA-1.0", terms(SA, NO_ATTR), set()),
    # Unknown: deprecated with no successor here, non-existent, wrong case, empty, garbage.
    ("AGPL-1.0", terms(), {UNKNOWN}),
    ("CC-BY-9.0", terms(), {UNKNOWN}),
    ("cc-by-4.0", terms(), {UNKNOWN}),
    ("", terms(PAID), {UNKNOWN}),
    ("not a licence; DROP TABLE", terms(), {UNKNOWN}),
]


@pytest.mark.parametrize(("licence_id", "plan_terms", "expected"), CASES,
                         ids=[f"{c[0] or 'empty'}-{i}" for i, c in enumerate(CASES)])
def test_rules_table(licence_id, plan_terms, expected):
    findings = check_plan(Plan(**plan_terms), licence_id)
    assert {(f.rule, f.outcome) for f in findings} == expected
    assert len(findings) == len(expected)
    for f in findings:
        assert f.licence_id == licence_id
        assert f.message.endswith(".")
        if licence_id:
            assert licence_id in f.message
        if f.plan_name is not None:
            assert f.plan_name == "Basic" and '"Basic"' in f.message


def _spdx_ids() -> dict[str, bool]:
    with open(DATA_DIR / "licences" / "spdx-licenses.json", encoding="utf-8") as fh:
        return {item["licenseId"]: item.get("isDeprecatedLicenseId", False) for item in json.load(fh)["licenses"]}


def test_explicit_table_ids_exist():
    spdx, portal = _spdx_ids(), {t.id for t in PORTAL_TERMS}
    for licence_id, profile in EXPLICIT_PROFILES.items():
        assert profile.licence_id == licence_id
        assert licence_id in portal or spdx.get(licence_id) is False, licence_id
        assert licence_profile(licence_id) == profile
        assert profile.note
    assert portal <= set(EXPLICIT_PROFILES)


def test_every_creative_commons_by_id_resolves():
    cc_ids = [i for i, deprecated in _spdx_ids().items() if i.startswith("CC-BY-") and not deprecated]
    assert len(cc_ids) > 40
    for licence_id in cc_ids:
        profile = licence_profile(licence_id)
        assert profile is not None, licence_id
        assert profile.attribution
        assert profile.commercial is ("-NC" not in licence_id)
        assert profile.share_alike is ("-SA" in licence_id)
        assert profile.derivatives is ("-ND" not in licence_id)


@pytest.mark.parametrize("licence_id", [None, "", " CC-BY-4.0", "AGPL-1.0", "eCos-2.0", "LicenseRef-Other"])
def test_unknown_profiles(licence_id):
    assert licence_profile(licence_id) is None


@pytest.mark.parametrize(("deprecated", "successor"), [
    ("GPL-2.0", "GPL-2.0-only"), ("GPL-2.0+", "GPL-2.0-or-later"), ("GPL-3.0", "GPL-3.0-only"),
    ("AGPL-3.0", "AGPL-3.0-only"), ("LGPL-2.1", "LGPL-2.1-only"), ("LGPL-3.0+", "LGPL-3.0-or-later"),
])
def test_a_deprecated_gnu_id_reads_as_its_successor(deprecated, successor):
    """The same licence gets the same verdict under its old SPDX id as under the id that replaced it."""
    old, new = licence_profile(deprecated), licence_profile(successor)
    assert old.licence_id == deprecated and successor in old.note
    assert (old.commercial, old.share_alike, old.derivatives, old.attribution, old.terms_travel,
            old.software_copyleft) == (new.commercial, new.share_alike, new.derivatives, new.attribution,
                                       new.terms_travel, new.software_copyleft)
    for plan in (Plan(name="Pro"), Plan(name="Open", share_alike=True)):
        assert [(f.rule, f.outcome) for f in check_plan(plan, deprecated)] == [
            (f.rule, f.outcome) for f in check_plan(plan, successor)]


def test_source_findings_have_no_plan_and_plan_findings_name_it():
    unknown = check_plan(Plan(name="Pro"), "Foo-1.0")
    assert unknown == [LicenceFinding("unknown_licence", "review", "Foo-1.0", None, unknown[0].message)]
    nd = check_plan(Plan(name="Pro", attribution_required=False), "CC-BY-ND-4.0")
    assert [(f.rule, f.plan_name) for f in nd] == [("no_derivatives", None), ("attribution", "Pro")]
    assert "transforms" in nd[0].message
    empty = check_plan(Plan(), "")
    assert "no licence id" in empty[0].message


def test_plan_without_share_alike_attribute_and_enum_values():
    from marketplace.listings.vocab import PermittedUse, Prohibition

    @dataclass
    class OldPlan:  # before the share_alike column exists
        name: str = "Legacy"
        amount: int = 0
        permitted_uses: tuple = (PermittedUse.COMMERCIAL_PRODUCT,)
        prohibitions: tuple = (Prohibition.REDISTRIBUTION,)
        attribution_required: bool = True
        derivatives_allowed: bool = True

    assert {f.rule for f in check_plan(OldPlan(), "CC-BY-NC-SA-4.0")} == {"non_commercial", "share_alike"}
    sa = next(f for f in check_plan(OldPlan(), "ODbL-1.0"))
    assert "be marked share-alike" in sa.message and "not prohibit redistribution" in sa.message


def test_real_pricing_plan():
    from marketplace.listings.models import PricingPlan
    from marketplace.listings.vocab import PlanKind

    plan = PricingPlan(name="Annual", kind=PlanKind.SUBSCRIPTION, amount=120000, permitted_uses=["internal_analysis"],
                       prohibitions=["resale"], territory="global", attribution_required=True,
                       derivatives_allowed=True)
    assert [(f.rule, f.outcome) for f in check_plan(plan, "CC-BY-NC-4.0")] == [NC_FAIL]
    assert check_plan(plan, "LicenseRef-DATA.GOV.HK-Terms") == []


def test_check_licences_dedups_and_is_order_stable():
    plans = [Plan(name="Free"), Plan(name="Paid", **PAID), Plan(name="NoCredit", attribution_required=False)]
    licences = ["CC-BY-NC-4.0", "Foo-1.0", "CC-BY-ND-4.0", "CC-BY-NC-4.0", "LicenseRef-SODA-Data-Licence", "Foo-1.0"]
    result = check_licences(plans, licences)

    assert len(result) == len(set(result))
    pairs = {f for p, lid in itertools.product(plans, licences) for f in check_plan(p, lid)}
    assert set(result) == pairs
    assert sum(f.rule == "unknown_licence" for f in result) == 1
    assert sum(f.rule == "no_derivatives" for f in result) == 1
    # Fails first, then reviews; the same output whatever the input order.
    outcomes = [f.outcome for f in result]
    assert outcomes == sorted(outcomes, key=lambda o: o != "fail")
    for perm_plans in itertools.permutations(plans):
        assert check_licences(list(perm_plans), list(reversed(licences))) == result
    # Duplicate plans add nothing.
    assert check_licences(plans + [replace(plans[1])], licences) == result


def test_check_licences_reports_source_findings_without_plans():
    assert [(f.rule, f.licence_id) for f in check_licences([], ["CC-BY-4.0", "", "CC-BY-ND-3.0"])] == [
        ("no_derivatives", "CC-BY-ND-3.0"), ("unknown_licence", ""),
    ]
    assert check_licences([Plan()], []) == []
