"""A generated corpus for the personal-information scanner: CSV and JSON files whose columns are labelled with the
kinds of personal information they hold (or none), positives for every kind and look-alikes that must not count.

Every value is made up from a fixed seed: names are surnames joined to given names drawn from short lists of
common given-name characters and syllables, numbers are random within their formats, with valid check digits
where the format has one. No real person's data is copied. Run ``python -m tests.review.corpus.generate DIR`` to
write the files and ``DIR/labels.json`` ({file: {column: [kinds]}}).
"""
from __future__ import annotations

import csv
import io
import json
import random
import string
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20241205
ROW_COUNTS = (8, 25, 60, 120, 400)  # one batch of files per row count: small samples are the hard case

ZH_SURNAMES = "陈李黄张王刘杨吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蔡叶苏吕卢钟谭陆范金石廖邱"
ZH_COMPOUND = ["欧阳", "司马", "上官", "诸葛", "司徒", "东方", "慕容"]
ZH_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞刚英华玉萍文辉建志俊嘉欣慧婷雅怡浩宇轩晨思颖诗梓伦卓琳晓小美玲德荣健"
            "永家子宏")
ZH_RARE_GIVEN = "巍淼犇骞彧翊珏昕晞钊炅冕砚堃垚"  # rarer given-name characters, one given character in seven
TRADITIONAL = dict(zip("陈黄张刘杨吴孙马郑罗谢许韩冯邓萧叶苏吕卢钟谭陆欧阳马诸东伟丽军艳杰涛华辉颖诗伦晓荣宏",
                       "陳黃張劉楊吳孫馬鄭羅謝許韓馮鄧蕭葉蘇呂盧鍾譚陸歐陽馬諸東偉麗軍艷傑濤華輝穎詩倫曉榮宏"))
HK_SURNAMES = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Lam", "Tsang", "Yip", "Chow", "Tang",
               "Law", "Kwok", "Cheng", "Yeung", "Fung", "Mak", "Tse", "Siu", "Choi", "Poon", "Chu", "Yuen", "Kwan",
               "Hui", "Ko", "Lui", "Tam", "Au Yeung", "Szeto"]
HK_GIVEN = ["Tai", "Man", "Siu", "Ming", "Ka", "Wai", "Chi", "Kit", "Wing", "Yan", "Mei", "Ling", "Hoi", "Yee", "Sze",
            "Ho", "Kin", "Chun", "Fai", "Hung", "Kwok", "Keung", "Lok", "Shing", "Sum", "Yuk", "Pui", "Kam", "Lai",
            "Wah", "Hei", "Tsz", "Yiu", "Tak", "Chung", "On", "Pak", "Nam", "Hin", "Ching", "Suet", "Wun", "Kei"]
PY_SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
               "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng",
               "Ouyang"]
PY_GIVEN = ["Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao",
            "Ming", "Chao", "Xiu", "Xia", "Ping", "Gang", "Hua", "Yu", "Hong", "Wen", "Hui", "Jian", "Zhi", "Xin",
            "Ting", "Ya", "Yi", "Hao", "Chen", "Si", "Ying", "Shi", "Zi", "Xuan", "Xiao", "Hai", "Bo", "Lan", "Qing"]

# Look-alikes: surname-led places, streets, estates, shops, companies and products.
HK_DISTRICTS_ZH = ["中西区", "湾仔", "东区", "南区", "油尖旺", "深水埗", "九龙城", "黄大仙", "观塘", "葵青", "荃湾",
                   "屯门", "元朗", "北区", "大埔", "沙田", "西贡", "离岛"]
HK_DISTRICTS_EN = ["Central and Western", "Wan Chai", "Eastern", "Southern", "Yau Tsim Mong", "Sham Shui Po",
                   "Kowloon City", "Wong Tai Sin", "Kwun Tong", "Kwai Tsing", "Tsuen Wan", "Tuen Mun", "Yuen Long",
                   "North", "Tai Po", "Sha Tin", "Sai Kung", "Islands"]
