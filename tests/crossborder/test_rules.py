"""The cross-boundary rules at every threshold edge: which rule decides a trade, from the version's compliance
profile, where its data was collected, where seller and buyer are, where the data is used, and what the seller has
already provided outside the Mainland this year."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketplace.accounts.models import Organization
from marketplace.crossborder.rules import RULES, Outcome
from marketplace.listings.models import ProductVersion
from marketplace.orders.crossborder import Provided, trade_position, year_start

NONE, GBA, CONTRACT, ASSESSMENT, REFUSED = (Outcome.NONE, Outcome.GBA_CONTRACT, Outcome.CONTRACT_OR_CERTIFICATION,
                                            Outcome.SECURITY_ASSESSMENT, Outcome.REFUSED)


def _position(pi="personal", individuals=0, *, classification="general", collected="shanghai", seller="shanghai",
              buyer="hong_kong", territory="hong_kong", provided=(0, 0)):
    version = ProductVersion(personal_info=pi, classification=classification, collected_in=collected,
                             individuals=individuals)
    earlier = Provided({(-1, False): provided[0], (-2, True): provided[1]})  # other products of the seller's
    return trade_position(version, Organization(location=seller), Organization(location=buyer), territory, earlier)


# A Shanghai seller's data, collected in Shanghai, licensed by a Hong Kong buyer for use in Hong Kong unless a row
# says otherwise: (individuals, personal information, other facts) -> (rule, outcome).
EDGES = [
    # Art. 5(4) / Art. 8 / Art. 7 on non-sensitive personal information
    (99_999, "personal", {}, "exempt_under_100k", NONE),
    (100_000, "personal", {}, "contract_100k", CONTRACT),
    (100_001, "personal", {}, "contract_100k", CONTRACT),
    (999_999, "personal", {}, "contract_100k", CONTRACT),
    (1_000_000, "personal", {}, "assessment_1m", ASSESSMENT),
    (1_000_001, "personal", {}, "assessment_1m", ASSESSMENT),
    # sensitive personal information: any amount needs a mechanism
    (1, "sensitive", {}, "contract_sensitive", CONTRACT),
    (9_999, "sensitive", {}, "contract_sensitive", CONTRACT),
    (10_000, "sensitive", {}, "assessment_10k_sensitive", ASSESSMENT),
    (10_001, "sensitive", {}, "assessment_10k_sensitive", ASSESSMENT),
    # no personal information
    (0, "none", {}, "no_personal_general", NONE),
    (500_000, "anonymised", {}, "no_personal_general", NONE),
    # important and core data
    (0, "none", {"classification": "important"}, "important_data", ASSESSMENT),
    (10, "personal", {"classification": "important", "seller": "shenzhen"}, "important_data", ASSESSMENT),
    (0, "none", {"classification": "core", "buyer": "beijing", "territory": "mainland_china"}, "core_data", REFUSED),
    (0, "none", {"classification": "core"}, "core_data", REFUSED),
    # the Greater Bay Area: a Mainland GBA city and Hong Kong, any amount above the exemption; Shanghai is not in it
    (500_000, "personal", {"seller": "shenzhen", "collected": "shenzhen"}, "gba_contract", GBA),
    (2_000_000, "personal", {"seller": "guangzhou", "collected": "guangzhou"}, "gba_contract", GBA),
    (20_000, "sensitive", {"seller": "zhaoqing", "collected": "zhaoqing"}, "gba_contract", GBA),
    (50_000, "personal", {"seller": "shenzhen"}, "exempt_under_100k", NONE),
    (500_000, "personal", {"seller": "shanghai"}, "contract_100k", CONTRACT),
    (500_000, "personal", {"seller": "shenzhen", "territory": "worldwide"}, "contract_100k", CONTRACT),
    (500_000, "personal", {"seller": "shenzhen", "buyer": "elsewhere", "territory": "hong_kong"}, "contract_100k",
     CONTRACT),
    # a Mainland buyer using the data in the Mainland: nothing leaves; using it in Hong Kong: it does
    (5_000_000, "sensitive", {"buyer": "beijing", "territory": "mainland_china"}, "domestic", NONE),
    (5_000_000, "personal", {"buyer": None, "territory": "mainland_china"}, "domestic", NONE),
    (500_000, "personal", {"buyer": "beijing", "territory": "hong_kong"}, "contract_100k", CONTRACT),
    (500_000, "personal", {"buyer": "hong_kong", "territory": "mainland_china"}, "contract_100k", CONTRACT),
    # collected abroad (Art. 3)
    (5_000_000, "sensitive", {"collected": "hong_kong"}, "collected_abroad", NONE),
    (5_000_000, "sensitive", {"collected": "elsewhere"}, "collected_abroad", NONE),
    # a count nobody declared is read as large
    (None, "personal", {}, "assessment_1m", ASSESSMENT),
    (None, "sensitive", {}, "assessment_10k_sensitive", ASSESSMENT),
]


@pytest.mark.parametrize(("individuals", "pi", "facts", "rule", "outcome"), EDGES,
                         ids=[f"{e[1]}-{e[0]}-{'-'.join(f'{k}={v}' for k, v in e[2].items())}" for e in EDGES])
def test_rule_at_each_edge(individuals, pi, facts, rule, outcome):
    position = _position(pi, individuals, **facts)
    assert (position.rule.key, position.outcome) == (rule, outcome)


# What the seller provided earlier this year is added: (non-sensitive, sensitive) before, this trade's count.
CUMULATIVE = [
    ((60_000, 0), 39_999, "personal", "exempt_under_100k"),
    ((60_000, 0), 40_000, "personal", "contract_100k"),
    ((999_000, 0), 999, "personal", "contract_100k"),
    ((999_000, 0), 1_000, "personal", "assessment_1m"),
    ((0, 9_000), 999, "sensitive", "contract_sensitive"),
    ((0, 9_000), 1_000, "sensitive", "assessment_10k_sensitive"),
    # each kind counts on its own: many non-sensitive before do not push a small sensitive trade over
    ((2_000_000, 0), 10, "sensitive", "contract_sensitive"),
    ((0, 50_000), 10, "personal", "exempt_under_100k"),
]


@pytest.mark.parametrize(("provided", "individuals", "pi", "rule"), CUMULATIVE)
def test_earlier_transfers_this_year_are_added(provided, individuals, pi, rule):
    assert _position(pi, individuals, provided=provided).rule.key == rule


def test_a_trade_that_provides_nothing_abroad_counts_no_individuals():
    assert _position("personal", 50_000, buyer="beijing", territory="mainland_china").individuals == 0
    assert _position("personal", 50_000, collected="hong_kong").individuals == 0
    assert _position("personal", 50_000).individuals == 50_000


def test_every_rule_names_its_source_and_clause_and_is_reachable():
    reached = {position.rule.key for position in (_position(e[1], e[0], **e[2]) for e in EDGES)}
    assert reached == {rule.key for rule in RULES}
    for rule in RULES:
        assert rule.source and rule.clause and str(rule.explanation) and rule.source_name and rule.clause_name


@pytest.mark.parametrize(("now", "start"), [
    (datetime(2026, 6, 1, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)),
    # 31 December 17:00 UTC is already 1 January in Beijing: a new year of counting has begun
    (datetime(2026, 12, 31, 17, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC)),
    (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)),
])
def test_the_year_is_counted_from_1_january_in_beijing(now, start):
    assert year_start(now) == start
