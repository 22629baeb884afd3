"""Every IRI of the DCAT-AP export that names a vocabulary term is in the namespace its vocabulary defines.

The namespaces come from rdflib's own definitions where rdflib has the vocabulary (and, for its closed definitions,
the term must be one the vocabulary defines), and from the vocabularies' specifications where rdflib has none.
An IRI that only looks like a vocabulary's (https for http, a missing "www.", another separator) is a wrong IRI:
no consumer matches it to the term, which is the mistake this test exists to catch.
"""
from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import (
    _NAMESPACE_PREFIXES_CORE,
    _NAMESPACE_PREFIXES_RDFLIB,
    DCAT,
    DCTERMS,
    FOAF,
    ODRL2,
    PROV,
    RDF,
    RDFS,
    SKOS,
    XSD,
    DefinedNamespace,
)

from tests.catalog.test_dcat import catalog, fetch  # noqa: F401  (the fixture is used by name)

# Vocabularies rdflib does not define, with the namespace each one's specification gives.
SPECIFIED = {
    "spdx": "http://spdx.org/rdf/terms#",             # SPDX 2.3 RDF ontology
    "vcard": "http://www.w3.org/2006/vcard/ns#",      # W3C vCard Ontology
    "adms": "http://www.w3.org/ns/adms#",             # W3C ADMS
    "hydra": "http://www.w3.org/ns/hydra/core#",      # Hydra Core Vocabulary
    "dcatap": "http://data.europa.eu/r5r/",           # DCAT-AP 3.0.1, section "Used prefixes"
    "geosparql": "http://www.opengis.net/ont/geosparql#",  # OGC GeoSPARQL 1.1
    "cc": "http://creativecommons.org/ns#",           # ccREL
    "locn": "http://www.w3.org/ns/locn#",             # ISA Core Location
}
DEFINED: dict[str, type[DefinedNamespace]] = {
    "dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "odrl": ODRL2, "prov": PROV, "rdf": RDF, "rdfs": RDFS,
    "skos": SKOS, "xsd": XSD,
}
# DCAT 3 terms (W3C Recommendation, 2024) that rdflib's DCAT 2 definition does not have yet.
DCAT3_TERMS = {"version", "hasVersion", "isVersionOf", "previousVersion", "hasCurrentVersion", "inSeries",
               "seriesMember", "first", "last", "prev", "next", "DatasetSeries"}
NAMESPACES = {prefix: str(ns._NS) for prefix, ns in DEFINED.items()} | SPECIFIED


def _loose(iri: str) -> str:
    """An IRI without what a look-alike changes: scheme, "www.", and the separator before a term."""
    return re.sub(r"^https?://(www\.)?", "", iri).rstrip("#/")


def wrong_iris(graph: Graph) -> list[str]:
    """Each IRI that looks like a vocabulary's but is not exactly in its namespace, or names no defined term."""
    iris = {node for triple in graph for node in triple if isinstance(node, URIRef)}
    wrong = []
    for iri in sorted(map(str, iris)):
        for prefix, namespace in NAMESPACES.items():
            if not (_loose(iri) + "/").startswith(_loose(namespace) + "/") and not \
                    _loose(iri).startswith(_loose(namespace) + "#"):
                continue
            if not iri.startswith(namespace):
                wrong.append(f"{iri} is not in the {prefix} namespace {namespace}")
            elif prefix in DEFINED and iri != namespace:
                term = iri[len(namespace):]
                if URIRef(iri) not in DEFINED[prefix] and not (prefix == "dcat" and term in DCAT3_TERMS):
                    wrong.append(f"{iri}: {prefix} defines no term {term!r}")
    return wrong


@pytest.mark.parametrize("url", ["/catalog.ttl", "/catalog.jsonld", "product.ttl", "product.jsonld"])
def test_every_vocabulary_iri_is_in_its_namespace(client, catalog, url):  # noqa: F811
    if url.startswith("product"):
        url = f"/products/{catalog['pm25'].slug}.{url.split('.')[1]}"
    graph = fetch(client, url)
    assert wrong_iris(graph) == []
    # The prefixes the documents declare name the same namespaces as rdflib's bindings of those prefixes.
    known = dict(_NAMESPACE_PREFIXES_CORE) | dict(_NAMESPACE_PREFIXES_RDFLIB)
    for prefix, namespace in graph.namespaces():
        expected = known.get(prefix) or NAMESPACES.get(prefix)
        if expected is not None:
            assert str(namespace) == str(expected), prefix


def test_a_look_alike_iri_is_caught():
    g = Graph()
    g.add((URIRef("http://example.org/c"), URIRef("http://spdx.org/rdf/terms#algorithm"),
           URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")))
    g.add((URIRef("http://example.org/d"), URIRef("https://www.w3.org/ns/dcat#distribution"),
           URIRef("http://example.org/e")))
    g.add((URIRef("http://example.org/d"), URIRef("http://www.w3.org/ns/dcat#distributions"),
           URIRef("http://example.org/e")))
    assert wrong_iris(g) == [
        "http://www.w3.org/ns/dcat#distributions: dcat defines no term 'distributions'",
        "https://spdx.org/rdf/terms#checksumAlgorithm_sha256 is not in the spdx namespace "
        "http://spdx.org/rdf/terms#",
        "https://www.w3.org/ns/dcat#distribution is not in the dcat namespace http://www.w3.org/ns/dcat#",
    ]
