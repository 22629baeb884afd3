"""Eight-digit quantities, amounts and ids are not Hong Kong phone numbers; phone numbers among placeholders,
sorted, or written as JSON numbers still are."""
from __future__ import annotations

import io
import json
import random

import pytest

from marketplace.review.pii import ScanResult, scan_file

rng = random.Random(9)


def phone() -> str:
    return rng.choice("2369") + "".join(rng.choice("0123456789") for _ in range(7))


def scan_column(column: str, values: list, filename: str = "a.csv") -> ScanResult:
    if filename.endswith(".json"):
        data = json.dumps([{column: v} for v in values], ensure_ascii=False).encode()
    else:
        data = (column + "\n" + "\n".join(map(str, values)) + "\n").encode()
    return scan_file(io.BytesIO(data), filename=filename)


def phones_found(result: ScanResult) -> bool:
    return any(f.kind == "hk_phone" for f in result.findings)


AMOUNTS = [rng.randint(20_000_000, 69_999_999) for _ in range(200)]


@pytest.mark.parametrize("column", [
    "金额", "金額", "人次", "收入(港元)", "年度開支", "年度开支", "合計", "數量", "人数", "編號", "编号", "no_of_trips",
    "visitors", "passenger_trips", "revenue_hkd", "spend", "budget", "amount_hkd", "case_no", "licence_no", "ticket",
    "ref_no", "money"])
def test_eight_digit_quantities_named_as_such_are_not_phone_numbers(column):
    assert not phones_found(scan_column(column, AMOUNTS))


@pytest.mark.parametrize("column", ["phone_no", "电话号码", "電話號碼", "mobile", "tel", "contact", "x"])
def test_phone_like_names_still_find_phone_numbers(column):
    assert phones_found(scan_column(column, [phone() for _ in range(100)]))


def test_a_column_of_eight_digit_values_beside_seven_and_nine_digit_ones_is_a_quantity():
    values = [rng.randint(20_000_000, 69_999_999) for _ in range(190)] + [rng.randint(2_000_000, 9_999_999)
                                                                            for _ in range(10)]
    rng.shuffle(values)
    assert not phones_found(scan_column("x", values))
    assert not phones_found(scan_column("x", [f"{v}.50" if i % 10 == 0 else str(v) for i, v in enumerate(AMOUNTS)]))
    assert phones_found(scan_column("x", [phone() for _ in range(199)] + ["1234567"]))  # one typo stays phones


@pytest.mark.parametrize("placeholder", ["N/A", "-", "未提供", "n/a"])
def test_placeholders_are_not_values_in_the_bare_number_tally(placeholder):
    values = [phone() if rng.random() < 0.7 else placeholder for _ in range(200)]
    assert phones_found(scan_column("x", values))


def test_a_sorted_list_of_phone_numbers_is_not_a_sequence_of_ids():
    numbers = sorted({int(rng.choice("569") + "".join(rng.choice("0123456789") for _ in range(7)))
                      for _ in range(20_000)})
    assert phones_found(scan_column("x", numbers))
    assert not phones_found(scan_column("x", list(range(30_000_000, 30_000_400))))
    assert not phones_found(scan_column("x", list(range(30_000_000, 30_004_000, 10))))


def test_json_numbers_and_integral_floats_count_as_their_digits():
    assert phones_found(scan_column("x", [float(phone()) for _ in range(100)], "a.json"))
    assert phones_found(scan_column("x", [int(phone()) for _ in range(100)], "a.json"))
    assert phones_found(scan_column("x", [f"{phone()}.0" for _ in range(100)]))


@pytest.mark.parametrize("values", [
    [f"{rng.randint(20, 28):02d}{rng.randint(1, 12):02d}{rng.randint(1990, 2024)}" for _ in range(200)],  # DDMMYYYY
    [f"{rng.randint(20, 23)}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}{rng.randint(0, 99):02d}"
     for _ in range(200)],  # HHMMSScc
])
def test_dates_and_times_of_eight_digits_are_not_phone_numbers(values):
    assert not phones_found(scan_column("x", values))
