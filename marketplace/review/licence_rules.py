"""Licence compatibility: a rules table over SPDX ids and portal terms, checked against each plan's terms.

Each source licence's LicenceProfile (``marketplace.listings.licence_profiles``: what it permits) and each (plan, source
licence) pair is checked against five rules. A finding is either "fail" (the plan's terms are incompatible with the
source licence) or "review" (a person must decide). Nothing here passes a licence it does not know: an id outside the
table is always flagged for the reviewer.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.listings.licence_profiles import EXPLICIT_PROFILES, LicenceProfile, licence_profile  # noqa: F401


@dataclass(frozen=True)
class LicenceFinding:
    # "non_commercial" | "share_alike" | "no_derivatives" | "attribution" | "unknown_licence" | "unverified_terms"
    rule: str
    outcome: str  # "fail" (incompatible) or "review" (a person must decide)
    licence_id: str
    plan_name: str | None  # None for findings about the source itself
    message: str


RULES = ("unknown_licence", "no_derivatives", "non_commercial", "unverified_terms", "share_alike", "attribution")
FAIL, REVIEW = "fail", "review"


# --- checking plans -------------------------------------------------------------------------------------------

def _values(items) -> set[str]:
    return {str(getattr(i, "value", i)) for i in (items or ())}


def _commercial_reasons(plan) -> list[str]:
    reasons = []
    if (getattr(plan, "amount", 0) or 0) > 0:
        reasons.append("charges money")
    if "commercial_product" in _values(getattr(plan, "permitted_uses", ())):
        reasons.append("permits commercial products")
    return reasons


def _source_findings(licence_id: str) -> list[LicenceFinding]:
    """Findings about the source licence itself, whatever the plan (plan_name None)."""
    lid = licence_id if isinstance(licence_id, str) else ""
    profile = licence_profile(lid)
    if profile is None:
        what = f'The licence "{lid}"' if lid else "A source with no licence id"
        return [LicenceFinding("unknown_licence", REVIEW, lid, None,
                               f"{what} is not in the licence rules table, so a reviewer must check its terms.")]
    if not profile.derivatives:
        # A data product built on a source is an adaptation of it: the seller cleans, selects, joins and re-packages
        # the data, which under CC 4.0 s.4(b) makes even a database that merely includes it Adapted Material. ND
        # allows sharing only unmodified copies, and those may carry no added terms (CC 4.0 s.2(a)(5)(C)), which
        # our plans always add. So an ND source fails under every plan; a reviewer may still overrule it.
        return [LicenceFinding("no_derivatives", FAIL, lid, None,
                               f"{lid} forbids derivatives, and this data product transforms it, so it cannot be "
                               f"sold or shared under any plan.")]
    return []


def _plan_findings(plan, licence_id: str) -> list[LicenceFinding]:
    profile = licence_profile(licence_id) if isinstance(licence_id, str) else None
    if profile is None:
        return []
    name = str(getattr(plan, "name", "") or "unnamed plan")
    lid, out = licence_id, []
    reasons = _commercial_reasons(plan)
    uses = _values(getattr(plan, "permitted_uses", ()))
    prohibitions = _values(getattr(plan, "prohibitions", ()))

    if profile.commercial is False and reasons:
        out.append(LicenceFinding("non_commercial", FAIL, lid, name,
                                  f'{lid} allows only non-commercial use, so it cannot back plan "{name}", '
                                  f'which {" and ".join(reasons)}.'))
    elif profile.commercial is False and uses - {"research"}:
        # Free, but a business buyer's internal analysis or model training is commercial use in the sense of CC NC
        # ("directed towards commercial advantage"), depending on who buys: a person must judge it.
        out.append(LicenceFinding("non_commercial", REVIEW, lid, name,
                                  f'{lid} allows only non-commercial use; plan "{name}" is free but permits '
                                  f'{", ".join(sorted(uses - {"research"}))}, so a reviewer must confirm buyers '
                                  f'will not use it commercially.'))
    elif profile.commercial is None and reasons:
        out.append(LicenceFinding("unverified_terms", REVIEW, lid, name,
                                  f'The terms of {lid} are not checked automatically, so a reviewer must confirm '
                                  f'they allow plan "{name}", which {" and ".join(reasons)}.'))

    if profile.share_alike:
        # Share-alike: the adapted database must be offered on under the same licence, so buyers must be free to
        # adapt and share it on. A resale ban also restricts that, unless the source itself is non-commercial.
        # Use restrictions (permitted_uses, territory, duration) are taken to be lifted by the plan's share_alike
        # flag; the reviewer checks the wording.
        needs = []
        if not getattr(plan, "share_alike", False):
            needs.append("be marked share-alike")
        if not getattr(plan, "derivatives_allowed", False):
            needs.append("allow derivatives")
        if "redistribution" in prohibitions:
            needs.append("not prohibit redistribution")
        if "resale" in prohibitions and profile.commercial is True:
            needs.append("not prohibit resale")
        if needs:
            out.append(LicenceFinding("share_alike", FAIL, lid, name,
                                      f'{lid} is a share-alike licence, so plan "{name}" must '
                                      f'{_join(needs)}.'))

    if profile.attribution and not getattr(plan, "attribution_required", False):
        out.append(LicenceFinding("attribution", FAIL, lid, name,
                                  f'{lid} requires attribution, so plan "{name}" must require buyers to credit '
                                  f'the source.'))
    return out


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _sort_key(f: LicenceFinding):
    return (f.outcome != FAIL, RULES.index(f.rule), f.licence_id, f.plan_name or "", f.message)


def check_plan(plan, licence_id: str) -> list[LicenceFinding]:
    """Every finding for one plan against one source licence (including those about the source itself)."""
    return sorted(_source_findings(licence_id) + _plan_findings(plan, licence_id), key=_sort_key)


def check_licences(plans: Sequence, licence_ids: Sequence[str]) -> list[LicenceFinding]:
    """Every (plan, source licence) pair, deduplicated and sorted: fails first, then by rule, licence and plan.

    Findings about a source itself (unknown licence, no derivatives) are reported even when there are no plans.
    """
    found: set[LicenceFinding] = set()
    for lid in licence_ids:
        found.update(_source_findings(lid))
        for plan in plans:
            found.update(_plan_findings(plan, lid))
    return sorted(found, key=_sort_key)
