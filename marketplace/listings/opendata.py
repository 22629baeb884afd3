"""Look up upstream open datasets in the catalog metadata shipped in marketplace/data/catalogs."""
from __future__ import annotations

import json
import re
from functools import cache
from urllib.parse import urlparse

from marketplace.listings.licences import DATA_DIR, licence_for_url
from marketplace.listings.vocab import Portal, SourceUsage

DATAGOVHK_ATTRIBUTION = "Source: DATA.GOV.HK ({publisher}), used under the DATA.GOV.HK Terms and Conditions of Use."


@cache
def _datagovhk() -> dict[str, dict]:
    with open(DATA_DIR / "catalogs" / "datagovhk_datasets_catalog.json", encoding="utf-8") as fh:
        return {d["name"]: d for d in json.load(fh)["datasets"]}


@cache
def _shanghai() -> dict[str, dict]:
    with open(DATA_DIR / "catalogs" / "shanghai_soda2017_datasets.json", encoding="utf-8") as fh:
        return {d["slug"]: d for d in json.load(fh)["datasets"]}


def datagovhk_record(name: str) -> dict:
    """The shipped DATA.GOV.HK record with this CKAN name (KeyError if absent)."""
    return _datagovhk()[name]


def shanghai_record(slug: str) -> dict:
    """The shipped SODA Shanghai record with this slug (KeyError if absent)."""
    return _shanghai()[slug]


_DATASET_PATH = re.compile(r"/(?:en|tc|sc)-data/dataset/([A-Za-z0-9_.\-]+)")


def _clean(text: str) -> str:
    return " ".join((text or "").split())


# The catalogs cannot say how a product uses a dataset: a looked-up source is filled in as a derived work, the reading
# that binds the most, and the seller changes it for a verbatim copy or an unaltered subset.
_LOOKED_UP_USAGE = SourceUsage.DERIVED.value


def source_from_datagovhk(record: dict) -> dict:
    publisher = _clean(record.get("organization", ""))
    return {
        "portal": Portal.DATA_GOV_HK.value, "title": _clean(record["title"]), "url": record["package_url"],
        "publisher": publisher, "licence_id": "LicenseRef-DATA.GOV.HK-Terms",
        "attribution": DATAGOVHK_ATTRIBUTION.format(publisher=publisher), "external_id": record["name"],
        "usage": _LOOKED_UP_USAGE,
    }


def source_from_shanghai(record: dict) -> dict:
    licence_id = licence_for_url(record.get("license", "")) or "LicenseRef-SODA-Data-Licence"
    portal = Portal.SHANGHAI_PUBLIC_DATA if licence_id == "LicenseRef-DataShanghai-Terms" else Portal.SODA
    return {
        "portal": portal.value, "title": _clean(record["title"]),
        "url": f"https://sodachallenges.github.io/datasets/{record['slug']}/",
        "publisher": _clean(record.get("organization", "")), "licence_id": licence_id,
        "attribution": f"数据来源：{_clean(record.get('organization', ''))}（SODA 上海开放数据创新应用大赛）",
        "external_id": record["slug"], "usage": _LOOKED_UP_USAGE,
    }


def lookup_source(query: str) -> dict | None:
    """Fill a source citation from a DATA.GOV.HK dataset URL or CKAN name (or a SODA Shanghai slug).

    Returns the source fields, or None when the shipped metadata has no such dataset.
    """
    query = (query or "").strip()
    if not query or len(query) > 1000:
        return None
    name = query
    if "://" in query or query.startswith("data.gov.hk"):
        parsed = urlparse(query if "://" in query else "https://" + query)
        match = _DATASET_PATH.search(parsed.path)
        if match and parsed.hostname and parsed.hostname.endswith("data.gov.hk"):
            name = match.group(1)
        else:
            slug = parsed.path.rstrip("/").rsplit("/", 1)[-1]
            return source_from_shanghai(_shanghai()[slug]) if slug in _shanghai() else None
    if name in _datagovhk():
        return source_from_datagovhk(_datagovhk()[name])
    if name in _shanghai():
        return source_from_shanghai(_shanghai()[name])
    return None
