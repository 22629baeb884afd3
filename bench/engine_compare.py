"""The embedded search engine against today's database search, in process, over the same generated catalog.

    .venv/bin/python bench/engine_compare.py CATALOG [--index DIR] [--runs 200]

``CATALOG`` is a database URL or a SQLite file kept by ``catalog_bench.py --keep``. The engine's index is built
from its catalog entries into ``--index`` (reused when there). Each case (the benchmark's narrow and broad words,
Chinese in both scripts, a misspelling, a filtered page without words) is asked as a catalog page asks it: the
first 20 in relevance order, the total, and every facet's counts, with the benchmark's three facets chosen. Both
sides run in turn in the same process, and the medians are reported with their ratio (the machine is shared:
compare ratios, not absolutes), with the floor (``/healthz`` through the test client) for scale. Totals and
facet counts of the two are compared too.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog_bench import _term_near  # noqa: E402
from sqlalchemy import select  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.catalog import engine  # noqa: E402
from marketplace.catalog import search as search_module  # noqa: E402
from marketplace.catalog.models import CatalogEntry, CatalogText  # noqa: E402
from marketplace.catalog.search import FACETS, SearchQuery, parse_terms, search  # noqa: E402
from marketplace.extensions import db  # noqa: E402

FILTERS = {"region": ("hong_kong",), "format": ("CSV",), "delivery": ("file",)}
SHANGHAI = {"region": ("shanghai",), "delivery": ("file",)}  # the Chinese records: Shanghai, in several formats


def build(session, path: Path) -> float:
    started = time.perf_counter()
    path.mkdir(parents=True, exist_ok=True)
    index = engine.open_index(str(path))
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    entries = [c for c in CatalogEntry.__table__.columns]
    last = 0
    while True:
        rows = session.execute(select(*entries, CatalogText.title_text, CatalogText.search_text)
                               .join(CatalogText, CatalogText.id == CatalogEntry.id)
                               .where(CatalogEntry.id > last).order_by(CatalogEntry.id).limit(5000)).mappings().all()
        if not rows:
            break
        for row in rows:
            writer.add_document(engine.document(row, row))
        last = rows[-1]["id"]
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - started


def median_ms(call, runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("catalog")
    parser.add_argument("--index", help="the engine's index folder (default: beside a SQLite catalog)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    url = args.catalog if "://" in args.catalog else f"sqlite:///{Path(args.catalog).resolve()}"
    index_dir = Path(args.index or Path(args.catalog).with_suffix(".engine"))
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        session = db.session
        if not index_dir.exists():
            print(f"Built the engine's index in {build(session, index_dir):.0f} s.")
        index = engine.open_index(str(index_dir))
        searcher = index.searcher()
        products = session.scalar(select(db.func.count()).select_from(CatalogEntry))
        narrow, _ = _term_near(app, 0.01)
        broad, _ = _term_near(app, 0.30)
        cases = {f"narrow `{narrow}`": (narrow, FILTERS), f"broad `{broad}`": (broad, FILTERS),
                 "Simplified `交通`": ("交通", SHANGHAI), "Traditional `空氣質量`": ("空氣質量", SHANGHAI),
                 "misspelt `trafic`": ("trafic", FILTERS), "no words": ("", FILTERS)}
        client = app.test_client()
        floor = median_ms(lambda: client.get("/healthz"), args.runs)
        print(f"\n{products:,} products, {db.engine.dialect.name}, median of {args.runs} runs each, "
              f"3 facets chosen ({', '.join(FILTERS)}), top 20 + total + {len(FACETS)} facets' counts; "
              f"floor (/healthz, test client) {floor:.2f} ms\n")
        print("| case | total (database) | total (engine) | counts agree | database ms | engine ms | "
              "database / engine | engine / floor |")
        print("|---|---|---|---|---|---|---|---|")
        for name, (q, filters) in cases.items():
            query = SearchQuery(q=q, filters=filters)
            terms, _ = parse_terms(q)
            today = search(session, query)
            mine = engine.run(searcher, terms, filters, FACETS, 0, 20)
            fuzzy = False
            if not mine.total and terms and not mine.words_matched:
                mine, fuzzy = engine.run(searcher, terms, filters, FACETS, 0, 20, fuzzy=True), True
            theirs = {f: {v.value: v.count for v in values if v.count} for f, values in today.facets.items()}
            ours = {f: {v.split(engine.LABEL_SEPARATOR)[0]: n for v, n in values.items()}
                    for f, values in mine.counts.items()}
            agree = "yes" if theirs == ours else "no"
            db_ms = median_ms(lambda query=query: search(session, query), args.runs)

            def ask(terms=terms, filters=filters, fuzzy=fuzzy):
                result = engine.run(searcher, terms, filters, FACETS, 0, 20, fuzzy=fuzzy)
                if not result.total and terms and not fuzzy:
                    engine.run(searcher, terms, filters, FACETS, 0, 20, fuzzy=True)
            engine_ms = median_ms(ask, args.runs)
            print(f"| {name} | {today.total:,} | {mine.total:,} | {agree} | {db_ms:.2f} | {engine_ms:.2f} | "
                  f"{db_ms / engine_ms:.1f} | {engine_ms / floor:.1f} |", flush=True)

        def after_a_change():  # another process changed the index: this one rebuilds its facet bitmaps
            search_module._current = None
            search(session, SearchQuery(filters=FILTERS))
        rebuilt = median_ms(after_a_change, max(args.runs // 20, 5))
        print(f"\nThe database search's first search after a change (facet bitmaps rebuilt): {rebuilt:.1f} ms, "
              f"{rebuilt / floor:.0f} floors.")
        first_after_change(app, session, index_dir, narrow, max(args.runs // 10, 10))


def first_after_change(app, session, index_dir: Path, word: str, changes: int) -> None:
    """``search()`` on the engine path (``CatalogEngine``, as the app runs it), warm, and at the first search after
    a listed product's entry is rewritten (``sync_product``, committed): at once, before the follower can have
    applied it (the search applies it), and once the follower has (the search only finds it current). With and
    without words (the browse page's counts are kept per index state and counted again by the follower)."""
    from marketplace.catalog.engine_search import CatalogEngine, newest_change
    from marketplace.catalog.index import sync_product
    from marketplace.listings.models import DataProduct

    catalog_engine = CatalogEngine(str(index_dir.with_suffix(".live")), follow_seconds=0.25, app=app)
    app.extensions["catalog_engine"] = catalog_engine
    print("\nEngine path: building its index from the change log ...", flush=True)
    search(session, SearchQuery())
    for name, query in ((f"`{word}` with 3 facets", SearchQuery(q=word, filters=FILTERS)),
                        ("no words, 3 facets", SearchQuery(filters=FILTERS))):
        search(session, query)
        warm = median_ms(lambda query=query: search(session, query), 200)
        at_once, after_follower = [], []
        for n in range(1, changes + 1):
            for firsts, wait in ((at_once, False), (after_follower, True)):
                sync_product(session, session.get(DataProduct, n * 97 + wait))
                session.commit()
                if wait:  # the follower applies it (woken by the commit); then the first search
                    newest = newest_change(session)
                    session.commit()
                    while catalog_engine._view.applied != newest:
                        time.sleep(0.005)
                started = time.perf_counter()
                search(session, query)
                firsts.append((time.perf_counter() - started) * 1000)
                session.commit()
        for label, firsts in (("at once", at_once), ("after the follower", after_follower)):
            first = statistics.median(firsts)
            print(f"{name}: warm {warm:.2f} ms; first search after a change, {label}: {first:.2f} ms (median of "
                  f"{changes}, max {max(firsts):.2f}): {first / warm:.1f}× warm", flush=True)


if __name__ == "__main__":
    main()
