"""Licence compatibility: a rules table over SPDX ids and portal terms, checked against each plan's terms.

Each source licence's LicenceProfile (``marketplace.listings.licence_profiles``: what it permits) and each (plan, source
licence) pair is checked against the rules below, taking into account how the product uses the source
(``SourceUsage``: a verbatim copy, a subset of whole unaltered records, or a derived work). A finding is either "fail"
(the plan's terms are incompatible with the source licence) or "review" (a person must decide). Nothing here passes
a licence it does not know: an id outside the table is always flagged for the reviewer.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from marketplace.i18n import N_
from marketplace.listings.licence_profiles import EXPLICIT_PROFILES, LicenceProfile, licence_profile  # noqa: F401
from marketplace.listings.vocab import PermittedUse, SourceUsage, Territory


@dataclass(frozen=True)
class LicenceFinding:
    # "non_commercial" | "share_alike" | "no_derivatives" | "source_terms" | "copyleft_source" | "attribution"
    # | "unknown_licence" | "unverified_terms"
    rule: str
    outcome: str  # "fail" (incompatible) or "review" (a person must decide)
    licence_id: str
    plan_name: str | None  # None for findings about the source itself
    message: str
    # The message as a catalog id and its values, nested fragments as words too (``words``): shown in the
    # reader's language by the pre-screen's report.
    said: tuple = field(default=(), compare=False)  # the same finding whatever its words


def words(text: str, **values) -> tuple:
    """A message to translate where it is shown: its catalog id and its values (hashable; a value may be words)."""
    return ("\u00a7", text, tuple(sorted(values.items())))


def listed(parts: list) -> tuple:
    """Parts said as a list ("a, b and c") in the reader's language."""
    return ("\u00a7join", tuple(parts))


RULES = ("unknown_licence", "no_derivatives", "non_commercial", "unverified_terms", "share_alike", "source_terms",
         "copyleft_source", "attribution")
FAIL, REVIEW = "fail", "review"
_ALL_USES = {"internal_analysis", "commercial_product", "research", "ai_training"}
_WORLDWIDE = {"worldwide", "global"}


def _usage(usage) -> SourceUsage:
    """The usage as a SourceUsage; missing or unreadable counts as derived, the reading that binds the most."""
    try:
        return SourceUsage(str(getattr(usage, "value", usage)))
    except ValueError:
        return SourceUsage.DERIVED


_AS_COPY = {SourceUsage.VERBATIM: "a verbatim copy", SourceUsage.SUBSET: "an unaltered subset"}
_AS_COPY_WORDS = {SourceUsage.VERBATIM: N_("a verbatim copy"), SourceUsage.SUBSET: N_("an unaltered subset")}
_SAID = {"charges money": N_("charges money"), "permits commercial products": N_("permits commercial products"),
         "be marked share-alike": N_("be marked share-alike"), "allow derivatives": N_("allow derivatives"),
         "not prohibit redistribution": N_("not prohibit redistribution"),
         "not prohibit resale": N_("not prohibit resale")}


def _said(parts: list[str]) -> tuple:
    return listed([words(_SAID[p]) for p in parts])


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