# Villages and estates not in the scanner's place table: how it fares on places it was not told about.
HK_VILLAGES_EN = ["Lung Yeuk Tau", "Kwu Tung", "Ping Che", "Ta Kwu Ling", "Man Kam To", "Sha Tau Kok", "Lin Ma Hang",
                  "Hok Tau", "Wo Hop Shek", "Shek Wu Hui", "Luen Wo Hui", "Tai Po Kau", "Ma Liu Shui", "Sai Sha",
                  "Tai Mong Tsai", "Pak Sha Wan", "Yau Yue Wan", "Tai Lam Chung", "So Kwun Wat", "Yuen Kong",
                  "Shek Kong", "Ngau Tam Mei", "San Tin", "Mai Po", "Nam Sang Wai", "Ha Pak Nai", "Tuen Tsz Wai",
                  "Fu Tei", "Chung Uk Tsuen", "Wong Uk", "Ho Sheung Heung", "Fanling Wai", "Tsung Pak Long",
                  "Kam Tin", "Choi Hung Estate", "Wah Fu Estate", "Lei Muk Shue", "Cheung Wah Estate"]
HK_ESTATES_ZH = ["彩虹邨", "华富邨", "石硖尾邨", "秀茂坪", "顺利邨", "爱民邨", "黄大仙下邨", "何文田邨", "乐华邨",
                 "李郑屋邨", "牛头角", "长康邨", "梁屋村", "陈屋村", "黄泥涌", "马鞍山村", "曾大屋",
                  "吴屋村", "杨屋道", "林村"]
STREETS_ZH = ["弥敦道", "皇后大道中", "轩尼诗道", "德辅道中", "英皇道", "彌敦道", "陈东路", "张江路", "李宝街",
              "黄竹街", "王府井大街", "南京东路", "何文田街", "马头围道", "高士威道", "周家巷",
               "林荫大道", "宋城路", "汤臣一品"]
STREETS_EN = ["Nathan Road", "Queen's Road Central", "Hennessy Road", "Des Voeux Road", "King's Road",
              "Lee Garden Road", "Chan Street", "Wong Chuk Hang Road", "Ho Man Tin Street", "Ma Tau Wai Road",
              "Tung Chung Road",
              "Lam Tin Street", "Kwok Shui Road", "Cheung Sha Wan Road", "Lai Chi Kok Road", "Tai Po Road"]
COMPANIES_ZH = ["陈记茶餐厅", "李氏贸易有限公司", "黄氏集团", "张记", "王府饭店", "刘记烧腊", "何东中学", "马会",
                "杨氏大厦", "周生生", "郑记冰室", "林氏医院", "梁记", "谢瑞麟珠宝", "曾记粿品", "许留山", "冯氏集团",
                "邓记车仔面"]
COMPANIES_EN = ["Chan & Co Ltd", "Wing On Company", "Lee Kum Kee", "Wong's Holdings Limited", "Cheung Kong Holdings",
                "Lau Brothers Trading", "Ho Tung Gardens", "Tse Sui Luen Jewellery", "Chow Tai Fook", "Hui Lau Shan",
                "Fung Group", "Kee Wah Bakery", "Tam Jai Noodle", "Lam Soon Company"]
PRODUCTS_ZH = ["白菜", "黄瓜", "牛奶", "方便面", "花生油", "马铃薯", "金针菇", "石斑鱼", "包子", "毛巾", "江米", "黄豆",
               "高粱", "白酒", "红茶", "葛根粉", "田螺", "龙眼", "杨桃", "胡萝卜", "何首乌", "朱古力", "马蹄糕", "陈皮"]
