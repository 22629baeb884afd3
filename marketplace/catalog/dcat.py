"""DCAT-AP 3 descriptions of the listed catalog, built as an rdflib graph and serialised to JSON-LD and Turtle.

A listed product is a ``dcat:Dataset`` described through its listed version only: one ``dcat:Distribution`` per
asset, the seller organization as publisher, each pricing plan as an ``odrl:Offer``, and the upstream open data
it is built on as ``dct:source`` / ``prov:wasDerivedFrom`` with their own licences. Controlled values come from the
EU authority tables (data theme, frequency, file type, language, access right, planned availability), ADMS (licence
and publisher types), GeoNames (places) and IANA (media types); each is typed and labelled in the graph with its
scheme, so that the DCAT-AP shapes, the controlled-vocabulary ones included, validate without fetching the tables.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import FOAF, PROV, RDF, RDFS, SKOS, XSD
from rdflib.namespace import ODRL2 as ODRL
from rdflib.term import Node

from marketplace.catalog.index import last_change
from marketplace.listings.forms import minor_to_decimal
from marketplace.listings.licence_profiles import licence_profile
from marketplace.listings.licences import get_licence
from marketplace.listings.models import Asset, DataProduct, OpenDataSource, PricingPlan, ProductVersion
from marketplace.listings.view_helpers import price_words, terms_words
from marketplace.listings.vocab import Category, PermittedUse, Portal, Prohibition, Region, UpdateFrequency

DCAT = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's own DCAT namespace lacks DCAT 3 terms (dcat:version)
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
# The algorithm is a term of the SPDX vocabulary, so it is in the SPDX namespace, which is http:// (as DCAT 3 and
# DCAT-AP 3 write spdx:checksumAlgorithm_sha1). The DCAT-AP 3.0.1 vocabulary shapes' pattern
# "^https://spdx.org/rdf/terms" names a namespace that no SPDX term lives in; the output follows the vocabulary.
SHA256 = SPDX.checksumAlgorithm_sha256
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
CC = Namespace("http://creativecommons.org/ns#")
EU = "http://publications.europa.eu/resource/authority/"
ADMS_TYPES = "http://purl.org/adms/"
IANA = "https://www.iana.org/assignments/media-types/"

PREFIXES = {
    "dcat": DCAT, "dct": DCT, "foaf": FOAF, "vcard": VCARD, "odrl": ODRL, "prov": PROV, "skos": SKOS, "xsd": XSD,
    "rdf": RDF, "rdfs": RDFS, "adms": ADMS, "spdx": SPDX, "hydra": HYDRA, "dcatap": DCATAP, "gsp": GSP, "cc": CC,
}
# The JSON-LD documents' @context: just these prefixes, so it is compact and the same for every document.
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}

NAME = {"en": "Open Data Exchange", "zh": "开放数据交易所"}
CATALOG_DESCRIPTION = {
    "en": "Data products built on open data from Hong Kong and Shanghai, each listed only after a compliance "
          "review of the exact version buyers receive.",
    "zh": "基于香港与上海开放数据的数据产品，每个版本经合规审核后方可挂牌。",
}
THEMES = {  # our categories on the EU data-theme table; one category may touch two themes
    Category.TRANSPORT: ("TRAN",), Category.ENVIRONMENT: ("ENVI",), Category.WEATHER: ("ENVI",),
    Category.GEOSPATIAL: ("REGI",), Category.ENERGY: ("ENER",), Category.ECONOMY: ("ECON",),
    Category.HEALTH: ("HEAL",), Category.POPULATION: ("SOCI",), Category.CITY_MANAGEMENT: ("REGI", "GOVE"),
    Category.CONSUMER: ("ECON",), Category.FINANCE: ("ECON",), Category.EDUCATION: ("EDUC",), Category.OTHER: (),
}
THEME_LABELS = {
    "TRAN": "Transport", "ENVI": "Environment", "REGI": "Regions and cities", "ENER": "Energy",
    "ECON": "Economy and finance", "HEAL": "Health", "SOCI": "Population and society",
    "GOVE": "Government and public sector", "EDUC": "Education, culture and sport",
}
CATEGORY_ZH = {
    "transport": "交通", "environment": "环境", "weather": "气象", "geospatial": "地理空间", "energy": "能源",
    "economy": "经济", "health": "健康", "population": "人口", "city_management": "城市管理",
    "consumer": "消费", "finance": "金融", "education": "教育", "other": "其他",
}
FREQUENCIES = {
    UpdateFrequency.REALTIME: ("UPDATE_CONT", "continuously updated"), UpdateFrequency.HOURLY: ("HOURLY", "hourly"),
    UpdateFrequency.DAILY: ("DAILY", "daily"), UpdateFrequency.WEEKLY: ("WEEKLY", "weekly"),
    UpdateFrequency.MONTHLY: ("MONTHLY", "monthly"), UpdateFrequency.QUARTERLY: ("QUARTERLY", "quarterly"),
    UpdateFrequency.YEARLY: ("ANNUAL", "annual"), UpdateFrequency.IRREGULAR: ("IRREG", "irregular"),
    UpdateFrequency.ONE_OFF: ("NEVER", "never"),
}
# EU file-type codes by file extension (the media type cannot tell GeoJSON saved as .json from JSON).
FILE_TYPES = {"csv": "CSV", "json": "JSON", "geojson": "GEOJSON", "xlsx": "XLSX", "xml": "XML", "pdf": "PDF",
              "parquet": "PARQUET", "zip": "ZIP", "shp": "SHP"}
LICENCE_TYPES = {
    "RoyaltiesRequired": "Royalties required", "Attribution": "Attribution", "PublicDomain": "Public domain",
    "ViralEffect-ShareAlike": "Viral effect (a.k.a. Share-alike)", "NoDerivativeWork": "No derivative work",
    "NonCommercialUseOnly": "Non-commercial use only", "OtherRestrictiveClauses": "Other restrictive clauses",
}


@dataclass(frozen=True)
class Place:
    iri: str
    en: str
    zh: str
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north (CRS84)
    centroid: tuple[float, float] | None = None


# Hong Kong's box is that of the district boundaries in data/samples, rounded outwards; Shanghai's is approximate.
HONG_KONG = Place("https://sws.geonames.org/1819730/", "Hong Kong", "香港", (113.83, 22.15, 114.45, 22.57),
                  (114.17, 22.32))
SHANGHAI = Place("https://sws.geonames.org/1796231/", "Shanghai", "上海", (120.85, 30.67, 122.2, 31.88),
                 (121.47, 31.23))
MAINLAND_CHINA = Place("https://sws.geonames.org/1814991/", "Mainland China", "中国内地")
REGION_PLACES = {Region.HONG_KONG: (HONG_KONG,), Region.SHANGHAI: (SHANGHAI,), Region.CROSS_CITY: (HONG_KONG, SHANGHAI)}
TERRITORY_PLACES = {"hong_kong": HONG_KONG, "mainland_china": MAINLAND_CHINA}  # worldwide: no spatial constraint
PROHIBITED_ACTIONS = {"resale": ODRL.sell, "redistribution": ODRL.distribute}  # re-identification: our own action
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def lang_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def iri(url: str) -> URIRef:
    """A URL from user input as an IRI that Turtle and JSON-LD can carry (spaces and the like escaped)."""
    return URIRef(quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~"))


def _web(url: str | None) -> URIRef | None:
    """An organization's website as an IRI, if it is an absolute http(s) address."""
    return iri(url) if url and re.match(r"https?://[^\s/]+", url.strip(), re.I) else None


