"""Data-dictionary inference for uploaded data files (CSV, JSON, GeoJSON).

The upload is read as a stream with bounded memory: CSV is decoded
incrementally and scanned row by row up to ``max_rows``; JSON/GeoJSON is parsed
only when it fits under ``JSON_MAX_BYTES``.  Every problem with the file itself
surfaces as :class:`~marketplace.errors.UnsupportedFile` (422).
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

import ijson
from charset_normalizer import from_bytes
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.errors import UnsupportedFile

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "geometry", "object", "array")
HEAD_BYTES = 64 * 1024
JSON_MAX_BYTES = 20 * 1024 * 1024
MAX_LINE_CHARS = 1024 * 1024
HEADER_SEARCH_ROWS = 20
EXAMPLE_CHARS = 200
NULL_TOKENS = frozenset({"", "NA", "N/A", "null", "NULL", "-"})
SUPPORTED = _l("supported formats are CSV (.csv, .tsv, .txt), JSON (.json) and GeoJSON (.geojson)")

_BOOLEANS = frozenset({"true", "false", "yes", "no"})
_INT_RE = re.compile(r"[+-]?\d+\Z")
_NUM_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_DATE_RE = re.compile(r"(\d{4})([-/])(\d{2})\2(\d{2})\Z")
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?\Z", re.IGNORECASE
)
_GEOJSON_HEAD_RE = re.compile(rb'"type"\s*:\s*"(?:FeatureCollection|Feature)"')
_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image", b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or XLSX/ODS workbook)", b"PK\x05\x06": "an empty ZIP archive",
    b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7-Zip archive", b"Rar!": "a RAR archive",
    b"\xd0\xcf\x11\xe0": "a legacy Office (XLS/DOC) file", b"SQLite format 3": "an SQLite database",
}
_JSON_KINDS = (("boolean", bool), ("integer", int), ("number", float), ("object", dict), ("array", list))
_CSV_TYPES = {"text/csv", "application/csv", "text/tab-separated-values", "text/plain", "application/vnd.ms-excel"}
_JSON_TYPES = {"application/json", "text/json"}
_GEOJSON_TYPES = {"application/geo+json", "application/vnd.geo+json"}


@dataclass(frozen=True)
class InferredField:
    name: str
    type: str
    nullable: bool
    null_count: int
    example: str | None
    position: int


@dataclass(frozen=True)
class InferenceResult:
    format: str
    rows_scanned: int
    truncated: bool
    fields: list[InferredField]
    geometry_types: list[str]
    bbox: tuple[float, float, float, float] | None


_CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
_EXTENSIONS = (*_CSV_EXTENSIONS, ".json", ".geojson")


def looks_inferable(filename: str, content_type: str | None) -> bool:
    """Whether a file's name or type says it is one of the formats inference reads (its bytes decide later)."""
    ext = os.path.splitext((filename or "").lower())[1]
    ctype = (content_type or "").split(";")[0].strip().lower()
    return ext in _EXTENSIONS or ctype in _CSV_TYPES | _JSON_TYPES | _GEOJSON_TYPES


def detect_format(filename: str, content_type: str | None, head: bytes) -> str:
    """Return "csv", "json" or "geojson" for a file, judged by extension, then content type, then the head bytes.

    Refuses (raises UnsupportedFile) empty files, binary files (images, archives, workbooks, NUL bytes) whatever
    their name, and anything whose format cannot be recognised as one of the three.
    """
    if not head.strip() or head.strip() == codecs.BOM_UTF8:
        raise UnsupportedFile(_("The file is empty; %(supported)s.", supported=SUPPORTED))
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UnsupportedFile(_("The file looks like %(kind)s, not a data file; %(supported)s.", kind=kind,
                                    supported=SUPPORTED))
    if b"\x00" in head:
        raise UnsupportedFile(_("The file looks binary (it contains NUL bytes); %(supported)s.", supported=SUPPORTED))
    looks_geo = bool(_GEOJSON_HEAD_RE.search(head))
    ext = os.path.splitext((filename or "").lower())[1]
    if ext in _CSV_EXTENSIONS:
        return "csv"
    if ext == ".geojson":
        return "geojson"
    if ext == ".json":
        return "geojson" if looks_geo else "json"
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _GEOJSON_TYPES:
        return "geojson"
    if ctype in _JSON_TYPES:
        return "geojson" if looks_geo else "json"
    if ctype in _CSV_TYPES:
        return "csv"
    try:
        text = _decode(head, final=False).lstrip()
    except UnsupportedFile:
        raise UnsupportedFile(_("The file is not readable text; %(supported)s.", supported=SUPPORTED)) from None
    if text[:1] in ("{", "["):
        return "geojson" if looks_geo else "json"
    first_line = text.splitlines()[0] if text else ""
    if not text.startswith("<") and any(d in first_line for d in ",\t;|"):
        return "csv"
    raise UnsupportedFile(_("Could not recognise the file format; %(supported)s.", supported=SUPPORTED))


