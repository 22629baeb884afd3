"""Tests for marketplace.review.pii (personal-information scanner for uploaded data files)."""
from __future__ import annotations

import io
import json
import string
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest

from marketplace.review.pii import (
    KIND_LABELS,
    PII_KINDS,
    PiiFinding,
    ScanResult,
    is_cn_resident_id,
    is_hkid,
    luhn_valid,
    personal_column_names,
    scan_file,
    scan_text,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (ROOT / "marketplace" / "data" / "samples").rglob("*") if p.is_file())
IDENTIFIER_KINDS = set(PII_KINDS) - {"column_name"}


# --- independent reference implementations, used to build valid and invalid examples ---------------------


def gb11643(body17: str) -> str:
    """The check character for 17 digits: weights 2^(i-1) mod 11 counted from the right; check (12 - sum) mod 11."""
    total = sum(int(d) * pow(2, 17 - k, 11) for k, d in enumerate(body17))
    code = (12 - total % 11) % 11
    return "X" if code == 10 else str(code)


def resident_id(region: str, born: date, seq: str = "123") -> str:
    body = f"{region}{born:%Y%m%d}{seq}"
    return body + gb11643(body)


def hkid_check(prefix: str, digits: str) -> str:
    """The check character making the weighted sum (9..1, a missing first letter counting 36) divisible by 11."""
    chars = prefix.rjust(2)
    values = [36 if c == " " else 10 + string.ascii_uppercase.index(c) for c in chars] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, [9, 8, 7, 6, 5, 4, 3, 2]))
    return next(c for c, v in zip("0123456789A", range(11)) if (total + v) % 11 == 0)


def luhn_complete(partial: str) -> str:
    """Append the Luhn check digit."""
    doubled = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]
    for check in "0123456789":
        digits = [int(c) for c in partial + check][::-1]
        if sum(d if i % 2 == 0 else doubled[d] for i, d in enumerate(digits)) % 10 == 0:
            return partial + check
    raise AssertionError("unreachable")


def other_checks(valid: str, alphabet: str) -> list[str]:
    return [valid[:-1] + c for c in alphabet if c != valid[-1]]


def scan(data: bytes | str, filename: str = "data.csv", **kw) -> ScanResult:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return scan_file(io.BytesIO(data), filename=filename, **kw)


def hits(result: ScanResult) -> dict[tuple[str, str], PiiFinding]:
    return {(f.column, f.kind): f for f in result.findings}


def value_hits(result: ScanResult) -> list[PiiFinding]:
    return [f for f in result.findings if f.kind != "column_name"]


UNIONPAY = luhn_complete("622202100112345")
VALID_IDS = [
    "11010519491231002X",  # the GB 11643 published example
    resident_id("440305", date(1990, 1, 1)),
    resident_id("310104", date(2000, 2, 29), "047"),
    resident_id("810000", date(1985, 7, 1)),
]


# --- mainland resident identity numbers ------------------------------------------------------------------


@pytest.mark.parametrize("value", VALID_IDS)
def test_resident_id_with_valid_check_digit_and_birth_date_is_recognised(value):
    assert is_cn_resident_id(value)
    assert is_cn_resident_id(value.lower())
    assert scan_text(f"证件 {value} 已登记") == {"cn_resident_id": value[:6] + "********" + value[-4:]}


@pytest.mark.parametrize("value", other_checks("11010519491231002X", "0123456789X"))
def test_resident_id_with_wrong_check_digit_is_not_flagged(value):
    assert not is_cn_resident_id(value)
    assert "cn_resident_id" not in scan_text(value)


@pytest.mark.parametrize("born", ["18991231", "20010229", "19901301", "19900132", "00000000",
                                  f"{date.today() + timedelta(days=1):%Y%m%d}"])
def test_resident_id_with_impossible_birth_date_is_not_valid(born):
    body = f"110105{born}123"
    assert not is_cn_resident_id(body + gb11643(body))


@pytest.mark.parametrize("value", ["11010519491231002", "110105194912310020X", "A1010519491231002X",
                                   "11010519491231002Y", "110105 19491231 002X", "01010519491231002X"])
def test_malformed_resident_ids_are_not_valid(value):
    assert not is_cn_resident_id(value)


def test_resident_id_inside_a_longer_digit_run_is_not_flagged():
    assert scan_text("9" + VALID_IDS[1]) == {}
    assert scan_text(VALID_IDS[1] + "7") == {}
    assert scan_text("0." + VALID_IDS[1]) == {}