# Public housing estates (English names, not in the scanner's place table): many are two syllables shaped like a
# surname and a given name ("Shun Lee", "Lee On", "Oi Man").
ESTATES_EN = ["Kwong Tin", "Sau Mau Ping", "Shun Lee", "Shun Tin", "On Tat", "Po Tat", "Kai Yip", "Ping Tin",
              "Hong Tin", "Ko Yee", "Tung Tau", "Tsz Ching", "Chuk Yuen", "Fung Tak", "Fu Shan", "Choi Wan", "Choi Fai",
              "So Uk", "Fu Cheong", "Hoi Lai", "Pak Tin", "Nam Shan", "Tai Hang Tung", "Chak On", "Oi Man", "Chun Man",
              "Sheung Lok", "Lei On", "Yiu On", "Kam Ying", "Chung On", "Fu On", "Lee On", "Kwong Yuen", "Mei Lam",
              "Sha Kok", "Pok Hong", "Jat Min", "Shek Mun", "Sun Chui", "Chun Shek", "Hin Keng", "Lung Hang", "Wo Che",
              "Lek Yuen", "Tai Wo", "Fu Heng", "Fu Shin", "Kwong Fuk", "Tai Yuen", "Wah Ming", "Ching Ho",
              "Cheung Wah", "Tin Ping", "Choi Yuen", "Long Ping", "Tin Yiu", "Tin Tsz", "Tin Heng", "Tin Yan",
              "Kin Sang", "Yau Oi", "Leung King", "Tai Hing", "Sam Shing", "Shan King", "Wu King", "On Ting",
              "Cheung Shan", "Lai Yiu", "Shek Yam", "Kwai Shing", "Cheung Ching", "Cheung Hong", "Cheung On",
              "Ching Tai", "Cheung Fat", "Mei Tin", "Yat Tung", "Fu Tung"]
PLACES_3_EN = ["Ma On Shan", "Wong Tai Sin", "Lee Garden", "Tai Po", "Kwun Tong", "Sau Mau Ping", "Tin Shui Wai",
               "Tiu Keng Leng", "Lok Fu", "Choi Hung", "Tsuen Wan", "Sheung Shui", "Yau Tong", "Po Lam", "Hang Hau",
               "Siu Hong", "Long Ping", "Chai Wan", "Lam Tin", "Kwai Hing", "Tai Wai", "Fo Tan", "Kam Tin"]
# Surname-led goods and brands a product or price list repeats: metals, fruit, jewellers.
GOODS_ZH = ["黄金", "白银", "白金", "钯金", "黃金", "白銀", "杨梅", "李子", "石榴", "龙眼", "荔枝", "柚子",
            "周大福", "周生生", "謝瑞麟", "六福", "景福"]
ENGLISH_GIVEN = ["Peter", "Mary", "John", "Karen", "Eric", "Ivy", "Kelvin", "Winnie", "Jason", "Cathy"]
PRODUCTS_EN = ["Jasmine Rice", "Soy Sauce", "Oyster Sauce", "Egg Tart", "Milk Tea", "Wonton Noodles", "Pineapple Bun",
               "Bok Choy", "Choi Sum", "Gai Lan", "Siu Mai", "Har Gow", "Char Siu", "Lo Mai Gai", "Cheung Fun"]


# The class of each generated column, for the per-class table: positives first, then look-alikes.
CLASSES = {
    "Chinese names, Simplified": ["col_a", "持有人"], "Chinese names, Traditional": ["col_b"],
    "Chinese names, both scripts and placeholders": ["col_c", "person.name"],
    "names in Chinese and English": ["col_d"],
    "Hong Kong romanised names": ["client", "english_name"], "pinyin names": ["pinyin"],
    "role-named columns": ["licence_holder", "applicant", "申請人", "监护人", "業主", "patient"],
    "bare Hong Kong numbers": ["x1", "x2", "person.phone"], "spaced or +852 Hong Kong numbers": ["x3", "tel852"],
    "identifiers (HKID, resident id, card)": ["record", "id_no", "pan"], "e-mail": ["mail"],
    "mainland mobiles": ["mobile_cn"],
    "districts": ["地区", "district"], "villages and estates": ["village", "屋邨"], "streets": ["街道", "street"],
    "shops and companies": ["商户", "shop"], "products": ["商品", "item", "remark"],
    "text with a name inside": ["备注"],
    "counts and properties of a role": ["owner_type", "holder_count", "contact_hours", "patient_count", "患者人数",
                                        "业主类型"],
    "8-digit dates": ["day", "visited"], "sequential ids": ["ref", "row", "编号", "id"],
    "8-digit codes, counts and amounts": ["batch_code", "population", "amount", "code8", "station_code", "reading"],
    "names in nested JSON (CKAN, by id, lists, geo)": [
        "holder_name", "person.contact.full", "members[].m", "owner_name", "info.owner.n"],
    "Hong Kong numbers in nested JSON": ["phone", "person.contact.tel", "x9", "tel"],
    "Hong Kong names, given name first": ["given_first", "hyphen_first", "english_first"],
    "HK numbers: placeholders, sorted, JSON floats": ["x4", "x5", "n1"],
    "estates and three-word places": ["estate", "estate_name", "place3"],
    "surname-led goods and brands": ["品种", "brand"],
    "8-digit amounts and ids named as such": ["金额", "人次", "收入(港元)", "年度開支", "visitors", "passenger_trips",
                                             "revenue_hkd", "budget", "case_no", "licence_no", "編號", "spend"],
    "8-digit quantities beside other lengths": ["col_q", "nested.total_q"],
}
CLASS_OF = {column: cls for cls, columns in CLASSES.items() for column in columns}