def infer_dictionary(
    stream: BinaryIO, *, filename: str, content_type: str | None = None, max_rows: int = 10_000
) -> InferenceResult:
    """Infer a data dictionary (fields, types, nullability, examples) from an uploaded file stream.

    Reads at most a 64 KiB head plus the rows needed for ``max_rows`` records (CSV), or at most
    ``JSON_MAX_BYTES`` (JSON/GeoJSON).  Refuses with UnsupportedFile: unsupported or binary formats, empty
    files, text in no supported encoding (UTF-8, GB18030, Big5), malformed CSV/JSON, JSON over the size cap,
    and GeoJSON that is not a FeatureCollection or Feature.  The stream is not closed.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    fmt, head, buf = open_upload(stream, filename=filename, content_type=content_type)
    if fmt == "csv":
        return _infer_csv(buf, head, len(head) < HEAD_BYTES, max_rows)
    return _infer_json(_load_json(buf), fmt, max_rows)


# --- streaming plumbing -----------------------------------------------------------------------------------


def open_upload(stream: BinaryIO, *, filename: str, content_type: str | None) -> tuple[str, bytes, io.BufferedReader]:
    """Read an upload's head and judge its format (see detect_format, which may raise UnsupportedFile).

    Returns ``(format, head, buffer)``; the buffer replays the head, then the rest of the stream.
    """
    head = _read_head(stream, HEAD_BYTES)
    fmt = detect_format(filename, content_type, head)
    return fmt, head, io.BufferedReader(_ChainedRaw(head, stream))


def _read_head(stream: BinaryIO, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class _ChainedRaw(io.RawIOBase):
    """A raw stream replaying the already-read head, then the rest of the source stream (no rewind needed)."""

    def __init__(self, head: bytes, source: BinaryIO):
        self._head, self._pos, self._source = head, 0, source

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._pos < len(self._head):
            chunk = self._head[self._pos:self._pos + len(b)]
            self._pos += len(chunk)
        else:
            chunk = self._source.read(len(b)) or b""
        b[:len(chunk)] = chunk
        return len(chunk)


def _pick_encoding(data: bytes, final: bool) -> str:
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=final)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    # Most Big5 byte pairs are also valid GB18030, so "decodes without error" cannot tell them apart:
    # let charset-normalizer judge which reading is real text.
    best = from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is not None:
        return best.encoding
    raise UnsupportedFile(_("The file's text encoding is not supported; use UTF-8 (GB18030 and Big5 are also "
                             "read)."))


def _decode(data: bytes, final: bool) -> str:
    return codecs.getincrementaldecoder(_pick_encoding(data, final))().decode(data, final=final)


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    while True:
        line = text.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise UnsupportedFile(_("The file has a line longer than 1 MiB; it does not look like a CSV file."))
        yield line


# --- type inference ---------------------------------------------------------------------------------------


def _is_date(v: str) -> bool:
    m = _DATE_RE.match(v)
    if not m:
        return False
    try:
        date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        return True
    except ValueError:
        return False


def _is_datetime(v: str) -> bool:
    if not _DATETIME_RE.match(v):
        return False
    try:
        datetime.fromisoformat(v.replace(",", ".").upper())
        return True
    except ValueError:
        return False


def _classify_text(v: str) -> str:
    """Narrowest type of one non-null CSV cell (already stripped)."""
    if v.lower() in _BOOLEANS:
        return "boolean"
    if _INT_RE.match(v):
        return "integer"
    if _NUM_RE.match(v):
        return "number"
    if _is_date(v):
        return "date"
    if _is_datetime(v):
        return "datetime"
    return "string"


def _classify_json(v: Any) -> str | None:
    """Type of one JSON value; None for null/empty.  JSON strings are only promoted to date/datetime."""
    if v is None:
        return None
    for kind, py_types in _JSON_KINDS:
        if isinstance(v, py_types):
            return kind
    s = str(v).strip()
    if s in NULL_TOKENS:
        return None
    return "date" if _is_date(s) else "datetime" if _is_datetime(s) else "string"


def _example(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s[:EXAMPLE_CHARS]


class _Field:
    __slots__ = ("name", "position", "type", "nonnull", "example")

    def __init__(self, name: str, position: int):
        self.name, self.position, self.type, self.nonnull, self.example = name, position, None, 0, None

    def add(self, kind: str | None, value: Any) -> None:
        if kind is None:
            return
        self.nonnull += 1
        if self.example is None:
            self.example = _example(value)
        if self.type is None:
            self.type = kind
        elif self.type != kind:
            self.type = "number" if {self.type, kind} == {"integer", "number"} else "string"

    def add_text(self, cell: str) -> None:
        v = cell.strip()
        if v in NULL_TOKENS:
            return
        self.add("string" if self.type == "string" else _classify_text(v), v)

    def freeze(self, rows: int) -> InferredField:
        nulls = max(0, rows - self.nonnull)
        return InferredField(self.name, self.type or "string", nulls > 0, nulls, self.example, self.position)


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for i, raw in enumerate(header):
        base = " ".join(raw.split()) or f"column_{i + 1}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.append(name)
    return names


# --- CSV --------------------------------------------------------------------------------------------------


def _sniff_delimiter(sample: str, at_eof: bool) -> str:
    if (not at_eof or len(sample) > 32 * 1024) and "\n" in sample[:32 * 1024]:
        sample = sample[: sample.rfind("\n", 0, 32 * 1024)]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


class ReadLimitReached(Exception):
    """A JSON stream passed the byte limit its reader was given."""


class _Utf8Reader:
    """Bytes reader re-encoding decoded text as UTF-8 (what ijson parses), refusing to go past ``limit`` bytes."""

    def __init__(self, text: io.TextIOBase, limit: int | None):
        self._text, self._limit, self.read_bytes = text, limit, 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) whether the stream gives bytes or text
            return b""
        if self._limit is not None and self.read_bytes >= self._limit:
            raise ReadLimitReached
        data = self._text.read(size if size > 0 else 64 * 1024).encode("utf-8")
        self.read_bytes += len(data)
        return data


def json_events(buf: io.BufferedReader, head: bytes, at_eof: bool, *, limit: int | None = None,
                use_float: bool = False) -> Iterator[tuple[str, Any]]:
    """ijson's events of an upload in any supported encoding, read as a stream; ReadLimitReached past ``limit``."""
    text = io.TextIOWrapper(buf, encoding=_pick_encoding(head, at_eof))
    return ijson.basic_parse(_Utf8Reader(text, limit), use_float=use_float)