def _source_findings(licence_id: str, usage=SourceUsage.DERIVED) -> list[LicenceFinding]:
    """Findings about the source licence itself, whatever the plan (plan_name None)."""
    lid = licence_id if isinstance(licence_id, str) else ""
    profile = licence_profile(lid)
    if profile is None:
        what = f'The licence "{lid}"' if lid else "A source with no licence id"
        said = (words(N_("The licence \u201c%(lid)s\u201d is not in the licence rules table, so a reviewer must "
                         "check its terms."), lid=lid) if lid else
                words(N_("A source with no licence id is not in the licence rules table, so a reviewer must check "
                         "its terms.")))
        return [LicenceFinding("unknown_licence", REVIEW, lid, None,
                               f"{what} is not in the licence rules table, so a reviewer must check its terms.", said)]
    usage = _usage(usage)
    if not profile.derivatives and usage is SourceUsage.DERIVED:
        # A derived product cleans, joins, aggregates or re-packages the data: Adapted Material under CC 4.0 s.1(a)
        # ("translated, altered, arranged, transformed, or otherwise modified"), which ND licensees may produce but not
        # Share (s.2(a)(1)(B)). A reviewer may still overrule it.
        return [LicenceFinding("no_derivatives", FAIL, lid, None,
                               f"{lid} forbids sharing derivatives, and this data product transforms the source "
                               f"(a derived work), so it cannot be sold or shared under any plan.",
                               words(N_("%(lid)s forbids sharing derivatives, and this data product transforms the "
                                        "source (a derived work), so it cannot be sold or shared under any plan."),
                                     lid=lid))]
    if not profile.derivatives and usage is SourceUsage.SUBSET:
        # Our reading: CC 4.0 s.2(a)(1)(A) licenses sharing the material "in whole or in part", so whole unaltered
        # records are a part, not an adaptation. But choosing records can itself be "arranging" a database, and
        # s.4(b) makes a database of the seller's own that holds a substantial portion of the contents Adapted
        # Material. Which side a given selection falls on depends on how it was made, so a person decides.
        return [LicenceFinding("no_derivatives", REVIEW, lid, None,
                               f"{lid} forbids sharing derivatives; this product is a subset of the source's records. "
                               f"The licence allows sharing the material in part, but a selection that rearranges "
                               f"the records or builds a new database from a substantial part of them is an "
                               f"adaptation, so a reviewer must confirm the records are whole, unaltered and in the "
                               f"source's own arrangement.",
                               words(N_("%(lid)s forbids sharing derivatives; this product is a subset of the "
                                        "source's records. The licence allows sharing the material in part, but a "
                                        "selection that rearranges the records or builds a new database from a "
                                        "substantial part of them is an adaptation, so a reviewer must confirm the "
                                        "records are whole, unaltered and in the source's own arrangement."),
                                     lid=lid))]
    return []


# Where a licence says that copies carry its terms and nothing may be added to restrict them, by id prefix
# ("{lid}" is the licence id); CC licences before 4.0 say it in s.4(a).
_NO_RESTRICTIONS_CLAUSES = (
    ("ODbL", "ODbL 1.0 s.4.7(a), s.4.8"), ("ODC-By", "ODC-By 1.0 s.4.3"), ("GPL-2.0", "{lid} s.6"),
    ("LGPL-2", "{lid} s.10"), ("LGPL-3", "GPL-3.0 s.10, which LGPL-3.0 incorporates"), ("EUPL", "{lid} s.5"),
    ("MPL", "{lid} s.3.1"),
)


def _no_restrictions_clause(profile: LicenceProfile) -> str:
    """Where the source licence says that copies carry its terms and nothing may be added to restrict them."""
    lid = profile.licence_id
    if lid.startswith("CC-"):
        return "CC 4.0 s.2(a)(5)(C)" if "-4.0" in lid else f"{lid} s.4(a)"
    clause = next((c for prefix, c in _NO_RESTRICTIONS_CLAUSES if lid.startswith(prefix)),
                  "{lid} s.10" if profile.software_copyleft else "{lid}")
    return clause.format(lid=lid)


def _label(enum, value: str) -> str:
    try:
        return enum(value).label
    except ValueError:
        return value


def _use_limits(plan, profile: LicenceProfile) -> tuple[list[str], list[tuple]]:
    """The plan's limits on use that the source licence itself does not impose, in English and as words."""
    allowed = _ALL_USES - ({"commercial_product"} if profile.commercial is False else set())
    missing = allowed - _values(getattr(plan, "permitted_uses", ()))
    limits, said = [], []
    if missing:
        uses = ", ".join(_label(PermittedUse, m) for m in sorted(missing))
        limits.append(f"leaves out {uses}")
        said.append(words(N_("leaves out %(uses)s"), uses=("\u00a7uses", tuple(sorted(missing)))))
    territory = str(getattr(getattr(plan, "territory", None), "value", getattr(plan, "territory", None)) or "")
    if territory and territory not in _WORLDWIDE:
        limits.append(f"limits the territory to {_label(Territory, territory)}")
        said.append(words(N_("limits the territory to %(territory)s"), territory=territory))
    if getattr(plan, "duration_days", None):
        limits.append(f"ends after {plan.duration_days} days")
        said.append(words(N_("ends after %(days)s days"), days=plan.duration_days))
    return limits, said


