"""Catalog benchmark: a generated catalog of listed products, served by gunicorn, driven by wrk.

    .venv/bin/python bench/catalog_bench.py [--products 100000] [--db sqlite|postgresql] [--duration 15]
        [--keep PATH] [--only NAME ...] [--runs N]

1. Generates ``--products`` listed products from the shipped real catalog records (3,651 DATA.GOV.HK datasets and
   27 Shanghai SODA datasets): each record becomes products of its publisher's organization with its title, notes,
   category, formats, regions, 1-3 plans and its upstream source, written with bulk inserts, then indexed with
   the app's own ``reindex_all``.
2. Starts the app under gunicorn (2 workers) on loopback, on SQLite or a throwaway PostgreSQL cluster.
3. Drives each endpoint with wrk at 8 connections and prints requests/s and p50/p95/p99 latency, each as a ratio to
   the floor (``/healthz``: a trivial JSON answer from the same app and middleware), against the targets.
   The product page rotates over ``PRODUCT_SLUGS`` products picked evenly across the catalog (a wrk Lua
   script, measured after ``WARM_UP_PASSES`` visits of each), and separately over the other products, each visited at
   most once (first visits); ``--runs`` repeats every endpoint on a fresh server and reports each run and the median.
   Each product has a sample file of its own (a hard link to one of the shipped samples) with the preview and
   column profile its upload would have stored, so no cache of a shared file or row flatters a first visit.

``--keep catalog.db`` (SQLite) keeps the generated catalog and reuses it on the next run with the same file.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace import create_app  # noqa: E402
from marketplace.catalog.index import reindex_all  # noqa: E402
from marketplace.catalog.models import CatalogEntry, CatalogText  # noqa: E402
from marketplace.catalog.profile_store import AssetProfile  # noqa: E402
from marketplace.catalog.profiles import preview_to_json, profile_stream  # noqa: E402
from marketplace.catalog.search import SearchQuery, encode_cursor, search  # noqa: E402
from marketplace.db import utcnow  # noqa: E402
from marketplace.extensions import db  # noqa: E402

DATA = ROOT / "marketplace" / "data" / "catalogs"
GROUP_CATEGORY = {
    "Finance": "finance", "Commerce and Industry": "economy", "Development, Geography and Land Information":
    "geospatial", "Population": "population", "Transportation": "transport", "Environment": "environment",
    "Education": "education", "City Management and Utilities": "city_management", "Health": "health",
    "Climate and Weather": "weather", "Housing": "city_management", "Food": "consumer",
}
FORMATS = {"CSV": "CSV", "JSON": "JSON", "XLSX": "XLSX", "XLS": "XLSX", "XML": "XML", "GEOJSON": "GeoJSON"}
PLANS = [
    {"name": "Research (free)", "kind": "free", "amount": 0, "permitted_uses": ["research"]},
    {"name": "Single-team licence", "kind": "one_time", "amount": 120000,
     "permitted_uses": ["internal_analysis", "research"]},
    {"name": "Commercial licence", "kind": "one_time", "amount": 2500000,
     "permitted_uses": ["internal_analysis", "commercial_product"]},
    {"name": "Monthly subscription", "kind": "subscription", "billing_period": "month", "amount": 68000,
     "permitted_uses": ["internal_analysis", "commercial_product"]},
]
# Names are prefixes, the first match wins: a first visit renders its page, a rotating one is kept rendered.
TARGETS = {"narrow search": 1 / 15, "broad search": 1 / 50, "product page, first visits": 1 / 10, "product page": 1 / 5}
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
PRODUCT_SLUGS = 1000
WARM_UP_PASSES = 4  # visits of each rotating product page before they are measured


# ---------------------------------------------------------------- generating the catalog


def _records() -> list[dict]:
    hk = json.loads((DATA / "datagovhk_datasets_catalog.json").read_text(encoding="utf-8"))["datasets"]
    sh = json.loads((DATA / "shanghai_soda2017_datasets.json").read_text(encoding="utf-8"))["datasets"]
    out = [{"title": " ".join(r["title"].split()), "notes": r.get("notes") or "", "org": r["organization"],
            "url": r["package_url"], "groups": r.get("groups") or [], "formats": r.get("formats") or [],
            "region": "hong_kong", "portal": "data_gov_hk", "licence": "LicenseRef-DATA.GOV.HK-Terms"} for r in hk]
    out += [{"title": r["title"], "notes": r.get("notes") or "", "org": r.get("organization") or "SODA",
             "url": f"http://soda.datashanghai.gov.cn/dataset/{r['slug']}", "groups": [], "formats":
             [x.get("format", "") for x in r.get("resources") or []], "region": "shanghai", "portal": "soda",
             "licence": "LicenseRef-SODA-Data-Licence"} for r in sh]
    return out


def generate(app, products: int, seed: int = 7) -> float:
    """Bulk-insert ``products`` listed products (with versions, plans, sources) and index them; seconds taken."""
    from marketplace.accounts.models import Membership, Organization, User
    from marketplace.listings.models import Asset, DataProduct, OpenDataSource, PricingPlan, ProductVersion

    started = time.perf_counter()
    rng = random.Random(seed)
    records = _records()
    now = utcnow()
    with app.app_context():
        session = db.session
        owner = User(email="bench@bench.example", display_name="Bench", password_hash="!", locale="en")
        session.add(owner)
        session.flush()
        orgs = {}
        for name in sorted({r["org"] for r in records}):
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70] or "org"
            org = Organization(slug=f"{slug}-{len(orgs)}", name=f"{name} Data Products",
                               contact_email="data@bench.example")
            session.add(org)
            session.flush()
            session.add(Membership(user_id=owner.id, organization_id=org.id, role="owner"))
            orgs[name] = org.id
        session.commit()
        # The real sample files: each product gets a file of its own (a hard link to one of them, so the catalog
        # takes no more room), with the preview and column profile its upload would have stored (computed once per
        # real file), so that no cache of a file or of a profile row shared by several products flatters a page.
        samples, profiles = [], []
        storage = app.extensions["storage"]
        for path in sorted((ROOT / "marketplace" / "data" / "samples").rglob("*")):
            if path.is_file():
                with path.open("rb") as fh:
                    stored = storage.save(f"bench/{path.name}", fh, content_type="application/octet-stream",
                                          max_bytes=10 * 2**20)
                content_type = "application/geo+json" if path.suffix == ".geojson" else (
                    "text/csv" if path.suffix == ".csv" else "application/json")
                samples.append({"filename": path.name, "size": stored.size, "sha256": stored.sha256,
                                "storage_key": f"bench/{path.name}", "content_type": content_type})
                with path.open("rb") as fh:
                    preview, profile = profile_stream(fh, filename=path.name, content_type=content_type)
                profiles.append({"state": "done", "preview": preview_to_json(preview), "profile": profile,
                                 "computed_at": now})
        batch = 2000
        for start in range(0, products, batch):
            products_rows, versions, plans, sources, assets, asset_profiles = [], [], [], [], [], []
            for i in range(start, min(start + batch, products)):
                pid = i + 1
                rec = records[i % len(records)]
                edition = i // len(records)
                title = rec["title"] + (f" ({2010 + edition % 15} edition)" if edition else "")
                category = next((GROUP_CATEGORY[g] for g in rec["groups"] if g in GROUP_CATEGORY), "other")
                formats = sorted({FORMATS[f.upper()] for f in rec["formats"] if f.upper() in FORMATS}) or ["CSV"]
                approved = now - timedelta(minutes=products - i)
                products_rows.append({"id": pid, "organization_id": orgs[rec["org"]], "slug": f"p{pid}",
                                      "status": "listed", "created_at": approved, "updated_at": approved,
                                      "status_reason": ""})
                versions.append({
                    "id": pid, "product_id": pid, "number": 1, "label": "1.0", "changelog": "First release.",
                    "status": "listed", "title_en": title[:200], "title_zh": "", "description_en": rec["notes"],
                    "description_zh": "", "category": category, "tags": [], "regions": [rec["region"]],
                    "spatial_coverage": "", "update_frequency": rng.choice(["daily", "monthly", "yearly"]),
                    "delivery_methods": ["file"] + (["api"] if rng.random() < .3 else []), "formats": formats,
                    "personal_info": "none", "classification": "general", "classification_reason": "",
                    "source_legality": "Open data.", "cross_border_transfer": False, "legal_basis": "",
                    "submitted_at": approved, "approved_at": approved, "registration_number": f"REG-BENCH-{pid:07d}",
                    "created_at": approved, "updated_at": approved,
                })
                for position, plan in enumerate(rng.sample(PLANS, rng.randint(1, 3))):
                    plans.append({"version_id": pid, "position": position, "currency": rng.choice(["HKD", "CNY",
                                  "USD"]), "territory": "worldwide", "prohibitions": ["resale"],
                                  "billing_period": None, "requires_approval": False, **plan})
                sample = samples[i % len(samples)]
                key = f"bench/files/{pid}-{sample['filename']}"
                _link(storage, sample["storage_key"], key)
                assets.append({"id": pid, "version_id": pid, "kind": "sample", "created_at": approved,
                               "updated_at": approved, **sample, "storage_key": key})
                asset_profiles.append({"asset_id": pid, **profiles[i % len(profiles)]})
                sources.append({"version_id": pid, "position": 0, "portal": rec["portal"], "title": rec["title"][:300],
                                "url": rec["url"][:1000], "publisher": rec["org"][:300], "licence_id": rec["licence"],
                                "attribution": f"Source: {rec['org']}"[:1000]})
            session.execute(DataProduct.__table__.insert(), products_rows)
            session.execute(ProductVersion.__table__.insert(), versions)
            session.execute(DataProduct.__table__.update().where(DataProduct.id.between(start + 1, start + batch))
                            .values(listed_version_id=DataProduct.id))
            session.execute(PricingPlan.__table__.insert(), plans)
            session.execute(OpenDataSource.__table__.insert(), sources)
            session.execute(Asset.__table__.insert(), assets)
            session.execute(AssetProfile.__table__.insert(), asset_profiles)
            session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("data_products", "product_versions", "assets"):
                session.execute(db.text(f"SELECT setval('{table}_id_seq', {products})"))
        indexed = reindex_all(session, batch=2000)
        session.commit()
        if db.engine.dialect.name == "sqlite":
            session.execute(db.text("ANALYZE"))
        else:
            session.execute(db.text("ANALYZE"))
        session.commit()
        assert indexed == products, (indexed, products)
    return time.perf_counter() - started


def _link(storage, source: str, key: str) -> None:
    """Store ``source``'s file again under ``key``: a hard link in a local folder, else a copy."""
    root = getattr(storage, "root", None)
    if root is not None:
        target = Path(root, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(Path(root, source), target)
        return
    with storage.open(source) as fh:
        storage.save(key, fh, content_type="application/octet-stream", max_bytes=10 * 2**20)


# ---------------------------------------------------------------- choosing the requests


def _term_near(app, share: float) -> tuple[str, int]:
    """A title word whose search matches about ``share`` of the products, as counted by the app's own search."""
    with app.app_context():
        words = Counter()
        for (title,) in db.session.execute(db.select(CatalogText.title_text).limit(20000)):
            words.update({w for w in re.findall(r"[a-z]{4,}", title)})
        total = db.session.scalar(db.select(db.func.count()).select_from(CatalogEntry))
        sample = min(total, 20000)
        candidates = sorted(words, key=lambda w: abs(words[w] / sample - share))[:12]
        counted = {w: search(db.session, SearchQuery(q=w, per_page=1)).total for w in candidates}
        best = min(counted, key=lambda w: abs(counted[w] / total - share))
        return best, counted[best]


def plan_requests(app) -> tuple[dict[str, str], dict]:
    narrow, narrow_n = _term_near(app, 0.01)
    broad, broad_n = _term_near(app, 0.30)
    with app.app_context():
        session = db.session
        total = session.scalar(db.select(db.func.count()).select_from(CatalogEntry))
        facets = "&region=hong_kong&format=CSV&delivery=file"
        deep_filters = {"region": ("hong_kong",), "delivery": ("file",)}
        deep = search(session, SearchQuery(filters=deep_filters, sort="newest", per_page=1))
        middle = session.scalars(db.select(CatalogEntry).where(CatalogEntry.region_mask.op("&")(1) != 0,
                                                               CatalogEntry.delivery_mask.op("&")(1) != 0)
            .order_by(CatalogEntry.listed_at.desc(), CatalogEntry.id.desc()).offset(deep.total // 2).limit(1)).one()
        cursor = encode_cursor(("listed_at", "desc"), middle)
        slugs = session.scalars(db.select(CatalogEntry.slug).order_by(CatalogEntry.id)).all()
        seller = session.scalar(db.select(CatalogEntry.seller_slug).order_by(CatalogEntry.id).limit(1))
    # Product pages: a fixed set of products spread over the catalog, visited in turn after a warm-up pass (warm),
    # and the other products in a shuffled order, each visited at most once per server (first visits: cold).
    step = max(1, len(slugs) // PRODUCT_SLUGS)
    warm = slugs[::step][:PRODUCT_SLUGS]
    chosen = set(warm)
    cold = [s for s in slugs if s not in chosen]
    random.Random(11).shuffle(cold)
    requests = {
        "floor (/healthz)": "/healthz",
        "narrow search": f"/catalog?q={narrow}{facets}",
        "broad search": f"/catalog?q={broad}{facets}",
        "deep filtered page": f"/catalog?sort=newest&region=hong_kong&delivery=file&cursor={cursor}",
        "product page, first visits": [f"/products/{s}" for s in cold],
        f"product page, {len(warm):,} rotating": [f"/products/{s}" for s in warm],
        "CKAN package_search": f"/api/3/action/package_search?q={narrow}&rows=20",
        # what ckanext-harvest's CKAN harvester asks: pages of 100 by id, with and without its fq terms
        "CKAN harvester page, no fq": "/api/3/action/package_search?" + urlencode(
            {"rows": 100, "start": 1000, "sort": "id asc"}),
        "CKAN harvester page, fq": "/api/3/action/package_search?" + urlencode(
            {"rows": 100, "start": 1000, "sort": "id asc",
             "fq": f"-organization:{seller} -groups:finance metadata_modified:[2000-01-01T00:00:00Z TO *]"}),
        "CKAN tags facet": "/api/3/action/package_search?" + urlencode(
            {"rows": 0, "facet.field": '["tags", "organization", "groups"]'}),
    }
    facts = {"products": total, "narrow": (narrow, narrow_n), "broad": (broad, broad_n), "deep_at": deep.total // 2}
    return requests, facts


# ---------------------------------------------------------------- serving and measuring


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(database_url: str, storage: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # Development without debug: production refuses simulated payments and console mail, which the catalog never
    # uses; the catalog never signs anything either.
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_CONFIG": "development", "FLASK_DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(48), "STORAGE_LOCAL_ROOT": storage, "MAIL_BACKEND": "console",
           # wrk is one client asking hundreds of times a second: the per-address search limit would answer it 429.
           "RATELIMIT_ENABLED": "0",
           "LICENCE_SIGNING_KEY_FILE": os.environ.get("LICENCE_SIGNING_KEY_FILE",
                                                      str(Path(storage) / "licence-signing-key.pem"))}
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


ROTATE_LUA = """
paths = {%s}
local threads = 0
function setup(thread)
  thread:set("offset", threads * math.floor(#paths / 2))
  threads = threads + 1
end
local i = 0
function request()
  i = i + 1
  return wrk.format(nil, paths[((offset or 0) + i) %% #paths + 1])
end
"""


def wrk(url: str, paths: str | list[str], duration: int) -> dict:
    """One wrk run at 8 connections; a list of paths is requested in turn (each of wrk's two threads starts
    half-way through the list from the other)."""
    script = str(WRK_SCRIPT)
    if isinstance(paths, list):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(ROTATE_LUA % ", ".join(json.dumps(p) for p in paths) + WRK_SCRIPT.read_text())
            script = fh.name
        paths = paths[0]
    try:
        out = subprocess.run(["wrk", "-t2", "-c8", f"-d{duration}s", "-s", script, url + paths],
                             capture_output=True, text=True, check=True).stdout
    finally:
        if script != str(WRK_SCRIPT):
            os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("JSON "))
    return json.loads(line[5:])


def warm_up(base: str, paths: list[str]) -> None:
    """Request every path ``WARM_UP_PASSES`` times from 8 threads, so that both workers are likely to have
    rendered each (a worker keeps its own pages)."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str) -> None:
        urllib.request.urlopen(base + path, timeout=60).read()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(get, paths * WARM_UP_PASSES))


def measure(database_url: str, storage: str, requests: dict, duration: int) -> dict:
    """Every endpoint once against a freshly started server (so per-process caches start empty)."""
    proc, base = serve(database_url, storage)
    results = {}
    try:
        for name, paths in requests.items():
            first = paths if isinstance(paths, str) else paths[0]
            try:
                urllib.request.urlopen(base + first, timeout=60).read()
            except urllib.error.HTTPError as exc:  # an endpoint this checkout does not have yet
                print(f"{name}: {first} answered {exc.code}; skipped")
                results[name] = None
                continue
            if "rotating" in name:  # warm-up, not reported
                warm_up(base, paths)
            results[name] = wrk(base, paths, duration)
            print(f"  {name}: {results[name]['rps']:,.0f} req/s, p95 {results[name]['p95']:.1f} ms", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--runs", type=int, default=1, help="measure every endpoint this many times; report medians")
    parser.add_argument("--keep", metavar="PATH", help="SQLite: keep the generated catalog here, reuse it if there")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="endpoints whose name starts with one of these "
                        "(the floor is always measured)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    cluster = None
    reuse = False
    if args.db == "postgresql":
        from tests.support.postgres import PostgresCluster

        cluster = PostgresCluster()
        database_url = cluster.start()
    elif args.keep:
        keep = Path(args.keep).resolve()
        reuse = keep.exists()
        database_url = f"sqlite:///{keep}"
    else:
        database_url = f"sqlite:///{work / 'bench.db'}"
    storage = str(Path(args.keep).resolve().with_suffix(".storage")) if args.keep else str(work / "s")
    try:
        app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=storage)
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
        if reuse:
            print(f"Reusing the catalog in {args.keep}.")
        else:
            seconds = generate(app, args.products)
            print(f"Generated and indexed {args.products:,} listed products on {args.db} in {seconds:.0f} s.")
        requests, facts = plan_requests(app)
        if args.only:
            requests = {n: p for n, p in requests.items() if n.startswith(("floor", *args.only))}
        print(f"narrow word {facts['narrow'][0]!r}: {facts['narrow'][1]:,} matches "
              f"({facts['narrow'][1] / facts['products']:.1%}); broad word {facts['broad'][0]!r}: "
              f"{facts['broad'][1]:,} ({facts['broad'][1] / facts['products']:.1%}); deep page at row "
              f"{facts['deep_at']:,}; each with 3 facets except the deep page (2).")
        with app.app_context():
            db.engine.dispose()
        runs = []
        for run in range(args.runs):
            print(f"run {run + 1} of {args.runs}", flush=True)
            runs.append(measure(database_url, storage, requests, args.duration))
        report(runs, args, facts)
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def _median(runs: list[dict], name: str) -> dict | None:
    measured = [r[name] for r in runs if r.get(name)]
    if not measured:
        return None
    return {key: statistics.median(m[key] for m in measured) for key in measured[0]}


def report(runs: list[dict], args, facts) -> None:
    names = list(runs[0])
    results = {name: _median(runs, name) for name in names}
    floor = results["floor (/healthz)"]
    print(f"\n{facts['products']:,} products, {args.db}, gunicorn 2 workers, wrk 8 connections, {args.duration} s "
          f"each, median of {len(runs)} run(s)\n")
    print("| endpoint | req/s | ratio to floor | p50 ms | p95 ms | p99 ms | target | met | req/s each run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if r is None:
            print(f"| {name} | not available | | | | | | | |")
            continue
        ratio = r["rps"] / floor["rps"]
        target = next((t for prefix, t in TARGETS.items() if name.startswith(prefix)), None)
        met = "" if target is None else ("yes" if ratio >= target else "NO")
        each = ", ".join(f"{run[name]['rps']:,.0f}" for run in runs if run.get(name))
        print(f"| {name} | {r['rps']:,.0f} | 1/{1 / ratio:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {'1/' + str(round(1 / target)) if target else ''} | {met} | {each} |")
    errors = {n: [run[n]["errors"] for run in runs if run.get(n)] for n in names}
    errors = {n: e for n, e in errors.items() if any(e)}
    if errors:
        print(f"\nnon-2xx or socket errors: {errors}")
    if any(name.startswith("product page, first visits") for name in names):
        print("\nproduct page, first visits: measured with distinct files per product, so no cache flatters it "
              "(each product has its own sample file and its own stored preview and profile).")

if __name__ == "__main__":
    main()