# --- Hong Kong identity card numbers --------------------------------------------------------------------


def test_published_hkid_example_is_valid_in_both_spellings():
    assert hkid_check("A", "123456") == "3"
    assert is_hkid("A123456(3)") and is_hkid("A1234563") and is_hkid(" a123456(3) ")


@pytest.mark.parametrize("prefix, digits", [("A", "123456"), ("C", "668668"), ("Z", "683365"), ("AB", "987654"),
                                            ("WX", "123456"), ("XA", "000001")])
def test_hkid_with_computed_check_digit_is_valid(prefix, digits):
    check = hkid_check(prefix, digits)
    assert is_hkid(f"{prefix}{digits}({check})") and is_hkid(f"{prefix}{digits}{check}")
    assert scan_text(f"HKID {prefix}{digits}({check})") == {"hkid": f"{prefix}{digits[:3]}***(*)"}


def test_hkid_whose_check_digit_is_a_is_valid():
    prefix, digits = next((p, f"{n:06d}") for p in "ABC" for n in range(1000) if hkid_check(p, f"{n:06d}") == "A")
    assert is_hkid(f"{prefix}{digits}(A)")
    assert not is_hkid(f"{prefix}{digits}(0)")


@pytest.mark.parametrize("value", [f"A123456({c})" for c in "012456789A"] + ["AB987654(0)", "A12345(3)",
                                   "ABC123456(3)", "A123456(3", "1234567(3)"])
def test_hkid_with_wrong_check_digit_or_shape_is_not_valid(value):
    assert not is_hkid(value)
    assert "hkid" not in scan_text(value)


def test_hkid_inside_a_longer_code_is_not_flagged():
    assert scan_text("XYA123456(3)") == {}
    assert scan_text("A1234563B") == {}


# --- bank cards -------------------------------------------------------------------------------------------


def test_luhn_on_well_known_test_numbers():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert luhn_valid(UNIONPAY) and not luhn_valid("") and not luhn_valid("4111-1111")


@pytest.mark.parametrize("written", [UNIONPAY, " ".join(UNIONPAY[i:i + 4] for i in range(0, 16, 4)),
                                     "-".join(UNIONPAY[i:i + 4] for i in range(0, 16, 4)),
                                     luhn_complete("622202100112345678"), "4111111111111111", "378282246310005"])
def test_luhn_valid_card_numbers_are_flagged(written):
    digits = written.replace(" ", "").replace("-", "")
    assert scan_text(f"card: {written}") == {"bank_card": digits[:4] + "*" * (len(digits) - 8) + digits[-4:]}


@pytest.mark.parametrize("value", ["4111111111111112", UNIONPAY[:-1] + str((int(UNIONPAY[-1]) + 1) % 10),
                                   luhn_complete("123456789012345"), luhn_complete("912345678901234"),
                                   luhn_complete("41111111111111"), "41111111111111111111"])
def test_numbers_failing_luhn_prefix_or_length_are_not_cards(value):
    assert "bank_card" not in scan_text(value)


# --- phone numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["13812345678", "+8613812345678", "+86 138 1234 5678", "86-13812345678",
                                     "138-1234-5678", "电话13812345678", "call 0086 13812345678 now"])
def test_mainland_mobile_numbers_are_flagged(written):
    assert scan_text(written) == {"cn_mobile": "138******78"}


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "913812345678",
                                   "0.13812345678", "13812345678.5", "x13812345678", "20230915103000"])
def test_mobile_shaped_numbers_in_longer_runs_are_not_flagged(value):
    assert "cn_mobile" not in scan_text(value)


@pytest.mark.parametrize("written", ["+852 2345 6789", "852-9123-4567", "+85291234567", "9123 4567", "Tel: 5123 4567",
                                     "call 2345-6789 after 6pm"])
def test_hong_kong_phone_numbers_written_like_phones_are_flagged(written):
    assert set(scan_text(written)) == {"hk_phone"}
    assert scan_text(written)["hk_phone"].count("*") == 4


@pytest.mark.parametrize("value", ["91234567", "2014-2015", "1999 2000", "2300-0600", "4123 4567", "1234 5678",
                                   "912345678", "3652-3653", "open 2300-0600 daily", "2014-2015 season"])
def test_bare_or_range_like_eight_digit_numbers_are_not_hong_kong_phones_out_of_context(value):
    assert "hk_phone" not in scan_text(value)