def _passing_on_needs(plan, profile: LicenceProfile) -> list[str]:
    """What a plan must not forbid for buyers to pass the data on as the source licence lets them: redistribution,
    and resale unless the source itself is non-commercial."""
    prohibitions = _values(getattr(plan, "prohibitions", ()))
    needs = []
    if "redistribution" in prohibitions:
        needs.append("not prohibit redistribution")
    if "resale" in prohibitions and profile.commercial is True:
        needs.append("not prohibit resale")
    return needs


def _share_alike_finding(plan, profile: LicenceProfile, usage: SourceUsage, name: str) -> LicenceFinding | None:
    # Share-alike: a derived work must be offered on under the same licence (CC BY-SA 4.0 s.3(b); ODbL 1.0 s.4.4;
    # GPL-3.0 s.5(c)), so buyers must be free to adapt and share it on. A verbatim copy or an unaltered subset is
    # not a derived work, but it reaches the buyer under the source licence itself (CC 4.0 s.2(a)(5)(A); ODbL 1.0
    # s.4.8; GPL-3.0 s.4, s.10), share-alike term included, so it must be offered on the same footing: the outcome is
    # the same, the reason differs. A resale ban also restricts that, unless the source itself is non-commercial.
    # Use restrictions (permitted_uses, territory, duration) are taken to be lifted by the plan's share_alike flag;
    # the reviewer checks the wording.
    lid = profile.licence_id
    needs = []
    if not getattr(plan, "share_alike", False):
        needs.append("be marked share-alike")
    if not getattr(plan, "derivatives_allowed", False):
        needs.append("allow derivatives")
    needs += _passing_on_needs(plan, profile)
    if not needs:
        return None
    must = f'plan "{name}" must {_join(needs)}'
    must_said = words(N_("plan \u201c%(name)s\u201d must %(needs)s"), name=name, needs=_said(needs))
    if profile.software_copyleft == "weak" and usage is SourceUsage.DERIVED:
        # MPL-2.0 s.3.3: a Larger Work may be distributed under terms of the distributor's choice, provided the
        # covered files keep their MPL terms. A product that adds files beside the unmodified source files is such a
        # larger work; one that edits the source's own records modifies covered files. A person tells which.
        return LicenceFinding("share_alike", REVIEW, lid, name,
                              f"{lid} keeps the source's files and any changes to them under {lid} with no "
                              f"restriction of the recipients' rights (s.3.1), but lets a larger work that only "
                              f"combines them carry its own terms (s.3.3), so a reviewer must decide which this "
                              f"product is; if it changes the source, {must}.",
                              words(N_("%(lid)s keeps the source's files and any changes to them under %(lid)s with "
                                       "no restriction of the recipients' rights (s.3.1), but lets a larger work "
                                       "that only combines them carry its own terms (s.3.3), so a reviewer must "
                                       "decide which this product is; if it changes the source, %(must)s."),
                                    lid=lid, must=must_said))
    if profile.software_copyleft:
        why = (f"{lid} is a copyleft licence: whatever is based on the data, and every copy, must be passed on under "
               f"{lid} with no further restrictions ({_no_restrictions_clause(profile)})")
        why_said = words(N_("%(lid)s is a copyleft licence: whatever is based on the data, and every copy, must be "
                            "passed on under %(lid)s with no further restrictions (%(clause)s)"),
                         lid=lid, clause=_no_restrictions_clause(profile))
    else:
        why = f"{lid} is a share-alike licence"
        why_said = words(N_("%(lid)s is a share-alike licence"), lid=lid)
    if usage is SourceUsage.DERIVED:
        where = "and this product is derived from the source"
        where_said = words(N_("and this product is derived from the source"))
    else:
        where = f"and buyers get {_AS_COPY[usage]} of the source under {lid} itself"
        where_said = words(N_("and buyers get %(copy)s of the source under %(lid)s itself"),
                           copy=words(_AS_COPY_WORDS[usage]), lid=lid)
    return LicenceFinding("share_alike", FAIL, lid, name, f"{why}, {where}, so {must}.",
                          words(N_("%(why)s, %(where)s, so %(must)s."), why=why_said, where=where_said,
                                must=must_said))


