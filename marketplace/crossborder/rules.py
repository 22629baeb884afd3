"""The cross-boundary rules as a table of frozen rows, each naming its legal source and clause, and the one
function that finds the first row a trade's facts match.

Sources:
- "Provisions" = 促进和规范数据跨境流动规定 (Provisions on Promoting and Regulating Cross-Border Data Flows), CAC,
  22 March 2024.
- "GBA Guidelines" = 粤港澳大湾区（内地、香港）个人信息跨境流动标准合同实施指引 (Implementation Guidelines on the
  Standard Contract for the Cross-boundary Flow of Personal Information within the Guangdong-Hong Kong-Macao
  Greater Bay Area (Mainland, Hong Kong)), CAC and the HKSAR Innovation, Technology and Industry Bureau, December 2023.

Thresholds follow the Chinese text, not its English renderings: "100万人以上" and "1万人以上" include the number
itself (Chinese legal drafting reads 以上 as "that number or more", e.g. Criminal Law Art. 99), "不满" excludes it.
So 100,000 non-sensitive individuals need a standard contract (Art. 8), 1,000,000 a security assessment (Art. 7),
10,000 sensitive a security assessment, 9,999 sensitive a standard contract: every count falls under exactly one
row, where "more than 1,000,000" and "fewer than 10,000" in English would leave 1,000,000 and 10,000 under none.
Counts are cumulative per exporter since 1 January (Beijing time) of the current year, this trade included.

Art. 5's other exemptions (performing a contract with the individual, cross-border HR management, emergencies,
international trade and research data without personal information) need facts the scenario does not carry, so
they are left to the exporter; the table only exempts what it can decide.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.i18n import sentences
from marketplace.listings.vocab import Classification, LabelledEnum, PersonalInfo, labelled

# Above any threshold: a count nobody declared is treated as large, never as small.
UNBOUNDED = 10**12


@labelled({
    "none": _l("No mechanism needed"), "gba_contract": _l("GBA standard contract"),
    "contract_or_certification": _l("Standard contract or certification"),
    "security_assessment": _l("Security assessment"), "refused": _l("Refused"),
})
class Outcome(LabelledEnum):
    NONE = "none"
    GBA_CONTRACT = "gba_contract"
    CONTRACT_OR_CERTIFICATION = "contract_or_certification"
    SECURITY_ASSESSMENT = "security_assessment"
    REFUSED = "refused"

    @property
    def needs_evidence(self) -> bool:
        return self in (Outcome.GBA_CONTRACT, Outcome.CONTRACT_OR_CERTIFICATION, Outcome.SECURITY_ASSESSMENT)


@dataclass(frozen=True)
class Facts:
    """What the rules read of one trade. ``non_sensitive`` and ``sensitive`` are the seller's cumulative counts of
    individuals provided outside the Mainland this calendar year with this trade's added (UNBOUNDED when the version
    declares personal information without a count)."""

    classification: Classification
    personal_info: PersonalInfo
    collected_in_mainland: bool
    outbound: bool       # the data leaves the Mainland: a buyer outside it, or use outside it
    within_gba: bool     # seller in a Mainland GBA city, buyer in Hong Kong, used in Hong Kong
    non_sensitive: int
    sensitive: int


@dataclass(frozen=True)
class Rule:
    key: str
    outcome: Outcome
    source: str          # the instrument, in its own name
    clause: str
    edge: str            # which edge this row implements, in words (for people reading the table)
    when: Callable[[Facts], bool]
    explanation: object  # a lazy string in plain words for the buyer and seller

    def to_dict(self) -> dict:
        return {"key": self.key, "outcome": self.outcome.value, "source": self.source, "clause": self.clause}

    @property
    def source_name(self) -> str:
        """The source in the reader's language (``source`` is the name recorded on orders and in the API)."""
        return str(SOURCE_NAMES[self.source])

    @property
    def clause_name(self) -> str:
        return str(CLAUSE_NAMES[self.clause])


PROVISIONS = "促进和规范数据跨境流动规定 (CAC, 22 March 2024)"
GBA_GUIDELINES = "粤港澳大湾区（内地、香港）个人信息跨境流动标准合同实施指引 (CAC & HKSAR ITIB, December 2023)"
DSL = "中华人民共和国数据安全法 (Data Security Law)"
PIPL = "中华人民共和国个人信息保护法 (Personal Information Protection Law)"

# What pages show for each source and clause, in the reader's language.
SOURCE_NAMES = {
    PROVISIONS: _l("Provisions on Promoting and Regulating Cross-Border Data Flows (CAC, 22 March 2024)"),
    GBA_GUIDELINES: _l("Implementation Guidelines on the Greater Bay Area (Mainland, Hong Kong) standard contract for "
                       "personal information (CAC and ITIB, December 2023)"),
    DSL: _l("Data Security Law"),
    PIPL: _l("Personal Information Protection Law"),
}
CLAUSE_NAMES = {
    "Art. 2": _l("Art. 2"), "Art. 3": _l("Art. 3"), "Art. 5(4)": _l("Art. 5(4)"), "Art. 7(2)": _l("Art. 7(2)"),
    "Art. 8": _l("Art. 8"), "Art. 21": _l("Art. 21"), "Art. 38": _l("Art. 38"),
    "Scope of application; important data excluded": _l("Scope of application; important data excluded"),
}

