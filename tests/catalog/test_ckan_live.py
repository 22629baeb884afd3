"""The CKAN Action API as CKAN clients meet it: the ``ckanapi`` client against a live server process (gunicorn on
a free loopback port, no internet) serving a fresh migrated SQLite file with the demo catalog plus more listed
products, a draft and a suspended product; paging through the whole catalog finds every listed product once."""
from __future__ import annotations

import pytest
import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import NotFound, SearchQueryError, ValidationError

from marketplace.accounts.models import PlatformRole
from marketplace.listings.services import buyer_visible
from marketplace.review import services as review
from tests import factories
from tests.support.demo_site import DemoSite

pytestmark = pytest.mark.no_transaction

EXTRA = 30  # listed products besides the demo's, so that paging takes many pages
PAGING_ORG = "paging-test-data"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """A migrated SQLite file with the demo catalog, EXTRA more listed products, a draft and a suspended one."""
    demo = DemoSite(tmp_path_factory, "ckan-live")

    def seed(session, storage):
        seller = factories.user(session, email="paging@example.org", organization="Paging Test Data")
        reviewer = factories.user(session, email="paging-reviewer@example.org", role=PlatformRole.REVIEWER)
        for n in range(EXTRA):
            factories.listed_product(session, storage, seller, reviewer, title=f"Paging sample {n:02d}",
                                     tags=["paging", f"batch-{n % 3}"])
        draft = factories.product(session, seller, title="Paging draft never listed")
        suspended = factories.listed_product(session, storage, seller, reviewer, title="Paging suspended")
        review.suspend_product(session, reviewer, suspended, "Held for the test.")
        session.flush()
        return [p.slug for p in session.scalars(buyer_visible().order_by("id"))], [draft.slug, suspended.slug]

    listed, hidden = demo.run(seed)
    return {"site": demo, "listed": listed, "hidden": hidden}


@pytest.fixture(scope="module")
def server(catalog):
    """``gunicorn wsgi:app`` as its own process on 127.0.0.1, stopped at the end."""
    gunicorn = catalog["site"].gunicorn()
    try:
        yield gunicorn.start()
    finally:
        gunicorn.stop()


def _client(base: str, **kwargs) -> RemoteCKAN:
    session = requests.Session()
    session.trust_env = False
    return RemoteCKAN(base, session=session, **kwargs)


@pytest.fixture
def ckan(server):
    with _client(server) as client:
        yield client


def _page_through(ckan: RemoteCKAN, rows: int = 7, **params) -> tuple[list[str], int]:
    """Every dataset name package_search returns, following start/rows the way harvesters do."""
    seen, start, count = [], 0, None
    while True:
        result = ckan.action.package_search(rows=rows, start=start, **params)
        assert count in (None, result["count"])  # the total holds still while paging
        count = result["count"]
        seen += [p["name"] for p in result["results"]]
        if len(result["results"]) < rows:
            return seen, count
        start += rows


def test_status_show(ckan, server):
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.10") and status["site_url"] == server
    versioned = _client(server)
    versioned.base_url = "api/3/action/"  # the versioned path harvesters use answers the same
    assert versioned.action.status_show() == status


def test_package_list_is_every_listed_product(ckan, catalog):
    names = ckan.action.package_list()
    assert names == catalog["listed"] and len(names) >= 20 + EXTRA
    assert not set(catalog["hidden"]) & set(names)
    assert ckan.action.package_list(limit=10, offset=10) == names[10:20]


@pytest.mark.parametrize("sort", [None, "metadata_modified desc", "name asc", "id asc", "metadata_created asc"])
def test_paging_through_the_whole_catalog(ckan, catalog, sort):
    seen, count = _page_through(ckan, **({"sort": sort} if sort else {}))
    assert len(seen) == len(set(seen)) == count == len(catalog["listed"])
    assert set(seen) == set(catalog["listed"])


