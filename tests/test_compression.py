"""Answers are compressed when the client asks (gzip or Brotli), with Vary: Accept-Encoding; downloads of files are
sent byte for byte as stored, with their length, and HEAD and Range keep their meaning."""
from __future__ import annotations

import gzip
import json

import brotli
import pytest

from tests.licensing.conftest import buyer, buyer_org, offer, plans  # noqa: F401  (the licensing fixtures)
from tests.licensing.test_downloads import asset_of, buy, url

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def product(offer):  # noqa: F811
    return offer[0]


def test_a_page_is_gzipped_when_asked_and_says_it_varies(client, product):
    plain = client.get(f"/products/{product.slug}")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]

    packed = client.get(f"/products/{product.slug}", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    assert gzip.decompress(packed.data) == plain.data


def test_brotli_is_preferred_when_the_client_takes_both(client, product):
    response = client.get(f"/products/{product.slug}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert b"</html>" in brotli.decompress(response.data)


def test_json_css_and_scripts_are_compressed(client, product):
    api = client.get("/api/v1/catalog", headers=GZIP)
    assert api.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(api.data))
    for path in ("/static/app.css", "/api/v1/docs/static/swagger-ui-bundle.js"):
        response = client.get(path, headers=GZIP)
        assert response.status_code == 200, path
        assert response.headers.get("Content-Encoding") == "gzip", path
        assert gzip.decompress(response.get_data()) == client.get(path).get_data()


def test_the_dcat_export_is_compressed(client, product):
    response = client.get(f"/products/{product.slug}.ttl", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"dcat:" in gzip.decompress(response.data)


def test_no_compression_unless_asked_or_refused(client, product):
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0"}):
        response = client.get(f"/products/{product.slug}", headers=headers)
        assert "Content-Encoding" not in response.headers, headers
        assert b"</html>" in response.data


def test_a_tiny_body_is_sent_as_it_is(client):
    response = client.get("/healthz", headers=GZIP)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_a_head_request_gives_the_compressed_length_and_no_body(client, product):
    get = client.get(f"/products/{product.slug}", headers=GZIP)
    head = client.head(f"/products/{product.slug}", headers=GZIP)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Encoding"] == "gzip"
    assert abs(int(head.headers["Content-Length"]) - len(get.data)) < 64  # the page's CSRF-free body, gzipped


def test_a_licensed_download_is_byte_exact_and_never_compressed(session, storage, buyer, buyer_org, client, auth,  # noqa: F811
                                                                 product, plans):  # noqa: F811
    buy(session, buyer, buyer_org, plans["Exclusive"])
    auth.login(buyer.email)
    deliverable = asset_of(product.listed_version)
    with storage.open(deliverable.storage_key) as stored:
        original = stored.read()

    for headers in (GZIP, {"Accept-Encoding": "gzip, br"}, {}):
        response = client.get(url(product, deliverable), headers=headers)
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert response.data == original
        assert int(response.headers["Content-Length"]) == len(original) == deliverable.size

    head = client.head(url(product, deliverable), headers=GZIP)
    assert head.status_code == 200 and "Content-Encoding" not in head.headers
    assert int(head.headers["Content-Length"]) == len(original)

    # Downloads are not ranged: a Range asks for part and gets the whole file, exact and uncompressed.
    ranged = client.get(url(product, deliverable), headers={**GZIP, "Range": "bytes=0-9"})
    assert ranged.status_code == 200 and ranged.data == original
    assert "Content-Encoding" not in ranged.headers


def test_a_public_sample_is_not_compressed(client, product):
    sample = asset_of(product.listed_version, "sample")
    response = client.get(url(product, sample), headers=GZIP)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == len(response.data) == sample.size


def test_a_static_file_keeps_its_etag_and_answers_not_modified(client):
    first = client.get("/static/app.css", headers=GZIP)
    etag = first.headers.get("ETag")
    assert etag
    again = client.get("/static/app.css", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_a_streamed_export_is_compressed_as_it_streams():
    from flask import Flask, Response, stream_with_context

    from marketplace.compression import init_compression

    app = Flask(__name__)
    init_compression(app)
    produced = []

    @app.get("/export.csv")
    def export():
        def rows():
            yield "id,name\n"
            for n in range(2000):
                produced.append(n)
                yield f"{n},row {n}\n"
        return Response(stream_with_context(rows()), mimetype="text/csv")

    response = app.test_client().get("/export.csv", headers=GZIP, buffered=False)
    assert response.is_streamed and response.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in response.headers and produced == []  # nothing written before it is read
    body = gzip.decompress(b"".join(response.response))
    assert body.startswith(b"id,name\n0,row 0\n") and body.endswith(b"1999,row 1999\n")