def _copy_terms_finding(plan, profile: LicenceProfile, usage: SourceUsage, name: str) -> LicenceFinding | None:
    # A verbatim copy or an unaltered subset of a source whose licence governs every copy (profile.terms_travel)
    # goes to the buyer under that licence, and the plan may add no term that restricts the buyer's rights under it.
    # Charging for a copy is not such a restriction (CC licences allow it unless NC; GPL-3.0 s.4 says so). Prohibiting
    # redistribution or resale, or derivatives the licence allows, is: a definite fail. Narrower permitted uses,
    # a territory or an end date are restrictions too unless the plan says the copied records stay under the source
    # licence, which the share-alike flag cannot say for an ND source: a person reads the plan's wording.
    lid = profile.licence_id
    needs = _passing_on_needs(plan, profile)
    if profile.derivatives and not getattr(plan, "derivatives_allowed", False):
        needs.append("allow derivatives")
    what = _AS_COPY[usage]
    if needs:
        paid = ("; charging for the copy is allowed, restricting it is not"
                if (getattr(plan, "amount", 0) or 0) > 0 else "")
        return LicenceFinding("source_terms", FAIL, lid, name,
                              f"Buyers get {what} of the source under {lid} itself, which allows no added terms "
                              f"that restrict their rights under it ({_no_restrictions_clause(profile)}){paid}, so "
                              f'plan "{name}" must {_join(needs)}.',
                              words(N_("Buyers get %(copy)s of the source under %(lid)s itself, which allows no added "
                                       "terms that restrict their rights under it (%(clause)s)%(paid)s, so plan "
                                       "\u201c%(name)s\u201d must %(needs)s."),
                                    copy=words(_AS_COPY_WORDS[usage]), lid=lid, clause=_no_restrictions_clause(profile),
                                    paid=words(N_("; charging for the copy is allowed, restricting it is not"))
                                    if paid else "", name=name, needs=_said(needs)))
    limits, limits_said = _use_limits(plan, profile)
    if limits and not (getattr(plan, "share_alike", False) and profile.derivatives):
        return LicenceFinding("source_terms", REVIEW, lid, name,
                              f'Plan "{name}" {_join(limits)}, but buyers get {what} of the source under {lid} '
                              f"itself, which such limits may not restrict ({_no_restrictions_clause(profile)}), so a "
                              f"reviewer must confirm the plan states that the copied records stay under {lid}.",
                              words(N_("Plan \u201c%(name)s\u201d %(limits)s, but buyers get %(copy)s of the source "
                                       "under %(lid)s itself, which such limits may not restrict (%(clause)s), so a "
                                       "reviewer must confirm the plan states that the copied records stay under "
                                       "%(lid)s."), name=name, limits=listed(limits_said),
                                    copy=words(_AS_COPY_WORDS[usage]), lid=lid,
                                    clause=_no_restrictions_clause(profile)))
    return None