def _add(g: Graph, node, *pairs):
    """Add (predicate, object) pairs to a node, skipping absent objects (None, False, ""); returns the node."""
    for predicate, value in pairs:
        if isinstance(value, Node):
            g.add((node, predicate, value))
        elif value not in (None, False, ""):
            raise TypeError(f"not an RDF term: {value!r}")
    return node


def _when(moment) -> Literal | None:
    return Literal(moment) if moment is not None else None


def _text(value: str | None, lang: str | None = None) -> Literal | None:
    return Literal(value.strip(), lang=lang or lang_of(value)) if value and value.strip() else None


@dataclass(frozen=True)
class CatalogPage:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def serialize(g: Graph, fmt: str) -> str:
    if fmt == "jsonld":
        return g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, indent=2)
    return g.serialize(format="turtle")


def _new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, replace=True)
    return g


# ---------------------------------------------------------------- controlled values

def _concept(g: Graph, node: str, scheme: str, scheme_title: str, label: str, *types: URIRef) -> URIRef:
    g.add((URIRef(scheme), RDF.type, SKOS.ConceptScheme))
    g.set((URIRef(scheme), DCT.title, Literal(scheme_title, lang="en")))
    _add(g, URIRef(node), (RDF.type, SKOS.Concept), *((RDF.type, t) for t in types), (SKOS.inScheme, URIRef(scheme)))
    g.set((URIRef(node), SKOS.prefLabel, Literal(label, lang="en")))
    return URIRef(node)


