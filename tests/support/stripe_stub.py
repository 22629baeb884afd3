"""A Stripe-compatible HTTP server on loopback for tests: the real ``stripe`` SDK talks to it over HTTP.

It implements what the marketplace calls, the way Stripe answers it:

- ``POST /v1/checkout/sessions`` (form-encoded, nested keys such as ``line_items[0][price_data][unit_amount]``),
- ``GET /v1/checkout/sessions/{id}``, ``POST /v1/checkout/sessions/{id}/expire``,
- ``POST /v1/refunds`` (the payment intent of a completed, paid session),

with ``Authorization: Bearer sk_test_...`` checked, ``Idempotency-Key`` honoured (the same key and parameters
replay the first answer; the same key with other parameters is an ``idempotency_error``), Stripe-shaped objects
and Stripe's error JSON. Tests drive what a buyer would do at Stripe with ``complete()`` and ``expire()``, inject
failures with ``fail_next()``, read ``requests`` to assert what was sent, and sign webhook bodies with
``signed_event()`` exactly as Stripe documents (https://docs.stripe.com/webhooks#verify-manually).

Usage::

    with StripeStub() as stub:
        payments = StripePayments(stub.api_key, webhook_secret=..., api_base=stub.url)
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_stub_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_stub_signing_secret_for_tests"
API_VERSION = "2025-01-27.acacia"


class StripeStubError(Exception):
    """An error answered the way Stripe answers it: a 4xx/5xx with ``{"error": {type, message, code, param}}``."""

    def __init__(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.type, self.message, self.code, self.param = status, type_, message, code, param

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid", status: int = 400):
    return StripeStubError(status, "invalid_request_error", message, code, param)


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict
    headers: dict[str, str]
    status: int = 0

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Failure:
    status: int
    type: str
    code: str | None
    message: str
    path: str | None
    times: int
    headers: dict = field(default_factory=dict)


# ---------------------------------------------------------------- form decoding (Stripe's nested keys)

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=1`` pairs into nested dicts; a dict whose keys are 0..n-1 becomes a list, as Stripe reads it."""
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", key)
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid(f"Invalid parameter name: {key}", key)
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(int(k) for k in node) == list(range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


def _int_param(value: Any, param: str, minimum: int = 0) -> int:
    # Stripe accepts integers only in amount fields: "5000.00" is an error, not five thousand.
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid(f"Invalid integer: {value}", param)
    number = int(value)
    if number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param)
    return number


# ---------------------------------------------------------------- the stub


