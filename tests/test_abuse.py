"""Abuse: rate limits on log-in, sign-up, reset, token creation, API writes and search (429 with Retry-After, in the
shape of where it happened); request bodies capped by kind (413, unread when the length is declared); JSON nested
too deep refused before any parser (400); API writes authenticated before their body is read (401)."""
from __future__ import annotations

import io
import json
import re
import time

import pytest
from flask import Blueprint, Flask

from config import TestingConfig
from marketplace import create_app
from marketplace.api import PUBLIC_WRITES, WRITE_METHODS
from marketplace.inputs import UPLOAD_ENDPOINTS, json_nesting_exceeds
from marketplace.ratelimit import LIMITS, api_write_rule, init_ratelimit, limited_endpoints
from tests import factories
from tests.support.api import assert_error

NOT_YET_BUILT = {"accounts.password_reset_request"}  # in the table ahead of its route
DEEP = b"[" * 100_000
MB = 1024 * 1024


@pytest.fixture
def make_app(database_url, tmp_path):
    """An app with rate limiting on (memory storage: counters start at zero for each app) and ``config``."""
    def make(**config):
        return create_app(
            "testing", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=str(tmp_path / "storage"),
            LICENCE_SIGNING_KEY_FILE=str(tmp_path / "licence-signing-key.pem"), RATELIMIT_ENABLED=True, **config)
    return make


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes produced on demand, counting what the server reads of it (the test
    client seeks to its end to learn its length, which reads nothing)."""

    def __init__(self, size: int, fill: bytes = b" "):
        self.size, self.fill, self.position, self.read_bytes = size, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = self.fill * n
        self.position += n
        self.read_bytes += n
        return n


def _retry_after(resp) -> int:
    value = int(resp.headers["Retry-After"])
    assert 1 <= value <= 3600, value
    return value


def _assert_page_refusal(resp, text: str) -> None:
    assert resp.status_code == 429
    _retry_after(resp)
    body = resp.get_data(as_text=True)
    assert "429" in body and text in body and "Try again in" in body and resp.mimetype == "text/html"


# ---------------------------------------------------------------- the table


def test_every_endpoint_of_the_limits_table_exists_and_is_wrapped(make_app):
    app = make_app()
    wrapped = limited_endpoints(app)
    for rule in (*LIMITS, api_write_rule(app)):
        for endpoint in rule.endpoints:
            if endpoint in NOT_YET_BUILT and endpoint not in app.view_functions:
                assert endpoint not in wrapped
                continue
            assert endpoint in app.view_functions, f"{rule.name}: no endpoint {endpoint} (renamed?)"
            assert rule.name in wrapped[endpoint], (rule.name, endpoint)


def test_every_api_write_is_limited(make_app):
    app = make_app()
    writes = {r.endpoint for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/v1/") and r.methods & WRITE_METHODS}
    assert len(writes) > 20
    assert {e for e in writes if "api-write" not in limited_endpoints(app).get(e, [])} == set()


def test_limits_are_off_in_the_test_configuration(app, client):
    assert limited_endpoints(app) == {}
    for _ in range(12):
        assert client.post("/login", data={"email": "nobody@example.org", "password": "wrong"}).status_code == 200


# ---------------------------------------------------------------- 429 on each limited endpoint


def test_login_is_limited_per_client_address_with_the_error_page(make_app):
    client = make_app(RATELIMIT_LOGIN="3 per minute").test_client()
    for n in range(3):
        assert client.post("/login", data={"email": f"guess{n}@example.org", "password": "x"}).status_code == 200
    resp = client.post("/login", data={"email": "guess9@example.org", "password": "x"})
    _assert_page_refusal(resp, "Too many log-in attempts from your address.")
    assert client.get("/login").status_code == 200  # the page itself stays readable


def test_login_is_limited_per_email_across_addresses(make_app, seller):
    client = make_app(RATELIMIT_LOGIN_EMAIL="2 per minute").test_client()
    for n in range(2):
        resp = client.post("/login", data={"email": " Seller@Example.org ", "password": "wrong"},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
        assert resp.status_code == 200
    resp = client.post("/login", data={"email": "seller@example.org", "password": factories.PASSWORD},
                       environ_base={"REMOTE_ADDR": "198.51.100.77"})
    _assert_page_refusal(resp, "Too many log-in attempts for this e-mail address.")
    other = client.post("/login", data={"email": "someone.else@example.org", "password": "x"},
                        environ_base={"REMOTE_ADDR": "198.51.100.78"})
    assert other.status_code == 200


def test_every_spelling_of_an_address_shares_its_log_in_budget(make_app, session):
    factories.user(session, email="buyer@demo.exchange")
    session.commit()
    client = make_app(RATELIMIT_LOGIN_EMAIL="2 per minute").test_client()
    for n, spelling in enumerate(["buyer@ｄemo.exchange", "BUYER@DEMO.EXCHANGE"]):
        assert client.post("/login", data={"email": spelling, "password": "wrong"},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code == 200
    resp = client.post("/login", data={"email": "buyer@demo.exchange", "password": "wrong"},
                       environ_base={"REMOTE_ADDR": "198.51.100.99"})
    _assert_page_refusal(resp, "Too many log-in attempts for this e-mail address.")


def test_every_spelling_of_an_address_shares_its_reset_budget(make_app, session):
    factories.user(session, email="buyer@demo.exchange")
    session.commit()
    client = make_app(RATELIMIT_PASSWORD_RESET_EMAIL="2 per hour").test_client()
    for n, spelling in enumerate(["buyer@ｄemo.exchange", " Buyer@Demo.Exchange "]):
        client.post("/password/reset", data={"email": spelling}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    resp = client.post("/password/reset", data={"email": "buyer@demo.exchange"},
                       environ_base={"REMOTE_ADDR": "192.0.2.99"})
    _assert_page_refusal(resp, "Too many password reset requests for this e-mail address.")


def test_verification_resend_is_limited_per_client_address(make_app):
    client = make_app(RATELIMIT_VERIFICATION_RESEND="2 per minute").test_client()
    for n in range(2):
        assert client.post("/verify-email/resend", data={"email": f"someone{n}@example.org"}).status_code == 302
    _assert_page_refusal(client.post("/verify-email/resend", data={"email": "someone9@example.org"}),
                         "Too many requests for a confirmation e-mail from your address.")
    assert client.get("/verify-email/resend").status_code == 200


def test_verification_resend_is_limited_per_address_and_stops_mailing_it(make_app, session):
    factories.user(session, email="target@example.org", verified=False)
    session.commit()
    app = make_app(RATELIMIT_VERIFICATION_RESEND_EMAIL="2 per hour")
    client = app.test_client()
    for n, spelling in enumerate(["target@example.org", " Target@Ｅxample.org "]):
        assert client.post("/verify-email/resend", data={"email": spelling},
                           environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code == 302
    resp = client.post("/verify-email/resend", data={"email": "TARGET@example.org"},
                       environ_base={"REMOTE_ADDR": "203.0.113.99"})
    _assert_page_refusal(resp, "Too many requests for a confirmation e-mail for this address.")
    assert [mail.to for mail in app.extensions["mailer"].outbox] == ["target@example.org"] * 2
    other = client.post("/verify-email/resend", data={"email": "someone.else@example.org"},
                        environ_base={"REMOTE_ADDR": "203.0.113.98"})
    assert other.status_code == 302


def test_sign_ups_for_a_taken_address_are_limited_per_address_and_stop_mailing_it(make_app, session):
    factories.user(session, email="buyer@demo.exchange")
    session.commit()
    app = make_app(RATELIMIT_SIGNUP_EMAIL="2 per hour")
    client = app.test_client()

    def sign_up(spelling: str, n: int):
        return client.post("/signup", data={"email": spelling, "password": "a long passphrase", "confirm":
                                            "a long passphrase", "display_name": "Flood", "locale": "en"},
                           environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})

    for n, spelling in enumerate(["buyer@demo.exchange", "BUYER@ｄemo.exchange"]):
        assert sign_up(spelling, n).status_code == 200  # "check your inbox", as for a new address
    _assert_page_refusal(sign_up("Buyer@Demo.Exchange", 99), "Too many sign-ups for this e-mail address.")
    assert [mail.to for mail in app.extensions["mailer"].outbox] == ["buyer@demo.exchange"] * 2


def test_invitations_are_limited_per_user_across_page_and_api(make_app, session, seller, seller_org, api_token):
    app = make_app(RATELIMIT_INVITE="3 per minute")
    client = app.test_client()
    client.post("/login", data={"email": seller.email, "password": factories.PASSWORD})
    api = factories.TokenClient(app.test_client(), api_token)
    url = f"/organizations/{seller_org.slug}/invitations"
    for n in range(2):
        assert client.post(url, data={"email": f"page{n}@example.org", "role": "member"}).status_code == 302
    assert api.post(f"/api/v1{url}", json={"email": "api@example.org"}).status_code == 201
    _assert_page_refusal(client.post(url, data={"email": "one.more@example.org", "role": "member"}),
                         "Too many invitations sent.")
    resp = api.post(f"/api/v1{url}", json={"email": "api.more@example.org"})
    assert "Too many invitations sent." in assert_error(resp, 429, "too_many_requests")["message"]
    other = factories.user(session, email="other.owner@example.org", organization="Other Owners")
    session.commit()
    other_api = factories.TokenClient(app.test_client(), factories.api_token(session, other))
    assert other_api.post("/api/v1/organizations/other-owners/invitations",
                          json={"email": "x@example.org"}).status_code == 201


def test_signup_is_limited_per_client_address(make_app):
    client = make_app(RATELIMIT_SIGNUP="2 per minute").test_client()
    for _ in range(2):
        assert client.post("/signup", data={"email": "not-an-address"}).status_code == 200
    _assert_page_refusal(client.post("/signup", data={"email": "not-an-address"}), "Too many sign-ups")


def test_password_reset_request_is_limited_by_endpoint_name_once_it_exists():
    # A stand-in for the reset route under its endpoint name: the table limits whatever view is registered there.
    app = Flask(__name__)
    app.config.from_object(TestingConfig())
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET_EMAIL="2 per hour")
    accounts = Blueprint("accounts", __name__)
    accounts.add_url_rule("/password/reset", "password_reset_request", lambda: "sent", methods=["POST"])
    app.register_blueprint(accounts)
    init_ratelimit(app)
    assert limited_endpoints(app) == {"accounts.password_reset_request": ["password-reset", "password-reset-email"]}
    client = app.test_client()
    for n in range(2):
        assert client.post("/password/reset", data={"email": "victim@example.org"},
                           environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code == 200
    resp = client.post("/password/reset", data={"email": "VICTIM@example.org"})
    assert resp.status_code == 429 and _retry_after(resp)
    assert client.post("/password/reset", data={"email": "other@example.org"}).status_code == 200


def test_api_token_creation_is_limited_per_user(make_app, seller):
    client = make_app(RATELIMIT_API_TOKEN="2 per hour").test_client()
    client.post("/login", data={"email": seller.email, "password": factories.PASSWORD})
    for n in range(2):
        resp = client.post("/settings/tokens", data={"name": f"script {n}"})
        assert resp.status_code == 200 and "script" in resp.get_data(as_text=True)
    _assert_page_refusal(client.post("/settings/tokens", data={"name": "one more"}), "Too many API tokens created.")
    assert client.get("/settings/tokens").status_code == 200


def test_api_writes_share_one_budget_per_user_in_the_error_shape(make_app, session, seller, api_token):
    client = make_app(RATELIMIT_API_WRITE="3 per minute").test_client()
    own = factories.TokenClient(client, api_token)
    other_user = factories.user(session, email="other-writer@example.org", organization="Other Writers")
    other = factories.TokenClient(client, factories.api_token(session, other_user))
    assert own.post("/api/v1/notifications/read").status_code == 200
    assert own.post("/api/v1/organizations", json={"name": "Second Org"}).status_code == 201
    assert own.post("/api/v1/notifications/read", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    resp = own.post("/api/v1/organizations", json={"name": "Third Org"})
    body = assert_error(resp, 429, "too_many_requests")
    assert "Too many API writes." in body["message"] and _retry_after(resp)
    assert own.get("/api/v1/me").status_code == 200  # reads are not writes
    assert other.post("/api/v1/notifications/read").status_code == 200


def test_public_api_write_is_limited_per_client_address(make_app):
    client = make_app(RATELIMIT_API_WRITE="2 per minute").test_client()
    for _ in range(2):
        assert_error(client.post("/api/v1/certificates/verify", json={}), 400)
    resp = client.post("/api/v1/certificates/verify", json={})
    assert_error(resp, 429, "too_many_requests") and _retry_after(resp)
    other = client.post("/api/v1/certificates/verify", json={}, environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert other.status_code == 400


def test_search_page_api_and_ckan_share_one_budget(make_app):
    client = make_app(RATELIMIT_SEARCH="3 per minute").test_client()
    assert client.get("/catalog?q=air").status_code == 200
    assert client.get("/api/v1/catalog?q=air").status_code == 200
    assert client.post("/api/3/action/package_search", json={"q": "air"}).status_code == 200
    for _ in range(5):  # other CKAN actions are look-ups, not searches
        assert client.get("/api/3/action/package_list").status_code == 200
    page = client.get("/catalog?q=air")
    _assert_page_refusal(page, "Too many searches from your address.")
    assert_error(client.get("/api/v1/catalog"), 429, "too_many_requests")
    ckan = client.get("/api/action/package_search?q=air")
    assert ckan.status_code == 429 and _retry_after(ckan)
    assert ckan.get_json()["success"] is False and "Too many searches" in ckan.get_json()["error"]["message"]


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(make_app):
    direct = make_app(RATELIMIT_LOGIN="2 per minute").test_client()
    for n in range(2):
        direct.post("/login", data={"email": "a@example.org"}, headers={"X-Forwarded-For": f"10.0.0.{n}"})
    resp = direct.post("/login", data={"email": "a@example.org"}, headers={"X-Forwarded-For": "10.0.0.99"})
    assert resp.status_code == 429

    proxied = make_app(RATELIMIT_LOGIN="2 per minute", TRUSTED_PROXY_COUNT=1).test_client()
    for n in range(4):  # each client the proxy names has its own budget
        resp = proxied.post("/login", data={"email": f"b{n}@example.org"}, headers={"X-Forwarded-For": f"10.0.1.{n}"})
        assert resp.status_code == 200
    for _ in range(2):
        proxied.post("/login", data={"email": "c@example.org"}, headers={"X-Forwarded-For": "6.6.6.6, 10.0.2.1"})
    spoofed = proxied.post("/login", data={"email": "c@example.org"}, headers={"X-Forwarded-For": "7.7.7.7, 10.0.2.1"})
    assert spoofed.status_code == 429  # only the hop the proxy added counts


# ---------------------------------------------------------------- 413: bodies capped by kind


def test_anonymous_35_mb_json_body_is_refused_unread(client):
    body = CountingStream(35 * MB, b"[")
    started = time.monotonic()
    resp = client.post("/api/v1/products", input_stream=body, content_length=body.size,
                       content_type="application/json")
    assert time.monotonic() - started < 1.0
    assert_error(resp, 413)
    assert body.read_bytes == 0


def test_chunked_json_body_is_cut_at_the_cap(client, api_token):
    body = CountingStream(35 * MB, b" ")
    resp = client.post("/api/v1/products", input_stream=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {api_token}", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert_error(resp, 413)
    assert body.read_bytes <= MB + 64 * 1024


def test_public_endpoints_refuse_big_bodies_unread(client):
    for url in ("/api/v1/certificates/verify", "/api/3/action/package_search", "/webhooks/stripe"):
        body = CountingStream(35 * MB)
        resp = client.post(url, input_stream=body, content_length=body.size, content_type="text/plain")
        assert resp.status_code == 413 and resp.is_json, url
        assert body.read_bytes == 0, url


def test_page_forms_have_their_own_cap(make_app):
    client = make_app(FORM_MAX_BYTES=64 * 1024).test_client()
    resp = client.post("/login", data={"email": "a@example.org", "password": "x" * (100 * 1024)})
    assert resp.status_code == 413 and "413" in resp.get_data(as_text=True) and resp.mimetype == "text/html"
    assert client.post("/login", data={"email": "a@example.org", "password": "x" * 1000}).status_code == 200


def test_uploads_keep_their_own_larger_cap(make_app, session, seller, api_token):
    app = make_app(JSON_MAX_BYTES=64 * 1024)
    product = factories.product(session, seller)
    session.commit()
    api = factories.TokenClient(app.test_client(), api_token)
    data = b"id,value\n" + b"1,2\n" * (300 * 1024 // 4)
    resp = api.post(f"/api/v1/products/{product.id}/versions/1/assets",
                    query_string={"kind": "sample", "filename": "big.csv"}, data=data, content_type="text/csv")
    assert resp.status_code == 201, resp.get_json()
    assert_error(api.post("/api/v1/products", json={"title_en": "x" * (100 * 1024)}), 413)


# ---------------------------------------------------------------- 400: JSON nested too deep


@pytest.mark.parametrize("method,url", [
    ("post", "/api/v1/products"), ("post", "/api/v1/orders"), ("put", "/api/v1/products/1/versions/1/dictionary"),
    ("post", "/api/v1/notifications/read"),
])
def test_deep_json_is_400_on_token_endpoints(api, method, url):
    resp = getattr(api, method)(url, data=DEEP, content_type="application/json")
    body = assert_error(resp, 400, "bad_request")
    assert "levels deep" in body["message"]


def test_deep_json_is_400_on_public_endpoints(client):
    assert "levels deep" in assert_error(
        client.post("/api/v1/certificates/verify", data=DEEP, content_type="application/json"), 400)["message"]
    for url in ("/api/3/action/package_search", "/api/action/package_show"):
        resp = client.post(url, data=DEEP + b"]" * 100_000, content_type="application/json")
        assert resp.status_code == 400 and "levels deep" in resp.get_json()["error"]["message"], url
    stripe = client.post("/webhooks/stripe", data=DEEP, content_type="application/json")
    assert stripe.status_code == 400 and stripe.get_json()["status"] == 400
    page = client.post("/login", data=DEEP, content_type="application/json")
    assert page.status_code == 400 and "levels deep" in page.get_data(as_text=True)


def test_deep_json_inside_a_ckan_parameter_is_a_validation_error(client):
    resp = client.get("/api/3/action/package_search", query_string={"facet.field": "[" * 50_000})
    assert resp.status_code == 409 and resp.get_json()["error"]["__type"] == "Validation Error"


def test_json_at_the_depth_limit_reaches_validation(api):
    nested = {"title_en": "Nested"}
    for _ in range(31):  # 32 levels: the limit
        nested = {"n": nested}
    assert_error(api.post("/api/v1/products", json=nested), 422)
    too_deep = [nested]
    assert_error(api.post("/api/v1/products", json=too_deep), 400, "bad_request")


def test_depth_scan_counts_structure_not_strings():
    assert not json_nesting_exceeds(b"[" * 32 + b"]" * 32, 32)
    assert json_nesting_exceeds(b"[" * 33 + b"]" * 33, 32)
    assert json_nesting_exceeds(b'{"a":' * 33 + b"1" + b"}" * 33, 32)
    in_strings = json.dumps({"text": "[{" * 10_000, "quote": 'a \\" [[[ \\\\" ' * 100, "list": [["x"]]}).encode()
    assert not json_nesting_exceeds(in_strings, 3)
    assert not json_nesting_exceeds(b"]]]]" + b"[]" * 100, 32)  # malformed, left for the parser to refuse
    assert json_nesting_exceeds(b"[" * MB, 32)
    wide = json.dumps([[i, [i]] for i in range(100_000)]).encode()
    assert not json_nesting_exceeds(wide, 32)


def _best_of_three(work) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def test_the_depth_scan_costs_less_than_the_parse_it_guards():
    # A ratio measured in the same run, not a wall-clock bound: the machine may be busy.
    wide = json.dumps([[i, [i]] for i in range(100_000)]).encode()
    assert _best_of_three(lambda: json_nesting_exceeds(wide, 32)) < _best_of_three(lambda: json.loads(wide))
    assert _best_of_three(lambda: json_nesting_exceeds(b"[" * MB, 32)) < _best_of_three(lambda: json.loads(wide))


# ---------------------------------------------------------------- 401 before the body is read


def test_every_token_write_is_401_before_its_body_is_read(app, client):
    rules = [r for r in app.url_map.iter_rules()
             if r.rule.startswith("/api/v1/") and r.methods & WRITE_METHODS and r.endpoint not in PUBLIC_WRITES]
    assert len(rules) > 20
    for rule in rules:
        url = rule.rule.replace("<int:", "<").replace("<", "").replace(">", "")
        url = "/".join("1" if part.endswith("_id") or part == "number" else part for part in url.split("/"))
        method = sorted(rule.methods & WRITE_METHODS)[0]
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            body = CountingStream(100_000, b"[")
            resp = client.open(url, method=method, input_stream=body, content_length=body.size,
                               content_type="application/json", headers=headers)
            assert_error(resp, 401, "unauthorized")
            assert resp.headers["WWW-Authenticate"] == "Bearer"
            assert body.read_bytes == 0, (method, url)


def test_public_writes_are_the_writes_the_openapi_document_calls_public(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method, operation in item.items()
                  if method.upper() in WRITE_METHODS and operation.get("security") == []}
    listed = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method) for rule in app.url_map.iter_rules()
              if rule.endpoint in PUBLIC_WRITES for method in rule.methods & WRITE_METHODS}
    assert documented == listed == {("/api/v1/certificates/verify", "POST")}


def test_public_writes_stay_public(client):
    resp = client.post("/api/v1/certificates/verify",
                       json={"certificate": {}, "signature": {"alg": "none", "kid": "k", "value": "x"}})
    assert resp.status_code == 200 and resp.get_json()["valid"] is False


def test_upload_endpoints_are_real_endpoints(app):
    assert set(UPLOAD_ENDPOINTS) == {"seller.upload", "listings_api.upload_asset", "assessments.apply",
                                     "notices.object_to", "notices_api.attach_evidence", "orders.submit_evidence"}
    assert set(UPLOAD_ENDPOINTS) <= set(app.view_functions)