def iter_csv_table(buf: io.BufferedReader, head: bytes, at_eof: bool) -> tuple[list[str], Iterator[list[str]]]:
    """Decode a CSV stream (``head`` is its first bytes, ``at_eof`` whether that was all) row by row.

    Returns the header row and a lazy iterator of the non-blank data rows after it.  Report-style files put
    a title line or two above the real header: the header is the first of the leading rows that is at least
    half as full as the fullest of them.  Decoding and CSV errors surface as UnsupportedFile, also from the
    iterator.
    """
    enc = _pick_encoding(head, at_eof)
    delimiter = _sniff_delimiter(codecs.getincrementaldecoder(enc)().decode(head, final=at_eof), at_eof)
    text = io.TextIOWrapper(buf, encoding=enc, newline="")
    reader = csv.reader(_bounded_lines(text), delimiter=delimiter)
    lead: list[list[str]] = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                lead.append(row)
                if len(lead) == HEADER_SEARCH_ROWS:
                    break
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _csv_failure(exc, enc, 0) from exc
    if not lead:
        raise UnsupportedFile(_("The CSV file has no header row."))
    fullest = max(_filled(r) for r in lead)
    start = next(i for i, r in enumerate(lead) if 2 * _filled(r) >= fullest)
    return lead[start], _data_rows(itertools.chain(lead[start + 1:], reader), enc)


def _data_rows(rows: Iterator[list[str]], enc: str) -> Iterator[list[str]]:
    done = 0
    try:
        for row in rows:
            if any(c.strip() for c in row):
                yield row
                done += 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _csv_failure(exc, enc, done) from exc


