"""No trade without a scenario: what a buyer declares about their use, and the check against a plan's terms.

The scenario is checked field by field; every problem names the field it belongs to, so a form shows it beside
the input and the API returns it in ``errors``. The declared purpose must be one of the uses the plan's terms
permit: the licence and its certificate freeze both, and a seller's approval cannot widen the terms. "Public
service" and "Other" name no permitted use, so no plan's terms allow them; they stay readable on older orders.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.i18n import number, sentences
from marketplace.listings.models import LicenceTerms
from marketplace.listings.vocab import LabelledEnum, PermittedUse, Territory, labelled

MIN_DESCRIPTION = 20
MAX_DESCRIPTION = 2000
MAX_EXPECTED_USERS = 1_000_000


def description_rule() -> str:
    """The one rule of the scenario's description, as its hint and as its error."""
    return _("Describe the use in your own words, %(least)s to %(most)s characters.", least=number(MIN_DESCRIPTION),
             most=number(MAX_DESCRIPTION))


@labelled({
    "internal_analysis": _l("Internal analysis"), "commercial_product": _l("Commercial product"),
    "research": _l("Research"), "ai_training": _l("AI / model training"), "public_service": _l("Public service"),
    "other": _l("Other"),
})
class Purpose(LabelledEnum):
    INTERNAL_ANALYSIS = "internal_analysis"
    COMMERCIAL_PRODUCT = "commercial_product"
    RESEARCH = "research"
    AI_TRAINING = "ai_training"
    PUBLIC_SERVICE = "public_service"
    OTHER = "other"


@labelled({
    "government": _l("Government"), "academia": _l("Academia"), "transport": _l("Transport"),
    "logistics": _l("Logistics"), "energy": _l("Energy"), "finance": _l("Finance"), "insurance": _l("Insurance"),
    "real_estate": _l("Real estate"), "retail": _l("Retail"), "healthcare": _l("Healthcare"),
    "technology": _l("Technology"), "media": _l("Media"), "non_profit": _l("Non-profit"), "other": _l("Other"),
})
class Sector(LabelledEnum):
    GOVERNMENT = "government"
    ACADEMIA = "academia"
    TRANSPORT = "transport"
    LOGISTICS = "logistics"
    ENERGY = "energy"
    FINANCE = "finance"
    INSURANCE = "insurance"
    REAL_ESTATE = "real_estate"
    RETAIL = "retail"
    HEALTHCARE = "healthcare"
    TECHNOLOGY = "technology"
    MEDIA = "media"
    NON_PROFIT = "non_profit"
    OTHER = "other"


# The permitted use each purpose is: a purpose is allowed exactly when the plan's terms list it. Public service and
# other are no use the terms can list, so they are refused (kept only to read orders placed before this rule).
PURPOSE_NEEDS: dict[Purpose, PermittedUse | None] = {
    Purpose.INTERNAL_ANALYSIS: PermittedUse.INTERNAL_ANALYSIS,
    Purpose.COMMERCIAL_PRODUCT: PermittedUse.COMMERCIAL_PRODUCT,
    Purpose.RESEARCH: PermittedUse.RESEARCH,
    Purpose.AI_TRAINING: PermittedUse.AI_TRAINING,
    Purpose.PUBLIC_SERVICE: None,
    Purpose.OTHER: None,
}

# Where a licence's territory allows use: worldwide covers everything, a region only itself.
_TERRITORY_COVERS = {
    Territory.WORLDWIDE: frozenset(Territory),
    Territory.HONG_KONG: frozenset({Territory.HONG_KONG}),
    Territory.MAINLAND_CHINA: frozenset({Territory.MAINLAND_CHINA}),
}


def territory_covers(licensed: str, used: str) -> bool:
    return Territory(used) in _TERRITORY_COVERS[Territory(licensed)]