def _eu(g: Graph, table: str, code: str, label: str, *types: URIRef) -> URIRef:
    title = table.replace("-", " ").capitalize()
    return _concept(g, f"{EU}{table}/{code}", f"{EU}{table}", title, label, *types)


def _licence_types(g: Graph, licence: URIRef, names: Iterable[str]) -> None:
    for name in names:
        g.add((licence, DCT.type, _concept(g, f"{ADMS_TYPES}licencetype/{name}", f"{ADMS_TYPES}licencetype/1.0",
                                           "Licence type", LICENCE_TYPES[name])))


def _place(g: Graph, place: Place) -> URIRef:
    wkt = GSP.wktLiteral
    box = place.bbox and "POLYGON(({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))".format(*place.bbox)
    return _add(g, URIRef(place.iri), (RDF.type, DCT.Location), (SKOS.prefLabel, Literal(place.en, lang="en")),
                (SKOS.prefLabel, Literal(place.zh, lang="zh")), (DCAT.bbox, box and Literal(box, datatype=wkt)),
                (DCAT.centroid, place.centroid and Literal("POINT({} {})".format(*place.centroid), datatype=wkt)))


def _agent(g: Graph, node: URIRef, name: str, *, email: str | None = None, website: str | None = None) -> URIRef:
    company = _concept(g, f"{ADMS_TYPES}publishertype/Company", f"{ADMS_TYPES}publishertype/1.0", "Publisher type",
                       "Company")
    return _add(g, node, (RDF.type, FOAF.Agent), (RDF.type, FOAF.Organization), (FOAF.name, Literal(name)),
                (DCT.type, company), (FOAF.mbox, email and URIRef(f"mailto:{email}")),
                (FOAF.homepage, _web(website)))


def _document(g: Graph, url: str) -> URIRef:
    return _add(g, iri(url), (RDF.type, FOAF.Document))


# ---------------------------------------------------------------- catalog and product documents

