"""The CKAN read actions beyond search and datasets (CKAN 2.10 shapes): groups (our categories, as package dicts
name them), tags, single resources, dataset autocomplete, and the newest datasets with their resources.

- group_list: ``all_fields``, ``sort`` (title|name|package_count asc|desc; default title asc), ``limit`` (1000,
  or 25 with all_fields), ``offset``, ``q``, ``groups``, ``include_dataset_count``, ``type`` (group only).
- group_show: ``id`` (the category name), ``include_datasets`` (first 1000, newest first).
- tag_list: ``query`` (or ``q``: tags containing it, any case), ``all_fields``, ``vocabulary_id`` (there are no
  vocabularies: any is a Not Found Error, as CKAN answers an unknown one).
- resource_show: ``id`` (the resource's UUID). package_autocomplete: ``q``, ``limit`` (10).
- A search text (``q``, ``query``) is at most 2000 characters: longer is a Validation Error.
- current_package_list_with_resources: ``limit`` (10, at most 1000), ``offset``, ``page`` (when no offset).
Groups and tags are those of listed datasets only.
"""
from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from marketplace.catalog.ckan_mapping import (
    ROWS_MAX,
    NotFoundError,
    ValidationError,
    action,
    bool_param,
    canonical,
    int_param,
    query_param,
    required_param,
    resource_dict,
    strings_param,
    tag_names,
    text_param,
)
from marketplace.catalog.ckan_query import Term
from marketplace.catalog.ckan_search import file_times, find, packages, where_of
from marketplace.catalog.dcat_views import public_base_url
from marketplace.catalog.models import CatalogEntry
from marketplace.catalog.search import facet_bitmaps, facet_label, like_pattern
from marketplace.catalog.services import with_listed_content
from marketplace.extensions import db
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible

GROUP_DATASETS_MAX = 1000
TAG_NAMESPACE = uuid.UUID("6f1c2a52-3d0e-4c55-9a57-64d1b3c1e0a7")  # tag ids: UUID 5 of the name in this namespace
GROUP_SORTS = {"title": lambda g: (g["title"].lower(), g["name"]), "name": lambda g: g["name"],
               "package_count": lambda g: (g["package_count"], g["name"])}


def _groups() -> list[dict]:
    """Every category with listed datasets as a CKAN group dict, package_count included."""
    bitmaps = facet_bitmaps(db.session)
    base = public_base_url()
    out = []
    for name, having in bitmaps.values.get("category", {}).items():
        title = facet_label("category", name)
        out.append({"id": name, "name": name, "title": title, "display_name": title, "description": "",
                    "type": "group", "is_organization": False, "state": "active", "approval_status": "approved",
                    "image_url": "", "image_display_url": "", "created": None,
                    "url": f"{base}/catalog?category={name}", "package_count": len(having)})
    return out


def _sorted(groups: list[dict], sort: str) -> list[dict]:
    parts = sort.replace(",", " ").split()
    field = (parts[0] if parts else "title").lower()
    direction = (parts[1] if len(parts) > 1 else "asc").lower()
    if field not in GROUP_SORTS or direction not in ("asc", "desc") or len(parts) > 2:
        raise ValidationError({"sort": [f"Cannot sort by {sort!r}; use title, name or package_count with asc or "
                                        f"desc."]})
    return sorted(groups, key=GROUP_SORTS[field], reverse=direction == "desc")


@action
def group_list(data: dict) -> list:
    """The groups (categories) with listed datasets: names, or dicts with all_fields."""
    if text_param(data, "type", "group") not in ("group", ""):
        return []
    all_fields = bool_param(data, "all_fields", False)
    ceiling = 25 if all_fields else 1000
    limit, offset = min(int_param(data, "limit", ceiling), ceiling), int_param(data, "offset", 0)
    groups = _sorted(_groups(), text_param(data, "sort") or "title asc")
    if q := query_param(data, "q").lower():
        groups = [g for g in groups if q in g["name"] or q in g["title"].lower()]
    if names := strings_param(data, "groups"):
        groups = [g for g in groups if g["name"] in names]
    groups = groups[offset:offset + limit]
    if not all_fields:
        return [g["name"] for g in groups]
    if not bool_param(data, "include_dataset_count", True):
        for group in groups:
            group.pop("package_count")
    return groups


