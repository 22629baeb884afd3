"""How the listed catalog reads through the CKAN Action API: package, resource, organization and licence dicts,
the errors CKAN clients understand, and CKAN/Solr search parameters (``fq``, ``sort``) translated to the
catalog search's facets and orders.

Identifiers: a package's ``id`` is the product's UUID, which never changes, and its ``name`` the product slug; a
resource's ``id`` is the file's UUID, carried to the next version with the file, so harvesters of several portals
never see two resources with one id. An organization's ``id`` and ``name`` are both the organization slug.

Licence: every plan grants its own structured licence, so a package has one ``license_id``,
``marketplace-terms`` (the exchange's licence terms, one per pricing plan; ``license_url`` is the product page's
licence section, the same IRI the DCAT export uses). The plans themselves are the ``plans`` extra (JSON), the
upstream open data each product is built on, with its own licence, the ``sources`` extra (JSON).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import quote

from marketplace.catalog.index import last_change, usd_cents
from marketplace.catalog.search import LICENCE_LABELS, PRICE_LABELS, VOCABULARIES, facet_label
from marketplace.listings.forms import minor_to_decimal
from marketplace.listings.licences import licence_catalog
from marketplace.listings.models import Asset, DataProduct, PricingPlan
from marketplace.listings.vocab import DataFormat

LICENSE_ID = "marketplace-terms"
LICENSE_TITLE = "Open Data Exchange licence terms (one licence per pricing plan)"


# ---------------------------------------------------------------- the actions

ACTIONS: dict[str, Callable[[dict], object]] = {}
ROWS_MAX = 1000  # CKAN's ckan.search.rows_max default: more rows are quietly capped


def action(function: Callable[[dict], object]) -> Callable[[dict], object]:
    """Register a function as the action of its name (``/api/3/action/<name>``)."""
    ACTIONS[function.__name__] = function
    return function


# ---------------------------------------------------------------- errors in CKAN's shape


class CkanError(Exception):
    """An error answered in CKAN's envelope: ``{"help", "success": false, "error": {"__type", ...}}``."""

    status, kind = 400, "Bad request"

    def __init__(self, message: str = "", fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message, self.fields = message, fields or {}

    def error(self) -> dict:
        return {"__type": self.kind, "message": self.message}


class BadRequest(CkanError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(f"Bad request - {message}")
        self.status = status


class SearchQueryError(CkanError):
    kind = "Search Query Error"

    def __init__(self, message: str):
        super().__init__(f"Search Query is invalid: {message}")


class NotFoundError(CkanError):
    status, kind = 404, "Not Found Error"

    def __init__(self, message: str = ""):
        super().__init__(f"Not found: {message}" if message else "Not found")


class ValidationError(CkanError):
    """CKAN's validation error: HTTP 409, the messages keyed by the parameter they are about."""

    status, kind = 409, "Validation Error"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()), fields)

    def error(self) -> dict:
        return {"__type": self.kind, **self.fields}


# ---------------------------------------------------------------- parameters (CKAN's validators' messages)