def _mixed_scripts(text: str, rng: random.Random) -> str:
    return "".join(TRADITIONAL.get(c, c) for c in text) if rng.random() < 0.5 else text


def zh_name(rng: random.Random, traditional: bool) -> str:
    surname = rng.choice(ZH_COMPOUND) if rng.random() < 0.08 else rng.choice(ZH_SURNAMES)
    given = "".join(rng.choice(ZH_RARE_GIVEN if rng.random() < 1 / 7 else ZH_GIVEN)
                    for _ in range(1 if rng.random() < 0.3 else 2))
    name = surname + given
    return "".join(TRADITIONAL.get(c, c) for c in name) if traditional else name


def hk_name(rng: random.Random) -> str:
    surname = rng.choice(HK_SURNAMES)
    given = [rng.choice(HK_GIVEN) for _ in range(1 if rng.random() < 0.1 else 2)]
    form = rng.randrange(9)
    english = rng.choice(["Peter", "Mary", "Winnie", "Kelvin", "Ivy", "Ka Ho"])
    if form == 7:  # an English given name and the surname
        return f"{english} {surname.upper()}"
    if form == 8:  # a surname without a given name: not a name on its own, the column must still be found
        return surname
    if form == 0:
        return f"{surname.upper()} {' '.join(given)}"
    if form == 1:
        return f"{surname} {given[0]}-{given[1].lower()}" if len(given) == 2 else f"{surname} {given[0]}"
    if form == 2:
        return f"{' '.join(given)} {surname.upper()}"
    if form == 3:
        return f"{surname.upper()}, {' '.join(given)}"
    if form == 4:
        return f"{surname} {' '.join(given)}"
    return f"{surname.upper()} {' '.join(given)}"


def given_first_name(rng: random.Random, form: str) -> str:
    surname, given = rng.choice(HK_SURNAMES[:-2]), [rng.choice(HK_GIVEN) for _ in range(2)]
    if form == "plain":  # "Tai Man Chan"
        return f"{' '.join(given)} {surname}"
    if form == "hyphen":  # "Tai-man Chan"
        return f"{given[0]}-{given[1].lower()} {surname}"
    english = rng.choice(ENGLISH_GIVEN)  # "Peter Chan", "Peter Chan Tai Man"
    return f"{english} {surname}" if rng.random() < 0.5 else f"{english} {surname} {' '.join(given)}"


def pinyin_name(rng: random.Random) -> str:
    surname = rng.choice(PY_SURNAMES)
    given = rng.choice(PY_GIVEN) + (rng.choice(PY_GIVEN).lower() if rng.random() < 0.6 else "")
    return f"{surname.upper()} {given}" if rng.random() < 0.3 else f"{surname} {given}"


def hk_mobile(rng: random.Random) -> str:
    return rng.choice("569") + "".join(rng.choice(string.digits) for _ in range(7))


def hk_number(rng: random.Random) -> str:
    first = rng.choice(["2", "3", "5", "6", "9", "9", "6", "5", "4", "70", "81"])
    return first + "".join(rng.choice(string.digits) for _ in range(8 - len(first)))


