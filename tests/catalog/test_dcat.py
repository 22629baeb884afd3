"""The DCAT-AP export: /catalog.{jsonld,ttl} and /products/<slug>.{jsonld,ttl}, validated with the official
DCAT-AP 3.0.1 SHACL shapes (copied into tests/fixtures/shacl, see the README there)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import RDF, SH
from sqlalchemy import event

from marketplace.extensions import db
from marketplace.listings import services as listings
from marketplace.listings.licences import get_licence
from marketplace.review import services as review
from tests import factories

SHAPES = Path(__file__).resolve().parent.parent / "fixtures" / "shacl" / "dcat-ap-3.0.1"
# The consolidated shapes plus the modular mandatory, recommended, range and deprecation shapes. ranges.ttl is
# left out: 206 of its sh:property references point at shapes the file does not define, which pyshacl refuses
# (the consolidated file carries the same class-range checks).
CORE_SHAPES = ("dcat-ap-SHACL.ttl", "html-shapes.ttl", "html-shapes_recommended.ttl", "html-range.ttl",
               "html-deprecateduris.ttl")
VOCABULARY_SHAPES = ("html-mdr-vocabularies.shape.ttl",)
DCAT = Namespace("http://www.w3.org/ns/dcat#")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL of the testing config
EU = "http://publications.europa.eu/resource/authority/"


@cache
def shapes(names: tuple[str, ...]) -> Graph:
    g = Graph()
    for name in names:
        g.parse(SHAPES / name)
    return g


def violations(data: Graph, names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The sh:Violation results (warnings are allowed) of a validation: (focus node, path, message)."""
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes(names), inference="none", abort_on_first=False,
                                    allow_warnings=True)
    top = next(report.subjects(RDF.type, SH.ValidationReport))
    return sorted((str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                   str(report.value(r, SH.resultMessage)))
                  for r in report.objects(top, SH.result) if report.value(r, SH.resultSeverity) == SH.Violation)


def vocabulary_violations(data: Graph) -> list[tuple[str, str, str]]:
    """The vocabulary shapes' violations, less the one defect of the shapes themselves: their checksum algorithm
    restriction requires the pattern "^https://spdx.org/rdf/terms", but the SPDX vocabulary's namespace is
    http://spdx.org/rdf/terms# (DCAT 3 and DCAT-AP 3 write spdx:checksumAlgorithm_sha1 in it). Every algorithm
    left out is checked here to be an SPDX term instead, so nothing else slips through."""
    found = violations(data, VOCABULARY_SHAPES)
    algorithm = str(SPDX.algorithm)
    shape_defect = [v for v in found if v[1] == algorithm and "ChecksumAlgorithmRestriction" in v[2]]
    for checksum in data.subjects(RDF.type, SPDX.Checksum):
        assert data.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert len(shape_defect) == len(set(data.subjects(RDF.type, SPDX.Checksum)))
    return [v for v in found if v not in shape_defect]


def fetch(client, url: str) -> Graph:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    fmt = "json-ld" if url.split("?")[0].endswith(".jsonld") else "turtle"
    return Graph().parse(data=response.get_data(as_text=True), format=fmt)


# ---------------------------------------------------------------- data

FREE = {"name": "Evaluation", "kind": "free", "permitted_uses": ["research"], "prohibitions": ["redistribution"],
        "territory": "worldwide", "duration_days": None, "attribution_required": True, "derivatives_allowed": False}
MONTHLY = {"name": "Commercial monthly", "kind": "subscription", "billing_period": "month", "amount": 50000,
           "currency": "CNY", "permitted_uses": ["commercial_product", "ai_training"], "prohibitions": ["resale"],
           "territory": "mainland_china", "duration_days": 30, "attribution_required": False,
           "derivatives_allowed": True, "share_alike": True}
OSM = {"portal": "other", "title": "OpenStreetMap road network of Hong Kong",
       "url": "https://www.openstreetmap.org/relation/913110", "publisher": "OpenStreetMap contributors",
       "licence_id": "ODbL-1.0", "attribution": "© OpenStreetMap contributors"}