def test_bare_hong_kong_number_counts_in_a_phone_column():
    assert scan_text("91234567", phone_column=True) == {"hk_phone": "91****67"}
    result = scan("Tel,reading,link_id\n91234567,91234567,3652-3653\n2345-6789,23456789,5001-5002\n")
    assert hits(result)[("Tel", "hk_phone")].count == 2
    assert value_hits(result) == [hits(result)[("Tel", "hk_phone")]]


# --- e-mail -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, masked", [("alice.wong@example.com.hk", "a***@example.com.hk"),
                                             ("Mail: Bob+tag@mail.example.org.", "B***@mail.example.org"),
                                             ("13812345678@qq.com", "1***@qq.com")])
def test_email_addresses_are_flagged_and_masked(written, masked):
    assert scan_text(written) == {"email": masked}


@pytest.mark.parametrize("value", ["user@localhost", "a @ b.com", "@example.com", "name@example", "x@1.2"])
def test_things_that_are_not_email_addresses(value):
    assert "email" not in scan_text(value)


# --- precision on ordinary data ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["20230915103000", "113.9876543", "1234567890123", "22.248091", "833758",
                                   "2025-09-07T18:49:19.460478+00:00", "1694745600000", "AID01101", "4651-4631",
                                   "3.14159265358979323", "1E+15", "v1.2.3", "2023-09-15"])
def test_ordinary_numbers_codes_and_timestamps_are_not_flagged(value):
    assert scan_text(value) == {}


def test_code_column_where_check_digits_pass_only_by_chance_is_not_flagged():
    codes = [f"4{n:015d}" for n in range(0, 3_000_000, 7919)][:200]  # 16-digit codes, ~1 in 10 Luhn-valid
    assert any(luhn_valid(c) for c in codes)
    result = scan("code\n" + "\n".join(codes) + "\n")
    assert value_hits(result) == []


def test_column_of_real_card_numbers_with_a_few_typos_is_flagged():
    cards = [luhn_complete(f"622202{n:09d}") for n in range(20)] + ["6222020000000017", "6222020000000025"]
    result = scan("card\n" + "\n".join(cards) + "\n")
    assert hits(result)[("card", "bank_card")].count == sum(luhn_valid(c) for c in cards)


# --- column names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["name", "Name", "name_en", "full_name", "FullName", "first name", "lastName",
                                  "surname", "customer_name", "contact person", "Contact_Person", "username",
                                  "姓名", "名字", "联系电话", "聯絡電話", "手机号", "身份证号", "身份證號碼",
                                  "证件号码",
                                  "phone", "Tel", "TEL_NO", "mobile", "email", "E-mail", "emailAddress", "邮箱",
                                  "電郵地址", "address", "home_address", "住址", "地址", "date_of_birth", "DOB",
                                  "出生日期", "passport_no", "护照号", "id_card", "ID Card No", "HKID", "hkidNo",
                                  "bank card", "bank_card_no", "银行卡号", "card_number", "contact.email"])
def test_column_names_suggesting_personal_data(name):
    assert personal_column_names([name]) == [name]


@pytest.mark.parametrize("name", ["station_name", "district_name", "road_name_en", "link name", "link_name_tc",
                                  "DC_ENG", "DC_CHIN", "place", "location_en", "AID_ID_Number", "file_name",
                                  "person_count", "birth_rate", "births", "ip_address", "mac address",
                                  "station_phone", "company_email", "office tel", "mobile_network", "hotel",
                                  "telemetry", "站名", "站点名称", "站点电话", "公司地址", "出生率", "出生人数", "名称",
                                  "Origin - Destination", "PM_US Post", "card_type", "timestamp_hkt", "No"])
def test_column_names_that_are_not_personal(name):
    assert personal_column_names([name]) == []


def test_personal_column_names_keeps_order():
    assert personal_column_names(["id", "姓名", "station_name", "phone"]) == ["姓名", "phone"]


def test_personal_column_is_reported_even_when_empty():
    result = scan("id,customer_name,station_name\n1,,Central\n")
    assert result.findings == (PiiFinding("customer_name", "column_name", 0, ""),)


# --- masking ----------------------------------------------------------------------------------------------