@action
def group_show(data: dict) -> dict:
    """One group (category) with listed datasets, by id or name; include_datasets adds the first 1000 of its
    datasets, newest first."""
    key = canonical("category", required_param(data, "id"))
    group = next((g for g in _groups() if g["name"] == key), None)
    if group is None:
        raise NotFoundError("Group was not found.")
    group.update(users=[], groups=[], tags=[], extras=[])
    if bool_param(data, "include_datasets", False):
        _, _, entries = find(db.session, where_of(db.session, Term("groups", key)), [], "newest", 0,
                             GROUP_DATASETS_MAX)
        group["packages"] = packages(db.session, [entry.id for entry in entries])
    return group


def _tags() -> list[str]:
    rows = db.session.scalars(select(ProductVersion.tags).join(CatalogEntry,
                                                               CatalogEntry.version_id == ProductVersion.id))
    return sorted({tag for tags in rows for tag in tag_names(tags)})


@action
def tag_list(data: dict) -> list:
    """The free tags of listed datasets (sorted), those containing ``query`` when given; dicts with
    all_fields."""
    if vocabulary := text_param(data, "vocabulary_id").strip():
        raise NotFoundError(f"could not find vocabulary '{vocabulary[:100]}'")
    tags = _tags()
    if query := (query_param(data, "query") or query_param(data, "q")).lower():
        tags = [t for t in tags if query in t.lower()]
    if not bool_param(data, "all_fields", False):
        return tags
    return [{"id": str(uuid.uuid5(TAG_NAMESPACE, t)), "name": t, "display_name": t, "vocabulary_id": None}
            for t in tags]


@action
def resource_show(data: dict) -> dict:
    """One resource (a file of a listed dataset's listed version) by its id, the file's UUID."""
    key = required_param(data, "id")
    listed = buyer_visible().with_only_columns(DataProduct.listed_version_id).scalar_subquery()
    asset = db.session.scalar(select(Asset).where(Asset.uuid == key, Asset.version_id.in_(listed)))
    if asset is None:
        raise NotFoundError("Resource was not found.")
    product = db.session.scalar(with_listed_content(buyer_visible().where(
        DataProduct.listed_version_id == asset.version_id), dictionary=False))
    page = f"{public_base_url()}/products/{product.slug}"
    position = next(i for i, a in enumerate(product.listed_version.assets) if a.id == asset.id)
    return resource_dict(asset, position, package_id=product.uuid, page=page,
                         times=file_times(db.session, [product])[asset.id])


@action
def package_autocomplete(data: dict) -> list[dict]:
    """Listed datasets whose name or title contains ``q`` (any case), at most ``limit`` (10), as CKAN's
    name/title/match_field/match_displayed dicts."""
    q = query_param(data, "q", required=True)
    limit = int_param(data, "limit", 10)
    pattern = like_pattern(q.lower())
    rows = db.session.execute(select(CatalogEntry.slug, CatalogEntry.title_en).where(or_(
        CatalogEntry.slug.like(pattern, escape="\\"), func.lower(CatalogEntry.title_en).like(pattern, escape="\\")))
        .order_by(CatalogEntry.slug).limit(limit)).all()
    out = []
    for name, title in rows:
        by_name = q.lower() in name
        out.append({"name": name, "title": title, "match_field": "name" if by_name else "title",
                    "match_displayed": name if by_name else f"{title} ({name})"})
    return out


@action
def current_package_list_with_resources(data: dict) -> list[dict]:
    """The listed datasets, most recently changed first, with their resources: ``limit`` (10, at most 1000),
    ``offset``, or ``page`` (from 1) when no offset is given."""
    limit = min(int_param(data, "limit", 10) or 10, ROWS_MAX)
    offset = int_param(data, "offset", 0)
    if data.get("offset") in (None, "") and data.get("page") not in (None, ""):
        page = int_param(data, "page", 1)
        if page < 1:
            raise ValidationError({"page": ["Must be a positive integer"]})
        offset = (page - 1) * limit
    _, _, entries = find(db.session, None, [], "newest", offset, limit)
    return packages(db.session, [entry.id for entry in entries])
