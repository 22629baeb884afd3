"""Compressed answers (Flask-Compress): pages, JSON, CSS, JS, SVG and the XML/RDF exports in gzip or Brotli, as
the client asks in Accept-Encoding, with ``Vary: Accept-Encoding`` so caches keep one copy per encoding.

A file sent as stored (a licensed download, a sample, a certificate saved as a file) is never compressed: the
buyer gets the exact bytes whose SHA-256 the listing states, with its Content-Length, and Range and ETag keep their
meaning. Bodies under ``COMPRESS_MIN_SIZE`` go as they are. A streamed answer (an export written row by row) is
compressed chunk by chunk and still streams.
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
    "application/json", "application/problem+json", "application/ld+json", "application/vnd.api+json",
    "application/manifest+json", "image/svg+xml", "text/xml", "application/xml", "application/rdf+xml",
    "text/turtle", "application/n-triples", "text/csv",
]
ALGORITHMS = ["br", "gzip"]  # Brotli first when the client takes both; zstd and deflate are not offered
# The app's own static files (CSS, JS, SVG) are sent by send_file too, but they are for compressing.
STATIC_ENDPOINTS = frozenset({"static", "swagger_static"})


def sent_as_stored(response: Response) -> bool:
    """Whether ``response`` is a file the user downloads as it is stored (never re-encoded)."""
    if response.headers.get("Content-Disposition", "").lower().startswith("attachment"):
        return True
    return response.direct_passthrough and request.endpoint not in STATIC_ENDPOINTS


def init_compression(app: Flask) -> None:
    """Compress answers after every other hook has written them (registered first, Flask runs it last)."""
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ALGORITHMS)
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ALGORITHMS)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_STREAMING_ENDPOINT_CONDITIONAL", sorted(STATIC_ENDPOINTS))
    app.config["COMPRESS_REGISTER"] = False  # our own hook decides what is left alone
    compress = Compress()
    compress.init_app(app)
    app.extensions["compress"] = compress

    @app.after_request
    def compress_response(response: Response) -> Response:
        if sent_as_stored(response):
            return response
        if not any(request.accept_encodings[name] > 0 for name in ALGORITHMS):
            # Flask-Compress would take "gzip;q=0" (not acceptable) for a request to compress.
            response.vary.add("Accept-Encoding")
            return response
        return compress.after_request(response)
