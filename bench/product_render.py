"""The product page's first render in-process, stage by stage: CPU time (not wall time, so other work on the
machine matters less) of distinct, never-visited product pages, against the floor (``/healthz``) in the same run.

    .venv/bin/python bench/catalog_bench.py --products 20000 --keep /tmp/c20k.db --only "product page, first"
    .venv/bin/python bench/product_render.py /tmp/c20k.db [--pages 200]

The first command generates (or reuses) a catalog whose products each have their own sample file and stored
profile; the second reads it. Each stage is timed around the function the page calls; "whole request" is the
test client's request, kept pages never served (each product is visited once).
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.catalog import product_views  # noqa: E402
from marketplace.extensions import db  # noqa: E402

STAGES = {"load the product": "listed_product", "related products": "related_entries",
          "versions": "approved_versions", "stored profile": "profile_for", "templates": "render_template"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", help="a catalog kept by catalog_bench.py --keep")
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    database = Path(args.database).resolve()
    keys = tempfile.mkdtemp(prefix="product-render-")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     SECRET_KEY=secrets.token_urlsafe(48), STORAGE_LOCAL_ROOT=str(database.with_suffix(".storage")),
                     RATELIMIT_ENABLED=False, LICENCE_SIGNING_KEY_FILE=os.path.join(keys, "key.pem"),
                     MAIL_BACKEND="console")
    with app.app_context():
        slugs = list(db.session.scalars(text("SELECT slug FROM data_products WHERE status = 'listed' ORDER BY id")))
    random.Random(3).shuffle(slugs)
    warm, slugs = slugs[:30], slugs[30:30 + args.pages]
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}

    def timed(stage: str, function):
        def call(*a, **kw):
            start = time.process_time()
            try:
                return function(*a, **kw)
            finally:
                timings[stage].append(time.process_time() - start)
        return call

    client = app.test_client()
    for slug in warm:  # the app's first requests load templates and catalogs: not a product's cost
        client.get(f"/products/{slug}")
    for stage, name in STAGES.items():
        setattr(product_views, name, timed(stage, getattr(product_views, name)))
    for values in timings.values():
        values.clear()
    whole, floor = [], []
    for slug in slugs:
        start = time.process_time()
        status = client.get(f"/products/{slug}").status_code
        whole.append(time.process_time() - start)
        assert status == 200, (slug, status)
    for _ in slugs:
        start = time.process_time()
        client.get("/healthz")
        floor.append(time.process_time() - start)
    print(f"{len(slugs)} first renders, median CPU ms per request")
    for stage, values in timings.items():
        print(f"  {stage:18s} {statistics.median(values) * 1000:6.2f}")
    median, base = statistics.median(whole), statistics.median(floor)
    print(f"  {'whole request':18s} {median * 1000:6.2f}\n  {'floor (/healthz)':18s} {base * 1000:6.2f}"
          f"\n  ratio to the floor: 1/{median / base:.1f}")


if __name__ == "__main__":
    main()
