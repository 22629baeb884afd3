"""Assertions about the API's one error shape."""
from __future__ import annotations


def assert_error(resp, status, code=None, field=None):
    """The response is an error of ``status`` in the one shape, with ``code`` and an error for ``field`` if given."""
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"status", "code", "message", "errors"}, body
    assert body["status"] == status and body["message"]
    if code:
        assert body["code"] == code, body
    if field:
        assert field in body["errors"], body
    return body
