"""What a licence permits: each source licence reduced to a LicenceProfile (commercial use? share-alike?
derivatives? attribution?), from an explicit table over SPDX ids and portal terms and from the elements of a
Creative Commons id. The review's compatibility rules (``marketplace.review.licence_rules``) and the catalog's
DCAT export both read it from here. An id outside the table has no profile: the reviewer must check it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
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



def _p(licence_id, commercial, share_alike, derivatives, attribution, note=""):
    return LicenceProfile(licence_id, commercial, share_alike, derivatives, attribution, note)


_ODC = "Open Data Commons licence text (opendatacommons.org)."
_GOV = ("Government open-data licence: re-use, commercial or not, and adaptation allowed; "
        "the source must be acknowledged.")
_SW = "Permissive software licence cited for data: commercial use and modification allowed"

# Explicit table: every id here must exist in the SPDX list or in PORTAL_TERMS (a test checks it).
# Columns: commercial, share_alike, derivatives, attribution.
EXPLICIT_PROFILES: dict[str, LicenceProfile] = {p.licence_id: p for p in (
    # Creative Commons public-domain tools: no conditions at all.
    _p("CC0-1.0", True, False, True, False, "CC0 1.0 public-domain dedication (with fallback licence): no conditions."),
    _p("CC-PDDC", True, False, True, False, "CC Public Domain Dedication and Certification: no conditions."),
    _p("CC-PDM-1.0", True, False, True, False,
       "CC Public Domain Mark: not a licence but a label that the work has no known copyright; no conditions."),
    # Open Data Commons (opendatacommons.org).
    _p("PDDL-1.0", True, False, True, False,
       "PDDL 1.0: public-domain dedication; its community norms are not binding. " + _ODC),
    _p("ODC-By-1.0", True, False, True, True,
       "ODC-By 1.0 s.4.2: attribution on public use of the database or produced works. " + _ODC),
    _p("ODbL-1.0", True, True, True, True,
       "ODbL 1.0 s.4.2-4.4: attribution, and a publicly used Derivative Database must be offered under the ODbL. "
       + _ODC),
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
       "no added restrictions on use."),
    # Microsoft data agreements. O-UDA s.3.1.1 does require passing on credit information and making downstream
    # recipients do the same, so attribution is True (not "no conditions").
    _p("O-UDA-1.0", True, False, True, True,
       "O-UDA 1.0 s.3.1: redistribute under any terms, keeping credit information and the upstream warranty "
       "disclaimer."),
    _p("C-UDA-1.0", None, True, True, True,
       "C-UDA 1.0 s.2.1: the data may be used solely for computational use (analysis by computer), and s.3.1 binds "
       "recipients to the C-UDA and to pass on credit. Commercial use is not the test; the reviewer confirms the "
       "plan's uses are computational."),
    # Permissive software licences people cite for data. MIT, BSD, ISC and Apache-2.0 require the copyright/licence
    # notice to travel with copies (treated as attribution); the Unlicense and 0BSD require nothing.
    # Copyleft software licences (GPL/AGPL/LGPL/MPL families) are deliberately left out: their "source code" and
    # "linking" concepts do not map onto data, so they fall through to the reviewer as unknown.
    *(_p(i, True, False, True, True, _SW + "; the licence notice must accompany copies.")
      for i in ("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC")),
    *(_p(i, True, False, True, False, _SW + "; no conditions.") for i in ("Unlicense", "0BSD")),
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
# 1.0-only licence without BY) does not fit the pattern and is left to the reviewer.
_CC = re.compile(r"CC-BY(?P<nc>-NC)?(?:(?P<nd>-ND)|(?P<sa>-SA))?-(?P<version>\d\.\d)(?:-(?P<port>[A-Za-z]+))?")


def _cc_profile(licence_id: str) -> LicenceProfile | None:
    m = _CC.fullmatch(licence_id)
    if m is None:
        return None
    note = f"Creative Commons {licence_id}: conditions read from the licence elements in the id."
    if m["version"] < "4.0":
        note += " Versions before 4.0 do not expressly license sui generis database rights."
    return _p(licence_id, m["nc"] is None, m["sa"] is not None, m["nd"] is None, True, note)


@cache
def licence_profile(licence_id: str) -> LicenceProfile | None:
    """The profile of a licence id, or None when it is unknown here (the reviewer must check it)."""
    if not isinstance(licence_id, str) or not licence_id:
        return None
    info = get_licence(licence_id)
    if info is None or info.deprecated:
        return None
    return EXPLICIT_PROFILES.get(licence_id) or _cc_profile(licence_id)