def _csv_failure(exc: Exception, enc: str, rows: int) -> UnsupportedFile:
    if isinstance(exc, UnicodeDecodeError):
        return UnsupportedFile(f"The file is not valid {enc} text after row {rows}: {exc.reason}.")
    return UnsupportedFile(f"The CSV file is malformed near row {rows + 1}: {exc}.")


def _infer_csv(buf: io.BufferedReader, head: bytes, at_eof: bool, max_rows: int) -> InferenceResult:
    header, data = iter_csv_table(buf, head, at_eof)
    blank_header = {i for i, name in enumerate(header) if not name.strip()}
    fields = [_Field(name, i) for i, name in enumerate(_unique_names(header))]
    rows, truncated = 0, False
    for row in data:
        if rows >= max_rows:
            truncated = True
            break
        rows += 1
        for field, cell in zip(fields, row):
            field.add_text(cell)
    # Columns with no header and no value are layout padding, not fields.
    kept = [f.freeze(rows) for i, f in enumerate(fields) if i not in blank_header or f.nonnull]
    kept = [dataclasses.replace(f, position=i) for i, f in enumerate(kept)]
    return InferenceResult("csv", rows, truncated, kept, [], None)


def _filled(row: list[str]) -> int:
    return sum(1 for c in row if c.strip())


# --- JSON / GeoJSON ---------------------------------------------------------------------------------------


def _load_json(buf: io.BufferedReader) -> Any:
    data = buf.read(JSON_MAX_BYTES + 1)
    if len(data) > JSON_MAX_BYTES:
        raise UnsupportedFile(
            f"The file is too large to infer a dictionary from JSON (over {JSON_MAX_BYTES // (1024 * 1024)} MiB)."
        )
    text = _decode(data, final=True)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnsupportedFile(_("The file is not valid JSON: %(error)s.", error=exc)) from exc


def _flatten(record: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(record, dict):
        yield "value", record
        return
    for key, value in record.items():
        if isinstance(value, dict) and value:
            for sub, inner in value.items():
                yield f"{key}.{sub}", inner
        else:
            yield str(key), value


def _records(obj: Any) -> list[Any]:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
        return max(lists, key=len) if lists else [obj]
    return [obj]


def _features(obj: Any) -> list[Any]:
    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "FeatureCollection" and isinstance(obj.get("features"), list):
        return obj["features"]
    if kind == "Feature":
        return [obj]
    if kind in _GEOMETRY_TYPES:
        return [{"type": "Feature", "geometry": obj, "properties": None}]
    raise UnsupportedFile(_("The GeoJSON file is not a FeatureCollection or a Feature."))


def _extend_bbox(geometry: dict, box: list[float]) -> None:
    stack: list[Any] = [geometry]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.get("geometries") or [])
            stack.append(node.get("coordinates"))
        elif isinstance(node, list):
            xy = node[:2]
            if len(xy) == 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in xy):
                x, y = float(xy[0]), float(xy[1])
                if math.isfinite(x) and math.isfinite(y):
                    box[:] = [min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)]
            else:
                stack.extend(node)


def _infer_json(obj: Any, fmt: str, max_rows: int) -> InferenceResult:
    if fmt == "json" and isinstance(obj, dict) and obj.get("type") in ("FeatureCollection", "Feature"):
        fmt = "geojson"
    items = _features(obj) if fmt == "geojson" else _records(obj)
    scanned = items[:max_rows]
    fields: dict[str, _Field] = {}
    geometry = _Field("geometry", 0)
    types: set[str] = set()
    box = [math.inf, math.inf, -math.inf, -math.inf]
    for item in scanned:
        record = item
        if fmt == "geojson":
            feature = item if isinstance(item, dict) else {}
            record = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
            geom = feature.get("geometry")
            if isinstance(geom, dict) and isinstance(geom.get("type"), str):
                geometry.add("geometry", geom)
                types.add(geom["type"])
                _extend_bbox(geom, box)
        seen: set[str] = set()
        for name, value in _flatten(record):
            if name in seen:
                continue
            seen.add(name)
            field = fields.setdefault(name, _Field(name, len(fields)))
            field.add(_classify_json(value), value)
    rows = len(scanned)
    out = [f.freeze(rows) for f in fields.values()]
    bbox = None
    if fmt == "geojson":
        geometry.name = _unique_names([*fields, "geometry"])[-1]
        geometry.position = len(out)
        out.append(geometry.freeze(rows))
        bbox = tuple(box) if box[0] <= box[2] else None
    return InferenceResult(fmt, rows, len(items) > max_rows, out, sorted(types), bbox)