UCI = {"portal": "other", "title": "PM2.5 Data of Five Chinese Cities",
       "url": "https://archive.ics.uci.edu/dataset/394/pm2+5+data+of+five+chinese+cities",
       "publisher": "UCI Machine Learning Repository", "licence_id": "CC-BY-4.0", "attribution": "Liang et al., 2016"}
SODA = {"portal": "soda", "title": "上海市空气质量指数", "url": "http://sodachallenges.com/datasets/aqi",
        "publisher": "SODA", "licence_id": "LicenseRef-SODA-Data-Licence"}


def listed(session, storage, seller, reviewer, *, title, plans=(), sources=(), files=(), **metadata):
    """A listed product (through the real review path) with extra plans, sources and files added before review."""
    product = factories.product(session, seller, title=title)
    version = factories.complete_version(session, storage, seller, product.latest_version)
    listings.update_metadata(session, seller, version, metadata)
    for plan in plans:
        listings.add_plan(session, seller, version, plan)
    for source in sources:
        listings.add_source(session, seller, version, source)
    for kind, filename, data in files:
        factories.upload(session, storage, seller, version, kind=kind, filename=filename, data=data,
                         max_bytes=100_000)
    round_ = factories.submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.commit()
    return product


@pytest.fixture
def catalog(session, storage, seller, reviewer):
    """Three listed products of two sellers (different categories, regions, plans and sources), and a draft,
    a suspended and a delisted one."""
    other = factories.user(session, email="lab@example.org", organization="Huangpu Data Lab")
    org = other.memberships[0].organization
    org.contact_email, org.website = "hello@huangpu.example", "https://huangpu.example/"
    roads = listed(session, storage, seller, reviewer, title="Strategic road speeds",
                   plans=(FREE, MONTHLY), sources=(OSM,), temporal_start=date(2023, 1, 1),
                   temporal_end=date(2024, 12, 31), spatial_coverage="Strategic and major roads of Hong Kong")
    pm25 = listed(session, storage, other, reviewer, title="Shanghai hourly PM2.5, 2015",
                  plans=(MONTHLY | {"billing_period": "year", "amount": 480000},), sources=(UCI, SODA),
                  files=(("sample", "stations.geojson", b'{"type": "FeatureCollection", "features": []}'),),
                  title_zh="上海2015年逐时PM2.5", category="environment", regions=["shanghai"],
                  update_frequency="one_off", tags=["PM2.5", "空气质量"])
    wind = listed(session, storage, seller, reviewer, title="Typhoon wind readings", category="weather",
                  regions=["cross_city"], update_frequency="realtime", tags=["台风", "风速"],
                  temporal_start=date(2025, 9, 8), spatial_coverage="香港及上海气象站")
    draft = factories.product(session, seller, title="Unfinished draft")
    suspended = listed(session, storage, seller, reviewer, title="Suspended product")
    review.suspend_product(session, reviewer, suspended, "Complaint under investigation.")
    delisted = listed(session, storage, seller, reviewer, title="Delisted product")
    review.delist_product(session, reviewer, delisted, "Seller withdrew it.")
    session.commit()
    return {"roads": roads, "pm25": pm25, "wind": wind, "hidden": (draft, suspended, delisted)}


def dataset(product) -> URIRef:
    return URIRef(f"{BASE}/products/{product.slug}#dataset")


# ---------------------------------------------------------------- shapes

def test_catalog_page_passes_the_dcat_ap_shapes(client, catalog):
    g = fetch(client, "/catalog.ttl")
    assert set(g.objects(None, DCAT.dataset)) == {dataset(catalog[k]) for k in ("roads", "pm25", "wind")}
    assert violations(g, CORE_SHAPES) == []
    assert vocabulary_violations(g) == []