def catalog_graph(products: Sequence[DataProduct], *, base: str, page: CatalogPage, page_url: Callable[[int], str],
                  issued: dict[int, datetime], dates: tuple[datetime | None, datetime | None],
                  licence_url: str | None = None) -> Graph:
    """One page of the catalog: the dcat:Catalog, the datasets on this page, and a hydra:PagedCollection."""
    g = _new_graph()
    catalog = URIRef(f"{base}/catalog#catalog")
    themes = _add(g, URIRef(f"{EU}data-theme"), (RDF.type, SKOS.ConceptScheme),
                  (DCT.title, Literal("Data theme", lang="en")))
    _add(g, catalog, (RDF.type, DCAT.Catalog), (DCT.title, _text(NAME["en"], "en")), (DCT.title, _text(NAME["zh"])),
         (DCT.description, _text(CATALOG_DESCRIPTION["en"], "en")), (DCT.description, _text(CATALOG_DESCRIPTION["zh"])),
         (DCT.publisher, _agent(g, URIRef(f"{base}/#exchange"), NAME["en"], website=f"{base}/")),
         (FOAF.homepage, _document(g, f"{base}/")), (DCAT.themeTaxonomy, themes),
         (DCT.language, _eu(g, "language", "ENG", "English", DCT.LinguisticSystem)),
         (DCT.language, _eu(g, "language", "ZHO", "Chinese", DCT.LinguisticSystem)),
         (DCT.spatial, _place(g, HONG_KONG)), (DCT.spatial, _place(g, SHANGHAI)),
         (DCT.issued, _when(dates[0])), (DCT.modified, _when(dates[1])))
    if licence_url:  # the licence of the catalog's metadata, when the operator has chosen one
        g.add((catalog, DCT.license, _add(g, _document(g, licence_url), (RDF.type, DCT.LicenseDocument))))
    for product in products:
        g.add((catalog, DCAT.dataset, add_dataset(g, product, base=base, issued=issued.get(product.id))))

    # Paging as ckanext-dcat publishes it: the current page is a hydra:PagedCollection carrying both the Hydra link
    # properties (first, next, ...) and the older ones (firstPage, nextPage, ...) that existing harvesters read.
    current = _add(g, URIRef(page_url(page.number)), (RDF.type, HYDRA.PagedCollection),
                   (HYDRA.totalItems, Literal(page.total)), (HYDRA.itemsPerPage, Literal(page.size)))
    links = {"first": 1, "last": page.last, "next": page.number + 1 if page.number < page.last else None,
             "previous": page.number - 1 if page.number > 1 else None}
    for name, number in links.items():
        if number is not None:
            _add(g, current, (HYDRA[name], URIRef(page_url(number))), (HYDRA[f"{name}Page"], URIRef(page_url(number))))
    return g


def product_graph(product: DataProduct, *, base: str, issued: datetime | None) -> Graph:
    g = _new_graph()
    add_dataset(g, product, base=base, issued=issued)
    return g