def _plan_findings(plan, licence_id: str, usage=SourceUsage.DERIVED) -> list[LicenceFinding]:
    profile = licence_profile(licence_id) if isinstance(licence_id, str) else None
    if profile is None:
        return []
    usage = _usage(usage)
    name = str(getattr(plan, "name", "") or "unnamed plan")
    lid, out = licence_id, []
    reasons = _commercial_reasons(plan)
    uses = _values(getattr(plan, "permitted_uses", ()))

    if profile.commercial is False and reasons:
        out.append(LicenceFinding("non_commercial", FAIL, lid, name,
                                  f'{lid} allows only non-commercial use, so it cannot back plan "{name}", '
                                  f'which {" and ".join(reasons)}.',
                                  words(N_("%(lid)s allows only non-commercial use, so it cannot back plan "
                                           "\u201c%(name)s\u201d, which %(reasons)s."),
                                        lid=lid, name=name, reasons=_said(reasons))))
    elif profile.commercial is False and uses - {"research"}:
        # Free, but a business buyer's internal analysis or model training is commercial use in the sense of CC NC
        # ("directed towards commercial advantage"), depending on who buys: a person must judge it.
        out.append(LicenceFinding("non_commercial", REVIEW, lid, name,
                                  f'{lid} allows only non-commercial use; plan "{name}" is free but permits '
                                  f'{", ".join(sorted(uses - {"research"}))}, so a reviewer must confirm buyers '
                                  f'will not use it commercially.',
                                  words(N_("%(lid)s allows only non-commercial use; plan \u201c%(name)s\u201d is "
                                           "free but permits %(uses)s, so a reviewer must confirm buyers will not "
                                           "use it commercially."),
                                        lid=lid, name=name, uses=", ".join(sorted(uses - {"research"})))))
    elif profile.commercial is None and reasons:
        out.append(LicenceFinding("unverified_terms", REVIEW, lid, name,
                                  f'The terms of {lid} are not checked automatically, so a reviewer must confirm '
                                  f'they allow plan "{name}", which {" and ".join(reasons)}.',
                                  words(N_("The terms of %(lid)s are not checked automatically, so a reviewer must "
                                           "confirm they allow plan \u201c%(name)s\u201d, which %(reasons)s."),
                                        lid=lid, name=name, reasons=_said(reasons))))

    if not profile.derivatives and usage is not SourceUsage.DERIVED and getattr(plan, "derivatives_allowed", False):
        # The plan's derivatives_allowed is what the buyer may do with what they get. An ND licensee may produce
        # adaptations but not Share them (CC 4.0 s.2(a)(1)(B)); a plan granting derivatives promises more.
        out.append(LicenceFinding("no_derivatives", FAIL, lid, name,
                                  f"{lid} lets buyers of {_AS_COPY[usage]} of the source adapt it for themselves "
                                  f'but not share the adaptations, so plan "{name}" must not allow derivatives.',
                                  words(N_("%(lid)s lets buyers of %(copy)s of the source adapt it for themselves but "
                                           "not share the adaptations, so plan \u201c%(name)s\u201d must not allow "
                                           "derivatives."), lid=lid, copy=words(_AS_COPY_WORDS[usage]), name=name)))

    if profile.share_alike:
        finding = _share_alike_finding(plan, profile, usage, name)
        if finding is not None:
            out.append(finding)
        elif profile.software_copyleft == "strong" and usage is SourceUsage.DERIVED:
            # GPL-3.0 s.6 / GPL-2.0 s.3: object code must come with the Corresponding Source, "the preferred form
            # of the work for making modifications to it" (GPL-3.0 s.1), scripts that generate it included. For data,
            # an open table is its own source form, a report or a rendered API is not.
            out.append(LicenceFinding("copyleft_source", REVIEW, lid, name,
                                      f"{lid} requires the work to be passed on in its preferred form for making "
                                      f"modifications, with the scripts that build it, so a reviewer must confirm "
                                      f'that plan "{name}" delivers this derived product in that form.',
                                      words(N_("%(lid)s requires the work to be passed on in its preferred form for "
                                               "making modifications, with the scripts that build it, so a reviewer "
                                               "must confirm that plan \u201c%(name)s\u201d delivers this derived "
                                               "product in that form."), lid=lid, name=name)))
    elif profile.terms_travel and usage is not SourceUsage.DERIVED:
        finding = _copy_terms_finding(plan, profile, usage, name)
        if finding is not None:
            out.append(finding)

    if profile.attribution and not getattr(plan, "attribution_required", False):
        out.append(LicenceFinding("attribution", FAIL, lid, name,
                                  f'{lid} requires attribution, so plan "{name}" must require buyers to credit '
                                  f'the source.',
                                  words(N_("%(lid)s requires attribution, so plan \u201c%(name)s\u201d must require "
                                           "buyers to credit the source."), lid=lid, name=name)))
    return out


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _sort_key(f: LicenceFinding):
    return (f.outcome != FAIL, RULES.index(f.rule), f.licence_id, f.plan_name or "", f.message)


def check_plan(plan, licence_id: str, usage: SourceUsage | str | None = SourceUsage.DERIVED
               ) -> list[LicenceFinding]:
    """Every finding for one plan against one source licence used as ``usage`` (including those about the source
    itself). A missing or unknown usage is read as a derived work."""
    return sorted(_source_findings(licence_id, usage) + _plan_findings(plan, licence_id, usage), key=_sort_key)


def check_licences(plans: Sequence, licence_ids: Sequence[str],
                   usage: SourceUsage | str | None = SourceUsage.DERIVED) -> list[LicenceFinding]:
    """Every (plan, source licence) pair, the sources used as ``usage``, deduplicated and sorted: fails first, then by
    rule, licence and plan.

    Findings about a source itself (unknown licence, no derivatives) are reported even when there are no plans.
    """
    found: set[LicenceFinding] = set()
    for lid in licence_ids:
        found.update(_source_findings(lid, usage))
        for plan in plans:
            found.update(_plan_findings(plan, lid, usage))
    return sorted(found, key=_sort_key)