_PI = frozenset({PersonalInfo.PERSONAL, PersonalInfo.SENSITIVE})

# First match wins; the last row matches everything left, so every trade gets exactly one position.
RULES: tuple[Rule, ...] = (
    Rule("core_data", Outcome.REFUSED, DSL, "Art. 21",
         "any trade of data classified core",
         lambda f: f.classification == Classification.CORE,
         _l("Core data is under the state's strictest management and is not traded on this exchange.")),
    Rule("collected_abroad", Outcome.NONE, PROVISIONS, "Art. 3",
         "collected outside the Mainland (no Mainland personal information or important data introduced)",
         lambda f: not f.collected_in_mainland,
         _l("The data was collected outside the Mainland, so providing it abroad needs no Mainland mechanism.")),
    Rule("domestic", Outcome.NONE, PIPL, "Art. 38",
         "buyer in the Mainland and use in the Mainland: nothing is provided outside it",
         lambda f: not f.outbound,
         _l("The data stays in the Mainland: the buyer is there and uses it there.")),
    Rule("no_personal_general", Outcome.NONE, PROVISIONS, "Art. 2",
         "no personal information (anonymised information is none, PIPL Art. 4) and not important data",
         lambda f: f.personal_info not in _PI and f.classification == Classification.GENERAL,
         _l("The data holds no personal information and is not important data, so it may be provided outside the "
            "Mainland without a mechanism.")),
    Rule("important_data", Outcome.SECURITY_ASSESSMENT, PROVISIONS, "Art. 7(2)",
         "important data, any amount (the GBA standard contract does not cover it)",
         lambda f: f.classification == Classification.IMPORTANT,
         _l("Important data may only leave the Mainland after a security assessment by the Cyberspace "
            "Administration of China.")),
    Rule("exempt_under_100k", Outcome.NONE, PROVISIONS, "Art. 5(4)",
         "non-sensitive personal information of fewer than 100,000 individuals (不满10万人) cumulative since 1 January",
         lambda f: f.personal_info == PersonalInfo.PERSONAL and f.non_sensitive < 100_000,
         _l("The seller has provided (with this trade) the personal information of fewer than 100,000 people "
            "outside the Mainland this year, none of it sensitive: no mechanism is needed.")),
    Rule("gba_contract", Outcome.GBA_CONTRACT, GBA_GUIDELINES, "Scope of application; important data excluded",
         "personal information between a Mainland GBA city and Hong Kong, any amount, not important data",
         lambda f: f.within_gba and f.personal_info in _PI,
         _l("The seller is in a Mainland city of the Greater Bay Area and the buyer uses the data in Hong Kong: the "
            "GBA standard contract, filed with the Guangdong cyberspace office, covers the transfer.")),
    Rule("assessment_1m", Outcome.SECURITY_ASSESSMENT, PROVISIONS, "Art. 7(2)",
         "non-sensitive personal information of 1,000,000 individuals or more (100万人以上) cumulative since 1 January",
         lambda f: f.personal_info == PersonalInfo.PERSONAL and f.non_sensitive >= 1_000_000,
         _l("The seller's transfers this year reach the personal information of 1,000,000 people or more: a "
            "security assessment by the Cyberspace Administration of China is needed.")),
    Rule("assessment_10k_sensitive", Outcome.SECURITY_ASSESSMENT, PROVISIONS, "Art. 7(2)",
         "sensitive personal information of 10,000 individuals or more (1万人以上) cumulative since 1 January",
         lambda f: f.personal_info == PersonalInfo.SENSITIVE and f.sensitive >= 10_000,
         _l("The seller's transfers this year reach the sensitive personal information of 10,000 people or more: "
            "a security assessment by the Cyberspace Administration of China is needed.")),
    Rule("contract_100k", Outcome.CONTRACT_OR_CERTIFICATION, PROVISIONS, "Art. 8",
         "non-sensitive personal information of 100,000 to 999,999 individuals (10万人以上、不满100万人)",
         lambda f: f.personal_info == PersonalInfo.PERSONAL,
         _l("The seller's transfers this year reach the personal information of 100,000 people or more but fewer "
            "than 1,000,000: a filed standard contract or a personal information protection certification is "
            "needed.")),
    Rule("contract_sensitive", Outcome.CONTRACT_OR_CERTIFICATION, PROVISIONS, "Art. 8",
         "sensitive personal information of fewer than 10,000 individuals (不满1万人)",
         lambda f: f.personal_info == PersonalInfo.SENSITIVE,
         _l("The data holds sensitive personal information of fewer than 10,000 people this year: a filed standard "
            "contract or a personal information protection certification is needed.")),
)
BY_KEY = {rule.key: rule for rule in RULES}


def explain(rule: Rule, assumed_mainland: bool = False) -> str:
    """The rule's words; when the version did not declare where its personal information was collected, also that
    it was read as collected in the Mainland (the protective reading)."""
    if not assumed_mainland:
        return str(rule.explanation)
    return sentences(str(rule.explanation), _(
        "The seller did not declare where the personal information was collected, so it is treated as collected in "
        "the Mainland."))


def decide(facts: Facts) -> Rule:
    """The first rule the facts match (the table covers every combination, so one always does)."""
    for rule in RULES:
        if rule.when(facts):
            return rule
    raise AssertionError(f"no cross-boundary rule matches {facts}")  # the table's last rows cover all PI
