"""Benchmark of the pre-screen's personal-information scan against a plain CSV read of the same stream.

    .venv/bin/python bench/pii_scan.py [rows] [repeats]

Generates a CSV in memory shaped like the shipped detector file plus a column of valid mainland identity numbers
(so every matcher and check digit runs), then times, in the same run: a plain ``csv.reader`` pass (the floor),
dictionary inference over the same rows, and the PII scan. Prints medians and ratios to the floor, and the scan's
peak traced memory.
"""
from __future__ import annotations

import csv
import io
import statistics
import sys
import time
import tracemalloc

from marketplace.listings.inference import infer_dictionary
from marketplace.review.pii import scan_file

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(i: int) -> str:
    body = f"110105{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["AID_ID_Number", "District", "Road_EN", "Latitude", "Longitude", "Direction", "holder_id"])
    for i in range(rows):
        w.writerow([f"AID{i:05d}", "Kwun Tong", "Kwun Tong Road", f"22.{i % 99999:05d}", f"114.{i % 99999:05d}",
                    "South East", resident_id(i) if i % 10 == 0 else ""])
    return out.getvalue().encode()


def timed(fn, data: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    data = make_csv(rows)
    floor = timed(lambda d: sum(1 for _ in csv.reader(io.TextIOWrapper(io.BytesIO(d), "utf-8"))), data, repeats)
    infer = timed(lambda d: infer_dictionary(io.BytesIO(d), filename="x.csv", max_rows=rows), data, repeats)
    scan = timed(lambda d: scan_file(io.BytesIO(d), filename="x.csv", max_rows=rows), data, repeats)
    tracemalloc.start()
    result = scan_file(io.BytesIO(data), filename="x.csv", max_rows=rows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB, median of {repeats}")
    print(f"{'csv.reader (floor)':<24}{floor:8.2f} s   1.0x")
    print(f"{'dictionary inference':<24}{infer:8.2f} s {infer / floor:5.1f}x")
    print(f"{'PII scan':<24}{scan:8.2f} s {scan / floor:5.1f}x   {rows / scan:,.0f} rows/s, "
          f"peak traced memory {peak / 2**20:.1f} MiB (the input itself: {len(data) / 2**20:.1f} MiB)")
    print("findings:", [(f.column, f.kind, f.count) for f in result.findings])


if __name__ == "__main__":
    main()
