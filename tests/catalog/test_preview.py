"""Previews of sample files: every shipped sample renders, messy and hostile files never raise."""
from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from marketplace.catalog import preview as preview_module
from marketplace.catalog.preview import MAX_CELL_CHARS, MAX_COLUMNS, preview_asset, preview_stream

SAMPLES = Path(__file__).resolve().parents[2] / "marketplace" / "data" / "samples"
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file())


def preview_bytes(data: bytes, filename: str, **kwargs):
    return preview_stream(io.BytesIO(data), filename=filename, **kwargs)


def preview_file(path: Path, **kwargs):
    with path.open("rb") as f:
        return preview_stream(f, filename=path.name, **kwargs)


class CountingStream(io.BytesIO):
    """A stream that remembers how many bytes were read from it."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_the_samples_are_shipped():
    assert len(SAMPLE_FILES) >= 10


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_shipped_sample_previews(path):
    result = preview_file(path)

    assert result.error is None
    assert result.kind == ("geojson" if path.suffix == ".geojson" else "table")
    assert result.columns and result.rows
    assert all(len(row) == len(result.columns) for row in result.rows)
    assert result.total_rows_shown == len(result.rows) <= 50


def test_journey_time_report_previews_under_its_real_header():
    result = preview_file(SAMPLES / "hk" / "hk_td_am_peak_car_journey_time_cross_district_2023.csv")

    # Title rows above the header are skipped, empty layout columns dropped, line breaks in cells kept.
    assert result.columns == ["Origin - Destination", "Start", "Via", "Finish", "Distance (km)",
                              "Journey Time (minutes)"]
    assert result.rows[0][0] == "Ho Man Tin - Kowloon Tong"
    assert result.rows[0][1] == "Princess Margaret Road\nJ/W Sheung Hing Street"
    assert result.rows[0][4:] == ["2.4", "4.6"]


def test_big5_csv_is_decoded():
    data = "站名,地區,車速\n旺角站,油尖旺區,32.5\n中環站,中西區,18.0\n".encode("big5")

    result = preview_bytes(data, "speeds.csv")

    assert result.kind == "table"
    assert result.columns == ["站名", "地區", "車速"]
    assert result.rows[0] == ["旺角站", "油尖旺區", "32.5"]


def test_gb18030_csv_is_decoded():
    data = "站点,区县,PM2.5\n徐汇上师大,徐汇区,35\n".encode("gb18030")

    result = preview_bytes(data, "pm25.csv")

    assert result.columns == ["站点", "区县", "PM2.5"]
    assert result.rows == [["徐汇上师大", "徐汇区", "35"]]


@pytest.mark.parametrize("data, filename, reason", [
    (b'{"records": [{"a": 1}, {"a": 2', "broken.json", "not valid JSON"),
    (b"[1, 2,, 3]", "broken.json", "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "chart.png", "PNG image"),
    (b"PK\x03\x04\x14\x00\x06\x00", "workbook.xlsx", "ZIP archive"),
    (b"\x00\x01\x02\x03binary", "blob.csv", "binary"),
    (b"<html><body>not data</body></html>", "page.html", "Could not recognise"),
    (b"", "empty.csv", "empty"),
    (b'{"type": "Topology", "objects": {}}', "map.geojson", "not a FeatureCollection"),
    (b"[]", "nothing.json", "no records"),
])
def test_unusable_files_give_no_preview_with_a_reason(data, filename, reason):
    result = preview_bytes(data, filename)

    assert result.kind == "none"
    assert reason in result.error
    assert "supported formats" not in result.error  # the uploader's advice is not the buyer's business


def test_a_missing_stored_file_gives_no_preview(storage):
    asset = SimpleNamespace(storage_key="assets/1/missing", filename="gone.csv", content_type="text/csv")

    result = preview_asset(storage, asset)

    assert result.kind == "none" and "missing" in result.error


def test_a_stored_asset_is_previewed(storage):
    storage.save("assets/1/sample", io.BytesIO(b"a,b\n1,2\n"), content_type="text/csv", max_bytes=1000)
    asset = SimpleNamespace(storage_key="assets/1/sample", filename="s.csv", content_type="text/csv")

    assert preview_asset(storage, asset).rows == [["1", "2"]]


def test_csv_preview_stops_at_fifty_rows_without_reading_the_whole_file():
    data = b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(200_000))
    stream = CountingStream(data)

    result = preview_stream(stream, filename="big.csv")

    assert result.total_rows_shown == 50 and len(result.rows) == 50
    assert result.truncated is True
    assert result.rows[-1] == ["49", "98"]
    assert stream.read_bytes < len(data) / 4


def test_json_array_preview_stops_at_fifty_records_without_reading_the_whole_file():
    data = json.dumps([{"id": i, "name": f"station {i}"} for i in range(100_000)]).encode()
    stream = CountingStream(data)

    result = preview_stream(stream, filename="big.json")

    assert result.kind == "table" and result.total_rows_shown == 50 and result.truncated
    assert result.rows[0] == ["0", "station 0"]
    assert stream.read_bytes < len(data) / 4


def test_a_short_file_is_not_truncated():
    result = preview_bytes(b"a\n1\n2\n", "short.csv")

    assert result.total_rows_shown == 2 and result.truncated is False


def test_max_rows_is_honoured():
    result = preview_bytes(b"a\n" + b"1\n" * 20, "rows.csv", max_rows=5)

    assert len(result.rows) == 5 and result.truncated


def test_long_cells_and_many_columns_are_capped():
    header = ",".join(f"c{i}" for i in range(45))
    row = ",".join(["x" * 5000] + ["1"] * 44)

    result = preview_bytes(f"{header}\n{row}\n".encode(), "wide.csv")

    assert len(result.columns) == MAX_COLUMNS and result.hidden_columns == 45 - MAX_COLUMNS
    assert len(result.rows[0]) == MAX_COLUMNS
    assert len(result.rows[0][0]) == MAX_CELL_CHARS and result.rows[0][0].endswith("…")


def test_json_values_are_flattened_one_level_like_the_dictionary():
    data = json.dumps({"ts": "2025-09-13", "data": [
        {"lamppost": {"PI": "27996", "lat": 22.28}, "pm25": 9.7, "tags": ["a", "b"], "ok": True, "x": None},
    ]}).encode()

    result = preview_bytes(data, "lampposts.json")

    assert result.columns == ["lamppost.PI", "lamppost.lat", "pm25", "tags", "ok", "x"]
    assert result.rows == [["27996", "22.28", "9.7", '["a", "b"]', "true", ""]]


def test_a_json_object_without_record_lists_is_one_record():
    result = preview_bytes(b'{"temperature": {"value": 28, "unit": "C"}, "icon": [62]}', "weather.json")

    assert result.columns == ["temperature.value", "temperature.unit", "icon"]
    assert result.rows == [["28", "C", "[62]"]]


def test_the_longest_list_of_records_is_previewed():
    data = json.dumps({"meta": [{"k": "v"}], "rows": [{"n": i} for i in range(3)]}).encode()

    assert preview_bytes(data, "two-lists.json").rows == [["0"], ["1"], ["2"]]


def test_district_boundaries_have_a_bounding_box_in_hong_kong():
    result = preview_file(SAMPLES / "hk" / "hk_district_council_boundaries_2001_lowres.geojson")

    assert result.kind == "geojson" and result.error is None
    west, south, east, north = result.bbox
    assert 113.8 <= west < east <= 114.5
    assert 22.1 <= south < north <= 22.6
    assert set(result.geometry_types) <= {"Polygon", "MultiPolygon"} and result.geometry_types
    assert result.feature_count == 18 and len(result.rows) == 18
    assert "DC_ENG" in result.columns


def test_geojson_previews_the_first_features_but_boxes_them_all():
    features = [{"type": "Feature", "properties": {"i": i},
                 "geometry": {"type": "Point", "coordinates": [114.0 + i / 1000, 22.3]}} for i in range(120)]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()

    result = preview_bytes(data, "points.json", max_rows=50)

    assert result.kind == "geojson" and len(result.rows) == 50 and result.truncated
    assert result.feature_count == 120
    assert result.bbox == (114.0, 22.3, 114.119, 22.3)
    assert result.geometry_types == ["Point"]


def test_a_single_feature_and_a_geometry_collection():
    feature = {"type": "Feature", "properties": {"name": "pier"}, "geometry": {"type": "GeometryCollection",
               "geometries": [{"type": "Point", "coordinates": [114.1, 22.2]},
                              {"type": "LineString", "coordinates": [[114.0, 22.1], [114.3, 22.4]]}]}}

    result = preview_bytes(json.dumps(feature).encode(), "pier.geojson")

    assert result.rows == [["pier"]]
    assert result.geometry_types == ["GeometryCollection", "LineString", "Point"]
    assert result.bbox == (114.0, 22.1, 114.3, 22.4)


def test_geojson_over_the_scan_cap_is_previewed_from_its_beginning(monkeypatch):
    monkeypatch.setattr(preview_module, "SCAN_BYTES", 64 * 1024)
    features = [{"type": "Feature", "properties": {"i": i},
                 "geometry": {"type": "Point", "coordinates": [114.0, 22.3]}} for i in range(20_000)]

    result = preview_bytes(json.dumps({"type": "FeatureCollection", "features": features}).encode(), "huge.geojson")

    assert result.kind == "geojson" and result.partial_scan and result.truncated
    assert len(result.rows) == 50 and result.bbox == (114.0, 22.3, 114.0, 22.3)


def test_markup_in_cells_is_kept_as_text():
    # Escaping is the template's job; the preview must hand the text over unchanged (not pre-escaped twice).
    result = preview_bytes(b'name\n<img src=x onerror=alert(1)>\n', "x.csv")

    assert result.rows == [["<img src=x onerror=alert(1)>"]]
