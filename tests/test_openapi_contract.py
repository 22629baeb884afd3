"""The API does what its OpenAPI document says: schemathesis, pinned in requirements-test.txt, runs every check it
has against a live server (werkzeug on loopback over a migrated, seeded database of the suite's backend, SQLite or
PostgreSQL) with a fixed example budget and deterministic generation, and any failure fails the suite, not only a
5xx. Authenticated operations run with the token of the role they serve (seller, buyer, platform admin).

The coverage phase (boundary values of every constraint) is not bounded by the example budget and takes minutes;
``CONTRACT_PHASES=examples,coverage,fuzzing,stateful`` runs it too.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.support.contract import ContractServer
from tests.support.schemathesis_run import run

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "5"))
PHASES = os.environ.get("CONTRACT_PHASES", "examples,fuzzing,stateful")


@pytest.fixture
def live_api(own_database_url, tmp_path):
    server = ContractServer(tmp_path, own_database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.no_transaction
def test_schemathesis_finds_no_failure_with_every_check(live_api, tmp_path):
    code, report, output = run(live_api.url, live_api.seeded, tmp_path / "schemathesis", max_examples=MAX_EXAMPLES,
                               phases=PHASES)
    assert report, output[-3000:]
    assert report["operations"]["tested"] == report["operations"]["total"] >= 50, report["operations"]
    assert report["test_cases"]["generated"] > 0
    problems = {"failures": report["failures"], "errors": report["errors"]}
    assert code == 0 and not report["failures"] and not report["errors"], (
        json.dumps(problems, indent=1)[:3000] + "\n" + output[-6000:])


def test_the_error_schema_is_the_body_every_error_sends(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["status"]["type"] == "integer"
    assert error["properties"]["code"]["type"] == "string"
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["errors"]["type"] == "object"
    assert set(error["required"]) == {"status", "code", "message", "errors"}
    body = client.get("/api/v1/products/1").get_json()
    assert isinstance(body["status"], int) and isinstance(body["code"], str)


def test_public_operations_need_no_token_and_the_rest_do(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    public = {(method, path) for path, item in spec["paths"].items() for method, op in item.items()
              if isinstance(op, dict) and op.get("security") == []}
    assert public == {("get", "/api/v1/catalog"), ("get", "/api/v1/licences"),
                      ("post", "/api/v1/certificates/verify"), ("get", "/api/v1/providers"),
                      ("get", "/api/v1/providers/{slug}"), ("get", "/api/v1/assessments/{number}"),
                      ("get", "/api/v1/notices"), ("get", "/api/v1/notices/{notice_id}"),
                      ("get", "/api/v1/registrations/{registration_number}")}
    assert spec["security"] == [{"bearerAuth": []}]
    assert client.get("/api/v1/catalog").status_code == 200
    assert client.get("/api/v1/licences").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_every_operation_lists_its_errors_in_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            statuses = {code for code in op["responses"] if code.startswith("4")}
            assert "400" in statuses, (method, path)
            assert ("401" in statuses) == (op.get("security") != []), (method, path)
            if "{" in path and op.get("security") != []:
                assert "404" in statuses, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"413", "429"} <= statuses, (method, path)
            for code in statuses:
                ref = op["responses"][code]["$ref"].rsplit("/", 1)[1]
                content = spec["components"]["responses"][ref]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_a_method_not_allowed_names_the_allowed_ones(client):
    response = client.delete("/api/v1/catalog")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
    assert response.get_json()["code"] == "method_not_allowed"