def hkid(rng: random.Random) -> str:
    letter, digits = rng.choice(string.ascii_uppercase), "".join(rng.choice(string.digits) for _ in range(6))
    total = 36 * 9 + (ord(letter) - 55) * 8 + sum(int(d) * w for d, w in zip(digits, range(7, 1, -1)))
    check = (11 - total % 11) % 11
    return f"{letter}{digits}({'A' if check == 10 else check})"


def resident_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
    body = f"{rng.choice(['310101', '440305', '110105', '320102'])}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def bank_card(rng: random.Random) -> str:
    body = "622202" + "".join(rng.choice(string.digits) for _ in range(9))
    for check in string.digits:
        digits = [int(c) for c in body + check][::-1]
        if sum(d if i % 2 == 0 else (2 * d if d < 5 else 2 * d - 9) for i, d in enumerate(digits)) % 10 == 0:
            return body + check
    raise AssertionError


def email(rng: random.Random) -> str:
    user = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))
    return f"{user}{rng.randrange(100)}@{rng.choice(['example.com', 'example.org', 'mail.example.hk'])}"


def _files(rng: random.Random, ROWS: int) -> dict[str, tuple[dict[str, list[str]], dict[str, list[str]]]]:  # noqa: N803
    """{filename: (columns, labels)}: each column's values, and the kinds each column holds."""

    def _column(rng: random.Random, make, blanks: float = 0.05) -> list[str]:
        return ["" if rng.random() < blanks else make(rng) for _ in range(ROWS)]

    def _cycle(values: list[str], rng: random.Random) -> list[str]:
        return [rng.choice(values) for _ in range(ROWS)]

    start = date(2024, 1, 1)
    seq0 = rng.randrange(20_000_000, 39_000_000)
    files = {
        "members_zh.csv": {
            "编号": ([f"M{n:05d}" for n in range(ROWS)], []),
            "col_a": (_column(rng, lambda r: zh_name(r, False)), ["person_name"]),
            "col_b": (_column(rng, lambda r: zh_name(r, True)), ["person_name"]),
            "col_c": (_column(rng, lambda r: r.choice(["N/A", "-", "未提供"]) if r.random() < 0.25
                              else zh_name(r, r.random() < 0.5)), ["person_name"]),
            "col_d": (_column(rng, lambda r: f"{zh_name(r, True)} ({hk_name(r)})"), ["person_name"]),
            "备注": (_column(rng, lambda r: f"请联系{zh_name(r, False)}" if r.random() < 0.3 else "已完成"), []),
            "地区": (_cycle(HK_DISTRICTS_ZH, rng), []),
            "屋邨": (_cycle(HK_ESTATES_ZH, rng), []),
            "街道": (_cycle(STREETS_ZH, rng), []),
            "商户": (_cycle(COMPANIES_ZH, rng), []),
            "商品": (_cycle(PRODUCTS_ZH, rng), []),
        },
        "clients_hk.csv": {
            "ref": ([f"{seq0 + n}" for n in range(ROWS)], []),  # sequential ids in a phone-like range
            "client": (_column(rng, hk_name), ["person_name", "column_name"]),
            "english_name": (_column(rng, hk_name), ["person_name", "column_name"]),
            "district": (_cycle(HK_DISTRICTS_EN, rng), []),
            "village": (_cycle(HK_VILLAGES_EN, rng), []),
            "street": (_cycle(STREETS_EN, rng), []),
            "shop": (_cycle(COMPANIES_EN, rng), []),
            "item": (_cycle(PRODUCTS_EN, rng), []),
            "x1": (_column(rng, hk_number), ["hk_phone"]),
            "x2": (_column(rng, hk_mobile), ["hk_phone"]),
            "x3": (_column(rng, lambda r: f"{hk_number(r)[:4]} {hk_number(r)[4:]}"), ["hk_phone"]),
        },
        "mainland.csv": {
            "row": ([str(n + 1) for n in range(ROWS)], []),
            "pinyin": (_column(rng, pinyin_name), ["person_name"]),
            "持有人": (_column(rng, lambda r: zh_name(r, False)), ["person_name", "column_name"]),
            "mobile_cn": (_column(rng, lambda r: "1" + r.choice("3456789") + "".join(
                r.choice(string.digits) for _ in range(9))), ["cn_mobile", "column_name"]),
            "id_no": (_column(rng, resident_id), ["cn_resident_id"]),
            "day": ([f"{start + timedelta(days=n):%Y%m%d}" for n in range(ROWS)], []),
            "batch_code": ([f"9001{rng.randrange(10_000):04d}" for _ in range(ROWS)], []),
            "population": ([str(rng.randrange(2_000_000, 39_000_000)) for _ in range(ROWS)], []),
            "amount": ([str(int(10 ** rng.uniform(7, 8))) for _ in range(ROWS)], []),
            "code8": ([f"{rng.randrange(10_000_000, 100_000_000)}" for _ in range(ROWS)], []),
        },
        "roles.csv": {
            "licence_holder": (_column(rng, lambda r: f"H{r.randrange(10**6):06d}"), ["column_name"]),
            "applicant": (_column(rng, lambda r: f"A-{r.randrange(10**5)}"), ["column_name"]),
            "申請人": (_column(rng, lambda r: f"#{r.randrange(10**4)}"), ["column_name"]),
            "监护人": (_column(rng, lambda r: f"G{r.randrange(999)}"), ["column_name"]),
            "業主": (_column(rng, lambda r: r.choice(["甲", "乙", "丙"])), ["column_name"]),
            "patient": (_column(rng, lambda r: f"P{r.randrange(10**5):05d}"), ["column_name"]),
            "owner_type": (_cycle(["individual", "company", "government"], rng), []),
            "holder_count": ([str(rng.randrange(50)) for _ in range(ROWS)], []),
            "contact_hours": (_cycle(["09:00-18:00", "10:00-22:00"], rng), []),
            "patient_count": ([str(rng.randrange(500)) for _ in range(ROWS)], []),
            "患者人数": ([str(rng.randrange(500)) for _ in range(ROWS)], []),
            "业主类型": (_cycle(["个人", "公司"], rng), []),
        },
        "identifiers.csv": {
            "record": (_column(rng, hkid), ["hkid"]),
            "mail": (_column(rng, email), ["email"]),
            "tel852": (_column(rng, lambda r: f"+852 {hk_mobile(r)[:4]} {hk_mobile(r)[4:]}"),
                       ["hk_phone", "column_name"]),
            "pan": (_column(rng, bank_card), ["bank_card"]),
            "station_code": (_column(rng, lambda r: f"S{r.randrange(10**4):04d}"), []),
            "reading": ([f"{rng.uniform(0, 100):.2f}" for _ in range(ROWS)], []),
        },
    }
    def amounts(rng: random.Random) -> list[str]:
        return [str(rng.randrange(20_000_000, 70_000_000)) for _ in range(ROWS)]

    files["given_first.csv"] = {
        "given_first": (_column(rng, lambda r: given_first_name(r, "plain")), ["person_name"]),
        "hyphen_first": (_column(rng, lambda r: given_first_name(r, "hyphen")), ["person_name"]),
        "english_first": (_column(rng, lambda r: given_first_name(r, "english")), ["person_name"]),
        "x4": ([r if rng.random() < 0.7 else rng.choice(["N/A", "-", "未提供", "n/a"])
                for r in (hk_number(rng) for _ in range(ROWS))], ["hk_phone"]),
        "x5": (sorted(hk_mobile(rng) for _ in range(ROWS)), ["hk_phone"]),
        "estate": (_cycle(ESTATES_EN, rng), []),
        "estate_name": ([f"{e} Estate" for e in _cycle(ESTATES_EN, rng)], []),
        "place3": (_cycle(PLACES_3_EN, rng), []),
        "品种": (_cycle(GOODS_ZH[:6], rng), []),
        "brand": (_cycle(GOODS_ZH[6:], rng), []),
        "col_q": ([str(rng.randrange(1_000_000, 9_999_999) if n % 5 == 2 else rng.randrange(20_000_000, 70_000_000))
                   for n in range(ROWS)], []),
        **{c: (amounts(rng), []) for c in CLASSES["8-digit amounts and ids named as such"]},
    }
    json_records = [{"id": n, "person": {"name": zh_name(rng, rng.random() < 0.5), "phone": hk_number(rng)},
                     "district": rng.choice(HK_DISTRICTS_EN), "visited": f"{start + timedelta(days=n):%Y%m%d}",
                     "remark": rng.choice(PRODUCTS_EN)} for n in range(ROWS)]
    out = {name: ({c: v for c, (v, _) in cols.items()}, {c: k for c, (_, k) in cols.items()})
           for name, cols in files.items()}
    out["visits.json"] = ({"records": json_records}, {  # type: ignore[dict-item]
        "id": [], "person.name": ["person_name", "column_name"], "person.phone": ["hk_phone", "column_name"],
        "district": [], "visited": [], "remark": []})
    # Nested JSON: a CKAN datastore answer, records keyed by id with persons two levels down and lists inside,
    # CKAN's records as lists named by its fields, and GeoJSON with nested properties.
    ckan = {"success": True, "result": {"resource_id": "r1", "records": [
        {"_id": n + 1, "holder_name": zh_name(rng, rng.random() < 0.5), "phone": hk_mobile(rng),
         "district": rng.choice(HK_DISTRICTS_EN)} for n in range(ROWS)]}}
    out["datastore.json"] = ({"document": ckan}, {  # type: ignore[dict-item]
        "_id": [], "holder_name": ["person_name", "column_name"], "phone": ["hk_phone", "column_name"],
        "district": [], "resource_id": []})
    keyed = {"records": {str(1000 + n): {
        "person": {"contact": {"full": zh_name(rng, True), "tel": hk_number(rng)}},
        "members": [{"m": zh_name(rng, False)} for _ in range(2)], "n1": int(hk_mobile(rng)) * 1.0,
        "nested": {"total_q": rng.randrange(1_000_000, 9_999_999) if n % 5 == 2 else rng.randrange(20_000_000,
                                                                                                   70_000_000)}}
        for n in range(ROWS)}}
    out["keyed.json"] = ({"document": keyed}, {  # type: ignore[dict-item]
        "person.contact.full": ["person_name", "column_name"], "person.contact.tel": ["hk_phone", "column_name"],
        "members[].m": ["person_name"], "n1": ["hk_phone"], "nested.total_q": []})
    rows = {"fields": [{"id": "owner_name", "type": "text"}, {"id": "x9", "type": "text"}, {"id": "spend"}],
            "records": [[zh_name(rng, False), hk_mobile(rng), rng.randrange(20_000_000, 70_000_000)]
                        for _ in range(ROWS)]}
    out["rows.json"] = ({"document": rows}, {  # type: ignore[dict-item]
        "owner_name": ["person_name", "column_name"], "x9": ["hk_phone"], "spend": [],
        "fields[].id": [], "fields[].type": []})
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114 + rng.random(), 22 + rng.random()]},
         "properties": {"info": {"owner": {"n": zh_name(rng, True)}}, "tel": hk_number(rng)}} for _ in range(ROWS)]}
    out["parcels.geojson"] = ({"document": geo}, {  # type: ignore[dict-item]
        "info.owner.n": ["person_name"], "tel": ["hk_phone", "column_name"]})
    return out


def generate(directory: Path, seed: int = SEED) -> dict[str, dict[str, list[str]]]:
    """Write the corpus files into ``directory`` and return their labels: {file: {column: [kinds]}}."""
    rng = random.Random(seed)
    labels = {}
    batches = [(f"{rows}rows_{name}", files) for rows in ROW_COUNTS for name, files in _files(rng, rows).items()]
    for filename, (columns, kinds) in batches:
        if "document" in columns:
            body = json.dumps(columns["document"], ensure_ascii=False)
        elif filename.endswith(".json"):
            body = json.dumps(columns["records"], ensure_ascii=False)
        else:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(zip(*columns.values()))
            body = buf.getvalue()
        (directory / filename).write_text(body, encoding="utf-8")
        labels[filename] = kinds
    (directory / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    return labels


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    target.mkdir(parents=True, exist_ok=True)
    print(json.dumps(generate(target), ensure_ascii=False, indent=1))
