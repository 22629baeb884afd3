"""Catalog benchmark: a generated catalog of listed products, served by gunicorn, driven by wrk.

    .venv/bin/python bench/catalog_bench.py [--products 100000] [--db sqlite|postgresql] [--duration 15]
        [--engine tantivy|database] [--keep PATH] [--only NAME ...] [--runs N] [--save FILE] [--baseline-p95 FILE]

1. Generates ``--products`` listed products from the shipped real catalog records (3,651 DATA.GOV.HK datasets and
   27 Shanghai SODA datasets): each record becomes products of its publisher's organization with its title, notes,
   category, formats, regions, 1-3 plans and its upstream source, written with bulk inserts, then indexed with
   the app's own ``reindex_all``.
2. With ``--engine tantivy`` (the default) builds the search engine's index (``SEARCH_INDEX_DIR``) from those
   entries, as ``flask catalog reindex`` does, and serves with ``SEARCH_ENGINE=tantivy``; ``--engine database``
   serves the database's own search.
3. Starts the app under gunicorn (2 workers) on loopback, on SQLite or a throwaway PostgreSQL cluster.
4. Drives each endpoint with wrk at 8 connections and prints requests/s and p50/p95/p99 latency, each as a ratio to
   the floor (``/healthz``: a trivial JSON answer from the same app and middleware), against the targets
   (``targets.py``: those at 1,000,000 products from that size on).
   The product page rotates over ``PRODUCT_SLUGS`` products picked evenly across the catalog (a wrk Lua
   script, measured after ``WARM_UP_PASSES`` visits of each), and separately over the other products, each visited at
   most once (first visits); ``--runs`` repeats every endpoint on a fresh server and reports each run and the median.
   Each product has a sample file of its own (a hard link to one of the shipped samples) with the preview and
   column profile its upload would have stored, so no cache of a shared file or row flatters a first visit.

``--keep catalog.db`` (SQLite) keeps the generated catalog and reuses it on the next run with the same file;
``--keep catalog.dump`` (PostgreSQL) keeps it as a ``pg_dump`` and restores it into the next run's cluster. The
engine's index is kept beside it (``catalog.engine``), and so are the products' files (``catalog.storage``).
With the engine, "first search after a change" times the narrow search right after a product's catalog entry is
rewritten and committed (``sync_product``, 20 changes) against its warm median: by this process, another process of
the server's machine (which applies it to the machine's index at its commit), and by another machine's app (an
index of its own: the server's search applies the change). ``--save FILE``
writes the run's figures as JSON (``targets.py`` reads them); ``--baseline-p95 FILE``, the file a 100,000-product
run saved, adds each endpoint's p95 as a multiple of its p95 there (the narrow search's target at 1,000,000: 2x).
"""
from __future__ import annotations

import argparse
import errno
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

from catalog_keep import dump, ready_engine, restore  # noqa: E402
from targets import FOLLOWED, report, summarize  # noqa: E402

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
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
PRODUCT_SLUGS = 1000
WARM_UP_PASSES = 4  # visits of each rotating product page before they are measured
CHANGES = 20  # catalog entries rewritten, one at a time, for the first search after a change
WARM_SEARCHES = 50


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


def _hard_link(source: Path, target: Path) -> None:
    """A hard link to ``source``, or to a copy of it once the file system's links per file run out (ext4 allows
    65,000: a million products share a few dozen sample files)."""
    for copy in range(1000):
        origin = source if copy == 0 else source.with_name(f"{source.name}.{copy}")
        if copy and not origin.exists():
            shutil.copyfile(source, origin)
        try:
            os.link(origin, target)
            return
        except OSError as refused:
            if refused.errno != errno.EMLINK:
                raise
    raise RuntimeError(f"no copy of {source} takes another link")


