"""The catalog's targets, each a ratio of an endpoint's requests/s to the floor (``/healthz``) of the same run, and
the tables that hold runs against them: one run's (``catalog_bench.py``), and several runs' side by side in the
issue's shape (``bench_all.py``: endpoint x database and catalog size, each with ratio, target and met).

A run is what ``catalog_bench.py --save`` writes: ``{"products", "db", "engine", "results": {endpoint: {"rps",
"p50", "p95", "p99", "errors"} or None}, "first_after_change": {"warm_ms", "first_ms", ...} or None,
"baseline_p95": {endpoint: p95 ms at 100,000 products} or None}``.
"""
from __future__ import annotations

import statistics

MILLION = 1_000_000
FLOOR = "floor (/healthz)"
# Names are prefixes, the first match wins: (target at 100,000 products, at 1,000,000), the same on both databases.
TARGETS = {
    "narrow search": (1 / 10, 1 / 12),
    "broad search": (1 / 15, 1 / 30),
    "deep filtered page": (1 / 10, 1 / 15),
    "CKAN package_search": (1 / 10, 1 / 15),
    "product page, first visits": (1 / 10, 1 / 10),  # a first visit renders its page
    "product page": (1 / 5, 1 / 5),  # a rotating one is kept rendered
}
ISSUE_ENDPOINTS = ("narrow search", "broad search", "deep filtered page", "CKAN package_search")
P95_GROWTH = {"narrow search": 2.0}  # at 1,000,000 products, at most this many times its p95 at 100,000
FIRST_AFTER_CHANGE = 2.0  # the first search after a change, at most this many times a warm one
FOLLOWED = 0.5  # seconds after a change for the "settled" search: twice the followers' period (SEARCH_FOLLOW_SECONDS)
P95_ROW = "narrow search p95 / its 100k p95"
CHANGE_ROW = "first search after a change / after the same pause, no change"
ELSEWHERE_ROW = "first search after another machine's change / the same"
SETTLED_ROW = f"first search {FOLLOWED} s after a change / the same"
# (the change's time, the same search after the same pause with no change) in a run's "first_after_change"
CHANGE_TIMES = {CHANGE_ROW: ("first_ms", "paused_ms"), ELSEWHERE_ROW: ("elsewhere_ms", "elsewhere_paused_ms"),
                SETTLED_ROW: ("settled_ms", "settled_paused_ms")}


def target(name: str, products: int) -> float | None:
    """The target ratio to the floor of the endpoint ``name`` at a catalog of ``products``."""
    at = 1 if products >= MILLION else 0
    return next((t[at] for prefix, t in TARGETS.items() if name.startswith(prefix)), None)


def fraction(ratio: float) -> str:
    """A ratio below 1 as a fraction: 1/10, 1/12.5."""
    if ratio >= 1:
        return f"{ratio:.1f}".removesuffix(".0")
    return f"1/{1 / ratio:.1f}".removesuffix(".0")


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def ratio_to_floor(run: dict, name: str) -> float | None:
    results = run["results"]
    found = next((r for n, r in results.items() if n.startswith(name) and r), None)
    floor = results.get(FLOOR)
    return found["rps"] / floor["rps"] if found and floor else None


def p95_growth(run: dict) -> dict[str, float]:
    """Each endpoint's p95 as a multiple of its p95 in the 100,000-product run given as the baseline."""
    baseline = run.get("baseline_p95") or {}
    return {name: r["p95"] / baseline[name] for name, r in run["results"].items()
            if r and baseline.get(name)}


def change_ratio(run: dict, row: str = CHANGE_ROW) -> float | None:
    """The first search after a change as a multiple of the same search after the same pause with no change."""
    change, (which, paused) = run.get("first_after_change"), CHANGE_TIMES[row]
    return change[which] / change[paused] if change and change.get(paused) else None


def label(run: dict) -> str:
    size = f"{run['products'] // MILLION}M" if run["products"] >= MILLION else f"{run['products'] // 1000}k"
    return f"{'SQLite' if run['db'] == 'sqlite' else 'PostgreSQL'} {size}"