@pytest.mark.parametrize(("params", "expected"), [
    ({"fq": f"organization:{PAGING_ORG}"}, EXTRA),
    ({"q": "paging sample", "fq": f"organization:{PAGING_ORG}"}, EXTRA),
    ({"fq": f'owner_org:"{PAGING_ORG}" tags:batch-1'}, EXTRA // 3),
    ({"q": "traffic"}, None), ({"fq": "groups:transport res_format:CSV"}, None),
])
def test_paging_through_filtered_searches(ckan, params, expected):
    seen, count = _page_through(ckan, **params)
    assert len(seen) == len(set(seen)) == count and count > 0
    whole = ckan.action.package_search(rows=1000, **params)
    assert seen == [p["name"] for p in whole["results"]]
    if expected is not None:
        assert count == expected


def test_get_only_client_with_facets(server, catalog):
    with _client(server, get_only=True) as ckan:
        result = ckan.action.package_search(fq=f"organization:{PAGING_ORG}", rows=5,
                                            **{"facet.field": '["organization", "groups", "res_format"]'})
    assert result["count"] == EXTRA and len(result["results"]) == 5
    assert result["facets"]["organization"] == {PAGING_ORG: EXTRA}
    items = result["search_facets"]["organization"]["items"]
    assert items == [{"name": PAGING_ORG, "display_name": "Paging Test Data", "count": EXTRA}]


def test_package_show(ckan, catalog, server):
    for name in (catalog["listed"][0], catalog["listed"][-1]):
        pkg = ckan.action.package_show(id=name)
        assert pkg["name"] == name and pkg["state"] == "active"
        assert ckan.action.package_show(id=pkg["id"]) == pkg  # by its UUID too
        assert pkg["num_resources"] == len(pkg["resources"]) > 0
        assert all(r["url"] == f"{server}/products/{name}/files/{r['id']}" for r in pkg["resources"])
        assert pkg["organization"]["name"] == pkg["owner_org"]


def test_organizations(ckan, catalog):
    organizations = ckan.action.organization_list(all_fields=True)
    counts = {o["name"]: o["package_count"] for o in organizations}
    assert counts[PAGING_ORG] == EXTRA and sum(counts.values()) == len(catalog["listed"])
    assert ckan.action.organization_list() == [o["name"] for o in organizations]
    org = ckan.action.organization_show(id=PAGING_ORG, include_datasets=True)
    assert org["title"] == "Paging Test Data" and org["package_count"] == len(org["packages"]) == EXTRA


def test_license_list(ckan):
    licences = ckan.action.license_list()
    assert licences[0]["id"] == "marketplace-terms" and len(licences) > 100


def test_errors_raise_the_client_exceptions(ckan, catalog):
    for name in ("no-such-dataset", *catalog["hidden"]):
        with pytest.raises(NotFound):
            ckan.action.package_show(id=name)
    with pytest.raises(NotFound):
        ckan.action.organization_show(id="no-such-organization")
    with pytest.raises(ValidationError) as error:
        ckan.action.package_search(fq="colour:red")
    assert "colour" in str(error.value.error_dict["fq"])
    with pytest.raises(ValidationError) as error:
        ckan.action.package_search(fq="organization:x AND groups:y OR groups:z")
    assert error.value.error_dict["fq"][0].startswith("Search Query is invalid: AND and OR")
    with pytest.raises(ValidationError):
        ckan.action.package_search(q="metadata_modified:[yesterday TO *]")
    with pytest.raises(NotFound):
        ckan.action.resource_show(id="no-such-resource")
    with pytest.raises(NotFound):
        ckan.action.group_show(id="no-such-group")
    with pytest.raises(NotFound):
        ckan.action.tag_list(vocabulary_id="genres")
    with pytest.raises(ValidationError):
        ckan.action.package_search(rows="many")
    with pytest.raises(SearchQueryError):
        ckan.action.package_search(row=7)


def test_negation_and_date_ranges(ckan, catalog):
    everything = ckan.action.package_search(rows=0)["count"]
    others = ckan.action.package_search(fq=f"-organization:{PAGING_ORG}", rows=0)["count"]
    assert others == everything - EXTRA
    assert ckan.action.package_search(fq="metadata_modified:[NOW-1DAY TO *]", rows=0)["count"] == everything
    assert ckan.action.package_search(fq="metadata_modified:{* TO 2000-01-01T00:00:00Z]", rows=0)["count"] == 0
    tags = ckan.action.package_search(fq=f"organization:{PAGING_ORG} -tags:batch-1", rows=0,
                                      **{"facet.field": '["tags"]'})
    assert tags["count"] == EXTRA - EXTRA // 3 and tags["facets"]["tags"] == {"paging": 20, "batch-0": 10,
                                                                              "batch-2": 10}


def test_groups_tags_resources_and_autocomplete(ckan, catalog, server):
    groups = ckan.action.group_list(all_fields=True)
    assert groups and sum(g["package_count"] for g in groups) <= len(catalog["listed"])
    group = ckan.action.group_show(id=groups[0]["name"], include_datasets=True)
    assert group["package_count"] == len(group["packages"]) == groups[0]["package_count"]
    assert all(groups[0]["name"] in {g["name"] for g in p["groups"]} for p in group["packages"])
    assert {"paging", "batch-0", "batch-1", "batch-2"} <= set(ckan.action.tag_list())
    assert ckan.action.tag_list(query="batch") == ["batch-0", "batch-1", "batch-2"]
    pkg = ckan.action.package_show(id=catalog["listed"][-1])
    for resource in pkg["resources"]:
        assert ckan.action.resource_show(id=resource["id"]) == resource
    found = ckan.action.package_autocomplete(q="paging sample 0", limit=5)
    assert len(found) == 5 and all(f["match_field"] == "title" for f in found)
    newest = ckan.action.current_package_list_with_resources(limit=5)
    assert [p["name"] for p in newest] == \
        [p["name"] for p in ckan.action.package_search(sort="metadata_modified desc", rows=5)["results"]]
    assert [p["name"] for p in ckan.action.current_package_list_with_resources(limit=5, page=2)] == \
        [p["name"] for p in ckan.action.package_search(sort="metadata_modified desc", rows=5, start=5)["results"]]
