"""Column-level name rules: product and brand columns repeat a handful of surname-led words and are not names;
romanised names with the given name first are found; place names shaped like them are not."""
from __future__ import annotations

import io
import random

import pytest

from marketplace.review.pii import ScanResult, scan_file
from marketplace.review.pii_names import STRONG, WEAK, name_strength

rng = random.Random(5)


def scan_column(column: str, values: list[str]) -> ScanResult:
    data = (column + "\n" + "\n".join(values) + "\n").encode()
    return scan_file(io.BytesIO(data), filename="a.csv")


def names_found(result: ScanResult) -> bool:
    return any(f.kind == "person_name" for f in result.findings)


@pytest.mark.parametrize("column, values", [
    ("品种", ["黄金", "白银", "白金", "钯金"]), ("variety", ["黃金", "白銀", "白金"]),
    ("fruit", ["杨梅", "李子", "石榴", "龙眼", "荔枝", "柚子"]),
    ("brand", ["周大福", "周生生", "謝瑞麟", "六福", "景福"]),
])
def test_surname_led_products_and_brands_are_not_names(column, values):
    assert not names_found(scan_column(column, values * 20))
    assert not any(name_strength(v) for v in values)  # the table of surname-led words


def test_a_handful_of_name_shaped_values_repeated_is_a_product_column_not_a_names_column():
    made_up_brands = ["陈美华", "林志明", "黄嘉欣", "何文伟"]  # name-shaped, not in any table
    assert all(name_strength(v) == STRONG for v in made_up_brands)
    assert not names_found(scan_column("brand", made_up_brands * 10))
    assert names_found(scan_column("brand", made_up_brands * 4))  # under 20 matches the rule does not apply


def test_a_names_column_has_many_distinct_values():
    names = [rng.choice("陈林黄何张李王刘") + rng.choice("伟芳娜敏静丽强磊军洋") + rng.choice("明华杰文嘉欣")
             for _ in range(500)]
    assert names_found(scan_column("x", names))


SURNAMES = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Leung", "Lam", "Tsang", "Yeung", "Ng", "Kwok", "Chow", "Mak"]
GIVEN = ["Tai Man", "Siu Ming", "Ka Yan", "Wing Kit", "Chi Keung", "Mei Ling", "Wai Man", "Ka Ho", "Hoi Yan"]
ENGLISH = ["Peter", "Mary", "John", "Karen", "Eric", "Ivy", "Kelvin", "Winnie", "Jason", "Cathy"]


@pytest.mark.parametrize("value, strength", [
    ("Tai-man Chan", STRONG), ("Siu-ming Wong", STRONG), ("Peter Chan", STRONG), ("Winnie Yip", STRONG),
    ("Peter Chan Tai Man", STRONG), ("Karen Ng Ka Ho", STRONG), ("Tai Man Chan", WEAK), ("Ka Yan Cheung", WEAK),
    ("Ma On Shan", 0), ("Wong Tai Sin", 0), ("Lee Garden", 0), ("Tai Po", 0), ("Kwun Tong", 0), ("Sau Mau Ping", 0),
    ("Lok Fu", 0), ("Garden Lee", 0), ("Zhangwei", 0),
])
def test_romanised_names_with_the_given_name_first(value, strength):
    assert name_strength(value) == strength


@pytest.mark.parametrize("make", [
    lambda: f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
    lambda: f"{rng.choice(GIVEN).replace(' ', '-', 1).capitalize()} {rng.choice(SURNAMES)}",
    lambda: f"{rng.choice(ENGLISH)} {rng.choice(SURNAMES)}",
    lambda: f"{rng.choice(ENGLISH)} {rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
])
def test_columns_of_given_name_first_names_are_found(make):
    assert names_found(scan_column("x", [make() for _ in range(60)]))


def test_place_columns_shaped_like_given_name_first_names_are_not():
    places = ["Ma On Shan", "Wong Tai Sin", "Lee Garden", "Tai Po", "Kwun Tong", "Sau Mau Ping", "Tai Hang Tung",
              "Choi Hung", "Lok Fu", "Tin Shui Wai", "Tsuen Wan", "Sheung Shui", "Lam Tin", "Yau Tong", "Po Lam",
              "Hang Hau", "Tiu Keng Leng", "Siu Hong", "Kam Sheung Road", "Long Ping", "Tuen Mun", "Chai Wan"]
    assert not names_found(scan_column("area", places * 3))