def test_product_document_passes_the_dcat_ap_shapes(client, catalog):
    g = fetch(client, f"/products/{catalog['pm25'].slug}.jsonld")
    assert set(g.subjects(RDF.type, DCAT.Catalog)) == set()
    assert (dataset(catalog["pm25"]), RDF.type, DCAT.Dataset) in g
    assert violations(g, CORE_SHAPES) == []
    assert vocabulary_violations(g) == []


# ---------------------------------------------------------------- what is published

def test_drafts_suspended_and_delisted_products_never_appear(client, catalog):
    g = fetch(client, "/catalog.jsonld")
    published = set(g.objects(None, DCAT.dataset))
    for product in catalog["hidden"]:
        assert dataset(product) not in published
        assert not list(g.triples((dataset(product), None, None)))
        for ext in ("jsonld", "ttl"):
            assert client.get(f"/products/{product.slug}.{ext}").status_code == 404


def test_unknown_product_is_404_with_a_message(client, catalog):
    response = client.get("/products/no-such-product.ttl")
    assert response.status_code == 404
    assert response.get_json()["message"] == "No such product in the catalog."


def test_content_types_and_no_login(client, catalog):
    slug = catalog["roads"].slug
    assert client.get("/catalog.jsonld").content_type == "application/ld+json"
    assert client.get("/catalog.ttl").content_type == "text/turtle; charset=utf-8"
    response = client.get(f"/products/{slug}.jsonld")
    assert response.content_type == "application/ld+json"
    assert response.headers["Link"] == f'<{BASE}/products/{slug}.ttl>; rel="alternate"; type="text/turtle"'
    assert client.get(f"/products/{slug}.ttl").content_type == "text/turtle; charset=utf-8"


def test_json_ld_and_turtle_carry_the_same_triples(client, catalog):
    jsonld, turtle = client.get("/catalog.jsonld"), client.get("/catalog.ttl")
    graphs = [Graph().parse(data=jsonld.get_data(as_text=True), format="json-ld"),
              Graph().parse(data=turtle.get_data(as_text=True), format="turtle")]
    for g, url in zip(graphs, ("/catalog.jsonld", "/catalog.ttl")):
        # Only the paging node differs: it is named after the document's own URL.
        page = URIRef(f"{BASE}{url}?page=1")
        assert (page, RDF.type, HYDRA.PagedCollection) in g
        g.remove((page, None, None))
    assert isomorphic(*graphs)
    assert set(jsonld.get_json()["@context"]) >= {"dcat", "dct", "odrl", "foaf", "vcard", "spdx", "hydra"}


def test_dataset_metadata(client, catalog):
    roads = catalog["roads"]
    v, ds = roads.listed_version, dataset(roads)
    g = fetch(client, f"/products/{roads.slug}.ttl")
    assert set(g.objects(ds, DCT.title)) == {Literal("Strategic road speeds", lang="en"),
                                             Literal("香港交通数据", lang="zh")}
    assert Literal("策略性道路车速。", lang="zh") in set(g.objects(ds, DCT.description))
    assert {Literal("Transport", lang="en"), Literal("交通", lang="zh"), Literal("traffic", lang="en")} <= set(
        g.objects(ds, DCAT.keyword))
    assert set(g.objects(ds, DCAT.theme)) == {URIRef(f"{EU}data-theme/TRAN")}
    assert g.value(ds, DCT.accrualPeriodicity) == URIRef(f"{EU}frequency/HOURLY")
    assert g.value(ds, DCAT.version) == Literal("1.0")
    assert g.value(ds, DCAT.landingPage) == URIRef(f"{BASE}/products/{roads.slug}")
    registration = g.value(ds, URIRef("http://www.w3.org/ns/adms#identifier"))
    assert str(g.value(registration, URIRef("http://www.w3.org/2004/02/skos/core#notation"))) == v.registration_number
    period = g.value(ds, DCT.temporal)
    assert g.value(period, DCAT.startDate) == Literal(date(2023, 1, 1))
    assert g.value(period, DCAT.endDate) == Literal(date(2024, 12, 31))
    assert URIRef("https://sws.geonames.org/1819730/") in set(g.objects(ds, DCT.spatial))
    assert g.value(URIRef("https://sws.geonames.org/1819730/"), DCAT.bbox) is not None
    publisher = g.value(ds, DCT.publisher)
    assert str(g.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))) == "Harbour Analytics"
    contact = g.value(ds, DCAT.contactPoint)
    assert g.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef("mailto:seller@example.org")
    sources = set(g.objects(ds, DCT.source))
    assert sources == set(g.objects(ds, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))) == {
        URIRef(factories.SOURCE["url"]), URIRef(OSM["url"])}
    assert g.value(URIRef(OSM["url"]), DCT.license) == URIRef(get_licence("ODbL-1.0").url)
    hk_terms = URIRef("https://data.gov.hk/en/terms-and-conditions")
    assert g.value(URIRef(factories.SOURCE["url"]), DCT.license) == hk_terms