def add_dataset(g: Graph, product: DataProduct, *, base: str, issued: datetime | None) -> URIRef:
    """Describe a listed product, through its listed version, as a dcat:Dataset; returns the dataset node."""
    v: ProductVersion = product.listed_version
    org = product.organization
    page = f"{base}/products/{quote(product.slug)}"
    ds = URIRef(f"{page}#dataset")
    seller = _agent(g, URIRef(f"{base}/organizations/{quote(org.slug)}"), org.name, email=org.contact_email,
                    website=org.website)
    contact = _add(g, BNode(), (RDF.type, VCARD.Kind), (RDF.type, VCARD.Organization), (VCARD.fn, Literal(org.name)),
                   (VCARD.hasEmail, org.contact_email and URIRef(f"mailto:{org.contact_email}")),
                   (VCARD.hasURL, _web(org.website)))
    registration = v.registration_number and _add(
        g, BNode(), (RDF.type, ADMS.Identifier), (SKOS.notation, Literal(v.registration_number)),
        (ADMS.schemaAgency, Literal(NAME["en"])))
    _add(g, ds, (RDF.type, DCAT.Dataset), (DCT.title, _text(v.title_en, "en")), (DCT.title, _text(v.title_zh, "zh")),
         (DCT.description, _text(v.description_en or v.title_en, "en")),
         (DCT.description, _text(v.description_zh, "zh")),
         (DCT.identifier, Literal(product.uuid)), (ADMS.identifier, registration), (DCAT.version, Literal(v.label)),
         (ADMS.versionNotes, _text(v.changelog, "en")), (DCT.issued, _when(issued or v.approved_at)),
         (DCT.modified, _when(last_change(product))), (DCAT.landingPage, _document(g, page)),
         (DCT.publisher, seller), (DCAT.contactPoint, contact),
         (DCT.accessRights, _eu(g, "access-right", "RESTRICTED", "restricted", DCT.RightsStatement)))
    if v.category:
        category = Category(v.category)
        for code in THEMES[category]:
            g.add((ds, DCAT.theme, _eu(g, "data-theme", code, THEME_LABELS[code])))
        _add(g, ds, (DCAT.keyword, Literal(category.label_en, lang="en")),
             (DCAT.keyword, Literal(CATEGORY_ZH[category.value], lang="zh")))
    for tag in v.tags or ():
        _add(g, ds, (DCAT.keyword, _text(str(tag))))
    if v.update_frequency:
        code, label = FREQUENCIES[UpdateFrequency(v.update_frequency)]
        g.add((ds, DCT.accrualPeriodicity, _eu(g, "frequency", code, label, DCT.Frequency)))
    if v.temporal_start or v.temporal_end:
        g.add((ds, DCT.temporal, _add(g, BNode(), (RDF.type, DCT.PeriodOfTime),
                                      (DCAT.startDate, _when(v.temporal_start)),
                                      (DCAT.endDate, _when(v.temporal_end)))))
    for region in v.regions or ():
        for place in REGION_PLACES.get(region, ()):
            g.add((ds, DCT.spatial, _place(g, place)))
    if _text(v.spatial_coverage):  # the seller's own words; a bounding box comes only with the regions above
        where = _add(g, BNode(), (RDF.type, DCT.Location), (SKOS.prefLabel, _text(v.spatial_coverage)))
        g.add((ds, DCT.spatial, where))
    for source in v.sources:
        node = _source(g, source)
        _add(g, ds, (DCT.source, node), (PROV.wasDerivedFrom, node))
    for plan in v.plans:
        g.add((ds, ODRL.hasPolicy, add_offer(g, plan, page=page, dataset=ds, seller=seller, base=base)))
    terms = _licence_terms(g, page, v.plans)
    for asset in v.assets:
        dist = _distribution(g, asset, page=page, terms=terms)
        _add(g, ds, (DCAT.distribution, dist), (ADMS.sample, dist if asset.kind == "sample" else None))
    return ds


def _distribution(g: Graph, asset: Asset, *, page: str, terms: URIRef) -> URIRef:
    sample = asset.kind == "sample"
    media_type = (asset.content_type or "").split(";")[0].strip().lower()
    media = re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", media_type) and _add(
        g, URIRef(IANA + media_type), (RDF.type, DCT.MediaType))
    code = FILE_TYPES.get(asset.filename.rsplit(".", 1)[-1].lower()) if "." in asset.filename else None
    checksum = _add(g, BNode(), (RDF.type, SPDX.Checksum), (SPDX.algorithm, SHA256),
                    (SPDX.checksumValue, Literal(asset.sha256, datatype=XSD.hexBinary)))
    g.add((SHA256, RDF.type, SPDX.ChecksumAlgorithm))
    available = _concept(g, f"{EU}planned-availability/AVAILABLE", f"{EU}planned-availability",
                         "Planned availability", "available")
    return _add(
        # Named by the file's UUID, which the file keeps from version to version: a harvester sees one distribution.
        g, URIRef(f"{page}#distribution-{asset.uuid}"), (RDF.type, DCAT.Distribution),
        (DCT.identifier, Literal(asset.uuid)),
        (DCT.title, Literal(f"{'Sample' if sample else 'Deliverable'}: {asset.filename}", lang="en")),
        (DCT.description, Literal("Sample file, free to preview." if sample else
                                  "Deliverable file, for holders of an active licence.", lang="en")),
        (DCAT.accessURL, URIRef(page)), (DCAT.downloadURL, URIRef(f"{page}/assets/{asset.id}")),
        (DCAT.mediaType, media),
        (DCT.format, code and _eu(g, "file-type", code, code, DCT.MediaTypeOrExtent)),
        (DCAT.byteSize, Literal(asset.size, datatype=XSD.nonNegativeInteger)), (SPDX.checksum, checksum),
        (DCT.license, terms), (DCATAP.availability, available), (DCT.issued, _when(asset.created_at)))


