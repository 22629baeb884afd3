"""Tests for marketplace.listings.inference (streaming data-dictionary inference)."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # no root conftest/pyproject puts the project on sys.path
    sys.path.insert(0, str(ROOT))

from marketplace.errors import UnsupportedFile, ValidationFailed  # noqa: E402
from marketplace.listings.inference import (  # noqa: E402
    FIELD_TYPES,
    JSON_MAX_BYTES,
    InferenceResult,
    detect_format,
    infer_dictionary,
)

HK = ROOT / "marketplace" / "data" / "samples" / "hk"
SHANGHAI = ROOT / "marketplace" / "data" / "samples" / "shanghai"


def infer(data: bytes | str, filename: str = "data.csv", **kw) -> InferenceResult:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return infer_dictionary(io.BytesIO(data), filename=filename, **kw)


def infer_path(path: Path, **kw) -> InferenceResult:
    with path.open("rb") as fh:
        return infer_dictionary(fh, filename=path.name, **kw)


def by_name(result: InferenceResult) -> dict:
    return {f.name: f for f in result.fields}


def types(result: InferenceResult) -> dict[str, str]:
    return {f.name: f.type for f in result.fields}


# --- detect_format -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, content_type, head, expected",
    [
        ("a.csv", None, b"a,b\n1,2\n", "csv"),
        ("A.TSV", None, b"a\tb\n1\t2\n", "csv"),
        ("notes.txt", None, b"a;b\n1;2\n", "csv"),
        ("a.json", None, b'[{"a": 1}]', "json"),
        ("a.json", None, b'{"type": "FeatureCollection", "features": []}', "geojson"),
        ("a.json", None, b'{"type":"Feature","geometry":null,"properties":{}}', "geojson"),
        ("a.geojson", None, b'{"features": []}', "geojson"),
        ("upload", "text/csv; charset=utf-8", b"a,b\n", "csv"),
        ("upload", "application/json", b'[{"a": 1}]', "json"),
        ("upload", "application/geo+json", b'{"type": "FeatureCollection"}', "geojson"),
        ("upload.bin", "application/octet-stream", b'  \n[{"a": 1}]', "json"),
        ("upload", None, b'{"type": "FeatureCollection", "features": []}', "geojson"),
        ("upload", None, b"id,name\n1,x\n", "csv"),
        ("upload", None, b"id\tname\n1\tx\n", "csv"),
    ],
)
def test_detect_format(filename, content_type, head, expected):
    assert detect_format(filename, content_type, head) == expected


@pytest.mark.parametrize(
    "filename, head, fragment",
    [
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        ("sneaky.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        ("archive.zip", b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        ("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        ("data.csv", b"", "empty"),
        ("data.csv", b"  \r\n\n ", "empty"),
        ("data.csv", b"\xef\xbb\xbf\n", "empty"),
        ("blob.dat", b"ab\x00cd\x00", "binary"),
        ("page.html", b"<html><body>a, b</body></html>", "recognise"),
        ("readme", b"just some words\n", "recognise"),
    ],
)
def test_detect_format_refuses(filename, head, fragment):
    with pytest.raises(UnsupportedFile) as err:
        detect_format(filename, None, head)
    assert fragment.lower() in err.value.message.lower()
    assert "CSV" in err.value.message and "GeoJSON" in err.value.message  # names the supported formats
    assert isinstance(err.value, ValidationFailed) and err.value.status == 422


def test_infer_refuses_png_and_empty_streams():
    with pytest.raises(UnsupportedFile):
        infer(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "photo.png")
    with pytest.raises(UnsupportedFile):
        infer(b"", "empty.csv")


# --- CSV ---------------------------------------------------------------------------------------------------


def test_csv_type_inference_narrowest_type():
    result = infer(
        "b,i,n,mix,d,d2,dt,s,zeroone,booldigit\n"
        "true,1,1.5,1,2024-01-31,2024/01/31,2024-01-31T10:00:00Z,x,0,yes\n"
        "No,-22,2,2.5,2024-02-29,2024/12/01,2024-01-31 10:00,y,1,1\n"
        "YES,+3,1e3,3,2023-12-01,2023/06/30,2024-01-31T10:00:00.123+08:00,1,0,no\n"
    )
    assert result.format == "csv" and result.rows_scanned == 3 and not result.truncated
    assert types(result) == {
        "b": "boolean", "i": "integer", "n": "number", "mix": "number", "d": "date", "d2": "date",
        "dt": "datetime", "s": "string", "zeroone": "integer", "booldigit": "string",
    }
    assert all(f.type in FIELD_TYPES for f in result.fields)
    assert [f.position for f in result.fields] == list(range(10))


@pytest.mark.parametrize(
    "values, expected",
    [
        (["2024-01-01", "2024-01-01T00:00:00"], "string"),  # date + datetime mix
        (["1", "true"], "string"),
        (["2024-02-30"], "string"),  # not a real date
        (["2024-13-01T00:00"], "string"),
        (["1.5", "nan"], "string"),
        (["12", '"1,200"'], "string"),
        ([" 7 ", "8"], "integer"),  # surrounding whitespace ignored
    ],
)
def test_csv_mixed_types_fall_back(values, expected):
    result = infer("col\n" + "\n".join(values) + "\n")
    assert types(result) == {"col": expected}


def test_csv_nulls_padding_and_examples():
    result = infer(
        "a,b,c\n"
        "NA,,x\n"
        "N/A,null\n"      # short row: c padded as null
        "NULL,-,y,extra,cells\n"  # extra cells ignored
        "5,7,z\n"
    )
    f = by_name(result)
    assert [x.name for x in result.fields] == ["a", "b", "c"]
    assert (f["a"].type, f["a"].null_count, f["a"].nullable, f["a"].example) == ("integer", 3, True, "5")
    assert (f["b"].type, f["b"].null_count, f["b"].example) == ("integer", 3, "7")
    assert (f["c"].type, f["c"].null_count, f["c"].example) == ("string", 1, "x")
    assert result.rows_scanned == 4


def test_csv_all_null_column_is_nullable_string_without_example():
    f = by_name(infer("a,b\n1,\n2,NA\n"))["b"]
    assert (f.type, f.nullable, f.null_count, f.example) == ("string", True, 2, None)


def test_csv_example_truncated_to_200_chars():
    assert by_name(infer("a\n" + "x" * 500 + "\n"))["a"].example == "x" * 200


def test_csv_header_is_first_non_empty_row_and_names_are_unique():
    result = infer("\n,,\n  ,\nname,,name,Value, name ,\n1,2,3,4,5,6\n")
    assert [f.name for f in result.fields] == ["name", "column_2", "name_2", "Value", "name_3", "column_6"]
    assert result.rows_scanned == 1


def test_csv_blank_rows_are_skipped():
    result = infer("a,b\n1,2\n\n,\n3,4\n")
    assert result.rows_scanned == 2 and by_name(result)["a"].null_count == 0


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_delimiter_sniffed(delimiter):
    text = delimiter.join(["id", "name", "score"]) + "\n"
    text += "".join(delimiter.join([str(i), f"n{i}", f"{i}.5"]) + "\n" for i in range(20))
    result = infer(text, "data.txt")
    assert types(result) == {"id": "integer", "name": "string", "score": "number"}


def test_csv_single_column_falls_back_to_comma():
    assert types(infer("value\n1\n2\n")) == {"value": "integer"}


def test_csv_quoted_fields_with_newlines_and_cr_line_endings():
    result = infer(b'a,"multi\nline"\r1,"x\ny"\r2,z\r')
    assert [f.name for f in result.fields] == ["a", "multi line"]
    assert result.rows_scanned == 2 and by_name(result)["multi line"].example == "x\ny"


def test_csv_utf8_bom_is_stripped():
    result = infer("\ufeffid,城市\n1,香港\n".encode("utf-8"))
    assert [f.name for f in result.fields] == ["id", "城市"]
    assert by_name(result)["城市"].example == "香港"


def test_csv_gb18030_fallback():
    result = infer("编号,城市\n1,上海\n2,北京\n".encode("gb18030"))
    assert [f.name for f in result.fields] == ["编号", "城市"]
    assert by_name(result)["城市"].example == "上海"


def test_csv_head_cut_inside_multibyte_character_is_still_utf8():
    row = "1,香港特別行政區\n"
    for pad in range(3):  # shift the data until the 64 KiB head ends in the middle of a character
        data = ("id,name" + "x" * pad + "\n" + row * 20000).encode("utf-8")
        try:
            data[:64 * 1024].decode("utf-8")
        except UnicodeDecodeError:
            break
    else:
        pytest.fail("could not place the head boundary inside a character")
    result = infer(data, max_rows=50_000)
    assert result.rows_scanned == 20000 and by_name(result)["name" + "x" * pad].example == "香港特別行政區"


def test_csv_invalid_bytes_after_the_head_raise_unsupported():
    data = b"id,name\n" + b"1,abc\n" * 20000 + b"2,\xff\xfe\xff\n"
    with pytest.raises(UnsupportedFile, match="not valid"):
        infer(data, max_rows=50_000)


def test_csv_undecodable_text_raises_unsupported():
    with pytest.raises(UnsupportedFile, match="encoding"):
        infer(b"a,b\n\x80,\xff\n", "bad.csv")


def test_csv_without_header_raises_unsupported():
    with pytest.raises(UnsupportedFile, match="header"):
        infer(",,\n , \n", "blank.csv")


def test_csv_oversized_field_and_line_raise_unsupported():
    with pytest.raises(UnsupportedFile):
        infer('a,b\n1,"' + "x" * 300_000 + '"\n')  # unterminated giant quoted field
    with pytest.raises(UnsupportedFile, match="line"):
        infer("a\n" + "x" * (2 * 1024 * 1024))


def test_csv_max_rows_exact_boundary_is_not_truncated():
    text = "a\n" + "".join(f"{i}\n" for i in range(10))
    assert (infer(text, max_rows=10).truncated, infer(text, max_rows=10).rows_scanned) == (False, 10)
    assert (infer(text, max_rows=9).truncated, infer(text, max_rows=9).rows_scanned) == (True, 9)


class LazyCsvStream(io.RawIOBase):
    """Generates a large CSV on demand and counts how many bytes the consumer pulled."""

    def __init__(self, rows: int):
        self.rows = rows
        self._lines = (b"id,name,amount,day\n" if i < 0 else b"%d,name-%d,%d.25,2024-01-%02d\n" % (i, i, i, i % 28 + 1)
                       for i in range(-1, rows))
        self._pending = b""
        self.bytes_read = 0
        self.total_size = len(b"id,name,amount,day\n") + sum(
            len(b"%d,name-%d,%d.25,2024-01-%02d\n" % (i, i, i, i % 28 + 1)) for i in range(rows))

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while len(self._pending) < len(b):
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        chunk, self._pending = self._pending[: len(b)], self._pending[len(b):]
        b[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


def test_bounded_reading_of_a_huge_lazy_csv():
    stream = LazyCsvStream(200_000)
    result = infer_dictionary(stream, filename="big.csv", max_rows=1000)
    assert result.truncated is True
    assert result.rows_scanned == 1000
    assert types(result) == {"id": "integer", "name": "string", "amount": "number", "day": "date"}
    assert stream.total_size > 5_000_000
    assert stream.bytes_read < 200_000  # 64 KiB head + a few buffers, not the ~6 MB file
    assert stream.bytes_read < stream.total_size / 20


# --- real CSV samples --------------------------------------------------------------------------------------


def test_sample_report_like_journey_time_csv_skips_the_title_line():
    result = infer_path(HK / "hk_td_am_peak_car_journey_time_cross_district_2023.csv")
    assert result.format == "csv" and not result.truncated
    # The report's ",,,,,Table 2B,,," title line sits above the real header; empty padding columns go.
    assert types(result) == {
        "Origin - Destination": "string", "Start": "string", "Via": "string", "Finish": "string",
        "Distance (km)": "number", "Journey Time (minutes)": "number",
    }
    assert result.rows_scanned == 24
    assert by_name(result)["Distance (km)"].example == "2.4"


def test_title_rows_above_a_header_are_skipped():
    result = infer(b"Quarterly report,,\n\nid,name,value\n1,a,2.5\n2,b,3\n")
    assert types(result) == {"id": "integer", "name": "string", "value": "number"}
    assert result.rows_scanned == 2


def test_sample_traffic_detector_locations_bom_and_chinese():
    result = infer_path(HK / "hk_td_traffic_detector_locations.csv")
    assert result.rows_scanned == 786 and not result.truncated
    assert result.fields[0].name == "AID_ID_Number"  # BOM stripped
    assert types(result) == {
        "AID_ID_Number": "string", "District": "string", "Road_EN": "string", "Road_TC": "string",
        "Road_SC": "string", "Easting": "integer", "Northing": "integer", "Latitude": "number",
        "Longitude": "number", "Direction": "string", "Rotation": "integer",
    }
    assert by_name(result)["Road_TC"].example == "香港仔海旁道近福群大樓 - 東行"
    assert not any(f.nullable for f in result.fields)


def test_sample_hko_wind_csv():
    result = infer_path(HK / "hko_10min_wind_combined_20250908.csv")
    assert result.rows_scanned == 1297
    assert types(result) == {
        "timestamp_utc": "datetime", "timestamp_hkt": "datetime", "station_name": "string",
        "latitude": "number", "longitude": "number", "wind_speed_kmh": "number", "wind_gust_kmh": "number",
        "data_url": "string", "official_signal_hko": "integer", "data_source": "string",
    }
    assert by_name(result)["data_url"].null_count == 2


def test_sample_shanghai_pm25_csv_and_max_rows():
    result = infer_path(SHANGHAI / "shanghai_pm25_us_post_2015.csv")
    assert result.rows_scanned == 8760 and not result.truncated
    t = types(result)
    assert t["year"] == t["month"] == t["No"] == t["PM_US Post"] == "integer"
    assert (t["HUMI"], t["precipitation"], t["cbwd"]) == ("number", "number", "string")
    pm = by_name(result)["PM_US Post"]
    assert pm.nullable and pm.null_count == 428 and pm.position == 6
    small = infer_path(SHANGHAI / "shanghai_pm25_us_post_2015.csv", max_rows=100)
    assert small.truncated and small.rows_scanned == 100


# --- JSON --------------------------------------------------------------------------------------------------


def test_json_array_of_objects_with_flattening_and_missing_keys():
    records = [
        {"id": 1, "ok": True, "start": {"lat": 22.3, "lon": 114, "meta": {"deep": 1}}, "tags": ["a"],
         "when": "2024-01-01"},
        {"id": 2, "ok": None, "start": {"lat": 22, "lon": 114.2, "meta": {}}, "tags": [], "when": "2024-01-02",
         "extra": "NA"},
        {"id": 3.5, "ok": False, "start": None, "tags": None, "when": "2024-01-03T00:00:00Z"},
    ]
    result = infer(json.dumps(records), "r.json")
    assert result.format == "json" and result.rows_scanned == 3
    assert types(result) == {
        "id": "number", "ok": "boolean", "start.lat": "number", "start.lon": "number", "start.meta": "object",
        "tags": "array", "when": "string", "start": "string", "extra": "string",
    }
    f = by_name(result)
    assert (f["ok"].null_count, f["start.lat"].null_count, f["extra"].null_count) == (1, 1, 3)
    assert f["start.meta"].example == '{"deep": 1}' and f["tags"].example == '["a"]'
    assert f["ok"].example == "true" and [x.position for x in result.fields] == list(range(9))
    assert result.geometry_types == [] and result.bbox is None


def test_json_strings_promoted_only_to_dates():
    result = infer('[{"d": "2024-05-01", "dt": "2024-05-01T10:00:00+08:00", "n": "12", "b": "true", "e": ""}]',
                   "x.json")
    assert types(result) == {"d": "date", "dt": "datetime", "n": "string", "b": "string", "e": "string"}
    assert by_name(result)["e"].nullable


def test_json_object_uses_largest_list_of_records():
    doc = {"meta": {"v": 1}, "small": [{"a": 1}], "items": [{"x": 1}, {"x": 2}, {"x": 3}], "nums": [1, 2, 3, 4]}
    result = infer(json.dumps(doc), "x.json")
    assert [f.name for f in result.fields] == ["x"] and result.rows_scanned == 3


def test_json_single_object_without_records_is_one_record():
    result = infer('{"a": 1, "b": {"c": "x"}, "nums": [1, 2]}', "x.json")
    assert result.rows_scanned == 1 and types(result) == {"a": "integer", "b.c": "string", "nums": "array"}


def test_json_array_of_scalars_and_truncation():
    result = infer("[1, 2, 3, null]", "x.json", max_rows=3)
    assert types(result) == {"value": "integer"} and result.truncated and result.rows_scanned == 3


@pytest.mark.parametrize("data", [b"[{'a': 1}]", b'{"a": ', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe{}"])
def test_json_malformed_raises_unsupported(data):
    with pytest.raises(UnsupportedFile):
        infer(data, "bad.json")


def test_json_over_size_cap_is_refused_without_reading_everything():
    class EndlessJson(io.RawIOBase):
        """'[' followed by an endless run of spaces."""

        def __init__(self):
            self.read_total = 0

        def readable(self):
            return True

        def readinto(self, b):
            b[:] = (b"[" if self.read_total == 0 else b" ") + b" " * (len(b) - 1)
            self.read_total += len(b)
            return len(b)

    stream = EndlessJson()
    with pytest.raises(UnsupportedFile, match="too large"):
        infer_dictionary(stream, filename="huge.json")
    assert stream.read_total <= JSON_MAX_BYTES + 1024 * 1024


def test_sample_aqhi_dashboard_json_matches_csv():
    result = infer_path(HK / "hk_aqhi_city_dashboard.json")
    expected = {"type": "string", "aqhi_min": "integer", "aqhi_max": "integer", "health_risk_min": "string",
                "health_risk_max": "string", "publish_date": "datetime"}
    assert result.format == "json" and result.rows_scanned == 2 and types(result) == expected
    assert types(infer_path(HK / "hk_aqhi_city_dashboard.csv")) == expected


def test_sample_smart_lampposts_json():
    result = infer_path(HK / "hk_smart_lampposts_air_quality_realtime.json")
    assert result.rows_scanned == 11  # the "data" list, not the top-level "ts"
    t = types(result)
    assert (t["lamppost.lat"], t["lamppost.is_online"], t["lamppost.PI"], t["pm25"]) == (
        "number", "boolean", "string", "number")
    assert by_name(result)["lamppost.location_tc"].example == "干諾道中"


def test_sample_traffic_speed_map_json():
    result = infer_path(HK / "hk_traffic_speed_map_link_info.json")
    assert result.rows_scanned == 6
    t = types(result)
    assert (t["link_id"], t["start_node"], t["start_node_latitude"], t["road_type"]) == (
        "string", "integer", "number", "string")


def test_sample_hko_weather_report_is_one_flattened_record():
    result = infer_path(HK / "hko_current_weather_report_rhrread_20240914.json")
    assert result.rows_scanned == 1
    t = types(result)
    assert (t["temperature.data"], t["temperature.recordTime"], t["icon"], t["updateTime"]) == (
        "array", "datetime", "array", "datetime")
    warning = by_name(result)["warningMessage"]
    assert warning.nullable and warning.example is None


# --- GeoJSON -----------------------------------------------------------------------------------------------


def test_geojson_feature_collection_fields_types_and_bbox():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.1, 22.3]},
         "properties": {"name": "a", "n": 1, "info": {"k": "v"}}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[113.9, 22.2], [114.4, 22.6, 5]]},
         "properties": {"name": "b", "n": 2.5}},
        {"type": "Feature", "geometry": None, "properties": None},
        {"type": "Feature", "geometry": {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [114.0, 22.1]}]}, "properties": {"name": "c"}},
    ]}
    result = infer(json.dumps(doc), "f.geojson")
    assert result.format == "geojson" and result.rows_scanned == 4
    assert types(result) == {"name": "string", "n": "number", "info.k": "string", "geometry": "geometry"}
    geom = by_name(result)["geometry"]
    assert (geom.position, geom.null_count, geom.nullable) == (3, 1, True)
    assert result.geometry_types == ["GeometryCollection", "LineString", "Point"]
    assert result.bbox == (113.9, 22.1, 114.4, 22.6)


def test_geojson_single_feature_and_json_extension():
    doc = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
           "properties": {"id": 7}}
    result = infer(json.dumps(doc), "shape.json")
    assert result.format == "geojson" and result.rows_scanned == 1
    assert types(result) == {"id": "integer", "geometry": "geometry"}
    assert result.geometry_types == ["Polygon"] and result.bbox == (0.0, 0.0, 1.0, 1.0)


def test_geojson_property_named_geometry_does_not_collide():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"geometry": "x"}}]}
    assert types(infer(json.dumps(doc), "a.geojson")) == {"geometry": "string", "geometry_2": "geometry"}


def test_geojson_that_is_not_features_is_refused():
    with pytest.raises(UnsupportedFile, match="FeatureCollection"):
        infer('[{"a": 1}]', "a.geojson")


def test_sample_district_council_boundaries_geojson():
    result = infer_path(HK / "hk_district_council_boundaries_2001_lowres.geojson")
    assert result.format == "geojson" and result.rows_scanned == 18 and not result.truncated
    assert [f.name for f in result.fields] == ["DC_CODE", "DC_ENG", "DC_CHIN", "DC", "geometry"]
    assert types(result) == {"DC_CODE": "string", "DC_ENG": "string", "DC_CHIN": "string", "DC": "string",
                             "geometry": "geometry"}
    assert by_name(result)["DC_CHIN"].example == "中西區"
    assert set(result.geometry_types) <= {"Polygon", "MultiPolygon"} and "MultiPolygon" in result.geometry_types
    minx, miny, maxx, maxy = result.bbox
    assert 113.8 <= minx < maxx <= 114.5 and 22.1 <= miny < maxy <= 22.6


def test_caller_stream_is_left_open_and_json_null_is_null():
    stream = io.BytesIO(b'[{"a": null}, {"a": 1}]')
    result = infer_dictionary(stream, filename="x.json")
    assert not stream.closed
    f = by_name(result)["a"]
    assert (f.type, f.null_count, f.example) == ("integer", 1, "1")


@pytest.mark.parametrize("encoding,text", [
    ("big5", "站點,溫度,天氣\n香港天文台,28.5,晴天\n京士柏,27.9,多雲\n黃竹坑,29.1,有雨\n"),
    ("gb18030", "站点,温度,天气\n上海徐家汇,28.5,晴天\n浦东,27.9,多云\n"),
])
def test_chinese_legacy_encodings_are_told_apart(encoding, text):
    result = infer(text.encode(encoding))
    assert [f.name for f in result.fields] == text.splitlines()[0].split(",")
    assert types(result)["溫度" if encoding == "big5" else "温度"] == "number"
