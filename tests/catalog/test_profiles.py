"""Column profiles of CSV, JSON and GeoJSON files: types, empty shares, distinct values, numbers with their
histograms, dates' ranges, text's most common values, partial scans, and bad files (a reason, never a crash)."""
from __future__ import annotations

import io
import json

import pytest

from marketplace.catalog import profiles
from marketplace.catalog.profiles import histogram, profile_stream
from tests import factories


def profile(data: bytes | str, filename: str = "f.csv", **kwargs) -> dict:
    raw = data.encode() if isinstance(data, str) else data
    return profile_stream(io.BytesIO(raw), filename=filename, **kwargs)[1]


def column(result: dict, name: str) -> dict:
    return next(c for c in result["columns"] if c["name"] == name)


CSV = """id,name,score,day,seen_at,flag
1,Ada,3.5,2024-01-03,2024-01-03T08:00:00+08:00,yes
2,Bob,,2024-02-10,2024-01-04T09:30:00+08:00,no
3,Ada,7.25,2023-12-31,2024-01-02T00:00:00Z,yes
4,,1,2024-01-01,,yes
"""


def test_each_column_gets_its_type_empty_share_and_distinct_count():
    result = profile(CSV)

    assert result["format"] == "csv" and result["rows"] == 4 and not result["partial"]
    assert [c["type"] for c in result["columns"]] == ["integer", "string", "number", "date", "datetime", "boolean"]
    name = column(result, "name")
    assert name["empty"] == 1 and name["empty_share"] == 0.25 and name["distinct"] == 2
    assert column(result, "id")["distinct"] == 4 and column(result, "id")["empty_share"] == 0


def test_numbers_have_min_max_mean_and_a_histogram():
    score = column(profile(CSV), "score")

    assert (score["min"], score["max"], score["mean"]) == (1.0, 7.25, 3.91667)  # the mean rounded for reading
    assert sum(score["histogram"]["counts"]) == 3
    assert len(score["histogram"]["edges"]) == len(score["histogram"]["counts"]) + 1
    ident = column(profile(CSV), "id")
    assert ident["histogram"] == {"edges": [1, 2, 3, 4, 5], "counts": [1, 1, 1, 1]}  # one bin per whole number


def test_dates_and_times_have_their_range():
    result = profile(CSV)
    assert (column(result, "day")["from"], column(result, "day")["to"]) == ("2023-12-31", "2024-02-10")
    seen = column(result, "seen_at")
    # Compared in UTC, shown as written (to the minute, with the offset).
    assert seen["from"] == "2024-01-02 00:00 UTC" and seen["to"] == "2024-01-04 09:30 +08:00"


def test_text_has_its_most_common_values():
    result = profile(CSV)
    assert column(result, "name")["top"] == [["Ada", 2], ["Bob", 1]]
    assert column(result, "flag")["top"] == [["yes", 3], ["no", 1]]


def test_values_that_each_occur_once_are_said_to_be_unique():
    result = profile("code\nA\nB\nC\n")
    assert column(result, "code")["unique"] is True and "top" not in column(result, "code")


def test_a_long_file_is_profiled_on_its_first_rows():
    data = "n\n" + "".join(f"{i}\n" for i in range(1000))
    result = profile(data, max_rows=100)
    assert result["partial"] and result["rows"] == 100 and column(result, "n")["max"] == 99


def test_distinct_values_beyond_the_cap_are_not_counted(monkeypatch):
    monkeypatch.setattr(profiles, "DISTINCT_CAP", 10)
    result = profile("n\n" + "".join(f"{i}\n" for i in range(50)))
    assert column(result, "n")["distinct"] is None


def test_json_records_are_profiled_flattened_like_the_dictionary():
    rows = [{"a": 1.5, "b": {"c": "x"}}, {"a": 2.5}, {"a": None, "b": {"c": "x"}}]
    data = json.dumps({"meta": {"v": 1}, "rows": rows})
    result = profile(data, "f.json")

    assert result["format"] == "json" and result["rows"] == 3
    a = column(result, "a")
    assert a["type"] == "number" and a["empty"] == 1 and a["mean"] == 2.0
    assert column(result, "b.c")["empty"] == 1 and column(result, "b.c")["top"] == [["x", 2]]


def test_a_single_json_object_is_one_record():
    result = profile('{"name": "Central", "temp": 28.4}', "f.json")
    assert result["rows"] == 1 and column(result, "temp")["min"] == 28.4


def test_geojson_has_its_features_box_and_a_map_sample():
    path = factories.SAMPLES / "hk" / "hk_district_council_boundaries_2001_lowres.geojson"
    preview, result = profile_stream(io.BytesIO(path.read_bytes()), filename=path.name)

    assert result["feature_count"] == 18 and result["rows"] == 18
    assert result["geometry_types"] == ["MultiPolygon", "Polygon"]
    assert result["bbox"] == pytest.approx([113.835, 22.154, 114.442, 22.562])
    drawn = result["map"]["features"]
    assert len(drawn) == 18 and len(json.dumps(result["map"])) < 60_000  # outlines thinned for the page
    assert preview.bbox == tuple(result["bbox"])


def test_rows_with_latitude_and_longitude_become_map_points():
    result = profile("station,latitude,longitude\nA,22.3,114.17\nB,22.28,114.15\nC,,\n")
    points = result["map"]["features"][0]["geometry"]
    assert points == {"type": "MultiPoint", "coordinates": [[114.17, 22.3], [114.15, 22.28]]}


def test_no_map_without_both_coordinates():
    assert "map" not in profile("station,latitude\nA,22.3\n")


@pytest.mark.parametrize(("data", "filename", "reason"), [
    (b'{"a": [1, 2', "f.json", "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "f.csv", ""),
    (b"", "f.csv", ""),
    (b"[]", "f.json", "no records"),
])
def test_a_bad_file_is_a_clear_could_not_profile_state(data, filename, reason):
    preview, result = profile_stream(io.BytesIO(data), filename=filename)

    assert preview.kind == "none" and result["error"] and reason in result["error"]
    assert result["columns"] == [] and result["rows"] == 0


def test_histogram_of_one_value_is_one_bin():
    assert histogram([5.0, 5.0], 5.0, 5.0) == {"edges": [5.0, 5.0], "counts": [2]}