def _source(g: Graph, source: OpenDataSource) -> URIRef:
    """An upstream open dataset (dct:source must be a dcat:Dataset), cited with its own licence."""
    node = iri(source.url)
    origin = "Upstream open data" if source.portal == Portal.OTHER else f"Open data from {source.portal.label_en}"
    # One publisher node per upstream dataset, however many products cite it (DCAT-AP allows one publisher).
    publisher = _text(source.publisher) is not None and _add(
        g, BNode(f"publisher-{hashlib.sha1(str(node).encode()).hexdigest()[:16]}"), (RDF.type, FOAF.Agent),
        (FOAF.name, Literal(source.publisher.strip())))
    info = get_licence(source.licence_id)
    licence = _add(g, iri(info.url) if info else BNode(), (RDF.type, DCT.LicenseDocument),
                   (DCT.identifier, Literal(source.licence_id)), (DCT.title, info and Literal(info.name)))
    profile = licence_profile(source.licence_id)
    if profile:
        _licence_types(g, licence, [name for name, applies in (
            ("Attribution", profile.attribution), ("ViralEffect-ShareAlike", profile.share_alike),
            ("NonCommercialUseOnly", profile.commercial is False), ("NoDerivativeWork", not profile.derivatives),
            ("PublicDomain", profile.commercial and profile.derivatives
             and not (profile.attribution or profile.share_alike))) if applies])
    return _add(g, node, (RDF.type, DCAT.Dataset), (DCT.title, _text(source.title)),
                (DCT.description, Literal(origin, lang="en")), (DCT.publisher, publisher),
                (DCT.bibliographicCitation, _text(source.attribution)), (DCT.license, licence))


# ---------------------------------------------------------------- licence terms and ODRL offers

def _licence_terms(g: Graph, page: str, plans: Sequence[PricingPlan]) -> URIRef:
    """The distributions' licence: the exchange's terms, one licence per plan, machine-readable as the offers."""
    terms = _add(g, URIRef(f"{page}#licence-terms"), (RDF.type, DCT.LicenseDocument),
                 (DCT.title, Literal(f"{NAME['en']} licence terms, one per pricing plan", lang="en")),
                 (DCT.title, Literal(f"{NAME['zh']}许可条款（按定价方案）", lang="zh")),
                 (DCT.description, Literal("Each pricing plan grants its own licence; the plans' terms are the "
                                           "dataset's ODRL offers (odrl:hasPolicy).", lang="en")))
    _licence_types(g, terms, [name for name, applies in (
        ("RoyaltiesRequired", any(p.amount > 0 for p in plans)),
        ("Attribution", any(p.attribution_required for p in plans)),
        ("ViralEffect-ShareAlike", any(p.share_alike for p in plans)),
        ("NoDerivativeWork", any(not p.derivatives_allowed for p in plans)),
        ("OtherRestrictiveClauses", any(p.prohibitions or str(p.territory) != "worldwide" for p in plans))) if applies])
    return terms


def _constraint(g: Graph, left: URIRef, operator: URIRef, right) -> BNode:
    return _add(g, BNode(), (RDF.type, ODRL.Constraint), (ODRL.leftOperand, left), (ODRL.operator, operator),
                (ODRL.rightOperand, right))


def _vocab_term(g: Graph, base: str, name: str, label: str, action: bool = False) -> URIRef:
    """A term of our own licence vocabulary (purposes, and actions ODRL lacks), labelled in the graph."""
    return _add(g, URIRef(f"{base}/vocab/licence#{name}"), (RDFS.label, Literal(label, lang="en")),
                (RDF.type, ODRL.Action if action else None), (ODRL.includedIn, ODRL.use if action else None))


