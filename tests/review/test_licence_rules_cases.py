"""The licence case table (licence_cases.csv): source licence x how the product uses it x plan shape -> the findings
the rules must give. Each row's expected column is "pass" or "<outcome> <rule>" items separated by ";"."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from marketplace.listings.vocab import SourceUsage
from marketplace.review.licence_rules import RULES, check_plan
from tests.support.report import report

CASES = Path(__file__).with_name("licence_cases.csv")
ALL_USES = ("internal_analysis", "commercial_product", "research", "ai_training")
NON_COMMERCIAL_USES = ("internal_analysis", "research", "ai_training")


@dataclass(frozen=True)
class Plan:
    """The plan attributes the rules read, as PricingPlan has them."""

    name: str
    amount: int = 0
    permitted_uses: tuple = ALL_USES
    prohibitions: tuple = ()
    territory: str = "worldwide"
    duration_days: int | None = None
    attribution_required: bool = True
    derivatives_allowed: bool = True
    share_alike: bool = False


PLANS = {p.name: p for p in (
    Plan("open_free"),
    Plan("free_research", permitted_uses=("research",)),
    Plan("free_nd_research", permitted_uses=("research",), derivatives_allowed=False),
    Plan("free_share_alike", permitted_uses=("research",), share_alike=True),
    # The usual proprietary product: paid, internal use, no passing on.
    Plan("paid_internal", amount=9900, permitted_uses=("internal_analysis",), territory="hong_kong",
         prohibitions=("resale", "redistribution")),
    Plan("paid_open", amount=9900),
    Plan("paid_open_nd", amount=9900, derivatives_allowed=False),
    Plan("paid_restricted_nd", amount=9900, permitted_uses=("internal_analysis",), derivatives_allowed=False,
         prohibitions=("resale", "redistribution")),
    Plan("paid_share_alike", amount=50000, share_alike=True),
    Plan("paid_no_attribution", amount=9900, attribution_required=False),
)}


def _rows() -> list[dict]:
    with open(CASES, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _expected(text: str) -> set[tuple[str, str]]:
    if text.strip() == "pass":
        return set()
    return {(rule, outcome) for outcome, rule in (item.split() for item in text.split(";"))}


def test_licence_case_table_is_well_formed():
    rows = _rows()
    assert len(rows) >= 40
    usages = {u.value for u in SourceUsage} | {""}
    for row in rows:
        assert row["usage"] in usages and row["plan"] in PLANS and row["why"].strip(), row
        for rule, outcome in _expected(row["expected"]):
            assert rule in RULES and outcome in ("fail", "review"), row
    # Every usage, every plan shape and every outcome is exercised.
    assert {r["usage"] for r in rows} == usages
    assert {r["plan"] for r in rows} == set(PLANS)
    assert {"pass", "fail", "review"} <= {r["expected"].split()[0] for r in rows}


def test_every_licence_case_agrees():
    rows = _rows()
    disagree = []
    for n, row in enumerate(rows, start=2):  # line numbers in the file, after the header
        findings = check_plan(PLANS[row["plan"]], row["licence_id"], row["usage"] or None)
        got = {(f.rule, f.outcome) for f in findings}
        if got != _expected(row["expected"]) or len(findings) != len(got):
            shown = "; ".join(f"{o} {r}" for r, o in sorted(got)) or "pass"
            disagree.append(f"line {n}: {row['licence_id'] or '(none)'} {row['usage'] or '(none)'} {row['plan']}: "
                            f"expected {row['expected']}, got {shown}")
        for f in findings:
            assert f.message.endswith("."), f
            if row["licence_id"]:
                assert row["licence_id"] in f.message, f
    report(f"licence cases: {len(rows) - len(disagree)}/{len(rows)} agree")
    assert not disagree, "\n".join(disagree)
