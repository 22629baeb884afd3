"""A Stripe-compatible HTTP server on loopback for tests: the real ``stripe`` SDK talks to it over HTTP.

It implements what the marketplace calls, the way Stripe answers it:

- ``POST /v1/checkout/sessions`` (form-encoded, nested keys such as ``line_items[0][price_data][unit_amount]``),
- ``GET /v1/checkout/sessions/{id}``, ``POST /v1/checkout/sessions/{id}/expire``,
- ``GET /v1/payment_intents/{id}``, ``GET /v1/charges/{id}``, ``GET /v1/refunds/{id}``,
- ``POST /v1/refunds`` (the payment intent of a completed, paid session; ``reverse_transfer`` for a destination
  charge),
- Stripe Connect (tests/support/stripe_connect.py): connected accounts, account links, destination charges
  (``payment_intent_data[transfer_data][destination]``, ``[application_fee_amount]``), transfers, balances and
  balance transactions per account, payouts; ``Stripe-Account`` names the connected account a request acts for.

``expand[]=payment_intent`` on a session,  ``Authorization: Bearer sk_test_...`` checked, ``Idempotency-Key`` honoured
per account (the same key and parameters replay the first answer; the same key with other parameters is an
``idempotency_error``), Stripe-shaped objects and Stripe's error JSON (an unknown id is 404 ``resource_missing``).
Tests drive what a buyer would do at Stripe with ``complete()``, ``expire()``, ``settle_async()``, what happens in
the Dashboard with ``dashboard_refund()`` and ``open_dispute()``, what a seller does at Stripe with ``onboard()`` and
what the bank does with ``settle_payout()``, inject failures with ``fail_next()`` (an error answer, 5xx included),
``stall_next()`` (an answer that comes too late) and ``refuse_connections()``, read ``requests`` to assert what was
sent, and sign webhook bodies with ``signed_event()`` exactly as Stripe documents
(https://docs.stripe.com/webhooks#verify-manually).

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
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.support.stripe_connect import ConnectStub
from tests.support.stripe_wire import StripeStubError, decode_form, int_param, invalid

API_KEY = "sk_test_stub_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_stub_signing_secret_for_tests"
API_VERSION = "2025-01-27.acacia"


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


# ---------------------------------------------------------------- the stub


class StripeStub(ConnectStub):
    """The fake Stripe: state (sessions, refunds, idempotent replies; Connect's in ``ConnectStub``), recorded
    requests, and test controls."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self._stalls: list[tuple[float, str | None]] = []
        self._connections: list[socket.socket] = []
        self.requests: list[RecordedRequest] = []
        # (Stripe-Account, Idempotency-Key) -> (method, path, params, status, body)
        self._replies: dict[tuple[str | None, str], tuple[str, str, dict, int, dict]] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._init_connect()
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
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def refuse_connections(self) -> None:
        """Stripe unreachable: the listening socket is closed, so connecting is refused (ECONNREFUSED), and the
        connections clients keep alive are cut."""
        self.stop()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            except OSError:
                pass

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.append(connection)

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
            intent_id, charge_id = f"pi_{secrets.token_hex(12)}", f"ch_{secrets.token_hex(12)}"
            now = int(time.time())
            connect = self._payment_connect(session_id, intent_id)
            metadata = {**session["metadata"], **self._destinations[session_id]["metadata"]}
            self.payment_intents[intent_id] = {
                "id": intent_id, "object": "payment_intent", "amount": session["amount_total"],
                "amount_received": session["amount_total"] if paid else 0, "currency": session["currency"],
                "created": now, "latest_charge": charge_id, "livemode": False,
                "metadata": copy.deepcopy(metadata), "status": "succeeded" if paid else "processing", **connect,
            }
            self.charges[charge_id] = {
                "id": charge_id, "object": "charge", "amount": session["amount_total"], "amount_captured":
                session["amount_total"], "amount_refunded": 0, "captured": True, "created": now,
                "currency": session["currency"], "disputed": False, "livemode": False,
                "metadata": copy.deepcopy(metadata), "paid": paid, "payment_intent": intent_id,
                "refunded": False, "status": "succeeded" if paid else "pending", "balance_transaction": None,
                "destination": (connect["transfer_data"] or {}).get("destination"), "transfer": None, **connect,
            }
            if paid:
                self._collect(self.charges[charge_id])
            session.update(status="complete", payment_status="paid" if paid else "unpaid", url=None,
                           payment_intent=intent_id)
            return copy.deepcopy(session)

    def settle_async(self, session_id: str, *, succeeded: bool) -> dict:
        """A delayed payment method (a bank debit) settles: the session becomes paid, or the payment fails, which
        leaves the session complete and unpaid and its payment intent back at ``requires_payment_method``, as
        Stripe does before sending ``checkout.session.async_payment_succeeded`` / ``_failed``."""
        with self._lock:
            session = self._session(session_id)
            intent = self.payment_intents[session["payment_intent"]]
            if intent["status"] != "processing":
                raise ValueError(f"payment {intent['id']} is {intent['status']}, not processing")
            charge = self.charges[intent["latest_charge"]]
            if succeeded:
                intent.update(status="succeeded", amount_received=intent["amount"])
                charge.update(status="succeeded", paid=True)
                self._collect(charge)
                session["payment_status"] = "paid"
            else:
                intent.update(status="requires_payment_method", last_payment_error={
                    "type": "card_error", "code": "payment_intent_payment_attempt_failed",
                    "message": "The payment failed."})
                charge.update(status="failed", paid=False, failure_code="debit_not_authorized")
            return copy.deepcopy(session)

    def dashboard_refund(self, payment_intent: str, amount: int | None = None, *,
                         reverse_transfer: bool = False) -> dict:
        """Someone refunds the payment in the Stripe Dashboard (taking the seller's share back from the connected
        account with ``reverse_transfer``); the charge afterwards (``charge.refunded``)."""
        with self._lock:
            self._create_refund({"payment_intent": payment_intent, "reverse_transfer": str(reverse_transfer).lower(),
                                 **({"amount": str(amount)} if amount is not None else {})})
            return self.charge(self.payment_intents[payment_intent]["latest_charge"])

    def open_dispute(self, payment_intent: str, reason: str = "fraudulent") -> dict:
        """The cardholder disputes the payment with their bank; the dispute (``charge.dispute.created``)."""
        with self._lock:
            intent = self._object(self.payment_intents, payment_intent, "payment_intent")
            charge = self.charges[intent["latest_charge"]]
            charge["disputed"] = True
            dispute_id = f"dp_{secrets.token_hex(12)}"
            self.disputes[dispute_id] = dispute = {
                "id": dispute_id, "object": "dispute", "amount": charge["amount"], "charge": charge["id"],
                "created": int(time.time()), "currency": charge["currency"], "livemode": False,
                "metadata": {}, "payment_intent": intent["id"], "reason": reason, "status": "needs_response",
            }
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, status: str) -> dict:
        """The bank decides the dispute ("won", "lost", "warning_closed"); the dispute (``charge.dispute.closed``)."""
        with self._lock:
            dispute = self._object(self.disputes, dispute_id, "dispute")
            dispute["status"] = status
            return copy.deepcopy(dispute)

    def charge(self, charge_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._object(self.charges, charge_id, "charge"))

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

    def stall_next(self, seconds: float, *, path: str | None = None) -> None:
        """Answer the next request (to a path starting with ``path``) only after ``seconds``: a client with a
        shorter timeout sees Stripe time out."""
        with self._lock:
            self._stalls.append((seconds, path))

    def take_stall(self, path: str) -> float:
        with self._lock:
            for stall in self._stalls:
                if stall[1] is None or path.startswith(stall[1]):
                    self._stalls.remove(stall)
                    return stall[0]
        return 0.0

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
        account = headers.get("stripe-account")
        # Stripe scopes an idempotency key to the account the request acts for.
        key = (account, headers["idempotency-key"]) if method == "POST" and headers.get("idempotency-key") else None
        with self._lock:
            self.requests.append(recorded)
            status, body, extra = self._answer(method, path, params, headers, account, key)
            recorded.status = status
            return status, body, extra

    def _answer(self, method: str, path: str, params: dict, headers: dict[str, str], account: str | None,
                key: tuple[str | None, str] | None) -> tuple[int, dict, dict]:
        try:
            self._authenticate(headers.get("authorization", ""))
            self._check_stripe_account(account)
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
            status, body = 200, self._route(method, path, params, account)
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

    def _replay(self, key: tuple[str | None, str], method: str, path: str, params: dict) -> tuple[int, dict] | None:
        earlier = self._replies.get(key)
        if earlier is None:
            return None
        if earlier[:3] != (method, path, params):
            raise StripeStubError(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters they "
                                  "were first used with. Try using a key other than "
                                  f"'{key[1]}' if you meant to execute a different request.")
        return earlier[3], copy.deepcopy(earlier[4])

    def _route(self, method: str, path: str, params: dict, account: str | None = None) -> dict:
        connect = self._route_connect(method, path, params, account)
        if connect is not None:
            return connect
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match and method == "GET" and not match.group(2):
            session = self.session(match.group(1))
            if "payment_intent" in (params.get("expand") or []) and session["payment_intent"]:
                session["payment_intent"] = copy.deepcopy(self.payment_intents[session["payment_intent"]])
            return session
        if match and method == "POST" and match.group(2):
            return self.expire(match.group(1))
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        match = re.fullmatch(r"/v1/(payment_intents|charges|refunds)/([^/]+)", path)
        if match and method == "GET":
            kind = {"payment_intents": "payment_intent", "charges": "charge", "refunds": "refund"}[match.group(1)]
            return copy.deepcopy(self._object(getattr(self, match.group(1)), match.group(2), kind))
        raise invalid(f"Unrecognized request URL ({method}: {path}).", code="resource_missing", status=404)

    def _session(self, session_id: str) -> dict:
        return self._object(self.sessions, session_id, "checkout.session", "session")

    @staticmethod
    def _object(store: dict, object_id: str, kind: str, param: str = "id") -> dict:
        found = store.get(object_id)
        if found is None:
            raise invalid(f"No such {kind}: '{object_id}'", param, "resource_missing", 404)
        return found

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
            unit_amount = int_param(price.get("unit_amount"), f"{where}[price_data][unit_amount]")
            if not (price.get("product_data") or {}).get("name"):
                raise invalid("Missing required param: name.", f"{where}[price_data][product_data][name]",
                              "parameter_missing")
            total += unit_amount * int_param(item.get("quantity", "1"), f"{where}[quantity]", minimum=1)
        connect = self._destination_data(params, total)
        now = int(time.time())
        expires_at = int_param(params.get("expires_at", str(now + 24 * 3600)), "expires_at")
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
        self._destinations[session_id] = connect
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
        amount = int_param(params["amount"], "amount", 1) if "amount" in params else session["amount_total"] - refunded
        if refunded >= session["amount_total"]:
            raise invalid(f"Charge for payment intent {intent} has already been refunded.",
                          code="charge_already_refunded")
        if amount > session["amount_total"] - refunded:
            raise invalid("Refund amount is greater than the amount left on the charge.", "amount", "amount_too_large")
        reverse = self._reverses_transfer(params)
        refund_id = f"re_{secrets.token_hex(12)}"
        charge = self.charges[self.payment_intents[intent]["latest_charge"]]
        refund = {
            "id": refund_id, "object": "refund", "amount": amount, "charge": charge["id"],
            "currency": session["currency"], "created": int(time.time()), "metadata": params.get("metadata") or {},
            "payment_intent": intent, "reason": params.get("reason"), "status": "succeeded",
        }
        self.refunds[refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._refund_moves(refund, charge, reverse)
        return copy.deepcopy(refund)


def _handler_for(stub: StripeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            stub.track(self.connection)

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            query = body if method == "POST" else parts.query
            headers = {k.lower(): v for k, v in self.headers.items()}
            stall = stub.take_stall(parts.path)
            if stall:
                time.sleep(stall)
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

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args) -> None:  # keep test output quiet
            pass

    return Handler


# ---------------------------------------------------------------- webhook events


def event_payload(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None,
                  account: str | None = None) -> dict:
    """A Stripe event (API version ``API_VERSION``) carrying a snapshot of ``obj`` as data.object; an event about a
    connected account (sent to Connect webhook endpoints) names it in ``account``."""
    return {
        **({"account": account} if account else {}),
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