def _link(storage, source: str, key: str) -> None:
    """Store ``source``'s file again under ``key``: a hard link in a local folder, else a copy."""
    root = getattr(storage, "root", None)
    if root is not None:
        target = Path(root, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _hard_link(Path(root, source), target)
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


def serve(database_url: str, storage: str, settings: dict) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port, with ``settings`` (the search engine's) in its environment."""
    port = _free_port()
    # Development without debug: production refuses simulated payments and console mail, which the catalog never
    # uses; the catalog never signs anything either.
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_CONFIG": "development", "FLASK_DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(48), "STORAGE_LOCAL_ROOT": storage, "MAIL_BACKEND": "console",
           # wrk is one client asking hundreds of times a second: the per-address search limit would answer it 429.
           "RATELIMIT_ENABLED": "0", **settings,
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


def measure(database_url: str, storage: str, requests: dict, duration: int, settings: dict,
            change=None) -> tuple[dict, dict | None]:
    """Every endpoint once against a freshly started server (so per-process caches start empty); then, given
    ``change``, the first search after a change on the same server."""
    proc, base = serve(database_url, storage, settings)
    results, changed = {}, None
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
        if change is not None and requests.get("narrow search"):
            changed = first_after_change(base, requests["narrow search"], change)
            print(f"  first search after a change: {changed['first_ms']:.1f} ms, warm {changed['warm_ms']:.1f} ms",
                  flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return results, changed


def first_after_change(base: str, path: str, change) -> dict:
    """The search ``path`` one request at a time: warm (median of ``WARM_SEARCHES``), and right after each of
    ``CHANGES`` calls of ``change(i, here)``, which rewrites a listed product's catalog entry and commits: made on
    this machine (``here``: the committing process applies it to the machine's index, the server's processes
    reload), and made on another machine (its own index: the server's search applies it); then this machine's
    change again, searched once the followers' period has passed. Each beside the same search after the same
    pause with no change."""
    def timed() -> float:
        started = time.perf_counter()
        urllib.request.urlopen(base + path, timeout=60).read()
        return (time.perf_counter() - started) * 1000

    for _ in range(4):  # both workers up to date
        timed()
    warm = statistics.median(timed() for _ in range(WARM_SEARCHES))

    def after(here: bool, pause: float | None = None) -> tuple[float, float]:
        """The search right after a change (``here``, or on another machine) and the same search after the same
        pause with no change: an idle process is slower at its next request whatever changed (its caches gone
        cold), so the change's own cost is the ratio of the two."""
        started = time.perf_counter()
        change(next(numbers), here)
        if pause:
            time.sleep(pause)
        first = timed()
        time.sleep(time.perf_counter() - started - first / 1000)
        return first, timed()

    numbers = iter(range(3 * CHANGES))
    firsts = [after(True) for _ in range(CHANGES)]  # another process of the machine's: applied at its commit
    elsewhere = [after(False) for _ in range(CHANGES)]  # another machine's: this machine's index is behind it
    settled = [after(True, FOLLOWED) for _ in range(CHANGES)]  # once the followers' period has passed

    def median(pairs: list, which: int) -> float:
        return statistics.median(pair[which] for pair in pairs)
    return {"warm_ms": warm, "changes": CHANGES,
            "first_ms": median(firsts, 0), "max_ms": max(f for f, _ in firsts), "paused_ms": median(firsts, 1),
            "elsewhere_ms": median(elsewhere, 0), "elsewhere_max_ms": max(f for f, _ in elsewhere),
            "elsewhere_paused_ms": median(elsewhere, 1),
            "settled_ms": median(settled, 0), "settled_max_ms": max(f for f, _ in settled),
            "settled_paused_ms": median(settled, 1)}


def entry_rewriter(app, elsewhere, products: int):
    """``change(i, here)``: the ``i``-th of ``3 * CHANGES`` listed products spread over the catalog has its catalog
    entry rewritten (``sync_product``, as an edit of the product does) and committed, by ``app`` (this machine: the
    server's index folder) or by ``elsewhere`` (another machine's app: an index of its own)."""
    from marketplace.catalog.index import sync_product
    from marketplace.listings.models import DataProduct

    step = max(1, products // (3 * CHANGES + 1))

    def change(i: int, here: bool) -> None:
        with (app if here else elsewhere).app_context():
            sync_product(db.session, db.session.get(DataProduct, 1 + i * step))
            db.session.commit()
    return change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--engine", choices=["tantivy", "database"], default="tantivy",
                        help="the catalog search the server runs (SEARCH_ENGINE)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--runs", type=int, default=1, help="measure every endpoint this many times; report medians")
    parser.add_argument("--keep", metavar="PATH", help="keep the generated catalog here (SQLite: the database file; "
                        "PostgreSQL: a pg_dump), reuse it if there")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="endpoints whose name starts with one of these "
                        "(the floor is always measured)")
    parser.add_argument("--save", metavar="FILE", help="write the run's figures here as JSON")
    parser.add_argument("--baseline-p95", metavar="FILE", help="a 100,000-product run's --save: report each p95 "
                        "as a multiple of its p95 there")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    keep = Path(args.keep).resolve() if args.keep else None
    reuse = bool(keep and keep.exists())
    cluster = None
    if args.db == "postgresql":
        from tests.support.postgres import PostgresCluster

        cluster = PostgresCluster()
        database_url = cluster.start()
        if reuse:
            restore(cluster, keep)
    else:
        database_url = f"sqlite:///{keep or work / 'bench.db'}"
    storage = str(keep.with_suffix(".storage") if keep else work / "s")
    settings = {}
    if args.engine == "tantivy":
        settings = {"SEARCH_ENGINE": "tantivy",
                    "SEARCH_INDEX_DIR": str(keep.with_suffix(".engine") if keep else work / "engine")}
    try:
        # No follower here: the generator's commits leave the index to ready_engine, which builds it once.
        app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=storage,
                         **settings, **({"SEARCH_FOLLOW_SECONDS": 0} if settings else {}))
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
            if reuse and cluster:
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        if reuse:
            print(f"Reusing the catalog in {args.keep}.")
        else:
            seconds = generate(app, args.products)
            print(f"Generated and indexed {args.products:,} listed products on {args.db} in {seconds:.0f} s.")
            if cluster and keep:
                dump(cluster, keep)
                print(f"Kept it in {args.keep}.")
        if settings:
            kept = reuse and Path(settings["SEARCH_INDEX_DIR"]).exists()
            seconds = ready_engine(app, rebuild=not kept)
            print(f"The search engine's index ({settings['SEARCH_INDEX_DIR']}) "
                  f"{'brought up to date' if kept else 'built'} in {seconds:.1f} s.", flush=True)
        requests, facts = plan_requests(app)
        if args.only:
            requests = {n: p for n, p in requests.items() if n.startswith(("floor", *args.only))}
        print(f"narrow word {facts['narrow'][0]!r}: {facts['narrow'][1]:,} matches "
              f"({facts['narrow'][1] / facts['products']:.1%}); broad word {facts['broad'][0]!r}: "
              f"{facts['broad'][1]:,} ({facts['broad'][1] / facts['products']:.1%}); deep page at row "
              f"{facts['deep_at']:,}; each with 3 facets except the deep page (2).")
        with app.app_context():
            db.engine.dispose()
        change = None
        if settings:  # a process of the server's machine (its commits apply them), and another machine
            here = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=storage,
                              **settings)
            elsewhere = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=storage,
                                   **{**settings, "SEARCH_INDEX_DIR": str(work / "elsewhere.engine"),
                                      "SEARCH_FOLLOW_SECONDS": 0})
            change = entry_rewriter(here, elsewhere, facts["products"])
        runs, changes = [], []
        for run in range(args.runs):
            print(f"run {run + 1} of {args.runs}", flush=True)
            results, changed = measure(database_url, storage, requests, args.duration, settings, change)
            runs.append(results)
            changes += [changed] if changed else []
        baseline = json.loads(Path(args.baseline_p95).read_text()) if args.baseline_p95 else None
        summary = summarize(runs, changes, args, facts, baseline)
        report(summary, runs, args)
        if args.save:
            Path(args.save).write_text(json.dumps(summary, indent=1))
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