def combined_table(runs: list[dict]) -> list[str]:
    """The issue's table: each issue endpoint's ratio to the floor, target and met, one column group per run, then
    the narrow search's p95 growth to 1,000,000 products and the first search after a change."""
    head = "| endpoint | " + " | ".join(f"{label(r)} ratio | target | met" for r in runs) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(runs)]
    for name in ISSUE_ENDPOINTS:
        cells = []
        for run in runs:
            ratio, wanted = ratio_to_floor(run, name), target(name, run["products"])
            cells.append("not measured | | " if ratio is None else
                         f"{fraction(ratio)} | {fraction(wanted)} | {met(ratio >= wanted)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    limit = P95_GROWTH["narrow search"]
    lines += _multiple_row(P95_ROW, [p95_growth(run).get("narrow search") for run in runs], limit)
    for row in CHANGE_TIMES:
        lines += _multiple_row(row, [change_ratio(run, row) for run in runs], FIRST_AFTER_CHANGE)
    return lines


def _multiple_row(title: str, multiples: list[float | None], limit: float) -> list[str]:
    """A row of multiples (one per run, None where not measured) against ``limit``; no row when none was."""
    if all(m is None for m in multiples):
        return []
    cells = [" | | " if m is None else f"{m:.1f}x | <= {limit:.0f}x | {met(m <= limit)}" for m in multiples]
    return [f"| {title} | " + " | ".join(cells) + " |"]


def _median(runs: list[dict], name: str) -> dict | None:
    measured = [r[name] for r in runs if r.get(name)]
    if not measured:
        return None
    return {key: statistics.median(m[key] for m in measured) for key in measured[0]}


def summarize(runs: list[dict], changes: list[dict], args, facts, baseline: dict | None) -> dict:
    """One run of ``catalog_bench.py`` as the tables here read it (and ``--save`` writes it): medians over its
    repeats, with the p95s of the baseline run when given."""
    return {"products": facts["products"], "db": args.db, "engine": args.engine, "duration": args.duration,
            "runs": len(runs), "results": {name: _median(runs, name) for name in runs[0]},
            "first_after_change": {key: statistics.median(c[key] for c in changes) for key in changes[0]}
            if changes else None,
            "baseline_p95": {name: r["p95"] for name, r in baseline["results"].items() if r} if baseline else None}


def report(summary: dict, runs: list[dict], args) -> None:
    """One run's table: every endpoint against its target, then the p95s against the baseline's and the first
    search after a change."""
    results, products = summary["results"], summary["products"]
    floor = results[FLOOR]
    print(f"\n{products:,} products, {args.db}, search on {args.engine}, gunicorn 2 workers, wrk 8 connections, "
          f"{args.duration} s each, median of {len(runs)} run(s)\n")
    print("| endpoint | req/s | ratio to floor | p50 ms | p95 ms | p99 ms | target | met | req/s each run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if r is None:
            print(f"| {name} | not available | | | | | | | |")
            continue
        ratio = r["rps"] / floor["rps"]
        wanted = target(name, products)
        each = ", ".join(f"{run[name]['rps']:,.0f}" for run in runs if run.get(name))
        print(f"| {name} | {r['rps']:,.0f} | {fraction(ratio)} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {fraction(wanted) if wanted else ''} | {met(ratio >= wanted) if wanted else ''} | {each} |")
    errors = {n: [run[n]["errors"] for run in runs if run.get(n)] for n in results}
    errors = {n: e for n, e in errors.items() if any(e)}
    if errors:
        print(f"\nnon-2xx or socket errors: {errors}")
    if summary["baseline_p95"]:
        print(f"\np95 as a multiple of its p95 in {args.baseline_p95}:")
        for name, growth in p95_growth(summary).items():
            limit = P95_GROWTH.get(name) if products >= MILLION else None
            print(f"  {name}: {results[name]['p95']:.1f} ms, {growth:.1f}x"
                  + (f" (target <= {limit:.0f}x: {met(growth <= limit)})" if limit else ""))
    changed = summary["first_after_change"]
    if changed and changed.get("paused_ms"):
        print(f"\nfirst search after a change: the narrow search one request at a time, right after a product's "
              f"entry is rewritten and committed ({changed['changes']} changes each), against the same search after "
              f"the same pause with no change (an idle process is slower at its next request whatever changed); "
              f"back to back, warm: {changed['warm_ms']:.1f} ms")
        for row, (which, paused) in CHANGE_TIMES.items():
            ratio = changed[which] / changed[paused]
            worst = changed["max_ms" if which == "first_ms" else which.replace("_ms", "_max_ms")]
            print(f"  {row}: {changed[which]:.1f} ms (max {worst:.1f}) / {changed[paused]:.1f} ms = {ratio:.1f}x "
                  f"(target <= {FIRST_AFTER_CHANGE:.0f}x: {met(ratio <= FIRST_AFTER_CHANGE)}); "
                  f"{changed[which] / changed['warm_ms']:.1f}x the back-to-back warm search")
    if any(name.startswith("product page, first visits") for name in results):
        print("\nproduct page, first visits: measured with distinct files per product, so no cache flatters it "
              "(each product has its own sample file and its own stored preview and profile).")