class StripeStub:
    """The fake Stripe: state (sessions, refunds, idempotent replies), recorded requests, and test controls."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[RecordedRequest] = []
        self._replies: dict[str, tuple[str, str, dict, int, dict]] = {}  # key -> (method, path, params, status, body)
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stripe-stub", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------ lifecycle

    def start(self) -> StripeStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StripeStub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ what the buyer does at Stripe

    def complete(self, session_id: str, *, paid: bool = True) -> dict:
        """The buyer paid on the Checkout page: the session is complete and paid, with a payment intent.
        ``paid=False`` completes it with a delayed payment method still pending (payment_status "unpaid")."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ValueError(f"session {session_id} is {session['status']}, not open")
            session.update(status="complete", payment_status="paid" if paid else "unpaid", url=None,
                           payment_intent=f"pi_{secrets.token_hex(12)}")
            return copy.deepcopy(session)

    def expire(self, session_id: str) -> dict:
        """The session's time ran out (or it was expired through the API)."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise invalid("Only Checkout Sessions with a status of open can be expired.", code="session_expired")
            session.update(status="expired", url=None)
            return copy.deepcopy(session)

    def fail_next(self, status: int = 402, *, type: str = "card_error", code: str | None = "card_declined",
                  message: str = "Your card was declined.", path: str | None = None, times: int = 1,
                  should_retry: bool | None = None) -> None:
        """Answer the next ``times`` requests (to paths starting with ``path``, if given) with a Stripe error."""
        headers = {} if should_retry is None else {"Stripe-Should-Retry": str(should_retry).lower()}
        with self._lock:
            self._failures.append(_Failure(status, type, code, message, path, times, headers))

    def session(self, session_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._session(session_id))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # ------------------------------------------------------------ the API

    def handle(self, method: str, path: str, params: dict, headers: dict[str, str]) -> tuple[int, dict, dict]:
        """One API call: (status, JSON body, extra headers)."""
        recorded = RecordedRequest(method, path, params, headers)
        key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            self.requests.append(recorded)
            status, body, extra = self._answer(method, path, params, headers, key)
            recorded.status = status
            return status, body, extra

    def _answer(self, method: str, path: str, params: dict, headers: dict[str, str],
                key: str | None) -> tuple[int, dict, dict]:
        try:
            self._authenticate(headers.get("authorization", ""))
            failure = self._take_failure(path)
            if failure is not None:
                error = StripeStubError(failure.status, failure.type, failure.message, failure.code)
                return failure.status, error.body(), failure.headers
            if key:
                replay = self._replay(key, method, path, params)
                if replay is not None:
                    return replay[0], replay[1], {"Idempotent-Replayed": "true"}
        except StripeStubError as exc:
            return exc.status, exc.body(), {}
        try:
            status, body = 200, self._route(method, path, params)
        except StripeStubError as exc:
            status, body = exc.status, exc.body()
        if key:
            # Stripe saves the first answer to a key, success or refusal, and replays it for a retry.
            self._replies[key] = (method, path, params, status, copy.deepcopy(body))
        return status, body, {}

    def _authenticate(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            raise StripeStubError(401, "invalid_request_error", "You did not provide an API key.")
        if not token.startswith("sk_test_") or not hmac.compare_digest(token, self.api_key):
            raise StripeStubError(401, "invalid_request_error",
                                  f"Invalid API Key provided: {token[:8]}{'*' * 8}{token[-4:]}",
                                  "api_key_invalid")

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path is None or path.startswith(failure.path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _replay(self, key: str, method: str, path: str, params: dict) -> tuple[int, dict] | None:
        earlier = self._replies.get(key)
        if earlier is None:
            return None
        if earlier[:3] != (method, path, params):
            raise StripeStubError(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters they "
                                  "were first used with. Try using a key other than "
                                  f"'{key}' if you meant to execute a different request.")
        return earlier[3], copy.deepcopy(earlier[4])

    def _route(self, method: str, path: str, params: dict) -> dict:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match and method == "GET" and not match.group(2):
            return self.session(match.group(1))
        if match and method == "POST" and match.group(2):
            return self.expire(match.group(1))
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        raise invalid(f"Unrecognized request URL ({method}: {path}).", code="resource_missing", status=404)

    def _session(self, session_id: str) -> dict:
        session = self.sessions.get(session_id)
        if session is None:
            raise invalid(f"No such checkout.session: '{session_id}'", "session", "resource_missing", 404)
        return session

    def _create_session(self, params: dict) -> dict:
        if params.get("mode") not in ("payment", "subscription", "setup"):
            raise invalid("Missing required param: mode.", "mode", "parameter_missing")
        for url in ("success_url", "cancel_url"):
            if url in params and not str(params[url]).startswith(("http://", "https://")):
                raise invalid("Not a valid URL", url, "url_invalid")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise invalid("Missing required param: line_items.", "line_items", "parameter_missing")
        total, currency = 0, None
        for n, item in enumerate(items):
            where = f"line_items[{n}]"
            price = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(price, dict):
                raise invalid("You must specify either `price` or `price_data`.", where, "parameter_missing")
            item_currency = str(price.get("currency", ""))
            if not re.fullmatch(r"[a-z]{3}", item_currency):
                raise invalid(f"Invalid currency: {item_currency}.", f"{where}[price_data][currency]")
            if currency not in (None, item_currency):
                raise invalid("All line items must use the same currency.", f"{where}[price_data][currency]")
            currency = item_currency
            unit_amount = _int_param(price.get("unit_amount"), f"{where}[price_data][unit_amount]")
            if not (price.get("product_data") or {}).get("name"):
                raise invalid("Missing required param: name.", f"{where}[price_data][product_data][name]",
                              "parameter_missing")
            total += unit_amount * _int_param(item.get("quantity", "1"), f"{where}[quantity]", minimum=1)
        now = int(time.time())
        expires_at = _int_param(params.get("expires_at", str(now + 24 * 3600)), "expires_at")
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            raise invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
                          "Session creation.", "expires_at")
        session_id = f"cs_test_{secrets.token_hex(24)}"
        session = {
            "id": session_id, "object": "checkout.session", "amount_subtotal": total, "amount_total": total,
            "cancel_url": params.get("cancel_url"), "client_reference_id": params.get("client_reference_id"),
            "created": now, "currency": currency, "customer": None, "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False, "metadata": params.get("metadata") or {}, "mode": params["mode"],
            "payment_intent": None, "payment_status": "unpaid", "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{self.url}/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return copy.deepcopy(session)

    def _create_refund(self, params: dict) -> dict:
        intent = params.get("payment_intent")
        if not intent:
            raise invalid("One of the following params should be provided for this request: payment_intent or "
                          "charge.", "payment_intent", "parameter_missing")
        session = next((s for s in self.sessions.values() if s["payment_intent"] == intent), None)
        if session is None or session["payment_status"] != "paid":
            raise invalid(f"No such payment_intent: '{intent}'", "payment_intent", "resource_missing", 404)
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        amount = _int_param(params["amount"], "amount", 1) if "amount" in params else session["amount_total"] - refunded
        if refunded >= session["amount_total"]:
            raise invalid(f"Charge for payment intent {intent} has already been refunded.", code="charge_already_refunded")
        if amount > session["amount_total"] - refunded:
            raise invalid("Refund amount is greater than the amount left on the charge.", "amount", "amount_too_large")
        refund_id = f"re_{secrets.token_hex(12)}"
        refund = {
            "id": refund_id, "object": "refund", "amount": amount, "currency": session["currency"],
            "created": int(time.time()), "metadata": params.get("metadata") or {}, "payment_intent": intent,
            "reason": params.get("reason"), "status": "succeeded",
        }
        self.refunds[refund_id] = refund
        return copy.deepcopy(refund)


def _handler_for(stub: StripeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            query = body if method == "POST" else parts.query
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                params = decode_form(parse_qsl(query, keep_blank_values=True))
                status, payload, extra = stub.handle(method, parts.path, params, headers)
            except StripeStubError as exc:
                status, payload, extra = exc.status, exc.body(), {}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
            self.send_header("Stripe-Version", headers.get("stripe-version", API_VERSION))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def log_message(self, format: str, *args) -> None:  # keep test output quiet
            pass

    return Handler


# ---------------------------------------------------------------- webhook events


def event_payload(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event (API version ``API_VERSION``) carrying a snapshot of ``obj`` as data.object."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event", "api_version": API_VERSION,
        "created": created or int(time.time()), "data": {"object": copy.deepcopy(obj)}, "livemode": False,
        "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``body``: ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed_event(payload: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body Stripe would post for ``payload`` and its ``Stripe-Signature`` header, signed with ``secret``."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return body, sign(body, secret, timestamp)
