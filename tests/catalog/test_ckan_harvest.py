"""The gather stage of ckanext-harvest's CKAN harvester (``tests/support/ckan_harvester.py``, which follows
``ckanext/harvest/harvesters/ckanharvester.py`` of ckanext-harvest 1.x) run against a live gunicorn server over a
migrated SQLite file: a full harvest finds every listed dataset once by its stable id, an incremental harvest after
a change brings back only what changed, and the organization and group filters of a harvest source's
configuration take effect (they are sent as ``-organization:x``, ``groups:a OR groups:b`` and combined with the
incremental ``metadata_modified:[... TO *]`` term)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import PlatformRole, User
from marketplace.catalog.index import reindex_all
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible
from marketplace.review import services as review
from tests import factories
from tests.support.ckan_harvester import CKANHarvesterGather
from tests.support.demo_site import DemoSite

pytestmark = pytest.mark.no_transaction

ORG = "harvest-test-data"
EXTRA = 12
LONG_AGO = datetime.now(UTC) - timedelta(days=2)  # every listing is older than the harvester's one-hour margin


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo catalog plus EXTRA listed products of one more organization, every listing two days old, served by
    gunicorn; ``change`` runs a function in an app context on the same database and commits (``DemoSite.run``)."""
    demo = DemoSite(tmp_path_factory, "ckan-harvest")

    def seed(session, storage):
        seller = factories.user(session, email="harvest@example.org", organization="Harvest Test Data")
        reviewer = factories.user(session, email="harvest-reviewer@example.org", role=PlatformRole.REVIEWER)
        for n in range(EXTRA):
            factories.listed_product(session, storage, seller, reviewer, title=f"Harvest sample {n:02d}",
                                     category="energy" if n % 2 else "economy")
        session.execute(update(ProductVersion).where(ProductVersion.approved_at.is_not(None))
                        .values(approved_at=LONG_AGO))
        session.execute(update(DataProduct).where(DataProduct.status_changed_at.is_not(None))
                        .values(status_changed_at=LONG_AGO))
        reindex_all(session)

    demo.run(seed)
    gunicorn = demo.gunicorn()

    def listed() -> dict[str, tuple[str, str, str | None]]:
        return demo.run(lambda session, _: {p.uuid: (p.slug, p.organization.slug, p.listed_version.category)
                                            for p in session.scalars(buyer_visible())})

    try:
        yield {"base": gunicorn.start(), "change": demo.run, "listed": listed,
               "reviewer": "harvest-reviewer@example.org"}
    finally:
        gunicorn.stop()


def _guids(objects) -> set[str]:
    return {guid for guid, _ in objects}


@pytest.mark.parametrize("rows", ["100", "7"])
def test_full_harvest_finds_every_listed_dataset_once_by_its_uuid(site, rows):
    harvester = CKANHarvesterGather(site["base"])
    harvester.rows = rows  # upstream's 100 is one page here; 7 crosses many
    objects = harvester.gather(last_time=None)
    listed = site["listed"]()
    assert len(objects) == len(listed) >= 20 + EXTRA and _guids(objects) == set(listed)
    assert all(str(uuid.UUID(guid)) == guid for guid in _guids(objects))
    for guid, pkg in objects:
        assert pkg["name"] == listed[guid][0] and pkg["id"] == guid
        assert all(str(uuid.UUID(r["id"])) == r["id"] and r["package_id"] == guid for r in pkg["resources"])
    assert "sort=id+asc" in harvester.urls[0] and harvester.errors == []
    pages = -(-len(listed) // int(rows))
    assert len(harvester.urls) == pages + 1  # the pages, then the empty one that ends the loop


def test_incremental_harvest_brings_back_only_what_changed(site):
    harvester = CKANHarvesterGather(site["base"])
    first_started = datetime.now(UTC).replace(tzinfo=None)  # upstream's gather_started: naive UTC
    assert len(harvester.gather(last_time=None)) == len(site["listed"]())
    # nothing changed since: upstream's "No datasets have been updated", without falling back to a full harvest
    assert harvester.gather(last_time=first_started) == [] and harvester.errors == []
    assert "metadata_modified%3A%5B" in harvester.urls[-1]

    def suspend_and_reinstate(session, storage):
        reviewer = session.scalar(select(User).where(User.email == site["reviewer"]))
        product = session.scalar(buyer_visible().where(DataProduct.slug.like("harvest-sample-03%")))
        review.suspend_product(session, reviewer, product, "Checking the source.")
        review.reinstate_product(session, reviewer, product, "Source confirmed.")
        return product.uuid

    def list_a_new_product(session, storage):
        reviewer = session.scalar(select(User).where(User.email == site["reviewer"]))
        seller = session.scalar(select(DataProduct).where(DataProduct.slug.like("harvest-sample-00%"))).created_by
        return factories.listed_product(session, storage, seller, reviewer, title="Harvest newcomer").uuid

    changed = {site["change"](suspend_and_reinstate), site["change"](list_a_new_product)}
    second_started = datetime.now(UTC).replace(tzinfo=None)
    objects = harvester.gather(last_time=first_started)
    assert _guids(objects) == changed
    # the one-hour margin brings them back once more; a harvest started later than that finds nothing new
    assert _guids(harvester.gather(last_time=second_started)) == changed
    assert harvester.gather(last_time=second_started + timedelta(hours=1, seconds=5)) == []
    # a source filtered by organization sees only its own changes
    excluding = CKANHarvesterGather(site["base"], {"organizations_filter_exclude": [ORG]})
    assert excluding.gather(last_time=first_started) == []
    including = CKANHarvesterGather(site["base"], {"organizations_filter_include": [ORG, "no-such-org"]})
    assert _guids(including.gather(last_time=first_started)) == changed


def test_exclude_organization_source(site):
    harvester = CKANHarvesterGather(site["base"], {"organizations_filter_exclude": [ORG]})
    objects = harvester.gather(last_time=None)
    listed = site["listed"]()
    assert "fq=-organization%3A" + ORG in harvester.urls[0]
    assert _guids(objects) == {guid for guid, (_, org, _) in listed.items() if org != ORG}
    assert objects and all(pkg["organization"]["name"] != ORG for _, pkg in objects)
    others = sorted({org for _, org, _ in listed.values() if org != ORG})
    two = CKANHarvesterGather(site["base"], {"organizations_filter_exclude": [ORG, others[0]]}).gather()
    assert _guids(two) == {guid for guid, (_, org, _) in listed.items() if org not in (ORG, others[0])}


def test_include_group_source(site):
    harvester = CKANHarvesterGather(site["base"], {"groups_filter_include": ["energy", "transport"]})
    objects = harvester.gather(last_time=None)
    listed = site["listed"]()
    expected = {guid for guid, (_, _, category) in listed.items() if category in ("energy", "transport")}
    assert "fq=groups%3Aenergy+OR+groups%3Atransport" in harvester.urls[0]
    assert len(expected) > EXTRA // 2 and _guids(objects) == expected
    assert all({g["name"] for g in pkg["groups"]} & {"energy", "transport"} for _, pkg in objects)
    excluding = CKANHarvesterGather(site["base"], {"groups_filter_exclude": ["energy", "economy"]}).gather()
    assert _guids(excluding) == {guid for guid, (_, _, c) in listed.items() if c not in ("energy", "economy")}
    combined = CKANHarvesterGather(site["base"], {"organizations_filter_include": [ORG],
                                                  "groups_filter_include": ["energy"]}).gather()
    assert _guids(combined) == {guid for guid, (_, org, c) in listed.items() if org == ORG and c == "energy"}
