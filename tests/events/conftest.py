"""A webhook receiver on loopback that checks the documented signature, and the licensing fixtures."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.licensing.conftest import buyer, buyer_org, offer, plans  # noqa: F401 - fixtures used here by name


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """Check ``Webhook-Signature: t=...,v1=...`` as a receiver would: HMAC-SHA256 of "t.body", recent t."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) <= tolerance


class Receiver:
    """An HTTP server on 127.0.0.1 answering ``status``; keeps each request's event (deduplicated by event id,
    as receivers are told to) and whether its signature checked out with ``secret``."""

    def __init__(self, port: int = 0):
        self.status, self.secret = 200, ""
        self.received: list[dict] = []
        self.valid: list[bool] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server protocol
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.valid.append(verify(receiver.secret, self.headers["Webhook-Signature"], body))
                receiver.received.append(json.loads(body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def unique_events(self) -> set[str]:
        return {event["id"] for event in self.received}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()