def text_param(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError({key: ["Must be a string."]})
    return value


def strings_param(data: dict, key: str, split: bool = True) -> list[str]:
    """A list of strings: a list, a JSON list, or one string (comma-separated names when ``split``)."""
    value = data.get(key)
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):  # RecursionError: a list nested past Python's stack
                raise ValidationError({key: ["Could not parse as valid JSON."]}) from None
        else:
            return [part.strip() for part in value.split(",") if part.strip()] if split else [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError({key: ["Must be a list of strings."]})
    # The request's NUL check saw this list still encoded ("\\u0000"); no database stores a NUL.
    if any("\x00" in v for v in value):
        raise ValidationError({key: ["Must not contain NUL characters (\\x00)."]})
    return value


MAX_INT = 2**31 - 1  # offsets and limits past this name nothing (and overflow database integers)


def int_param(data: dict, key: str, default: int | None, *, natural: bool = True) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError({key: ["Invalid integer"]})
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValidationError({key: ["Invalid integer"]}) from None
    if natural and number < 0:
        raise ValidationError({key: ["Must be a natural number"]})
    if abs(number) > MAX_INT:
        raise ValidationError({key: [f"Must be at most {MAX_INT}"]})
    return number


def bool_param(data: dict, key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in ("1", "true", "yes", "on", "0", "false",
                                                                          "no", "off"):
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    raise ValidationError({key: ["Must be a boolean (true or false)."]})


QUERY_MAX_CHARS = 2000  # as package_search's fq: no name, title or description is near this long


def query_param(data: dict, key: str, *, required: bool = False) -> str:
    """A text to search names and titles by (organization_list's q, package_autocomplete's q ...), at most
    QUERY_MAX_CHARS long: a longer one could match nothing, and LIKE refuses patterns past 50,000 characters."""
    value = required_param(data, key) if required else text_param(data, key).strip()
    if len(value) > QUERY_MAX_CHARS:
        raise ValidationError({key: [f"Must be at most {QUERY_MAX_CHARS} characters long."]})
    return value


def required_param(data: dict, key: str) -> str:
    value = text_param(data, key).strip()
    if not value:
        raise ValidationError({key: ["Missing value"]})
    return value


# ---------------------------------------------------------------- dicts


def iso(value: datetime | date | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without a zone designator."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value.isoformat()


def money(amount: int) -> str:
    return str(minor_to_decimal(amount))  # every currency we sell in has two decimals


_FORMATS = {f.value.lower(): f.value for f in DataFormat} | {"zip": "ZIP", "txt": "TXT"}


def resource_format(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _FORMATS.get(ext, ext.upper())


def resource_dict(asset: Asset, position: int, *, package_id: str, page: str,
                  times: tuple[datetime, datetime] | None = None) -> dict:
    """A file of the listed version as a CKAN resource: its id is the file's UUID, kept across versions, and so
    is its url (``/products/<slug>/files/<uuid>``, the listed version's copy of the file, behind the same gate as
    every download). ``times`` is (created, last_modified) across the product's versions (``file_times``):
    when the file was first uploaded and when its content last changed; without them, this copy's upload."""
    sample = str(asset.kind) == "sample"
    created, modified = times or (asset.created_at, asset.created_at)
    return {
        "id": asset.uuid, "package_id": package_id, "position": position, "state": "active",
        "name": f"{'Sample' if sample else 'Deliverable'}: {asset.filename}",
        "description": "Sample file, free to preview." if sample
        else "Deliverable file, for holders of an active licence.",
        "format": resource_format(asset.filename), "mimetype": asset.content_type or None, "size": asset.size,
        "hash": asset.sha256, "hash_algorithm": "sha256", "url": f"{page}/files/{asset.uuid}", "url_type": None,
        "resource_type": str(asset.kind), "created": iso(created), "last_modified": iso(modified),
        "metadata_modified": iso(modified), "datastore_active": False,
    }


def plan_summary(plan: PricingPlan) -> dict:
    return {
        "name": plan.name, "kind": str(plan.kind), "billing_period": plan.billing_period and str(plan.billing_period),
        "amount": money(plan.amount), "currency": str(plan.currency), "requires_approval": plan.requires_approval,
        "licence_cap": plan.licence_cap, **plan.terms.to_dict(),
    }


def organization_dict(org, *, package_count: int | None = None, base: str, extras: bool = False) -> dict:
    out = {
        "id": org.slug, "name": org.slug, "title": org.name, "display_name": org.name, "description": org.description,
        "type": "organization", "is_organization": True, "state": "active", "approval_status": "approved",
        "image_url": "", "image_display_url": "", "created": iso(org.created_at),
        "url": f"{base}/organizations/{quote(org.slug)}",
    }
    if package_count is not None:
        out["package_count"] = package_count
    if extras:
        out["extras"] = [{"key": k, "value": v} for k, v in
                         (("contact_email", org.contact_email), ("website", org.website)) if v]
    return out


def tag_names(tags) -> list[str]:
    """A version's tags as CKAN tags: trimmed, none empty, each once, in the seller's order."""
    return list(dict.fromkeys(t for t in (str(t).strip() for t in tags or ()) if t))


def package_dict(product: DataProduct, *, base: str, times: dict[int, tuple[datetime, datetime]] | None = None) -> dict:
    """A listed product as CKAN's package_show describes a dataset, from its listed version only; ``times`` are
    its files' (created, last_modified) by asset id (``file_times``)."""
    v, org = product.listed_version, product.organization
    page = f"{base}/products/{quote(product.slug)}"
    tags = tag_names(v.tags)
    plans = list(v.plans)
    cheapest = min(plans, key=usd_cents) if plans else None
    extras = {
        "registration_number": v.registration_number, "regions": ",".join(map(str, v.regions or ())),
        "update_frequency": v.update_frequency and str(v.update_frequency),
        "temporal_start": iso(v.temporal_start), "temporal_end": iso(v.temporal_end),
        "spatial_text": (v.spatial_coverage or "").strip(),
        "delivery_methods": ",".join(map(str, v.delivery_methods or ())),
        "formats": ",".join(map(str, v.formats or ())),
        "classification": v.classification and str(v.classification),
        "personal_info": v.personal_info and str(v.personal_info),
        "cross_border_transfer": None if v.cross_border_transfer is None else str(v.cross_border_transfer).lower(),
        "price_from": money(cheapest.amount) if cheapest else None,
        "price_currency": str(cheapest.currency) if cheapest else None,
        "plans": json.dumps([plan_summary(p) for p in plans], ensure_ascii=False),
        "sources": json.dumps([{"title": s.title, "url": s.url, "publisher": s.publisher, "portal": str(s.portal),
                                "licence_id": s.licence_id, "attribution": s.attribution} for s in v.sources],
                              ensure_ascii=False),
        "title_zh": v.title_zh or None,
    }
    resources = [resource_dict(a, i, package_id=product.uuid, page=page, times=(times or {}).get(a.id))
                 for i, a in enumerate(v.assets)]
    groups = [{"id": v.category, "name": v.category, "title": facet_label("category", v.category),
               "display_name": facet_label("category", v.category), "description": "", "image_display_url": ""}] \
        if v.category else []
    return {
        "id": product.uuid, "name": product.slug, "type": "dataset", "state": "active", "private": False,
        "title": v.title_en, "notes": v.description_en or "",
        "title_translated": {"en": v.title_en, "zh": v.title_zh or ""},
        "notes_translated": {"en": v.description_en or "", "zh": v.description_zh or ""},
        "url": page, "version": v.label,
        "metadata_created": iso(product.created_at), "metadata_modified": iso(last_change(product)),
        "author": org.name, "author_email": org.contact_email, "maintainer": org.name,
        "maintainer_email": org.contact_email, "creator_user_id": None,
        "organization": organization_dict(org, base=base), "owner_org": org.slug,
        "license_id": LICENSE_ID, "license_title": LICENSE_TITLE, "license_url": f"{page}#licence-terms",
        "isopen": False,
        "tags": [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in tags],
        "num_tags": len(tags), "groups": groups, "resources": resources, "num_resources": len(resources),
        "extras": [{"key": k, "value": val} for k, val in sorted(extras.items()) if val not in (None, "")],
        "relationships_as_object": [], "relationships_as_subject": [],
    }


def license_dicts() -> list[dict]:
    """CKAN's licence register: the exchange's own terms, then every licence an upstream source may carry."""
    def entry(lic_id: str, title: str, url: str, status: str = "active") -> dict:
        return {"id": lic_id, "title": title, "url": url, "status": status, "maintainer": "", "family": "",
                "domain_content": False, "domain_data": True, "domain_software": False,
                "od_conformance": "not reviewed", "osd_conformance": "not reviewed", "is_generic": False,
                "is_okd_compliant": False, "is_osi_compliant": False}

    out = [entry(LICENSE_ID, LICENSE_TITLE, "")]
    out += [entry(lic.id, lic.name, lic.url, "deprecated" if lic.deprecated else "active")
            for lic in licence_catalog().values()]
    return out


# ---------------------------------------------------------------- fq and sort


def canonical(facet: str, value: str) -> str:
    """A facet value as stored: vocabularies match whatever the case and - or _ (CKAN group names use -)."""
    if facet == "format":
        known = {f.value.lower(): f.value for f in DataFormat}
    elif facet == "licence":
        known = {k: k for k in LICENCE_LABELS}
    elif facet == "price":
        known = {k: k for k in PRICE_LABELS}
    elif facet in VOCABULARIES:
        known = {m.value.lower(): m.value for m in VOCABULARIES[facet]}
    else:
        return value.strip().lower()
    key = value.strip().lower()
    return known.get(key) or known.get(key.replace("-", "_")) or value.strip()


# CKAN sort keys -> the orders package_search serves (relevance through the catalog search, others from the index).
SORT_KEYS = {
    "metadata_modified desc": "newest", "metadata_modified asc": "oldest",
    "metadata_created desc": "created_desc", "metadata_created asc": "created_asc",
    "name asc": "name_asc", "name desc": "name_desc", "id asc": "id_asc", "id desc": "id_desc",
    "title_string asc": "title_asc", "title_string desc": "title_desc", "title asc": "title_asc",
    "title desc": "title_desc", "price asc": "price_asc", "price desc": "price_desc",
    "score desc": "relevance", "rank": "relevance", "relevance": "relevance",
}
DEFAULT_SORT = "score desc, metadata_modified desc"


def parse_sort(sort: str) -> str:
    """The order a CKAN sort asks for. The first key decides; further keys must be known ones and are served by
    the order's own tie-breaker (newest first, then the product)."""
    keys = [" ".join(part.split()).lower() for part in sort.split(",") if part.strip()]
    keys = [k if " " in k or k in ("rank", "relevance") else f"{k} asc" for k in keys]
    unknown = [k for k in keys if k not in SORT_KEYS]
    if not keys or unknown:
        raise ValidationError({"sort": [
            f"Cannot sort by {(unknown or [sort])[0]!r}; use {DEFAULT_SORT!r}, metadata_modified desc|asc, "
            "metadata_created desc|asc, name asc|desc, title_string asc|desc or price asc|desc."]})
    return SORT_KEYS[keys[0]]
