"""Personal names in column values: Chinese names led by a surname, and romanised Hong Kong and mainland names.

One value alone says little ("黄大仙" is a district, "Wong Tai Sin" too, "李宁" is a brand and a person), so a
column is judged by the share of its text values that read as names, with a few rules per value:

* **Chinese**: two to four CJK ideographs, led by a surname from ``data/names/zh_surnames.txt`` (one or two
  characters, Simplified or Traditional), followed by a one- or two-character given name; four characters only
  after a compound surname or as a married woman's double surname (陳李美華). A value ending in a character that
  names a place, organisation or product (路 街 區 村 站 記 菜 ...), or holding an organisation word anywhere
  (公司 银行 中心 ...), is not a name. The match is *strong* when the given name is made of characters common in
  given names (``data/names/zh_given_chars.txt``: 伟 芳 嘉 欣 ...), else *weak* ("田螺", "陈皮" are weak at most).
* **Romanised**: a surname from ``data/names/romanised_surnames.txt`` and a given name of one to three syllables,
  each a valid Cantonese (Hong Kong Government romanisation) or Hanyu Pinyin syllable: ``CHAN Tai Man``,
  ``Chan Tai-man``, ``Tai Man CHAN``, ``CHAN, Tai Man``, ``Zhang Wei``, ``Wang Xiaoming``, also beside an English
  given name (``Peter CHAN Tai Man``, ``CHAN Tai Man, Peter``, ``Peter CHAN``). The forms only people's
  names take (an upper-case surname beside a mixed-case given name, a comma after the surname, a hyphenated
  given name) are *strong*; ``Chan Tai Man`` and ``CHAN TAI MAN`` are *weak*, as street and place names are
  written that way too.

Values equal to a listed place (``data/names/places.txt``) or to a common surname-led word or brand
(``data/names/surname_nouns.txt``: 黄金, 荔枝, 周大福 ...) never count. ``Tai-man Chan`` and ``Peter Chan``
(a hyphenated or English given name, from ``data/names/english_given.txt``, before a title-case surname) are
strong, ``Tai Man Chan`` weak, and never when the last word is one places end in (``Ma On Shan``). Joined
pinyin without a space (``Zhangwei``) is not read as a name. A column is a name column when at least
``MIN_NAMES`` distinct values match and either 60% of its text values match with a third of the matches strong,
or 80% match; and, once ``CARDINALITY_FROM`` values match, when its distinct matches are at least
``DISTINCT_SHARE`` of them (a product or brand column repeats a handful). Memory per column is a few counters and
at most ``MAX_DISTINCT`` hashes of values.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "names"
WEAK, STRONG = 1, 2
SHARE, WEAK_SHARE, STRONG_PART = 0.6, 0.8, 1 / 3
MIN_NAMES = 3
# A names column has many distinct values; a product, brand or grade column repeats a handful. Once a column has
# CARDINALITY_FROM matching values, its distinct matches must reach DISTINCT_SHARE of them (or MAX_DISTINCT).
CARDINALITY_FROM = 20
DISTINCT_SHARE = 0.2
MAX_DISTINCT = 128
MAX_NAME_CHARS = 40
# Values that stand for "no value" in a column; they count neither for nor against names.
PLACEHOLDERS = frozenset({"n/a", "na", "nil", "null", "none", "-", "--", "/", "?", "unknown", "not provided", "tbc",
                          "无", "無", "未提供", "不详", "不詳", "未知", "暂无", "暫無", "空"})


def _lines(filename: str) -> list[str]:
    text = (DATA_DIR / filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _tables() -> dict[str, frozenset[str]]:
    zh_single, zh_compound, section = set(), set(), "single"
    for line in _lines("zh_surnames.txt"):
        if line == "[compound]":
            section = "compound"
            continue
        (zh_compound if section == "compound" else zh_single).update(line.split())
    roman = {line.lower() for line in _lines("romanised_surnames.txt") if not line.startswith("[")}
    places = set()
    for line in _lines("places.txt"):
        places.update(line.split() if not line.isascii() else [line.lower()])
    given = {c for line in _lines("zh_given_chars.txt") for c in line if not c.isspace()}
    nouns = {w for line in _lines("surname_nouns.txt") for w in line.split()}
    english = {w.lower() for line in _lines("english_given.txt") for w in line.split()}
    return {"nouns": frozenset(nouns), "english": frozenset(w for w in english if not _ONE.fullmatch(w)),
            "zh_single": frozenset(zh_single), "zh_compound": frozenset(zh_compound), "zh_given": frozenset(given),
            "roman": frozenset(r for r in roman if " " not in r and "-" not in r),
            "roman_compound": frozenset(tuple(re.split(r"[ -]", r)) for r in roman if " " in r or "-" in r),
            "places": frozenset(places)}


# --- Chinese ----------------------------------------------------------------------------------------------

# Last characters that make a word a place, a building, an organisation, a shop or a product, not a person.
_ZH_NOT_LAST = frozenset(
    "路街道巷里区區市县縣镇鎮乡鄉村邨屯围圍坑涌角头頭尾埔埗塘田洲岛島湾灣港山岭嶺峰门門厝垵屋墩坪桥橋站场場"
    "楼樓厦廈苑阁閣园園庄莊坊城塔台厅廳院馆館宫宮寺庙廟堂店行号號记記局署处處厂廠所社会會部室府院校"
    "菜瓜豆米面麵茶酒油糖奶肉鱼魚蛋果粉饼餅酱醬汁糕机機车車器灯燈衣鞋帽笔筆纸紙剂劑药藥片布盒瓶箱袋线線膏"
    "汤湯饭飯粥虾蝦蟹鸡雞鸭鴨羊猪豬菇笋筍椒姜薑蒜葱蔥梨桃枣棗橙莓叶葉包浦汇匯口河湖泉池渠井"
)
_ZH_ORG_WORDS = ("公司", "银行", "銀行", "大厦", "大廈", "中心", "医院", "醫院", "学校", "學校", "公园", "公園", "集团",
                 "集團", "酒店", "餐厅", "餐廳", "商店", "超市", "诊所", "診所", "广场", "廣場", "花园", "花園",
                 "大楼", "大樓", "商场", "商場", "有限", "协会", "協會", "委员", "委員", "小学", "小學", "中学",
                 "中學", "大学", "大學", "书店", "書店", "街市", "茶楼", "茶樓", "新村", "大道")


def _cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def chinese_name(value: str) -> int:
    """0, WEAK or STRONG: whether ``value`` reads as a Chinese personal name ("陈大文", "歐陽靖", "陳李美華"), strong
    when its given name is made of characters common in given names (``data/names/zh_given_chars.txt``)."""
    v = value.strip()
    if not 2 <= len(v) <= 4 or not all(_cjk(c) for c in v):
        return 0
    t = _tables()
    if v in t["places"] or v in t["nouns"] or v[-1] in _ZH_NOT_LAST or any(w in v for w in _ZH_ORG_WORDS):
        return 0
    if v[:2] in t["zh_compound"] and len(v) >= 3:
        given = v[2:]
    elif v[0] not in t["zh_single"]:
        return 0
    elif len(v) == 4:  # a married woman's name: her husband's surname before her own (陳李美華)
        if v[1] not in t["zh_single"]:
            return 0
        given = v[2:]
    else:
        given = v[1:]
    return STRONG if all(c in t["zh_given"] for c in given) else WEAK


def is_chinese_name(value: str) -> bool:
    """Whether ``value`` reads as a Chinese personal name at all (a strong or a weak match)."""
    return bool(chinese_name(value))


# --- romanised --------------------------------------------------------------------------------------------

# One syllable in Hong Kong Government Cantonese romanisation or Hanyu Pinyin (tone marks and ü left out).
_INITIAL = r"(?:ch|ts|kw|ng|sh|zh|sz|[bcdfghjklmnpqrstwxyz])?"
_FINAL = (r"(?:iang|iong|uang|ueng|eung|eong|ang|eng|ing|ong|ung|ian|iao|uai|uan|uen|uet|oon|ooi|euk|eun|eut|eui"
          r"|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|ak|am|ap|at|au|ah|ee|ek|ik|im|ip|it|oi|ok|on|op|ot|oo"
          r"|ow|oy|oh|uk|um|up|ut|er|ve|a|e|i|o|u|v)")
_SYLLABLE = _INITIAL + _FINAL + r"|ng|m|sze|tsz|tze"
_ONE = re.compile(f"(?:{_SYLLABLE})")
# Syllables after the first in a joined pinyin given name start with a consonant ("Xiaoming", not "Xiaoa").
_JOINED = re.compile(rf"(?:{_SYLLABLE})(?:(?=[^aeiouv])(?:{_SYLLABLE})){{1,2}}")
_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?")
# Last syllables that name a place or a shop, rarely a person: 角 Kok, 頭 Tau, 村 Tsuen, 地 Tei, 澳 O, 記 Kee.
_PLACE_LAST = frozenset({"kok", "tau", "tsuen", "tei", "o", "kee", "chau", "mun"})
# Last words of places that are also surnames: 山 Shan, 灣 Wan, 塘 Tong, 田 Tin, 埔 Po, 圍 Wai, 坑 Hang, 涌 Chung ...
_PLACE_SURNAME_LAST = _PLACE_LAST | {"shan", "wan", "tong", "tin", "po", "wai", "hang", "chung", "uk", "tung", "sin",
                                     "ping", "ling", "hau", "tsai", "shek", "tam"}


def _case(token: str) -> str:
    """ "upper", "title" or "" (mixed in some other way: not a name token)."""
    parts = token.split("-")
    if all(p.isupper() for p in parts):
        return "upper"
    if parts[0][:1].isupper() and parts[0][1:].islower() and all(p.islower() or p.istitle() for p in parts[1:]):
        return "title"
    return ""


def _given_syllables(tokens: list[str]) -> int:
    """How many syllables the given-name tokens hold (0: not a given name)."""
    total = 0
    for tok in tokens:
        low = tok.lower()
        if "-" in low:
            parts = low.split("-")
            if not all(_ONE.fullmatch(p) for p in parts):
                return 0
            total += len(parts)
        elif _ONE.fullmatch(low):
            total += 1
        elif _JOINED.fullmatch(low):
            total += 2 if len(low) <= 12 else 3
        else:
            return 0
    return total if 1 <= total <= 3 and tokens[-1].lower().split("-")[-1] not in _PLACE_LAST else 0


def _surname_len(tokens: list[str]) -> int:
    t = _tables()
    low = [x.lower() for x in tokens]
    if len(low) >= 2 and tuple(low[:2]) in t["roman_compound"]:
        return 2
    if low and (low[0] in t["roman"] or tuple(low[0].split("-")) in t["roman_compound"]):
        return 1
    return 0


def romanised_name(value: str) -> int:
    """0, WEAK or STRONG: how surely ``value`` is a romanised Chinese personal name (see the module rules)."""
    v = value.strip()
    if len(v) > MAX_NAME_CHARS or not v[:1].isalpha() or not v.isascii():
        return 0
    if v.lower() in _tables()["places"]:
        return 0
    comma = "," in v
    if comma:
        head, _, tail = v.partition(",")
        family, given = head.split(), tail.split()
        if "," in tail or not family or not given:
            return 0
        if len(given) == 1 and len(family) > 1 and _case(given[0]) == "title":  # "CHAN Tai Man, Peter"
            return romanised_name(head)
        tokens = family + given
    else:
        tokens = v.split()
    if not 2 <= len(tokens) <= 4 or not all(_TOKEN.fullmatch(t) for t in tokens):
        return 0
    cases = [_case(t) for t in tokens]
    if "" in cases:
        return 0
    hyphen = any("-" in t for t in tokens)
    best = 0
    n = _surname_len(tokens)
    if n and (not comma or n == len(family)) and _given_syllables(tokens[n:]):
        family_upper = all(c == "upper" for c in cases[:n])
        best = STRONG if comma or hyphen or family_upper and "title" in cases[n:] else WEAK
    if not comma and best < STRONG:  # given name first, surname in capitals: "Tai Man CHAN"
        n = _surname_len(tokens[-1:]) or (2 if _surname_len(tokens[-2:]) == 2 else 0)
        if n and _given_syllables(tokens[:-n]) and all(c == "upper" for c in cases[-n:]) \
                and "title" in cases[:-n]:
            best = STRONG
    if not comma and best < STRONG and _english_given(tokens):
        best = STRONG
    if not comma and best < STRONG:
        best = max(best, _surname_last(tokens, cases))
    return best


def _surname_last(tokens: list[str], cases: list[str]) -> int:
    """Given name first, then a title-case surname: "Tai-man Chan" and "Peter Chan" are strong, "Tai Man Chan" weak
    (and never when the last word is one places end in: "Ma On Shan", "Kwun Tong")."""
    n = _surname_len(tokens[-1:]) or (2 if _surname_len(tokens[-2:]) == 2 else 0)
    given = tokens[:-n] if n else []
    if not given or not all(c == "title" for c in cases):
        return 0
    if len(given) == 1 and "-" in given[0]:
        return STRONG if _given_syllables(given) == 2 else 0
    if given[0].lower() in _tables()["english"] and (len(given) == 1 or _given_syllables(given[1:])):
        return STRONG
    if len(given) == 2 and _given_syllables(given) == 2 and tokens[-1].lower() not in _PLACE_SURNAME_LAST:
        return WEAK
    return 0


def _english_given(tokens: list[str]) -> bool:
    """ "Peter CHAN Tai Man", "CHAN Tai Man Peter", "Peter CHAN": an English given name beside a surname in capitals
    (and its Chinese given name, if any)."""
    for extra, rest in ((tokens[0], tokens[1:]), (tokens[-1], tokens[:-1])):
        if "-" in extra or _case(extra) != "title" or not 2 <= len(extra) <= 12:
            continue
        n = _surname_len(rest)
        known = extra is tokens[0] and extra.lower() in _tables()["english"]  # "Peter Chan Tai Man"
        if not n or not (all(_case(t) == "upper" for t in rest[:n]) or known and _case(rest[0]) == "title"):
            continue
        if len(rest) == n or all(_case(t) == "title" for t in rest[n:]) and _given_syllables(rest[n:]):
            return True
    return False


# A name written in both scripts: "陳大文 (CHAN Tai Man)", "陈大文/Chen Dawen", "陳大文 CHAN Tai Man".
_BILINGUAL = re.compile(r"\s*([^\x00-\x7f]+?)\s*[(（/|]?\s*([A-Za-z][A-Za-z ,.\-]*?)\s*[)）]?\s*")


@lru_cache(maxsize=8192)  # columns repeat their values: most cells are judged once
def name_strength(value: str) -> int:
    """0, WEAK or STRONG for one value."""
    if not value or len(value) > MAX_NAME_CHARS:
        return 0
    both = _BILINGUAL.fullmatch(value)
    if both:
        return max(name_strength(both[1]), name_strength(both[2]))
    first = value.lstrip()[:1]
    if _cjk(first):
        return chinese_name(value)
    if first.isascii() and first.isalpha():
        return romanised_name(value)
    return 0


def mask_name(value: str) -> str:
    """A name shown without revealing it: the surname's first letter, then stars ("陈**", "C*** T** M**")."""
    v = value.strip()
    if _cjk(v[:1]):
        return v[0] + "*" * (len(v) - 1)
    return " ".join(w[0] + "*" * (len(w) - 1) for w in v.replace(",", " ").split())


