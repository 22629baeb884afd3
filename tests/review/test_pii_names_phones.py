"""Personal names in values, bare Hong Kong numbers and role-named columns (marketplace.review.pii_*)."""
from __future__ import annotations

import io

import pytest

from marketplace.review.pii import personal_column_names, scan_file, scan_text
from marketplace.review.pii_names import STRONG, WEAK, is_chinese_name, mask_name, name_strength
from marketplace.review.pii_phones import is_hk_subscriber_number


def scan_csv(text: str):
    return scan_file(io.BytesIO(text.encode()), filename="x.csv")


def kinds(result) -> set[tuple[str, str]]:
    return {(f.column, f.kind) for f in result.findings}


def column(name: str, values: list[str]) -> str:
    return name + "\n" + "\n".join(values) + "\n"


# --- one value ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["陈大文", "陳大文", "黄志强", "黃志強", "欧阳靖", "歐陽小明", "司马光明", "上官婉儿",
                                   "陳李美華", "李宁", "曾小芬"])
def test_chinese_names_in_both_scripts_and_compound_surnames(value):
    assert is_chinese_name(value)


@pytest.mark.parametrize("value", ["黄大仙", "何文田", "马鞍山", "馬鞍山", "李郑屋", "曾厝垵", "彩虹邨", "陈记茶餐厅",
                                   "陈家桥", "陈记", "黄瓜", "白菜", "方便面", "王府井", "张江路", "李氏大厦",
                                   "何文田邨",
                                   "陈", "陈大文先生你好", "abc", "陈1文", "中西区", "香港"])
def test_places_shops_products_and_other_strings_are_not_chinese_names(value):
    assert not is_chinese_name(value)


@pytest.mark.parametrize("value, strength", [
    ("CHAN Tai Man", STRONG), ("Chan Tai-man", STRONG), ("Tai Man CHAN", STRONG), ("CHAN, Tai Man", STRONG),
    ("ZHANG Wei", STRONG), ("AU YEUNG Ka Wai", STRONG), ("Zhang Wei", WEAK), ("Wang Xiaoming", WEAK),
    ("Chan Tai Man", WEAK), ("CHAN TAI MAN", WEAK), ("Peter CHAN Tai Man", STRONG), ("CHAN Tai Man, Peter", STRONG),
    ("CHAN Tai Man Peter", STRONG), ("陳大文 (CHAN Tai Man)", STRONG), ("陈大文/Chen Dawen", STRONG),
    ("陳大文 CHAN Tai Man", STRONG), ("黄大仙 (Wong Tai Sin)", 0), ("Mary LEE", STRONG), ("Peter Chan", STRONG),
    ("Hotel ICON", 0), ("Lee GARDEN", 0),
    ("Wong Tai Sin", 0), ("Ma On Shan", 0), ("Lee Garden", 0), ("Chan & Co Ltd", 0), ("Wing On Company", 0),
    ("Lee Kum Kee", 0), ("Nathan Road", 0), ("Ngau Tau Kok", 0), ("Peter", 0), ("chan tai man", 0),
    ("CHAN Tai Man Peter Paul", 0),
])
def test_romanised_names(value, strength):
    assert name_strength(value) == strength


def test_masked_names_keep_only_initials():
    assert mask_name("陈大文") == "陈**"
    assert mask_name("CHAN, Tai Man") == "C*** T** M**"


@pytest.mark.parametrize("number, valid", [
    ("21234567", True), ("31234567", True), ("41234567", True), ("51234567", True), ("61234567", True),
    ("91234567", True), ("70123456", True), ("73123456", True), ("74123456", False), ("81234567", True),
    ("83123456", True), ("80012345", False), ("84123456", False), ("11234567", False), ("01234567", False),
    ("1234567", False), ("912345678", False),
])
def test_hong_kong_subscriber_ranges(number, valid):
    assert is_hk_subscriber_number(number) is valid


# --- one column -------------------------------------------------------------------------------------------


def test_a_column_of_names_is_flagged_whatever_its_name():
    names = ["陈大文", "李小明", "黃志強", "張美玲", "欧阳靖", "王芳"]
    result = scan_csv(column("col_b", names))
    finding = next(f for f in result.findings if f.kind == "person_name")
    assert (finding.column, finding.count) == ("col_b", 6) and "*" in finding.example


def test_a_column_of_districts_is_not_flagged():
    districts = ["中西区", "湾仔", "东区", "南区", "油尖旺", "深水埗", "九龙城", "黄大仙", "观塘", "葵青", "荃湾",
                 "屯门", "元朗", "北区", "大埔", "沙田", "西贡", "离岛"]
    english = ["Central and Western", "Wan Chai", "Eastern", "Southern", "Yau Tsim Mong", "Sham Shui Po",
               "Kowloon City", "Wong Tai Sin", "Kwun Tong", "Kwai Tsing", "Tsuen Wan", "Tuen Mun", "Yuen Long",
               "North", "Tai Po", "Sha Tin", "Sai Kung", "Islands"]
    result = scan_csv("district,district_en\n" + "\n".join(f"{a},{b}" for a, b in zip(districts, english)) + "\n")
    assert result.findings == ()


