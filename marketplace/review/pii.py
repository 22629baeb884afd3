"""Personal-information scanner for uploaded data files (CSV, JSON, GeoJSON), used by the compliance pre-screen.

Every string or number cell is checked for mainland resident identity numbers, Hong Kong identity card numbers,
mainland mobile and Hong Kong phone numbers, e-mail addresses and bank card numbers; every column name is
checked for words that suggest personal data.  Check digits (GB 11643, HKID, Luhn) are validated, and numbers
inside longer digit runs never match, so timestamps, coordinates and record ids are not reported.  Findings
carry a count and one masked example, never a raw value.

Files are read as streams with bounded memory: CSV row by row (the same decoding and header search as
inference), JSON and GeoJSON event by event with ijson, every value at any depth (``pii_json``).  A scan stops at
a row cap and at a cell budget, and says so (``truncated``, ``stopped_by``).  Problems with the file never raise:
the result's ``error`` says why the file could not be scanned (nesting too deep, malformed, undecodable).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

import ijson

from marketplace.errors import UnsupportedFile
from marketplace.i18n import N_
from marketplace.listings.inference import HEAD_BYTES, _unique_names, iter_csv_table, open_upload
from marketplace.review.pii_json import RECORD, json_cells
from marketplace.review.pii_names import NameTally, name_strength
from marketplace.review.pii_phones import BareNumberTally
from marketplace.review.pii_roles import names_a_person_by_role

log = logging.getLogger(__name__)

PII_KINDS = ("cn_resident_id", "hkid", "cn_mobile", "hk_phone", "email", "bank_card", "person_name", "column_name")
KIND_LABELS: dict[str, str] = {
    "cn_resident_id": N_("mainland resident identity number"),
    "hkid": N_("Hong Kong identity card number"),
    "cn_mobile": N_("mainland mobile phone number"),
    "hk_phone": N_("Hong Kong phone number"),
    "email": N_("e-mail address"),
    "bank_card": N_("bank card number"),
    "person_name": N_("personal name"),
    "column_name": N_("column name suggesting personal data"),
}
MAX_CELL_CHARS = 10_000
PROGRESS_ROWS = 10_000  # rows between two progress reports of a scan
MAX_COLUMNS = 10_000  # distinct JSON keys tracked; further ones are pooled under OTHER_COLUMNS
OTHER_COLUMNS = "(other columns)"
# Rows counted, not scanned, past the row cap to tell how many the file holds: up to COUNT_FACTOR times the cap
# (a seller's quick check stays quick), and never more than COUNT_ROWS (a worker's scan stays bounded).
COUNT_ROWS = 2_000_000
# Values scanned per file at most: a file of many columns stops here before its row cap (a partial scan too).
MAX_CELLS = 5_000_000
COUNT_FACTOR = 10


@dataclass(frozen=True)
class PiiFinding:
    column: str
    kind: str  # one of PII_KINDS
    count: int  # cells with at least one match (0 for column_name)
    example: str  # masked


@dataclass(frozen=True)
class ScanResult:
    filename: str
    format: str | None
    rows_scanned: int
    truncated: bool
    findings: tuple[PiiFinding, ...]
    error: str | None = None
    # Rows the file was found to hold: all of them when ``total_exact`` (counted to the end past the row cap),
    # else at least this many (the count stopped after COUNT_ROWS more rows, or at a problem in the file).
    total_rows: int = 0
    total_exact: bool = True
    stopped_by: str = ""  # "rows" (the row cap) or "cells" (the cell budget) when truncated
    bytes_read: int | None = None  # where in the file the scan stopped, when truncated (None: not known)

    @property
    def scope(self) -> str:
        return scan_scope(self.rows_scanned, self.truncated, self.total_rows, self.total_exact)


def scan_scope(rows_scanned: int, truncated: bool, total_rows: int | None, total_exact: bool) -> str:
    """ "" for a whole file, else what a scan covered: "the first 200,000 of 1,234,567 rows" (or "of more than
    2,200,000" when the rest was not counted to the end, or its count is not known)."""
    if not truncated:
        return ""
    at_least = max(total_rows or rows_scanned, rows_scanned)
    total = f"{at_least:,}" if total_exact else f"more than {at_least:,}"
    return f"the first {rows_scanned:,} of {total} rows"


# --- identifiers ------------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_RE = re.compile(r"[1-9]\d{16}[\dX]")
_HKID_RE = re.compile(r"([A-Z]{1,2})(\d{6})(?:\(([\dA])\)|([\dA]))")
_CARD_LENGTHS = {"3": (14, 15, 16, 19), "4": (13, 16, 19), "5": (16,), "6": (16, 17, 18, 19)}


def is_cn_resident_id(value: str) -> bool:
    """An 18-character mainland resident identity number with a valid GB 11643 check digit and birth date."""
    v = value.strip().upper()
    if not _ID_RE.fullmatch(v):
        return False
    if "10X98765432"[sum(int(c) * w for c, w in zip(v, _ID_WEIGHTS)) % 11] != v[17]:
        return False
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def is_hkid(value: str) -> bool:
    """A Hong Kong identity card number with a valid check digit: "A123456(3)", "A1234563", "AB987654(3)"."""
    m = _HKID_RE.fullmatch(value.strip().upper())
    if not m:
        return False
    letters, digits, check = m.group(1), m.group(2), m.group(3) or m.group(4)
    # A single-letter number counts as if led by a space, worth 36; letters are A=10 .. Z=35.
    values = [36] * (2 - len(letters)) + [ord(c) - 55 for c in letters] + [int(d) for d in digits]
    expected = (11 - sum(v * w for v, w in zip(values, range(9, 1, -1))) % 11) % 11
    return check == ("A" if expected == 10 else str(expected))


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check used by bank card numbers."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# --- finding identifiers in text --------------------------------------------------------------------------

# A number must not continue a longer alphanumeric or decimal run on either side ("x13812345678",
# "0.13812345678" and "20230915103000" hold no phone number).
_L, _R = r"(?<![A-Za-z0-9])(?<!\d\.)", r"(?![A-Za-z0-9])(?!\.\d)"
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])")
_RESIDENT_ID = re.compile(_L + r"[1-9]\d{16}[\dXx]" + _R)
_HKID = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d{6}(?:\([\dA]\)|[\dA])(?![A-Za-z0-9(])")
_CARD = re.compile(  # plain, in groups of four, or Amex-style 4-6-5
    _L + r"(?:[3-6]\d{12,18}|[3-6]\d{3}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?|3[47]\d\d[ -]\d{6}[ -]\d{5})" + _R)
_CN_MOBILE = re.compile(_L + r"(?:(?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})" + _R)
# A number inside a longer hyphenated code (the groups of a UUID: "5c9e-2345-6789-ab01") is not a phone number.
# Written as a phone number: a label before it ("Tel: ", "電話："), the country code (852, +852, (852), (+852)), a
# space or dash between the halves, or an extension after it ("ext 12", "轉 12").
_HK_PHONE = re.compile(
    r"(?P<label>(?<![A-Za-z])(?:telephone|tel|phone|mobile|fax|電話|电话|手機|手机|傳真|传真)\s*[:：.]?\s*)?"
    + _L + r"(?<![A-Za-z0-9]-)(?:(?P<cc>\(?(?:\+|00)?852\)?)[ -]?)?(?P<a>[235-9]\d{3})(?P<sep>[ -]?)"
    r"(?P<b>\d{4})" + _R + r"(?!-[A-Za-z0-9])(?P<ext>\s*(?:ext|x|轉|转)\.?\s*\d{1,5}(?!\d))?", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")
_HHMM = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")
_CHECKED_KINDS = ("cn_resident_id", "hkid", "bank_card")
# Every numeric kind has six digits in a row, or two groups of four around a space or dash ("2345 6789",
# "6222-1234-..."); coordinates, years and short ids ("22.31234", "AID01101") skip the matchers.
_DIGIT_RUN = re.compile(r"\d{6}|\d{4}[ -]\d{4}")


def _mask_id(v: str) -> str:
    return v[:6] + "*" * 8 + v[-4:].upper()


def _mask_hkid(v: str) -> str:
    letters = v[:2] if v[1].isalpha() else v[:1]
    return f"{letters}{v[len(letters):len(letters) + 3]}***(*)"


def _mask_card(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _card_valid(v: str) -> bool:
    digits = re.sub(r"\D", "", v)
    return len(digits) in _CARD_LENGTHS[digits[0]] and luhn_valid(digits)


def _hk_phone(m: re.Match, phone_column: bool) -> str | None:
    """The masked number if the match is written like a Hong Kong phone number, else None.

    Out of a phone column it needs the +852 prefix or a separator, and a whole cell "dddd-dddd" is taken for
    a code such as a road link id ("3652-3653"), not a phone number; ranges are never phone numbers."""
    a, b, sep = m["a"], m["b"], m["sep"]
    written_as_phone = sep == " " or sep == "-" and m.string.strip() != m[0]
    if not (m["cc"] or m["label"] or m["ext"] or phone_column or written_as_phone and not _looks_like_range(a, b)):
        return None
    return f"{a[:2]}****{b[-2:]}"


def _looks_like_range(a: str, b: str) -> bool:
    """ "2014-2015" (years) and "2300-0600" (opening hours) are ranges, not phone numbers."""
    return bool(_YEAR.fullmatch(a) and _YEAR.fullmatch(b) or _HHMM.fullmatch(a) and _HHMM.fullmatch(b))


def _detect(text: str, phone_column: bool = False) -> dict[str, str | None]:
    """Kinds found in one cell: kind -> masked example of a valid match, or None when the only matches of a
    check-digit kind failed their check.  Each match is blanked before the next kind is looked for, so one
    number is reported once (an identity number is not also a card number)."""
    found: dict[str, str | None] = {}

    def take(kind: str, m: re.Match, example: str | None) -> str:
        if example is not None:
            found[kind] = found.get(kind) or example
            return " " * len(m[0])
        if kind in _CHECKED_KINDS:
            found.setdefault(kind, None)
        return m[0]

    if "@" in text:
        text = _EMAIL.sub(lambda m: take("email", m, f"{m[0][0]}***@{m[0].rsplit('@', 1)[1]}"), text)
    if not _DIGIT_RUN.search(text):
        return found
    text = _RESIDENT_ID.sub(lambda m: take("cn_resident_id", m, _mask_id(m[0]) if is_cn_resident_id(m[0]) else None),
                            text)
    text = _HKID.sub(lambda m: take("hkid", m, _mask_hkid(m[0]) if is_hkid(m[0]) else None), text)
    text = _CARD.sub(lambda m: take("bank_card", m, _mask_card(m[0]) if _card_valid(m[0]) else None), text)
    text = _CN_MOBILE.sub(lambda m: take("cn_mobile", m, f"{m[1]}******{m[3][-2:]}"), text)
    _HK_PHONE.sub(lambda m: take("hk_phone", m, _hk_phone(m, phone_column)), text)
    return found


def scan_text(value: str, *, phone_column: bool = False) -> dict[str, str]:
    """Identifier kinds found in one value, each with a masked example.  ``phone_column``: the value comes from
    a column named like a phone column, so bare 8-digit Hong Kong numbers count too."""
    return {k: v for k, v in _detect(value[:MAX_CELL_CHARS], phone_column).items() if v is not None}


# --- column names -----------------------------------------------------------------------------------------
# Rule: a name is split into lower-case tokens (on _ - . / space and camelCase); adjacent tokens are also
# joined ("first name" -> "firstname", "e-mail" -> "email"), and runs of Chinese are kept whole.
#  * A STRONG word (phone, email, address, birth, passport, id card, bank card, surname, ...) makes the column
#    personal unless a DENY qualifier says the value belongs to a place, organisation or system, or is an
#    aggregate: "station_phone", "company_email", "ip_address", "birth_rate" are not personal.
#  * A WEAK word ("name", "person") is personal only on its own (language and number suffixes aside:
#    "name", "name_en") or with a PERSON qualifier ("customer_name", "contact person"); "station_name",
#    "road_name_en", "link name" name things, not people.
#  * Chinese runs are matched on substrings the same way: 姓名, 联系电话 are personal; 站点电话, 出生率 are not.
_PHONE_WORDS = {"phone", "telephone", "tel", "mobile", "cellphone", "fax", "whatsapp", "contactno", "contactnumber"}
_STRONG = _PHONE_WORDS | {
    "email", "address", "addr", "birth", "dob", "birthday", "birthdate", "passport", "hkid", "idcard",
    "identitycard", "nationalid", "ssn", "bankcard", "creditcard", "debitcard", "cardno", "cardnumber",
    "cardholder", "iban", "bankaccount", "accountno", "accountnumber", "surname", "firstname", "lastname",
    "fullname", "givenname", "familyname", "forename", "middlename", "nickname", "maidenname", "realname",
    "username",
}
_WEAK = {"name", "person"}
_PERSON = {
    "customer", "client", "contact", "user", "person", "patient", "member", "employee", "staff", "holder",
    "owner", "applicant", "passenger", "driver", "student", "account", "legal", "sender", "recipient",
    "receiver", "buyer", "guest", "visitor", "resident", "tenant", "citizen", "parent", "guardian", "spouse",
    "teacher", "doctor", "consignee", "beneficiary", "insured", "personal", "payer", "payee", "emergency",
}
_NEUTRAL = {"en", "eng", "english", "tc", "sc", "zh", "cn", "chi", "chin", "chinese", "of", "no", "text"}
_DENY = {
    "station", "stop", "district", "road", "link", "route", "site", "office", "company", "business", "org",
    "organisation", "organization", "agency", "department", "dept", "shop", "store", "branch", "facility",
    "school", "hospital", "hotel", "venue", "centre", "center", "estate", "building", "lamppost", "pier",
    "service", "support", "enquiry", "hotline", "general", "public", "ip", "mac", "web", "website", "url",
    "server", "host", "network", "node", "sensor", "device", "memory", "count", "total", "rate", "ratio",
    "type", "model", "brand", "signal", "coverage", "app",
}
_ZH_PHONE = ("电话", "電話", "手机", "手機")
_ZH_STRONG = _ZH_PHONE + (
    "姓名", "名字", "联系人", "聯絡人", "聯繫人", "身份证", "身份證", "证件号", "證件號", "护照", "護照", "地址",
    "住址", "邮箱", "郵箱", "电邮", "電郵", "出生", "生日", "银行卡", "銀行卡", "卡号", "卡號",
)
_ZH_DENY = ("站", "路", "公司", "机构", "機構", "单位", "單位", "门店", "門店", "办公", "辦公", "网", "網", "率", "数",
            "數", "总", "總", "学校", "學校", "医院", "醫院", "服务", "服務", "热线", "熱線", "客服")
_SPLIT = re.compile(r"[\s_\-./:()（）]+")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\x00-\x7f]+")


def _tokens(name: str) -> list[str]:
    return [w.lower() for part in _SPLIT.split(name) for w in _WORD.findall(part)]


def _name_kind(name: str) -> str | None:
    """"phone" or "personal" when a column name suggests personal data (see the rule above), else None."""
    tokens = _tokens(name)
    words = set(tokens) | {a + b for a, b in zip(tokens, tokens[1:])}
    zh = [t for t in tokens if not t.isascii()]
    if words & _DENY or any(d in t for t in zh for d in _ZH_DENY):
        return None
    if words & _PHONE_WORDS or any(p in t for t in zh for p in _ZH_PHONE):
        return "phone"
    if words & _STRONG or any(s in t for t in zh for s in _ZH_STRONG) or names_a_person_by_role(tokens, zh):
        return "personal"
    weak = [t for t in tokens if t in _WEAK]
    others = {t for t in tokens if t not in _WEAK and t not in _NEUTRAL and not t.isdigit()}
    if weak and (not others or others & _PERSON):
        return "personal"
    return None


def personal_column_names(names: Iterable[str]) -> list[str]:
    """The names (in order) that suggest personal data, e.g. "姓名", "customer_name", "联系电话"."""
    return [n for n in names if _name_kind(n)]


# --- tallying ---------------------------------------------------------------------------------------------


class _Column:
    __slots__ = ("name", "personal", "phone", "kinds", "names", "numbers")

    def __init__(self, name: str):
        kind = _name_kind(name)
        self.name, self.personal, self.phone = name, kind is not None, kind == "phone"
        self.kinds: dict[str, list] = {}  # kind -> [cells with a valid match, cells failing the check, example]
        self.names = NameTally()  # personal names among the text values, judged over the whole column
        self.numbers = BareNumberTally()  # bare eight-digit Hong Kong numbers, judged over the whole column

    def add(self, value: Any) -> None:
        if isinstance(value, str):
            text = value[:MAX_CELL_CHARS]
            if not text.strip():
                return
            self.names.add(text)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            # An integral float (91234567.0) is its digits; inf and nan are not numbers anyone wrote.
            text = str(int(value)) if value == value and abs(value) != float("inf") and value == int(value) \
                else str(value)
        else:
            return
        self.numbers.add(text)
        if "@" not in text and not _DIGIT_RUN.search(text):  # most cells: nothing any matcher could find
            return
        for kind, example in _detect(text, self.phone).items():
            tally = self.kinds.setdefault(kind, [0, 0, ""])
            tally[0 if example else 1] += 1
            tally[2] = tally[2] or example or ""

    def findings(self) -> Iterator[PiiFinding]:
        if "hk_phone" not in self.kinds and (bare := self.numbers.verdict(set(_tokens(self.name)))):
            self.kinds["hk_phone"] = [bare[0], 0, bare[1]]
        if names := self.names.verdict():
            self.kinds["person_name"] = [names[0], 0, names[1]]
        for kind in PII_KINDS[:-1]:
            hits, misses, example = self.kinds.get(kind, (0, 0, ""))
            # In a column of id-shaped codes about 1 in 10 passes a check digit by chance; report a checked
            # kind only when its passes are well above that rate (a real id column passes nearly always).
            if hits and (kind not in _CHECKED_KINDS or 3 * hits >= misses):
                yield PiiFinding(self.name, kind, hits, example)
        if self.personal:
            yield PiiFinding(self.name, "column_name", 0, "")


class _Tally:
    def __init__(self) -> None:
        self.columns: dict[str, _Column] = {}  # in the order first seen

    def column(self, name: str) -> _Column:
        col = self.columns.get(name)
        if col is None:
            if len(self.columns) >= MAX_COLUMNS and name != OTHER_COLUMNS:
                return self.column(OTHER_COLUMNS)
            col = self.columns[name] = _Column(name)
        return col

    def findings(self) -> tuple[PiiFinding, ...]:
        return tuple(f for col in self.columns.values() for f in col.findings())


# --- reading files ----------------------------------------------------------------------------------------

def _csv_cells(buf, head: bytes, at_eof: bool, tally: _Tally) -> Iterator[Any]:
    header, rows = iter_csv_table(buf, head, at_eof)
    names = _unique_names(header)
    cols = [tally.column(n) for n in names]
    for row in rows:
        yield RECORD
        for i, cell in enumerate(row):
            if cell.strip():
                col = cols[i] if i < len(cols) else tally.column(f"column_{i + 1}")
                yield col, cell


def scan_file(
    stream: BinaryIO, *, filename: str, content_type: str | None = None, max_rows: int = 200_000,
    progress: Callable[[int], None] | None = None, max_cells: int = MAX_CELLS,
) -> ScanResult:
    """Scan an uploaded file for personal information, reading at most ``max_rows`` records and ``max_cells`` values
    (a scan that stops at either says so: ``truncated`` and ``stopped_by``).

    Never raises for a bad file: an unsupported, binary, malformed or undecodable file gives a result whose
    ``error`` says why (with whatever was found before the problem).  The stream is not closed. ``progress`` is
    told the rows read so far every ``PROGRESS_ROWS`` rows.
    """
    fmt, rows, truncated, error, stopped_by, inside = None, 0, False, None, "", False
    stopped_at: int | None = None
    tally = _Tally()
    cells: Iterator[Any] = iter(())
    try:
        fmt, head, buf = open_upload(stream, filename=filename, content_type=content_type)
        at_eof = len(head) < HEAD_BYTES
        cells = (_csv_cells(buf, head, at_eof, tally) if fmt == "csv"
                 else json_cells(buf, head, at_eof, fmt == "geojson", tally.column))
        budget = max_cells
        for item in cells:
            if item is RECORD:
                if rows >= max_rows or budget <= 0:
                    truncated, stopped_by = True, "rows" if rows >= max_rows else "cells"
                    stopped_at = _position(stream)
                    break
                rows += 1
                if progress is not None and rows % PROGRESS_ROWS == 0:
                    progress(rows)
            elif budget > 0:
                item[0].add(item[1])
                budget -= 1
            else:  # the budget ran out inside a record: the scan stops there
                truncated, stopped_by, inside = True, "cells", True
                stopped_at = _position(stream)
                break
    except UnsupportedFile as exc:
        error = exc.message
    except ijson.JSONError as exc:
        error = f"The file is not valid JSON: {str(exc).splitlines()[0]}."
    except UnicodeDecodeError as exc:
        error = f"The file is not valid {exc.encoding} text: {exc.reason}."
    except Exception as exc:  # noqa: BLE001 - the pre-screen must get a result for every file
        log.exception("PII scan of %s failed", filename)
        error = f"The scanner failed on this file ({type(exc).__name__})."
    if inside and not rows:  # stopped inside a lone object, which is counted as one record at its end
        rows, total, exact = 1, 1, True
    elif truncated:
        total, exact = _count_rest(cells, rows, min(COUNT_ROWS, COUNT_FACTOR * max_rows))
        total -= inside  # the record the scan stopped in was counted as scanned already
    else:
        total, exact = rows, True
    name_strength.cache_clear()  # the values judged are the file's: none stays in memory after its scan
    return ScanResult(filename, fmt, rows, truncated, tally.findings(), error, total, exact, stopped_by, stopped_at)


def _position(stream: BinaryIO) -> int | None:
    """How far into the file a scan has read (with the reader's read-ahead), if the stream can tell."""
    try:
        return int(stream.tell())
    except Exception:  # noqa: BLE001 - a stream that cannot tell just leaves the size out
        return None


def _count_rest(cells: Iterator[Any], rows: int, more: int) -> tuple[int, bool]:
    """The rows of a file whose scan stopped at its cap: the scanned ones (the first of the rest was read already)
    and the rest, counted without scanning up to ``more`` of them; exact when the count reached the end."""
    total, limit = rows + 1, rows + 1 + more
    try:
        for item in cells:
            if item is RECORD:
                if total >= limit:
                    return total, False
                total += 1
    except Exception:  # noqa: BLE001 - a problem past the scanned rows only ends the count
        return total, False
    return total, True