class NameTally:
    """The name statistics of one column: text values seen, weak and strong matches, a few distinct matches."""

    __slots__ = ("texts", "weak", "strong", "distinct", "example")

    def __init__(self) -> None:
        self.texts = self.weak = self.strong = 0
        self.distinct: set[int] = set()
        self.example = ""

    def add(self, text: str) -> None:
        """Count one non-empty text value of the column."""
        if len(text) <= 12 and text.strip().lower() in PLACEHOLDERS:
            return
        self.texts += 1
        strength = name_strength(text) if len(text) <= MAX_NAME_CHARS else 0
        if not strength:
            return
        if strength == STRONG:
            self.strong += 1
        else:
            self.weak += 1
        if len(self.distinct) < MAX_DISTINCT:
            self.distinct.add(hash(text.strip().lower()))  # a hash: no value stays in memory past the scan
        self.example = self.example or mask_name(text)

    def verdict(self) -> tuple[int, str] | None:
        """(matching values, masked example) when the column holds personal names, else None."""
        hits = self.weak + self.strong
        distinct = len(self.distinct)
        if hits < MIN_NAMES or distinct < MIN_NAMES or not self.texts:
            return None
        if hits >= CARDINALITY_FROM and distinct < MAX_DISTINCT and distinct < DISTINCT_SHARE * hits:
            return None  # a handful of values repeated: products, brands or grades, not people
        share = hits / self.texts
        if share >= WEAK_SHARE or share >= SHARE and self.strong >= STRONG_PART * hits:
            return hits, self.example
        return None
