"""What a licence permits: each source licence reduced to a LicenceProfile (commercial use? share-alike?
derivatives? attribution?), from an explicit table over SPDX ids and portal terms and from the elements of a
Creative Commons id. The review's compatibility rules (``marketplace.review.licence_rules``) and the catalog's
DCAT export both read it from here. An id outside the table has no profile: the reviewer must check it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from marketplace.listings.licences import get_licence


@dataclass(frozen=True)
class LicenceProfile:
    licence_id: str
    commercial: bool | None  # None = the terms are not machine-checkable here: the reviewer must confirm
    share_alike: bool
    derivatives: bool
    attribution: bool
    note: str = ""  # where the profile comes from / caveat
    # The licence governs every copy: a recipient gets it from the licensor, and whoever passes a copy on may add no
    # terms restricting the recipient's rights under it (CC 4.0 s.2(a)(5)(A) and (C); CC 3.0 s.4(a); ODbL 1.0 s.4.8;
    # GPL-3.0 s.10). A verbatim copy or an unaltered subset sold under a plan stays under this licence.
    terms_travel: bool = False
    # "strong" | "weak" for copyleft software licences cited for data, "" otherwise: their source-form duty (GPL-3.0
    # s.6, GPL-2.0 s.3) has to be read onto data, and weak copyleft (MPL-2.0 s.3.3) lets a larger work carry its own
    # terms.
    software_copyleft: str = ""

def _p(licence_id, commercial, share_alike, derivatives, attribution, note="", terms_travel=False,
       software_copyleft=""):
    return LicenceProfile(licence_id, commercial, share_alike, derivatives, attribution, note, terms_travel,
                          software_copyleft)


_ODC = "Open Data Commons licence text (opendatacommons.org)."
_GOV = ("Government open-data licence: re-use, commercial or not, and adaptation allowed; "
        "the source must be acknowledged.")
_SW = "Permissive software licence cited for data: commercial use and modification allowed"

# Copyleft software licences applied to data. A data product built on the data is a "work based on the Program"
# (GPL-2.0 s.0, s.2(b)) or a work "based on" it (GPL-3.0 s.0: to "modify" is to copy or adapt it; s.5(c): the whole
# work must be licensed under the GPL to anyone who gets a copy), and even a verbatim copy may only be conveyed under
# the GPL itself (GPL-2.0 s.1, GPL-3.0 s.4) with no further restrictions (GPL-2.0 s.6, GPL-3.0 s.10, AGPL-3.0 s.10).
# Charging is allowed (GPL-2.0 s.1, GPL-3.0 s.4: "any price or no price"), so commercial is True; copyright notices
# must be kept intact (GPL-3.0 s.4, s.5(a)), read as attribution. LGPL: the data itself is "the Library", and a
# modified Library must be licensed as a whole under the LGPL (LGPL-2.1 s.2(c); LGPL-3.0 s.2 over GPL-3.0), so data
# products are bound as under the GPL. EUPL-1.2 s.5 (copyleft; compatible licences in its appendix are copyleft too).
# MPL-2.0 is file-level ("weak"): modified Covered files stay under the MPL (s.3.1) with no restriction of the
# recipients' rights, but a Larger Work may carry other terms (s.3.3), so whether a derived table is a modification
# or a larger work is for the reviewer.
_GPL = ("{} cited for data: the whole work based on it must be passed on under the same licence, copies included, "
        "with no further restrictions; a price may be charged; notices must be kept.")
_COPYLEFT = (
    *(_p(i, True, True, True, True, _GPL.format(i), True, "strong") for i in (
        "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later",
        "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only",
        "LGPL-3.0-or-later", "EUPL-1.1", "EUPL-1.2")),
    _p("MPL-2.0", True, True, True, True,
       "MPL-2.0 cited for data: covered files and their modifications stay under the MPL with no restriction of the "
       "recipients' rights (s.3.1); a Larger Work combining them may carry other terms (s.3.3).", True, "weak"),
    # EPL is weak copyleft like the MPL: Modified Works of the Program stay under the EPL (EPL-2.0 s.3.2(a), EPL-1.0
    # s.3), separate modules added to it need not (EPL-2.0 s.1 "Modified Works" excludes them).
    *(_p(i, True, True, True, True,
         f"{i} cited for data: modifications of the Program stay under the EPL and recipients keep its rights; "
         "separate works combined with it may carry other terms.", True, "weak") for i in ("EPL-1.0", "EPL-2.0")),
)

# Deprecated SPDX ids still in use, read as the ids that replaced them (SPDX License List 3.0 split the GNU ids into
# -only and -or-later; the bare id meant "only" and the "+" meant "or later").
DEPRECATED_SUCCESSORS = {
    "GPL-2.0": "GPL-2.0-only", "GPL-2.0+": "GPL-2.0-or-later", "GPL-3.0": "GPL-3.0-only",
    "GPL-3.0+": "GPL-3.0-or-later", "AGPL-3.0": "AGPL-3.0-only", "LGPL-2.0": "LGPL-2.0-only",
    "LGPL-2.0+": "LGPL-2.0-or-later", "LGPL-2.1": "LGPL-2.1-only", "LGPL-2.1+": "LGPL-2.1-or-later",
    "LGPL-3.0": "LGPL-3.0-only", "LGPL-3.0+": "LGPL-3.0-or-later",
}

# Explicit table: every id here must exist in the SPDX list or in PORTAL_TERMS (a test checks it).
# Columns: commercial, share_alike, derivatives, attribution.
EXPLICIT_PROFILES: dict[str, LicenceProfile] = {p.licence_id: p for p in (
    # Creative Commons public-domain tools: no conditions at all.
    _p("CC0-1.0", True, False, True, False, "CC0 1.0 public-domain dedication (with fallback licence): no conditions."),
    # Share Alike 1.0 (the 1.0 licence without Attribution): derivative works only under identical terms (s.4(a)),
    # commercial use allowed, no credit required.
    _p("CC-SA-1.0", True, True, True, False,
       "Creative Commons Share Alike 1.0: derivatives under the same licence only; no attribution condition.", True),
    _p("CC-PDDC", True, False, True, False, "CC Public Domain Dedication and Certification: no conditions."),
    _p("CC-PDM-1.0", True, False, True, False,
       "CC Public Domain Mark: not a licence but a label that the work has no known copyright; no conditions."),
    # Open Data Commons (opendatacommons.org).
    _p("PDDL-1.0", True, False, True, False,
       "PDDL 1.0: public-domain dedication; its community norms are not binding. " + _ODC),
    _p("ODC-By-1.0", True, False, True, True,
       "ODC-By 1.0 s.4.2: attribution on public use of the database or produced works; each copy of the database is "
       "licensed to its recipient on the same terms, with no further restrictions. " + _ODC, True),
    _p("ODbL-1.0", True, True, True, True,
       "ODbL 1.0 s.4.2-4.4: attribution, and a publicly used Derivative Database must be offered under the ODbL; "
       "s.4.8: each copy of the database is licensed to its recipient on the same terms, with no further restrictions. "
       + _ODC, True),
    # DbCL-1.0 (the contents licence paired with the ODbL) is not in the shipped SPDX list (3.27.0), so a source
    # cannot cite it by id; if it ever arrives it is unknown and goes to the reviewer, who should treat it as ODbL.
    # Government licences. OGL-UK 1.0-3.0, OGL-Canada 2.0, OGDL-Taiwan 1.0, Etalab 2.0, DL-DE-BY 2.0 and NLOD 1.0/2.0
    # all allow commercial re-use and adaptation on condition of acknowledging the source; the ZERO variant has none.
    *(_p(i, True, False, True, True, _GOV) for i in (
        "OGL-UK-1.0", "OGL-UK-2.0", "OGL-UK-3.0", "OGL-Canada-2.0", "OGDL-Taiwan-1.0", "etalab-2.0",
        "DL-DE-BY-2.0", "NLOD-1.0", "NLOD-2.0")),
    _p("DL-DE-ZERO-2.0", True, False, True, False, "Data licence Germany - zero 2.0: use without conditions."),
    # Linux Foundation Community Data Licence Agreements.
    _p("CDLA-Permissive-1.0", True, False, True, True,
       "CDLA-Permissive 1.0 s.3.1: pass on the agreement text and preserve credit to the data providers."),
    _p("CDLA-Permissive-2.0", True, False, True, True,
       "CDLA-Permissive 2.0 s.2.1: shared data must carry the agreement text (a notice duty, treated as attribution)."),
    _p("CDLA-Sharing-1.0", True, True, True, True,
       "CDLA-Sharing 1.0 s.3.1-3.3: published data (incl. enhanced data) stays under CDLA-Sharing, credit preserved, "
       "no added restrictions on use.", True),
    # Microsoft data agreements. O-UDA s.3.1.1 does require passing on credit information and making downstream
    # recipients do the same, so attribution is True (not "no conditions").
    _p("O-UDA-1.0", True, False, True, True,
       "O-UDA 1.0 s.3.1: redistribute under any terms, keeping credit information and the upstream warranty "
       "disclaimer."),
    _p("C-UDA-1.0", None, True, True, True,
       "C-UDA 1.0 s.2.1: the data may be used solely for computational use (analysis by computer), and s.3.1 binds "
       "recipients to the C-UDA and to pass on credit. Commercial use is not the test; the reviewer confirms the "
       "plan's uses are computational.", True),
    # Permissive software licences people cite for data. MIT, BSD, ISC and Apache-2.0 require the copyright/licence
    # notice to travel with copies (treated as attribution); the Unlicense and 0BSD require nothing.
    # Copyleft software licences cited for data are read as share-alike licences whose terms travel with every copy:
    # see _COPYLEFT below.
    *(_p(i, True, False, True, True, _SW + "; the licence notice must accompany copies.")
      for i in ("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC")),
    *(_p(i, True, False, True, False, _SW + "; no conditions.") for i in ("Unlicense", "0BSD")),
    *_COPYLEFT,
    # Open-data portal terms (marketplace/listings/licences.py PORTAL_TERMS).
    _p("LicenseRef-DATA.GOV.HK-Terms", True, False, True, True,
       "DATA.GOV.HK Terms and Conditions of Use: free re-use, commercial or not, with attribution "
       "(marketplace/data/SOURCES.md)."),
    _p("LicenseRef-DataShanghai-Terms", None, False, True, True,
       "Shanghai public-data open platform terms of use: the text is not encoded here, so whether commercial use "
       "is allowed must be confirmed by the reviewer; attribution is assumed."),
    _p("LicenseRef-SODA-Data-Licence", None, False, True, True,
       "SODA 2017 challenge data licence: the terms are not available offline, so whether commercial use is allowed "
       "must be confirmed by the reviewer; attribution is assumed."),
)}

# Creative Commons licences are derived from the SPDX id, whose elements are the licence conditions:
# BY = attribution, NC = non-commercial, ND = no derivatives, SA = share-alike; then the version and an optional
# jurisdiction port (AT, AU, DE, FR, JP, NL, UK, US) or IGO. Ports and IGO keep the conditions of their element set.
# Only ids present (and not deprecated) in the SPDX list resolve, so "CC-BY-9.0" stays unknown. CC-SA-1.0 (the
# 1.0-only licence without BY) does not fit the pattern and is in the explicit table.
_CC = re.compile(r"CC-BY(?P<nc>-NC)?(?:(?P<nd>-ND)|(?P<sa>-SA))?-(?P<version>\d\.\d)(?:-(?P<port>[A-Za-z]+))?")


def _cc_profile(licence_id: str) -> LicenceProfile | None:
    m = _CC.fullmatch(licence_id)
    if m is None:
        return None
    note = f"Creative Commons {licence_id}: conditions read from the licence elements in the id."
    if m["version"] < "4.0":
        note += " Versions before 4.0 do not expressly license sui generis database rights."
    return _p(licence_id, m["nc"] is None, m["sa"] is not None, m["nd"] is None, True, note, True)


@cache
def licence_profile(licence_id: str) -> LicenceProfile | None:
    """The profile of a licence id, or None when it is unknown here (the reviewer must check it)."""
    if not isinstance(licence_id, str) or not licence_id:
        return None
    info = get_licence(licence_id)
    if info is None:
        return None
    if info.deprecated:
        successor = DEPRECATED_SUCCESSORS.get(licence_id)
        profile = EXPLICIT_PROFILES.get(successor) if successor else None
        return profile and replace(profile, licence_id=licence_id,
                                   note=f"Deprecated SPDX id, read as {successor}. {profile.note}")
    return EXPLICIT_PROFILES.get(licence_id) or _cc_profile(licence_id)
