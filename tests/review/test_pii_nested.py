"""The scanner reads JSON at any depth, stops at deep nesting quickly, and bounds its work by cells as well as rows."""
from __future__ import annotations

import io
import json
import random
import time

import pytest

from marketplace.review.pii import ScanResult, scan_file
from marketplace.review.pii_json import MAX_DEPTH

rng = random.Random(12)
SURNAMES, GIVEN = "陳李張黃何林吳劉蔡鄭", "大小志偉嘉欣美玲文明"


def zh() -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def mobile() -> str:
    return rng.choice("569") + "".join(rng.choice("0123456789") for _ in range(7))


def scan(doc, filename: str = "x.json", **kw) -> ScanResult:
    data = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    return scan_file(io.BytesIO(data), filename=filename, **kw)


def kinds(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.column, f.kind) for f in result.findings if f.kind != "column_name"}


PEOPLE = [{"name": zh(), "phone": mobile()} for _ in range(40)]


@pytest.mark.parametrize("doc, expected, rows", [
    ({"success": True, "result": {"records": PEOPLE}}, {("name", "person_name"), ("phone", "hk_phone")}, 40),
    ({"records": {str(i): p for i, p in enumerate(PEOPLE)}}, {("name", "person_name"), ("phone", "hk_phone")}, 40),
    ([{"id": i, "person": {"contact": {"full": p["name"], "tel": p["phone"]}}} for i, p in enumerate(PEOPLE)],
     {("person.contact.full", "person_name"), ("person.contact.tel", "hk_phone")}, 40),
    ([["a", "b"]] + [[p["name"], p["phone"]] for p in PEOPLE], {("[0]", "person_name"), ("[1]", "hk_phone")}, 41),
    ({"fields": [{"id": "holder", "type": "text"}, {"id": "x", "type": "text"}],
      "records": [[p["name"], p["phone"]] for p in PEOPLE]}, {("holder", "person_name"), ("x", "hk_phone")}, 40),
    ([{"id": i, "members": [{"m": p["name"]}, {"m": zh()}]} for i, p in enumerate(PEOPLE)],
     {("members[].m", "person_name")}, 40),
    ({"meta": {"owner": {"contact": "bob@example.com"}}}, {("meta.owner.contact", "email")}, 1),
])
def test_values_at_any_depth_are_scanned_as_columns_named_by_their_path(doc, expected, rows):
    result = scan(doc)
    assert result.error is None and result.rows_scanned == rows
    assert kinds(result) == expected


def test_geojson_nested_properties_are_scanned_and_geometry_is_not():
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.1, 22.3]},
         "properties": {"info": {"owner": {"n": p["name"]}}, "tel": p["phone"]}} for p in PEOPLE]}
    result = scan(fc, "x.geojson")
    assert kinds(result) == {("info.owner.n", "person_name"), ("tel", "hk_phone")} and result.rows_scanned == 40


@pytest.mark.parametrize("data", [b"[" * 150_000 + b"]" * 150_000, b'{"a":' * 20_000 + b"1" + b"}" * 20_000])
def test_deep_nesting_ends_the_scan_quickly_with_an_error(data):
    started = time.perf_counter()
    result = scan(data)
    assert time.perf_counter() - started < 1
    assert f"deeper than {MAX_DEPTH} levels" in result.error


def test_nesting_up_to_the_limit_is_read():
    doc: object = {"email": "bob@example.com"}
    for _ in range(MAX_DEPTH - 2):
        doc = {"a": doc}
    result = scan([doc])
    assert result.error is None and len(kinds(result)) == 1


def test_scan_time_grows_linearly_with_depth():
    def timed(depth: int) -> float:
        data = (b'{"a":' * depth + b'"x"' + b"}" * depth + b",") * (60_000 // depth)
        started = time.perf_counter()
        assert scan(b"[" + data[:-1] + b"]").error is None
        return time.perf_counter() - started

    assert timed(60) < 3 * timed(6) + 0.05  # the same number of events, ten times deeper


def test_the_scan_stops_at_its_cell_budget_as_a_partial_scan():
    row = ",".join(["陳大文"] * 500)
    data = (",".join(f"c{i}" for i in range(500)) + "\n" + "\n".join([row] * 100) + "\n").encode()
    result = scan_file(io.BytesIO(data), filename="w.csv", max_cells=10_000)
    assert (result.truncated, result.stopped_by, result.rows_scanned, result.total_rows) == (True, "cells", 20, 100)
    assert result.scope == "the first 20 of 100 rows"
    whole = scan_file(io.BytesIO(data), filename="w.csv", max_cells=50_000)
    assert (whole.truncated, whole.stopped_by, whole.rows_scanned) == (False, "", 100)


def test_a_single_record_past_the_cell_budget_stops_inside_it():
    result = scan({f"k{i}": "x" for i in range(5_000)}, max_cells=1_000)
    assert (result.truncated, result.stopped_by, result.rows_scanned) == (True, "cells", 1)