def test_chinese_only_and_cross_city_products(client, catalog):
    wind, pm25 = catalog["wind"], catalog["pm25"]
    g = fetch(client, "/catalog.jsonld")
    assert Literal("上海2015年逐时PM2.5", lang="zh") in set(g.objects(dataset(pm25), DCT.title))
    assert {Literal("台风", lang="zh"), Literal("风速", lang="zh")} <= set(g.objects(dataset(wind), DCAT.keyword))
    places = set(g.objects(dataset(wind), DCT.spatial))
    assert {URIRef("https://sws.geonames.org/1819730/"), URIRef("https://sws.geonames.org/1796231/")} <= places
    labels = {g.value(p, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")) for p in places}
    assert Literal("香港及上海气象站", lang="zh") in labels
    assert g.value(dataset(pm25), DCT.temporal) is None
    assert g.value(dataset(wind), DCT.accrualPeriodicity) == URIRef(f"{EU}frequency/UPDATE_CONT")
    assert set(g.objects(dataset(pm25), DCAT.theme)) == {URIRef(f"{EU}data-theme/ENVI")}


def test_distributions_one_per_asset(client, catalog):
    pm25 = catalog["pm25"]
    page = f"{BASE}/products/{pm25.slug}"
    g = fetch(client, f"/products/{pm25.slug}.jsonld")
    assets = pm25.listed_version.assets
    assert set(g.objects(dataset(pm25), DCAT.distribution)) == {URIRef(f"{page}#distribution-{a.uuid}") for a in assets}
    for asset in assets:
        dist = URIRef(f"{page}#distribution-{asset.uuid}")
        assert g.value(dist, DCAT.downloadURL) == URIRef(f"{page}/assets/{asset.id}")
        assert g.value(dist, DCAT.accessURL) == URIRef(page)
        assert g.value(dist, DCAT.byteSize) == Literal(asset.size, datatype=XSD.nonNegativeInteger)
        checksum = g.value(dist, SPDX.checksum)
        assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(g.value(checksum, SPDX.checksumValue)) == asset.sha256
        assert g.value(dist, DCT.license) == URIRef(f"{page}#licence-terms")
    geojson = next(a for a in assets if a.filename == "stations.geojson")
    dist = URIRef(f"{page}#distribution-{geojson.uuid}")
    assert g.value(dist, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/application/geo+json")
    assert g.value(dist, DCT.format) == URIRef(f"{EU}file-type/GEOJSON")


def test_identifiers_outlive_a_new_version(session, client, catalog, storage, reviewer):
    """The dataset's dct:identifier is the product's UUID, and a file carried to the next version keeps its
    distribution: a harvester matching on them sees one dataset and the same distributions after a revision."""
    pm25 = catalog["pm25"]
    before = fetch(client, f"/products/{pm25.slug}.jsonld")
    assert before.value(dataset(pm25), DCT.identifier) == Literal(pm25.uuid)
    distributions = set(before.objects(dataset(pm25), DCAT.distribution))
    assert {str(before.value(d, DCT.identifier)) for d in distributions} == {
        a.uuid for a in pm25.listed_version.assets}

    seller = pm25.created_by
    version = listings.new_version(session, seller, pm25, "2.0", "Re-checked readings.")
    listings.set_compliance(session, seller, version, factories.COMPLIANCE, attest=True, attested_by_name="Ada")
    round_ = factories.submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.commit()
    assert pm25.listed_version.id == version.id

    after = fetch(client, f"/products/{pm25.slug}.jsonld")
    assert after.value(dataset(pm25), DCAT.version) == Literal("2.0")
    assert after.value(dataset(pm25), DCT.identifier) == Literal(pm25.uuid)
    assert set(after.objects(dataset(pm25), DCAT.distribution)) == distributions
    # The download links follow the new version's files.
    assert {str(after.value(d, DCAT.downloadURL)).rsplit("/", 1)[1] for d in distributions} == {
        str(a.id) for a in version.assets}


# ---------------------------------------------------------------- licence terms as ODRL

def offer_terms(g: Graph, offer: URIRef) -> dict:
    def rules(kind):
        return [(g.value(r, ODRL.action), list(g.objects(r, ODRL.constraint)), list(g.objects(r, ODRL.duty)))
                for r in g.objects(offer, kind)]

    def constraint(rule_constraints, left):
        return {g.value(c, ODRL.rightOperand) for c in rule_constraints if g.value(c, ODRL.leftOperand) == left}

    permissions, prohibitions = rules(ODRL.permission), rules(ODRL.prohibition)
    duties = {d for _, _, ds in permissions for d in ds}
    payment = next((d for d in duties if g.value(g.value(d, ODRL.action), RDF.value) == ODRL.compensate), None)
    return {
        "uses": {str(p).rsplit("#", 1)[-1] for a, cs, _ in permissions if a == ODRL.use
                 for p in constraint(cs, ODRL.purpose)},
        "derive": ODRL.derive in {a for a, _, _ in permissions},
        "prohibited": {str(a).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for a, _, _ in prohibitions},
        "territory": set().union(*(constraint(cs, ODRL.spatial) for _, cs, _ in permissions + prohibitions)),
        "duration": set().union(*(constraint(cs, ODRL.elapsedTime) for _, cs, _ in permissions)),
        "attribution": any(g.value(d, ODRL.action) == ODRL.attribute for d in duties),
        "share_alike": any(g.value(d, ODRL.action) == URIRef("http://creativecommons.org/ns#ShareAlike")
                           for d in duties),
        "payment": payment and (lambda amount: (g.value(amount, ODRL.rightOperand).toPython(),
                                                str(g.value(amount, ODRL.unit)).rsplit("/", 1)[-1]))(
            g.value(g.value(payment, ODRL.action), ODRL.refinement)),
        "every": payment and {g.value(c, ODRL.rightOperand) for c in g.objects(payment, ODRL.constraint)},
    }


def test_each_plan_is_an_odrl_offer_with_its_terms(client, catalog):
    roads = catalog["roads"]
    page = f"{BASE}/products/{roads.slug}"
    g = fetch(client, f"/products/{roads.slug}.ttl")
    plans = {p.name: p for p in roads.listed_version.plans}
    offers = {URIRef(f"{page}#plan-{p.id}") for p in plans.values()}
    assert set(g.objects(dataset(roads), ODRL.hasPolicy)) == offers
    assert all((o, RDF.type, ODRL.Offer) in g and g.value(o, ODRL.target) == dataset(roads) for o in offers)
    terms = {name: offer_terms(g, URIRef(f"{page}#plan-{p.id}")) for name, p in plans.items()}

    one_time = terms["Research licence"]
    assert one_time["uses"] == {"research", "internal_analysis"}
    assert one_time["prohibited"] == {"sell", "reidentify"} and one_time["derive"]
    assert one_time["territory"] == {URIRef("https://sws.geonames.org/1819730/")}
    assert one_time["duration"] == {Literal("P365D", datatype=XSD.duration)}
    assert one_time["attribution"] and one_time["payment"] == (Decimal("1200.00"), "HKD")
    assert one_time["every"] == set()

    free = terms["Evaluation"]
    assert free["uses"] == {"research"} and free["prohibited"] == {"distribute", "derive"} and not free["derive"]
    assert free["territory"] == set() and free["duration"] == set()  # worldwide, perpetual
    assert free["attribution"] and free["payment"] is None

    monthly = terms["Commercial monthly"]
    assert monthly["uses"] == {"commercial_product", "ai_training"} and monthly["prohibited"] == {"sell"}
    assert monthly["derive"] and monthly["share_alike"] and not monthly["attribution"]
    assert monthly["territory"] == {URIRef("https://sws.geonames.org/1814991/")}
    assert monthly["payment"] == (Decimal("500.00"), "CNY")
    assert monthly["every"] == {Literal("P1M", datatype=XSD.duration)}


# ---------------------------------------------------------------- paging

@pytest.fixture
def page_size(app):
    app.config["DCAT_PAGE_SIZE"] = 2
    yield 2
    app.config.pop("DCAT_PAGE_SIZE")


def test_catalog_pages_with_hydra_links(client, catalog, page_size):
    first = fetch(client, "/catalog.jsonld")
    page1 = URIRef(f"{BASE}/catalog.jsonld?page=1")
    page2 = URIRef(f"{BASE}/catalog.jsonld?page=2")
    assert (page1, RDF.type, HYDRA.PagedCollection) in first
    assert first.value(page1, HYDRA.totalItems).toPython() == 3
    assert first.value(page1, HYDRA.itemsPerPage).toPython() == 2
    for new, old, target in (("first", "firstPage", page1), ("last", "lastPage", page2), ("next", "nextPage", page2)):
        assert first.value(page1, HYDRA[new]) == first.value(page1, HYDRA[old]) == target
    assert first.value(page1, HYDRA.previous) is None
    assert len(set(first.objects(None, DCAT.dataset))) == 2

    second = fetch(client, "/catalog.jsonld?page=2")
    assert len(set(second.objects(None, DCAT.dataset))) == 1
    assert second.value(page2, HYDRA.previous) == page1 and second.value(page2, HYDRA.next) is None
    seen = set(first.objects(None, DCAT.dataset)) | set(second.objects(None, DCAT.dataset))
    assert seen == {dataset(catalog[k]) for k in ("roads", "pm25", "wind")}

    past = client.get("/catalog.ttl?page=3")
    assert past.status_code == 404 and "past the last page" in past.get_json()["message"]


@pytest.mark.parametrize("value", ["0", "00", "-1", "abc", "1.5", "", " 1", "１"])
def test_bad_page_is_400_with_a_message(client, value):
    response = client.get("/catalog.ttl", query_string={"page": value})
    assert response.status_code == 400
    assert "whole number from 1" in response.get_json()["message"]


def test_empty_catalog_is_one_empty_page(client):
    g = fetch(client, "/catalog.ttl")
    assert (URIRef(f"{BASE}/catalog#catalog"), RDF.type, DCAT.Catalog) in g
    assert not list(g.objects(None, DCAT.dataset))
    assert g.value(URIRef(f"{BASE}/catalog.ttl?page=1"), HYDRA.totalItems).toPython() == 0
    assert client.get("/catalog.ttl?page=2").status_code == 404
    assert violations(g, CORE_SHAPES) == []


def test_catalog_reads_a_fixed_number_of_queries(app, client, catalog, page_size):
    def statements(url: str) -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):  # not the test transaction's SAVEPOINTs
                seen.append(statement)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    app.config["DCAT_PAGE_SIZE"] = 1
    one = statements("/catalog.ttl")
    app.config["DCAT_PAGE_SIZE"] = 3
    assert statements("/catalog.ttl") == one


def test_identifiers_fall_back_to_the_request_root(app, client, catalog):
    configured = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = None
    try:
        g = fetch(client, f"/products/{catalog['wind'].slug}.ttl")
    finally:
        app.config["PUBLIC_BASE_URL"] = configured
    assert (URIRef(f"http://localhost/products/{catalog['wind'].slug}#dataset"), RDF.type, DCAT.Dataset) in g