def test_one_place_repeated_down_a_column_is_not_a_name_column():
    result = scan_csv(column("area", ["李宁"] * 20))
    assert result.findings == ()


def test_a_few_names_in_a_column_of_other_text_are_not_enough():
    values = ["陈大文", "李小明", "黃志強"] + [f"Shop {n}" for n in range(10)]
    assert ("remark", "person_name") not in kinds(scan_csv(column("remark", values)))


def test_weak_romanised_names_need_a_larger_share():
    names = ["Chan Tai Man", "Wong Siu Ming", "Lee Ka Wai", "Cheung Mei Ling"]
    assert ("who", "person_name") in kinds(scan_csv(column("who", names)))
    mixed = names + ["Harbour Road", "Victoria Park", "Golden Bauhinia"]  # 4 of 7 weak matches: too few
    assert ("who", "person_name") not in kinds(scan_csv(column("who", mixed)))


def test_a_column_of_bare_hong_kong_numbers_is_flagged_whatever_its_name():
    numbers = ["91234567", "62345678", "23456789", "51234876", "98765432", "36123456"]
    result = scan_csv(column("x", numbers))
    finding = next(f for f in result.findings if f.kind == "hk_phone")
    assert finding.count == 6 and finding.example == "91****67"


@pytest.mark.parametrize("name, values", [
    ("x", [f"{20240101 + d}" for d in range(0, 28)]),  # dates
    ("x", [str(30000001 + n) for n in range(40)]),  # sequential ids
    ("x", [f"9001{n:04d}" for n in range(0, 4000, 97)]),  # codes under one prefix
    ("population", ["23456789", "31234567", "52345678", "61234567", "91234567"]),  # a count, by its name
    ("x", [str(n) for n in (10234567, 12345678, 23456789, 15678901, 34567890, 11111111, 19876543)]),  # too few valid
])
def test_eight_digit_counts_dates_ids_and_codes_are_not_phone_numbers(name, values):
    assert scan_csv(column(name, values)).findings == ()


# --- column names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["holder", "licence_holder", "applicant", "Applicant Name", "contact", "patient",
                                  "patient_id", "owner", "vehicle_owner", "guardian", "tenant", "driver",
                                  "passenger", "employee", "student_no", "resident", "licensee", "beneficiary",
                                  "recipient", "customer", "member", "持有人", "申请人", "申請人", "联系人", "聯絡人",
                                  "患者", "病人", "业主", "業主", "监护人", "監護人", "租客", "司机", "司機", "乘客",
                                  "员工", "員工", "学生", "學生", "居民", "收件人", "客户", "客戶"])
def test_role_nouns_name_a_person(name):
    assert personal_column_names([name]) == [name]


@pytest.mark.parametrize("name", ["owner_type", "holder_count", "contact_hours", "patient_count", "patients",
                                  "number_of_students", "member_since", "user_agent", "owner_occupied",
                                  "student_ratio", "患者人数", "學生人數", "业主类型", "客户数量", "員工總數",
                                  "居民人口", "會員等級", "业主立案法团"])
def test_counts_codes_and_properties_of_a_role_do_not(name):
    assert personal_column_names([name]) == []


def test_placeholders_count_neither_for_nor_against_names():
    names = ["陈大文", "N/A", "李小明", "-", "黃志強", "未提供", "無", "张美玲"]
    result = scan_csv(column("col", names))
    assert next(f.count for f in result.findings if f.kind == "person_name") == 4


@pytest.mark.parametrize("value", ["7c1e0d2a-7307-5512-9a1b-3c4d5e6f7a8b", "a1b2c3d4-2345-6789-abcd-ef0123456789"])
def test_digit_groups_inside_a_uuid_are_not_phone_numbers(value):
    from marketplace.review.pii import scan_text

    assert scan_text(value, phone_column=True) == {}
    assert scan_text("call +852-2345-6789 or 2345-6789 now") == {"hk_phone": "23****89"}


@pytest.mark.parametrize("value", [
    "(852) 91234567", "(+852) 91234567", "(852)9123 4567", "Tel: 91234567", "tel.91234567", "Telephone 21234567",
    "電話：91234567", "手机 61234567", "91234567 ext 12", "21234567 轉 305", "Fax: 31234567",
])
def test_a_hong_kong_number_written_as_a_phone_number_is_found_in_any_column(value):
    assert "hk_phone" in scan_text(value)


@pytest.mark.parametrize("value", [
    "91234567", "ticket 31234567", "Hotel 23456789", "AX91234567", "x 91234567", "2014-2015", "Room 2123 4567x",
])
def test_eight_digits_without_a_phone_cue_are_left_to_the_column_rules(value):
    assert "hk_phone" not in scan_text(value)