def test_masked_examples_never_reveal_the_value():
    raw = {
        "cn_resident_id": VALID_IDS[1], "hkid": "A123456(3)", "cn_mobile": "13812345678",
        "hk_phone": "+852 9123 4567", "email": "alice.wong@example.com", "bank_card": UNIONPAY,
    }
    result = scan("c," + ",".join(raw) + "\n" + "x," + ",".join(raw.values()) + "\n")
    found = {f.kind: f.example for f in value_hits(result)}
    assert set(found) == set(raw)
    for kind, value in raw.items():
        example = found[kind]
        assert "*" in example and value not in example
        digits = "".join(c for c in value if c.isdigit())
        shown = "".join(c for c in example if c.isdigit())
        assert len(shown) <= len(digits) - 3 or kind == "email"
    assert found["hkid"] == "A123***(*)" and "3" not in found["hkid"][4:]
    assert found["email"] == "a***@example.com" and "alice" not in found["email"]


# --- files ------------------------------------------------------------------------------------------------


def test_csv_findings_count_cells_per_column_and_kind():
    data = ("name,contact,notes\n"
            "Chan,13812345678,call 13912345678 or 13712345678\n"
            "Wong,alice@example.com,\n"
            "Lee,13612345678,nothing\n")
    result = scan(data)
    assert (result.format, result.rows_scanned, result.truncated, result.error) == ("csv", 3, False, None)
    got = hits(result)
    assert got[("contact", "cn_mobile")].count == 2
    assert got[("contact", "email")].count == 1
    assert got[("notes", "cn_mobile")].count == 1  # one cell, three numbers
    assert got[("name", "column_name")].count == 0
    assert [(f.column, f.kind) for f in result.findings] == [
        ("name", "column_name"), ("contact", "cn_mobile"), ("contact", "email"), ("contact", "column_name"),
        ("notes", "cn_mobile")]


def test_csv_with_a_title_line_above_the_header():
    data = (",,Customer list 2024,,\n"
            ",,,,\n"
            "id,姓名,联系电话,证件号码,备注\n"
            f"1,陈大文,13812345678,{VALID_IDS[1]},\n"
            f"2,李小明,13987654321,{VALID_IDS[2]},ok\n")
    result = scan(data)
    assert result.rows_scanned == 2
    got = hits(result)
    assert got[("联系电话", "cn_mobile")].count == 2
    assert got[("证件号码", "cn_resident_id")].count == 2
    assert {("姓名", "column_name"), ("联系电话", "column_name"), ("证件号码", "column_name")} <= set(got)


@pytest.mark.parametrize("encoding, text", [
    ("big5", "姓名,聯絡電話,地區\n陳大文,9123 4567,九龍城\n李小明,2345 6789,中西區\n黃志強,5123 4567,灣仔\n"),
    ("gb18030", "姓名,联系电话,地区\n陈大文,13812345678,浦东新区\n李小明,13987654321,徐汇区\n"),
])
def test_chinese_legacy_encoded_csv(encoding, text):
    result = scan(text.encode(encoding))
    assert result.error is None and result.rows_scanned == len(text.splitlines()) - 1
    phone = "聯絡電話" if encoding == "big5" else "联系电话"
    kind = "hk_phone" if encoding == "big5" else "cn_mobile"
    assert hits(result)[(phone, kind)].count == result.rows_scanned
    assert personal_column_names(c for c, k in hits(result) if k == "column_name") == ["姓名", phone]


def test_cells_beyond_the_header_are_scanned_too():
    result = scan("a,b\n1,2,bob@example.com\n")
    assert ("column_3", "email") in hits(result)


def test_long_cells_are_scanned_on_their_first_10k_characters():
    result = scan("notes\n" + "x " * 6000 + " bob@example.com\n" + "a@example.com " + "y" * 20000 + "\n")
    assert hits(result)[("notes", "email")].count == 1


def test_json_list_of_records_with_nested_objects():
    records = [{"id": 1, "contact": {"email": "bob@example.com", "mobile": 13812345678}, "tags": ["13912345678"]},
               {"id": 2, "contact": {"email": None, "mobile": "+86 139 1234 5678"}, "score": 113.9876543}]
    result = scan(json.dumps(records), "people.json")
    assert (result.format, result.rows_scanned, result.error) == ("json", 2, None)
    got = hits(result)
    assert got[("contact.email", "email")].count == 1
    assert got[("contact.mobile", "cn_mobile")].count == 2
    assert got[("tags[]", "cn_mobile")].count == 1  # values in lists are cells of a column named by their path
    assert {f.column for f in value_hits(result)} == {"contact.email", "contact.mobile", "tags[]"}


