"""CKAN package_search in process (the Flask test client, no server or network), with and without the CKAN
harvester's fq terms, over a catalog the catalog benchmark generated and kept:

    .venv/bin/python bench/catalog_bench.py --products 20000 --keep /tmp/bench20k.db --only floor
    .venv/bin/python bench/ckan_bench.py /tmp/bench20k.db

Prints the median of 10 requests (after 2 warm-up requests) per URL, and the count each answered.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace import create_app  # noqa: E402
from marketplace.catalog.models import CatalogEntry  # noqa: E402
from marketplace.extensions import db  # noqa: E402

app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(sys.argv[1]).resolve()}",
                 RATELIMIT_ENABLED=False)
client = app.test_client()
with app.app_context():
    org = db.session.scalar(db.select(CatalogEntry.seller_slug).order_by(CatalogEntry.id).limit(1))
URLS = {
    "page of 100 by id, no fq": "/api/3/action/package_search?rows=100&start=1000&sort=id+asc",
    "page of 100 by id, org fq": f"/api/3/action/package_search?rows=100&start=1000&sort=id+asc&fq=organization:{org}",
    "harvester fq (-org -group since)": "/api/3/action/package_search?rows=100&start=1000&sort=id+asc&fq="
        f"-organization:{org}+-groups:finance+metadata_modified:%5B2000-01-01T00:00:00Z+TO+*%5D",
    "count only, harvester fq": "/api/3/action/package_search?rows=0&fq="
        f"-organization:{org}+-groups:finance+metadata_modified:%5B2000-01-01T00:00:00Z+TO+*%5D",
    "count only, no fq": "/api/3/action/package_search?rows=0",
    "q=country rows=20": "/api/3/action/package_search?q=country&rows=20",
    "facets org+groups": "/api/3/action/package_search?rows=0&facet.field=%5B%22organization%22,%22groups%22%5D",
    "facets tags+org+groups": "/api/3/action/package_search?rows=0&facet.field="
                              "%5B%22tags%22,%22organization%22,%22groups%22%5D",
}
for name, url in URLS.items():
    times = []
    for _ in range(12):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    count = (response.get_json().get("result") or {}).get("count")
    print(f"{name:34s} {response.status_code}  median {1000 * statistics.median(times[2:]):6.1f} ms  count {count}")