@dataclass(frozen=True)
class Scenario:
    """The declared use: purpose, sector, territory of use, expected users and a description in the buyer's words."""

    purpose: Purpose
    sector: Sector
    territory: Territory
    expected_users: int
    description: str

    def to_dict(self) -> dict:
        return {"purpose": self.purpose.value, "sector": self.sector.value, "territory": self.territory.value,
                "expected_users": self.expected_users, "description": self.description}


def _choice(enum_cls, value, field: str, refusal: str, errors: dict):
    try:
        return enum_cls(str(value or "").strip())
    except ValueError:
        errors[field] = [refusal]
        return None


def parse_scenario(data: Mapping) -> tuple[Scenario | None, dict[str, list[str]]]:
    """Read a scenario from form or JSON input; (scenario, {}) or (None, per-field problems)."""
    errors: dict[str, list[str]] = {}
    purpose = _choice(Purpose, data.get("purpose"), "purpose", _("Choose a purpose from the list."), errors)
    sector = _choice(Sector, data.get("sector"), "sector", _("Choose a sector from the list."), errors)
    territory = _choice(Territory, data.get("territory"), "territory",
                        _("Choose a territory of use from the list."), errors)
    users = data.get("expected_users")
    expected = None
    if isinstance(users, bool):
        users = None
    try:
        expected = int(str(users).strip()) if users not in (None, "") else None
    except ValueError:
        expected = None
    if expected is None:
        errors["expected_users"] = [_("Give the expected number of users as a whole number.")]
    elif not 1 <= expected <= MAX_EXPECTED_USERS:
        errors["expected_users"] = [_("Expected users must be between 1 and %(most)s.",
                                      most=number(MAX_EXPECTED_USERS))]
    description = str(data.get("description") or "").strip()
    if not MIN_DESCRIPTION <= len(description) <= MAX_DESCRIPTION:
        errors["description"] = [description_rule()]
    if errors:
        return None, errors
    return Scenario(purpose, sector, territory, expected, description), {}


def scenario_conflicts(scenario: Scenario, terms: LicenceTerms) -> dict[str, list[str]]:
    """Why the plan's terms do not allow this use, per field; empty when they do. The purpose must be one the terms
    permit (public service and other never are); the territory of use one the licence covers."""
    problems: dict[str, list[str]] = {}
    needed = PURPOSE_NEEDS[scenario.purpose]
    if needed is None or needed.value not in terms.permitted_uses:
        if needed is None:
            reason = _("“%(purpose)s” is not a use a plan's terms can permit; choose the permitted use that "
                       "describes yours.", purpose=scenario.purpose.label)
        elif needed is PermittedUse.COMMERCIAL_PRODUCT:
            reason = _("This plan is non-commercial: it does not permit use in a commercial product.")
        elif needed is PermittedUse.AI_TRAINING:
            reason = _("This plan does not permit AI / model training.")
        else:
            reason = _("This plan does not permit %(use)s.", use=needed.label.lower())
        allowed = _(", ").join(PermittedUse(u).label.lower() for u in terms.permitted_uses) or _("no use at all")
        problems["purpose"] = [sentences(reason, _("It permits: %(allowed)s.", allowed=allowed))]
    if not territory_covers(terms.territory, scenario.territory.value):
        problems["territory"] = [_("This plan licenses use in %(licensed)s only, not %(used)s.",
                                   licensed=Territory(terms.territory).label, used=scenario.territory.label)]
    return problems


def allowed_purposes(terms: LicenceTerms) -> list[Purpose]:
    """The purposes a plan's terms permit, in the list's order."""
    return [p for p in Purpose if PURPOSE_NEEDS[p] is not None and PURPOSE_NEEDS[p].value in terms.permitted_uses]


def allowed_territories(terms: LicenceTerms) -> list[Territory]:
    """The territories of use a plan's terms cover, in the list's order."""
    return [t for t in Territory if territory_covers(terms.territory, t.value)]