def test_json_object_holding_lists_of_records():
    doc = {"updated": "2024-09-14", "owner_email": "data@example.org",
           "staff": [{"name": "Chan", "hkid": "A123456(3)"}, {"name": "Lee", "hkid": "A1234563"}],
           "visitors": [{"phone": "+852 9123 4567"}], "icon": [62, 13812345678]}
    result = scan(json.dumps(doc, ensure_ascii=False), "doc.json")
    assert result.error is None and result.rows_scanned == 3
    got = hits(result)
    assert got[("hkid", "hkid")].count == 2
    assert got[("phone", "hk_phone")].count == 1
    assert got[("owner_email", "email")].count == 1  # the object's own fields are a record too
    assert ("value", "cn_mobile") not in got and got[("icon[]", "cn_mobile")].count == 1


def test_json_top_level_scalars_and_single_object():
    assert hits(scan('"bob@example.com"', "x.json"))[("value", "email")].count == 1
    result = scan('{"a": {"b": {"c": "bob@example.com"}}, "d": "13812345678"}', "x.json")
    assert result.rows_scanned == 1
    assert [(f.column, f.kind) for f in result.findings] == [("a.b.c", "email"), ("d", "cn_mobile")]


def test_geojson_scans_feature_properties_only():
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "13812345678", "geometry": {"type": "Point", "coordinates": [114.1, 22.3]},
         "properties": {"name": "Chan Tai Man", "tel": "2345 6789", "contact": {"email": "a@b.hk"}}},
        {"type": "Feature", "geometry": None, "properties": {"tel": "91234567"}},
    ]}
    result = scan(json.dumps(fc), "places.geojson")
    assert (result.format, result.rows_scanned, result.error) == ("geojson", 2, None)
    assert {(f.column, f.kind, f.count) for f in result.findings} == {
        ("name", "column_name", 0), ("tel", "hk_phone", 2), ("tel", "column_name", 0),
        ("contact.email", "email", 1), ("contact.email", "column_name", 0)}


def test_single_geojson_feature():
    feature = {"properties": {"email": "a@b.hk"}, "type": "Feature", "geometry": None}
    result = scan(json.dumps(feature), "one.geojson")
    assert result.rows_scanned == 1 and ("email", "email") in hits(result)


@pytest.mark.parametrize("data, encoding", [('[{"email": "陳@example.com", "邮箱": "bob@example.com"}]', "gb18030"),
                                            ('\ufeff[{"email": "bob@example.com"}]', "utf-8")])
def test_json_in_other_encodings_or_with_a_bom(data, encoding):
    result = scan(data.encode(encoding), "x.json")
    assert result.error is None and result.rows_scanned == 1
    assert any(f.kind == "email" for f in result.findings)


def test_truncated_after_max_rows():
    csv_result = scan("email\n" + "bob@example.com\n" * 10, max_rows=4)
    assert (csv_result.rows_scanned, csv_result.truncated) == (4, True)
    assert hits(csv_result)[("email", "email")].count == 4
    json_result = scan(json.dumps([{"e": "bob@example.com"}] * 10), "x.json", max_rows=4)
    assert (json_result.rows_scanned, json_result.truncated) == (4, True)
    assert hits(json_result)[("e", "email")].count == 4
    exact = scan("email\n" + "bob@example.com\n" * 4, max_rows=4)
    assert (exact.rows_scanned, exact.truncated) == (4, False)
    assert (exact.total_rows, exact.total_exact, exact.scope) == (4, True, "")


def test_a_scan_stopped_at_its_cap_counts_the_rest_of_the_file():
    csv_result = scan("email\n" + "bob@example.com\n" * 2500, max_rows=1000)
    assert (csv_result.rows_scanned, csv_result.total_rows, csv_result.total_exact) == (1000, 2500, True)
    assert csv_result.scope == "the first 1,000 of 2,500 rows"
    json_result = scan(json.dumps([{"e": "x"}] * 30), "x.json", max_rows=10)
    assert (json_result.total_rows, json_result.total_exact) == (30, True)


def test_the_count_past_the_cap_is_bounded(monkeypatch):
    monkeypatch.setattr("marketplace.review.pii.COUNT_ROWS", 100)
    result = scan("email\n" + "bob@example.com\n" * 1000, max_rows=10)
    assert (result.rows_scanned, result.total_rows, result.total_exact) == (10, 111, False)
    assert result.scope == "the first 10 of more than 111 rows"
    monkeypatch.setattr("marketplace.review.pii.COUNT_ROWS", 10_000)
    result = scan("email\n" + "bob@example.com\n" * 1000, max_rows=10)  # at most ten times the cap
    assert (result.total_rows, result.total_exact) == (111, False)


