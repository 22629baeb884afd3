"""Input edges the request-wide guards hold: NUL in the URL path is a 400 before any query (PostgreSQL cannot
take it), CKAN bodies are checked whatever their content type, control characters are refused in fields, and an
upload's body is read only for someone who may upload there."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import event

from config import Config
from marketplace.extensions import db
from tests import factories
from tests.support.sql import carries_nul
from tests.support.streams import CountingStream

MIB = 1024 * 1024


@pytest.fixture
def nul_queries(app):
    """Every statement sent to the database with a NUL in its parameters (none may be)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if carries_nul(parameters):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/products/a%00b", "/products/a%00b.jsonld", "/certificates/LIC%00",
                                  "/certificates/LIC%00.json", "/catalog/%00"])
def test_nul_in_a_public_page_path_is_the_400_error_page(client, nul_queries, path):
    response = client.get(path)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "NUL" in response.get_data(as_text=True)
    assert nul_queries == []


@pytest.mark.parametrize("path", ["/organizations/a%00b", "/seller/a%00b/sales", "/organizations/a%00b/members"])
def test_nul_in_a_signed_in_page_path_is_the_400_error_page(client, auth, seller, nul_queries, path):
    auth.login(seller.email)
    response = client.get(path)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert nul_queries == []


@pytest.mark.parametrize("path", ["/api/v1/organizations/a%00b", "/api/v1/organizations/a%00b/members",
                                  "/api/v1/organizations/a%00b/invitations"])
def test_nul_in_an_api_path_is_a_400_in_the_error_shape(api, nul_queries, path):
    response = api.get(path)
    assert response.status_code == 400
    assert response.get_json() == {"status": 400, "code": "bad_request", "errors": {},
                                   "message": "The address may not contain NUL characters (\\x00)."}
    assert nul_queries == []


@pytest.mark.parametrize("action", ["package_show", "organization_show"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "application/json", None])
def test_nul_in_a_ckan_body_is_refused_whatever_its_content_type(client, nul_queries, action, content_type):
    response = client.post(f"/api/3/action/{action}", data='{"id": "a\\u0000b"}', content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["success"] is False and response.get_json()["error"]["__type"] == "Bad request"
    assert nul_queries == []


@pytest.mark.parametrize("text", ["a\x01b", "esc\x1b[31m", "bell\x07", "\x0cform feed"])
def test_control_characters_are_refused_in_forms_and_json(client, auth, api, seller, text):
    auth.login(seller.email)
    page = client.post("/seller/products/new", data={"title_en": text})
    assert page.status_code == 400 and "control characters" in page.get_data(as_text=True)
    response = api.post("/api/v1/products", json={"organization": "harbour-analytics", "title_en": text})
    assert response.status_code == 400 and "control characters" in response.get_json()["message"]


def test_tabs_and_line_breaks_still_reach_a_multi_line_field(client, auth, seller):
    # Titles are single-line (tests/test_single_line_text.py); a description takes tabs and line breaks.
    auth.login(seller.email)
    response = client.post("/seller/products/new", data={
        "organization_id": seller.memberships[0].organization.id, "title_en": "Road speeds",
        "description_en": "Line one\tcolumn\r\nLine two\n"})
    assert response.status_code < 400, response.get_data(as_text=True)[:300]


# ---------------------------------------------------------------- uploads read only for their uploaders


@pytest.fixture
def deployed_caps(app, monkeypatch):
    """The deployed upload caps; ``on()`` turns CSRF protection on as in production (after logging in)."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", Config.MAX_CONTENT_LENGTH)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", Config.MAX_UPLOAD_BYTES)
    return lambda: monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _upload(client, product, deployed_caps, size: int = 150 * MIB):
    deployed_caps()
    body = CountingStream(size)
    response = client.post(f"/seller/products/{product.id}/versions/1/assets",
                           content_type="multipart/form-data; boundary=xyz",
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    return response, body


def test_an_anonymous_upload_is_sent_to_log_in_unread(session, client, seller, deployed_caps):
    product = factories.product(session, seller)
    session.commit()
    response, body = _upload(client, product, deployed_caps)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert body.read_bytes == 0


def test_an_upload_by_another_organization_is_404_unread(session, client, auth, seller, deployed_caps):
    product = factories.product(session, seller)
    stranger = factories.user(session, email="stranger@example.org", organization="Elsewhere Ltd")
    session.commit()
    auth.login(stranger.email)
    response, body = _upload(client, product, deployed_caps)
    assert response.status_code == 404
    assert body.read_bytes == 0


def test_an_anonymous_api_upload_is_401_unread(session, client, seller, deployed_caps):
    product = factories.product(session, seller)
    session.commit()
    deployed_caps()
    body = CountingStream(150 * MIB)
    response = client.post(f"/api/v1/products/{product.id}/versions/1/assets?kind=sample&filename=x.csv",
                           content_type="multipart/form-data; boundary=xyz",
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
    assert body.read_bytes == 0


def test_a_member_still_uploads_through_the_page(session, storage, client, auth, seller):
    product = factories.product(session, seller)
    session.commit()
    auth.login(seller.email)
    response = client.post(f"/seller/products/{product.id}/versions/1/assets", data={
        "upload-kind": "sample", "upload-file": (io.BytesIO(b"a,b\n1,2\n"), "sample.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert [a.filename for a in product.latest_version.assets] == ["sample.csv"]