def add_offer(g: Graph, plan: PricingPlan, *, page: str, dataset: URIRef, seller: URIRef, base: str) -> URIRef:
    """One pricing plan as an odrl:Offer: a permission per permitted use (as a purpose), derive permitted or
    prohibited, the prohibitions, territory and duration constraints, and attribution and payment duties."""
    offer = _add(g, URIRef(f"{page}#plan-{plan.id}"), (RDF.type, ODRL.Offer),
                 (ODRL.profile, URIRef(f"{base}/vocab/licence")), (ODRL.assigner, seller), (ODRL.target, dataset),
                 (DCT.title, Literal(plan.name)),
                 (DCT.description, Literal(" ".join([f"{price_words(plan)}.", *terms_words(plan)]), lang="en")))
    territory = TERRITORY_PLACES.get(str(plan.territory))
    constraints = [c for c in (
        territory and _constraint(g, ODRL.spatial, ODRL.eq, _place(g, territory)),
        plan.duration_days and _constraint(g, ODRL.elapsedTime, ODRL.lteq,
                                           Literal(f"P{plan.duration_days}D", datatype=XSD.duration))) if c]
    duties = [d for d in (
        plan.attribution_required and _add(g, BNode(), (RDF.type, ODRL.Duty), (ODRL.action, ODRL.attribute),
                                           (ODRL.attributedParty, seller)),
        plan.amount > 0 and _payment(g, plan, seller)) if d]

    def rule(kind: URIRef, action: URIRef, *extra: BNode) -> BNode:
        node = _add(g, BNode(), (RDF.type, ODRL.Permission if kind == ODRL.permission else ODRL.Prohibition),
                    (ODRL.action, action), *((ODRL.constraint, c) for c in (*constraints, *extra)))
        if kind == ODRL.permission:
            _add(g, node, *((ODRL.duty, d) for d in duties))
        g.add((offer, kind, node))
        return node

    for use in plan.permitted_uses or ():
        purpose = _vocab_term(g, base, str(use), PermittedUse(use).label_en)
        rule(ODRL.permission, ODRL.use, _constraint(g, ODRL.purpose, ODRL.eq, purpose))
    if plan.derivatives_allowed:
        derive = rule(ODRL.permission, ODRL.derive)
        if plan.share_alike:
            g.add((derive, ODRL.duty, _add(g, BNode(), (RDF.type, ODRL.Duty), (ODRL.action, CC.ShareAlike))))
    else:
        rule(ODRL.prohibition, ODRL.derive)
    for prohibited in plan.prohibitions or ():
        rule(ODRL.prohibition, PROHIBITED_ACTIONS.get(str(prohibited)) or _vocab_term(
            g, base, "reidentify", Prohibition(prohibited).label_en, action=True))
    return offer


def _payment(g: Graph, plan: PricingPlan, seller: URIRef) -> BNode:
    """Pay the plan's price to the seller (ODRL compensate, refined by payAmount); a subscription every period."""
    amount = _constraint(g, ODRL.payAmount, ODRL.eq, Literal(minor_to_decimal(plan.amount)))
    g.add((amount, ODRL.unit, URIRef(f"{EU}currency/{plan.currency}")))
    every = ({"month": "P1M", "year": "P1Y"}.get(str(plan.billing_period))
             if str(plan.kind) == "subscription" else None)
    return _add(g, BNode(), (RDF.type, ODRL.Duty), (ODRL.compensatedParty, seller),
                (ODRL.action, _add(g, BNode(), (RDF.value, ODRL.compensate), (ODRL.refinement, amount))),
                (ODRL.constraint, every and _constraint(g, ODRL.timeInterval, ODRL.eq,
                                                        Literal(every, datatype=XSD.duration))))