@pytest.mark.parametrize("data, filename, fragment", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "PNG"),
    (b"PK\x03\x04\x14\x00\x06\x00", "book.xlsx", "ZIP"),
    (b"", "empty.csv", "empty"),
    (b"a,b\n\x00\x01\x02", "x.csv", "binary"),
    (b'[{"a": 1}, {"a": ', "x.json", "not valid JSON"),
    (b'{"a": 1} trailing', "x.json", "not valid JSON"),
    (b'[{"a": 1}]', "x.geojson", "FeatureCollection"),
    (b"a,b\n" + b"x" * (1024 * 1024 + 10) + b"\n", "x.csv", "1 MiB"),
    (b'a,b\n"' + b"x" * 200_000 + b'",1\n', "x.csv", "malformed"),
    (b"<html><body>hi</body></html>", "page", "recognise"),
])
def test_unsupported_or_malformed_files_give_an_error_not_an_exception(data, filename, fragment):
    result = scan(data, filename)
    assert result.error and fragment in result.error
    assert result.filename == filename


def test_undecodable_bytes_late_in_a_csv_give_an_error_with_what_was_found():
    data = b"email\n" + b"bob@example.com\n" * 5000 + b"\xff\xfe\xfa\n"
    result = scan(data)
    assert "not valid utf-8" in result.error and result.rows_scanned > 4000
    assert hits(result)[("email", "email")].count == result.rows_scanned  # the rows read before the bad bytes


def test_a_failing_stream_gives_an_error_not_an_exception():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise OSError("connection reset")

    result = scan_file(Broken(), filename="x.csv")
    assert result.error and "OSError" in result.error and result.findings == ()


def test_kind_labels_cover_every_kind():
    assert set(KIND_LABELS) == set(PII_KINDS)


# --- bounded memory ---------------------------------------------------------------------------------------


class LazyStream(io.RawIOBase):
    """A read-only stream producing ``chunks()`` on demand, so the test never holds the whole file."""

    def __init__(self, chunks):
        self._chunks, self._pending = chunks, b""
        self.size = 0

    def readable(self):
        return True

    def readinto(self, b):
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._pending))
        b[:n], self._pending = self._pending[:n], self._pending[n:]
        self.size += n
        return n


TARGET = 30 * 1024 * 1024
FILLER = "Aberdeen Praya Road near Abba House - Eastbound, lorem ipsum dolor sit amet, consectetur. " * 10


def note(n: int) -> str:
    return f"ask bob@example.com about {n}" if n % 1000 == 0 else FILLER


def big_csv():
    size = 0
    yield b"id,station,reading,notes\n"
    for n in range(0, 10**9, 100):
        chunk = "".join(f'{n + i},Central Pier,{(n + i) % 97}.5,"{note(n + i)}"\n' for i in range(100)).encode()
        yield chunk
        size += len(chunk)
        if size >= TARGET:
            return


def big_json():
    size = 0
    yield b"["
    for n in range(0, 10**9, 100):
        rows = [{"id": n + i, "station": "Central Pier", "reading": 22.5, "notes": note(n + i)} for i in range(100)]
        chunk = (", " if n else "").encode() + json.dumps(rows)[1:-1].encode()
        yield chunk
        size += len(chunk)
        if size >= TARGET:
            break
    yield b"]"


@pytest.mark.parametrize("chunks, filename", [(big_csv, "big.csv"), (big_json, "big.json")])
def test_large_files_are_scanned_with_bounded_memory(chunks, filename):
    stream = LazyStream(chunks())
    tracemalloc.start()
    try:
        result = scan_file(stream, filename=filename, max_rows=10_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.size >= TARGET and result.error is None and not result.truncated
    assert hits(result)[("notes", "email")].count == result.rows_scanned // 1000 + (result.rows_scanned % 1000 > 0)
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"


# --- the real sample files: public open data, no personal information -------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_open_data_files_have_no_personal_information(path):
    with path.open("rb") as fh:
        result = scan_file(fh, filename=path.name)
    assert result.error is None and result.rows_scanned > 0 and result.format is not None
    assert result.findings == ()
