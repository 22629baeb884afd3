"""``make bench``: the catalog benchmark on SQLite, then PostgreSQL, at 100,000 products (and 1,000,000 with
``--million``), each run printing its own table, then one table of all of them against the issue's targets.

    .venv/bin/python bench/bench_all.py [--million] [--db sqlite postgresql] [--products 100000 ...]
        [--cache instance/bench] [catalog_bench.py options: --engine, --duration, --runs, --only ...]

Each run is ``catalog_bench.py`` with ``--keep`` in the cache folder (``sqlite-100k.db``, ``postgresql-100k.dump``,
each with its engine index and product files beside it), so a second run reuses the generated catalogs, and
``--save`` there (``sqlite-100k.json``, ...), which the combined table reads; a 1,000,000-product run compares its
p95s with the same database's 100,000-product run (``--baseline-p95``). Other options go to every run.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from targets import MILLION, combined_table  # noqa: E402


def size(products: int) -> str:
    return f"{products // MILLION}m" if products >= MILLION and products % MILLION == 0 else f"{products // 1000}k"


def command(database: str, products: int, cache: Path, passed: list[str]) -> list[str]:
    """The ``catalog_bench.py`` run of ``database`` at ``products``, its catalog kept and its figures saved in
    ``cache``."""
    name = f"{database}-{size(products)}"
    keep = cache / f"{name}{'.db' if database == 'sqlite' else '.dump'}"
    cmd = [sys.executable, "bench/catalog_bench.py", "--db", database, "--products", str(products),
           "--keep", str(keep), "--save", str(cache / f"{name}.json")]
    baseline = cache / f"{database}-{size(100_000)}.json"
    if products >= MILLION and baseline.exists():
        cmd += ["--baseline-p95", str(baseline)]
    return cmd + passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 products on each database")
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--products", nargs="+", type=int, help="catalog sizes (default 100,000)")
    parser.add_argument("--cache", default=str(ROOT / "instance" / "bench"), help="where catalogs are kept")
    args, passed = parser.parse_known_args()
    cache = Path(args.cache).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    sizes = args.products or [100_000] + ([MILLION] if args.million else [])
    runs, failed = [], []
    for products in sorted(sizes):
        for database in args.db:
            cmd = command(database, products, cache, passed)
            saved = Path(cmd[cmd.index("--save") + 1])
            saved.unlink(missing_ok=True)
            print(f"\n## {database}, {products:,} products\n\n$ python {shlex.join(cmd[1:])}", flush=True)
            if subprocess.run(cmd, cwd=ROOT).returncode or not saved.exists():
                failed.append(f"{database} {products:,}")
                continue
            runs.append(json.loads(saved.read_text()))
    if runs:
        engines = sorted({run["engine"] for run in runs})
        print(f"\n## Against the targets (ratio of req/s to the same run's floor; search on {', '.join(engines)})\n")
        print("\n".join(combined_table(runs)))
    if failed:
        sys.exit(f"\nfailed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
