"""Run the schemathesis CLI against a live API: one token per role chosen by operation, the seeded rows' ids as
path parameters, every check, a fixed seed and example budget; the run's failures read from its JSON report."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.contract import Seeded

# Operations whose documented-valid requests may still be 422, because the rule depends on rows, state or other
# items that no JSON schema can state: an organization the caller belongs to, a licence id from GET /licences, an
# asset that is a data file, a cursor a previous page gave, a checklist answered before approving, a plan change
# checked with the plan's other values, the scenario a plan's terms allow, field names unique across a dictionary,
# a version complete enough to submit.
# Every other operation must accept whatever its schema allows.
UNSTATED_422 = (
    ("GET", "/api/v1/catalog"),
    ("GET", "/api/v1/orders"),
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/products"),
    ("POST", "/api/v1/products/{product_id}/versions/{number}/sources"),
    ("PATCH", "/api/v1/products/{product_id}/versions/{number}/sources/{source_id}"),
    ("POST", "/api/v1/products/{product_id}/versions/{number}/dictionary/infer"),
    ("POST", "/api/v1/products/{product_id}/versions/{number}/assets"),
    ("PATCH", "/api/v1/products/{product_id}/versions/{number}/plans/{plan_id}"),
    ("POST", "/api/v1/review/cases/{case_id}/decision"),
    ("PUT", "/api/v1/products/{product_id}/versions/{number}/dictionary"),
    ("POST", "/api/v1/products/{product_id}/versions/{number}/submit"),
)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]


def config_toml(seeded: Seeded) -> str:
    """Per-operation tokens: review and audit as the platform admin, orders and held licences as the buyer,
    everything else (listings, organizations, notifications, look-ups) as the seller. Path ids are drawn, not
    fixed (a fixed value would stand in for the invalid ones negative cases draw): the seeded rows have the low
    ids the run draws most."""
    def bearer(token: str) -> str:
        return f'headers = {{ Authorization = "Bearer {token}" }}'

    stateful = "".join(f"""
[[operations]]
include-method = "{method}"
include-path = "{path}"
[operations.checks.positive_data_acceptance]
expected-statuses = {ACCEPTED!r}
""".replace("'", '"') for method, path in UNSTATED_422)
    return stateful + f"""
[[operations]]
include-path-regex = "^/api/v1/(review|audit)/"
{bearer(seeded.admin_token)}

[[operations]]
include-path-regex = "^/api/v1/(orders|licences/held|licences/\\\\{{licence_id\\\\}})"
{bearer(seeded.buyer_token)}

[[operations]]
include-path-regex = "^/api/v1/(products|organizations|notifications|sources|me|licences$)"
{bearer(seeded.seller_token)}
"""


def run(base_url: str, seeded: Seeded, folder: Path, *, max_examples: int, phases: str,
        seed: int = 1) -> tuple[int, dict, str]:
    """Run ``schemathesis run`` and return its exit code, its JSON report and its console output."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "schemathesis.toml"
    config.write_text(config_toml(seeded))
    report = folder / "report.json"
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
           f"{base_url}/api/v1/openapi.json", "--checks", "all", "--max-examples", str(max_examples),
           "--seed", str(seed), "--generation-deterministic", "--workers", "1", "--no-color",
           "--report", "json", "--report-json-path", str(report),
           "--continue-on-failure", "--phases", phases]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    # Run in the folder: schemathesis keeps a cache of its findings in the working directory.
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600, cwd=folder)
    data = json.loads(report.read_text()) if report.exists() else {}
    return done.returncode, data, done.stdout + done.stderr
