"""Licences a source may carry: the SPDX list shipped in marketplace/data, plus open-data portals' own terms."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class LicenceInfo:
    id: str
    name: str
    url: str
    kind: str  # "spdx" or "portal"
    deprecated: bool = False


# Portal terms carry no SPDX id; "LicenseRef-" is SPDX's own convention for such licences.
PORTAL_TERMS = (
    LicenceInfo(
        "LicenseRef-DATA.GOV.HK-Terms", "DATA.GOV.HK Terms and Conditions of Use",
        "https://data.gov.hk/en/terms-and-conditions", "portal",
    ),
    LicenceInfo(
        "LicenseRef-DataShanghai-Terms", "DataShanghai terms of use (DataShanghai 使用条款)",
        "http://www.datashanghai.gov.cn/home!toUseProvisions.action", "portal",
    ),
    LicenceInfo(
        "LicenseRef-SODA-Data-Licence", "SODA data licence (苏打数据授权协议)",
        "http://sodachallenges.com/license/latest", "portal",
    ),
)


@cache
def licence_catalog() -> dict[str, LicenceInfo]:
    """Every licence id a source may cite, portal terms first, then the SPDX list."""
    with open(DATA_DIR / "licences" / "spdx-licenses.json", encoding="utf-8") as fh:
        spdx = json.load(fh)["licenses"]
    out = {lic.id: lic for lic in PORTAL_TERMS}
    for item in sorted(spdx, key=lambda i: i["licenseId"].lower()):
        out[item["licenseId"]] = LicenceInfo(
            item["licenseId"], item["name"], (item.get("seeAlso") or [item["reference"]])[0], "spdx",
            item.get("isDeprecatedLicenseId", False),
        )
    return out


def get_licence(licence_id: str) -> LicenceInfo | None:
    return licence_catalog().get(licence_id)


# What open data is usually published under, in the order a seller meets them: Creative Commons, Open Data Commons,
# the UK Open Government Licence, then the portals' own terms of use. Everything else is behind the picker's search.
OPEN_DATA_LICENCES = (
    "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-By-1.0", "ODbL-1.0", "PDDL-1.0", "OGL-UK-3.0",
    *(lic.id for lic in PORTAL_TERMS),
)


def _choice(lic: LicenceInfo) -> tuple[str, str]:
    return lic.id, f"{lic.name} ({lic.id})" if lic.kind == "spdx" else lic.name


def licence_choices() -> list[tuple[str, str]]:
    return [_choice(lic) for lic in licence_catalog().values() if not lic.deprecated]


def grouped_licence_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The licences a source may cite as two lists: the open-data licences (in ``OPEN_DATA_LICENCES`` order), then
    every other current licence alphabetically."""
    catalog = licence_catalog()
    open_data = [_choice(catalog[i]) for i in OPEN_DATA_LICENCES if i in catalog]
    first = set(OPEN_DATA_LICENCES)
    return open_data, [c for c in licence_choices() if c[0] not in first]


_URL_TO_LICENCE = {
    "http://www.datashanghai.gov.cn/home!toUseProvisions.action": "LicenseRef-DataShanghai-Terms",
    "http://sodachallenges.com/license/latest": "LicenseRef-SODA-Data-Licence",
    "https://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC-BY-SA-4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
    "http://www.opendefinition.org/licenses/odc-by": "ODC-By-1.0",
    "http://www.opendefinition.org/licenses/odc-odbl": "ODbL-1.0",
    "http://www.opendefinition.org/licenses/odc-pddl": "PDDL-1.0",
}


def licence_for_url(url: str) -> str | None:
    """Map a licence URL as found in portal metadata to a licence id."""
    return _URL_TO_LICENCE.get(url.strip())
