"""Submit benchmark: how long ``POST /api/v1/products/<id>/versions/<n>/submit`` takes for a version whose
deliverable is a CSV of ``--rows`` rows (the pre-screen's personal-information scan reads up to 200,000 of them).

    .venv/bin/python bench/submit_bench.py [--rows 1000000] [--runs 5]

Runs against the checkout it is started from (``cd /work/main && .venv/bin/python /path/to/bench/submit_bench.py``
measures that checkout), in-process through Flask's test client, on a throwaway SQLite database and storage folder.
Each run submits a new product's version; prints each request's time and the median. Where the pre-screen is a job,
it is queued on a throwaway SQLite queue and not run (no worker), as with ``make run`` before the worker takes it.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="submit-bench-"))
    os.environ["MARKETPLACE_INSTANCE_DIR"] = str(folder / "instance")

    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.listings.assets import upload_asset
    from tests import factories

    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.db'}", STORAGE_LOCAL_ROOT=str(folder / "files"),
        LICENCE_SIGNING_KEY_FILE=str(folder / "key.pem"), JOBS_URL=f"sqlite:///{folder / 'jobs.db'}",
        JOBS_IMMEDIATE=False, MAX_UPLOAD_BYTES=2 ** 31, MAX_CONTENT_LENGTH=2 ** 31)
    body = "AID_ID_Number,Latitude\n" + "".join(f"AID{n:07d},22.{n % 1000:03d}\n" for n in range(args.rows))
    data = body.encode()
    print(f"{os.getcwd()}: a {len(data) / 1e6:.1f} MB CSV of {args.rows:,} rows", flush=True)
    timings = []
    with app.app_context():
        upgrade()
        seller = factories.user(db.session, email="bench@example.org", organization="Bench Org")
        db.session.commit()
        token = factories.api_token(db.session, seller)
        storage = app.extensions["storage"]
        versions = []
        for run in range(args.runs):
            product = factories.product(db.session, seller, title=f"Bench product {run}")
            version = factories.complete_version(db.session, storage, seller, product.latest_version)
            upload_asset(db.session, storage, seller, version, kind="deliverable", filename="big.csv",
                         stream=io.BytesIO(data), content_type="text/csv", max_bytes=len(data) + 1)
            db.session.commit()
            versions.append((product.id, version.number))
    client = app.test_client()
    for product_id, number in versions:
        started = time.perf_counter()
        response = client.post(f"/api/v1/products/{product_id}/versions/{number}/submit", json={},
                               headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        timings.append(elapsed)
        print(f"submit {product_id}: {elapsed * 1000:.0f} ms", flush=True)
    print(f"median of {len(timings)}: {statistics.median(timings) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
