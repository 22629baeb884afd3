"""A buyer's preview of a sample file: the first rows of a CSV or JSON table, or a GeoJSON file's feature
properties, geometry types and bounding box.

Files are read as streams with bounded memory, with the same format detection, encoding detection (UTF-8,
GB18030, Big5) and header search under title rows as dictionary inference: CSV row by row, stopping after the
rows shown; JSON and GeoJSON event by event with ijson, keeping only the records shown and reading at most
``SCAN_BYTES``. The scan runs once per file, off the request, with the column profile reading along
(``RowVisitor``, ``catalog.profiles``); the product page shows what was stored (``catalog.profile_store``). Floats
print as people write them (``readable_float``).

Problems with the file never raise: the preview's kind is "none" and ``error`` says why.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import ijson
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.errors import NotFound, UnsupportedFile
from marketplace.i18n import N_
from marketplace.listings.inference import (
    _GEOMETRY_TYPES,
    HEAD_BYTES,
    JSON_MAX_BYTES,
    ReadLimitReached,
    _flatten,
    _unique_names,
    iter_csv_table,
    json_events,
    open_upload,
)
from marketplace.listings.models import Asset
from marketplace.storage import Storage

log = logging.getLogger(__name__)

MAX_ROWS = 50
MAX_COLUMNS = 30
MAX_CELL_CHARS = 200
MAX_HEADER_CHARS = 80
SCAN_BYTES = JSON_MAX_BYTES  # JSON/GeoJSON read at most this much (the records shown come first in practice)
_TOO_LARGE = _l("The file is too large to preview (over %(mib)d MiB of JSON before its records).",
                mib=SCAN_BYTES // (1024 * 1024))


@dataclass(frozen=True)
class Preview:
    """What the product page shows of one sample file."""

    kind: str  # "table" | "geojson" | "none"
    format: str | None = None  # "csv" | "json" | "geojson" once recognised
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # cells as text, each at most MAX_CELL_CHARS
    total_rows_shown: int = 0
    truncated: bool = False  # the file has more rows (features) than shown
    hidden_columns: int = 0  # columns left out beyond MAX_COLUMNS
    geometry_types: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    feature_count: int | None = None  # features seen while scanning (GeoJSON)
    partial_scan: bool = False  # the file is over SCAN_BYTES: counts and bbox cover its beginning only
    error: str | None = None  # why there is no preview (kind "none")


# Every reason a file has no preview, as written in English (the catalogs' msgids): a stored reason is kept as its
# msgid and values, and put into words in the reader's language when shown (``catalog.profile_store``). Inference's
# refusals are cut before "; supported formats ..." for a buyer, hence their shorter forms here.
PREVIEW_REASONS = (
    N_("The sample file is missing from storage."), N_("The sample file could not be read just now."),
    N_("The file is not valid JSON: %(problem)s."), N_("The file's text could not be decoded: %(problem)s."),
    N_("The file could not be read."), N_("The JSON file holds no records."), N_("The JSON file holds no fields."),
    N_("The GeoJSON file is not a FeatureCollection or a Feature."),
    N_("The file is too large to preview (over %(mib)d MiB of JSON before its records)."),
    N_("The file is empty."), N_("The file looks like %(kind)s, not a data file."),
    N_("The file looks binary (it contains NUL bytes)."), N_("The file is not readable text."),
    N_("Could not recognise the file format."), N_("The CSV file has no header row."),
    N_("The file has a line longer than 1 MiB; it does not look like a CSV file."),
)


class RowVisitor(Protocol):
    """Something that reads every row of the scan (column profiles): CSV rows under their header, JSON records
    by the list they belong to ("" for a top-level array, None for a top-level object that is the one record).
    ``done`` once it has read enough."""

    done: bool

    def csv_row(self, names: list[str], row: list[str]) -> None: ...

    def record(self, source: str | None, record: Any) -> None: ...

    def choose(self, source: str | None) -> None:
        """The list the preview shows (the file's records): the one to profile."""


def preview_asset(storage: Storage, asset: Asset, max_rows: int = MAX_ROWS) -> Preview:
    """The preview of a stored asset; kind "none" with the reason when the file is missing or unreadable."""
    try:
        stream = storage.open(asset.storage_key)
    except NotFound:
        return Preview("none", error=_("The sample file is missing from storage."))
    except Exception:  # a storage outage should not take the product page down with it
        log.exception("opening %r for a preview failed", asset.storage_key)
        return Preview("none", error=_("The sample file could not be read just now."))
    try:
        return preview_stream(stream, filename=asset.filename, content_type=asset.content_type, max_rows=max_rows)
    finally:
        stream.close()


def preview_stream(stream: BinaryIO, *, filename: str, content_type: str | None = None,
                   max_rows: int = MAX_ROWS, visitor: RowVisitor | None = None) -> Preview:
    """The preview of a file stream (see the module docstring); never raises for a bad file. A ``visitor`` is
    shown every row read, and the scan goes on past the rows shown until it is done (or the file ends)."""
    fmt = None
    try:
        fmt, head, buf = open_upload(stream, filename=filename, content_type=content_type)
        at_eof = len(head) < HEAD_BYTES
        if fmt == "csv":
            return _csv_preview(buf, head, at_eof, max_rows, visitor)
        return _JsonScan(fmt, max_rows, visitor).run(buf, head, at_eof)
    except UnsupportedFile as exc:
        # Inference speaks to the uploader ("...; supported formats are ..."); a buyer needs only the reason.
        return Preview("none", fmt, error=exc.message.split("; supported formats")[0].rstrip(".") + ".")
    except ijson.JSONError as exc:
        return Preview("none", fmt, error=_("The file is not valid JSON: %(problem)s.", problem=_first_line(exc)))
    except (UnicodeDecodeError, LookupError) as exc:
        return Preview("none", fmt, error=_("The file's text could not be decoded: %(problem)s.",
                                                problem=_first_line(exc)))
    except Exception:  # a preview is never worth a failed page
        log.exception("preview of %r failed", filename)
        return Preview("none", fmt, error=_("The file could not be read."))


# --- cells ------------------------------------------------------------------------------------------------


def _clip(text: str, limit: int = MAX_CELL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, float):
        return readable_float(value)
    if isinstance(value, int):
        return str(value)
    return _clip(json.dumps(value, ensure_ascii=False, default=str))


def readable_float(value: float) -> str:
    """A float as people write it: binary noise rounded away (31.761599999999998 -> 31.7616), whole numbers kept."""
    if not math.isfinite(value):
        return str(value)
    return format(value, ".12g") if abs(value) < 1e15 else format(value, ".6g")


_LONG_DECIMAL = re.compile(r"[+-]?\d+\.\d{9,}\Z")


def readable_cell(text: str) -> str:
    """A CSV cell, with a decimal carrying float noise from its producer rounded like ``readable_float``."""
    if _LONG_DECIMAL.match(text.strip()):
        return readable_float(float(text))
    return _clip(text)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _table(names: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]], int]:
    """Columns capped at MAX_COLUMNS (and how many were hidden); every row padded or cut to them."""
    hidden = max(0, len(names) - MAX_COLUMNS)
    names = [_clip(n, MAX_HEADER_CHARS) for n in names[:MAX_COLUMNS]]
    width = len(names)
    return names, [(r + [""] * width)[:width] for r in rows], hidden


# --- CSV --------------------------------------------------------------------------------------------------


def _csv_preview(buf, head: bytes, at_eof: bool, max_rows: int, visitor: RowVisitor | None = None) -> Preview:
    header, data = iter_csv_table(buf, head, at_eof)
    rows: list[list[str]] = []
    truncated = False
    names = _unique_names(header)
    for row in data:
        if visitor is not None:
            visitor.csv_row(names, row)
            if visitor.done:
                visitor = None
        if len(rows) >= max_rows:
            truncated = True
            if visitor is None:
                break
            continue
        # Clip as we go: 50 rows of huge cells must not pile up (a ragged row may also be very long).
        rows.append([readable_cell(c) for c in row[:MAX_COLUMNS * 4]])
    width = max([len(header), *(len(r) for r in rows)])
    names = _unique_names(header + [""] * (width - len(header)))
    # Columns with no header and no value are the layout padding of a report-style sheet, not data.
    keep = [i for i in range(width)
            if (i < len(header) and header[i].strip()) or any(i < len(r) and r[i].strip() for r in rows)]
    cells = [[r[i] if i < len(r) else "" for i in keep] for r in rows]
    columns, cells, hidden = _table([names[i] for i in keep], cells)
    return Preview("table", "csv", columns, cells, len(cells), truncated, hidden)


# --- JSON / GeoJSON ---------------------------------------------------------------------------------------

_ITEM = 0  # path step into an array (map keys are str)
_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


class _Records:
    """The first ``keep`` records of one list, built as Python values, and how many the list holds; each record
    is also shown to the visitor, if any, until it is done."""

    def __init__(self, keep: int, key: str = "", visitor: RowVisitor | None = None):
        self.keep, self.count, self.items = keep, 0, []
        self.key, self.visitor = key, visitor
        self._builder: ijson.ObjectBuilder | None = None

    def start(self) -> None:
        self.count += 1
        visiting = self.visitor is not None and not self.visitor.done
        self._builder = ijson.ObjectBuilder() if self.count <= self.keep or visiting else None

    def event(self, event: str, value: Any) -> None:
        if self._builder is not None:
            self._builder.event(event, value)

    def end(self) -> None:
        if self._builder is not None:
            if self.count <= self.keep:
                self.items.append(self._builder.value)
            if self.visitor is not None and not self.visitor.done:
                self.visitor.record(self.key, self._builder.value)
            self._builder = None


class _JsonScan:
    """One pass over a JSON or GeoJSON file's events, keeping the records a preview shows.

    Records, as in dictionary inference: the items of a top-level array; for a top-level object, the items of
    its longest list of objects, or else the object itself; for GeoJSON, the features' ``properties``. The
    geometry types and bounding box come from every feature read.
    """

    def __init__(self, fmt: str, max_rows: int, visitor: RowVisitor | None = None):
        self.fmt, self.max_rows, self.visitor = fmt, max_rows, visitor
        self.lists: dict[str, _Records] = {}  # top-level key (or "" for a top-level array) -> its records
        self.root: ijson.ObjectBuilder | None = None  # the top-level object without its lists of records
        self.doc_type: Any = None
        self.types: set[str] = set()
        self.box = [math.inf, math.inf, -math.inf, -math.inf]
        self.root_done = False
        self.partial = False

    def run(self, buf, head: bytes, at_eof: bool) -> Preview:
        try:
            self._scan(json_events(buf, head, at_eof, limit=SCAN_BYTES, use_float=True))
        except ReadLimitReached:
            self.partial = True
        return self._geojson() if self._is_geojson() else self._json()

    def _is_geojson(self) -> bool:
        return self.fmt == "geojson" or self.doc_type in ("FeatureCollection", "Feature")

    def _scan(self, events: Iterator[tuple[str, Any]]) -> None:
        keys: list[Any] = []  # the path from the root to the current value
        current: _Records | None = None  # the list whose record is being read
        depth = 0  # how deep inside that record's containers
        coords: list[list[float]] = []  # open arrays inside a "coordinates" value
        for event, value in events:
            if event == "map_key":
                keys[-1] = value
                if current is not None:
                    current.event(event, value)
                elif self.root is not None:
                    self.root.event(event, value)
                continue
            # Geometry: every position array inside "coordinates" extends the bounding box.
            if coords or (event == "start_array" and keys and keys[-1] == "coordinates"):
                self._coordinates(event, value, coords)
            elif event == "string" and keys and keys[-1] == "type":
                if len(keys) == 1:
                    self.doc_type = value
                if value in _GEOMETRY_TYPES and (len(keys) == 1 or keys[-2] in ("geometry", _ITEM)):
                    self.types.add(value)

            if current is None:
                current = self._record_start(event, value, keys)
                depth = 0
            else:
                current.event(event, value)
            if current is not None:
                depth += 1 if event in _STARTS else -1 if event in _ENDS else 0
                if depth == 0:
                    current.end()
                    current = None
                    if self._enough():
                        return

            if event in _STARTS:
                keys.append(None if event == "start_map" else _ITEM)
            elif event in _ENDS:
                keys.pop()

    def _record_start(self, event: str, value: Any, keys: list[Any]) -> _Records | None:
        """Outside any record: the list a record starting here belongs to (the record begun), or None after
        handing the event to the top-level object's builder."""
        if not keys:  # the root value
            if event == "start_map":
                self.root = ijson.ObjectBuilder()
            elif event != "start_array":
                return self._start(self._list(""), event, value)
        elif keys == [_ITEM] and event != "end_array":  # an item of a top-level array
            return self._start(self._list(""), event, value)
        elif len(keys) == 2 and keys[1] == _ITEM and event == "start_map" and self.root is not None:
            # An object in a list held by the top-level object: a record of that list.
            return self._start(self._list(keys[0]), event, value)
        if self.root is not None:
            self.root.event(event, value)
            if not keys[:-1] and event == "end_map":
                self.root_done = True
        return None

    def _list(self, key: str) -> _Records:
        if key not in self.lists:
            self.lists[key] = _Records(self.max_rows, key, self.visitor)
        return self.lists[key]

    @staticmethod
    def _start(records: _Records, event: str, value: Any) -> _Records:
        records.start()
        records.event(event, value)
        return records

    def _enough(self) -> bool:
        # GeoJSON reads on (to the scan cap) for the bounding box, and a top-level object's lists are compared
        # by length; only a top-level array stops once it has more records than are shown.
        if self._is_geojson() or self.root is not None:
            return False
        records = self.lists.get("")
        visiting = self.visitor is not None and not self.visitor.done
        return records is not None and records.count > self.max_rows and not visiting

    def _coordinates(self, event: str, value: Any, coords: list[list[float]]) -> None:
        if event == "start_array":
            coords.append([])
        elif event == "end_array":
            xy = coords.pop()
            if len(xy) >= 2 and math.isfinite(xy[0]) and math.isfinite(xy[1]):
                box = self.box
                box[:] = [min(box[0], xy[0]), min(box[1], xy[1]), max(box[2], xy[0]), max(box[3], xy[1])]
        elif event == "number" and not isinstance(value, bool) and len(coords[-1]) < 2:
            coords[-1].append(float(value))

    # --- results

    def _choose(self, source: str | None) -> None:
        if self.visitor is not None:
            self.visitor.choose(source)

    def _visit_alone(self, record: Any) -> None:
        """The top-level object is the one record: the visitor sees it now, as the list ``None``."""
        if self.visitor is not None:
            self.visitor.record(None, record)
            self.visitor.choose(None)

    def _rows(self, records: list[Any]) -> tuple[list[str], list[list[str]], int]:
        names: dict[str, int] = {}
        flat = []
        for record in records:
            row = {}
            for name, value in _flatten(record):
                row.setdefault(name, value)
                names.setdefault(name, len(names))
            flat.append(row)
        cells = [[_cell(row.get(name)) for name in names] for row in flat]
        return _table(list(names), cells)

    def _json(self) -> Preview:
        records = max(self.lists.values(), key=lambda r: r.count, default=None)  # the longest, as inference
        if records is not None and records.count:
            items, total = records.items, records.count
            self._choose(records.key)
        elif self.root_done:
            items, total = [self.root.value], 1
            self._visit_alone(self.root.value)
        elif self.partial:
            raise UnsupportedFile(str(_TOO_LARGE))
        else:
            raise UnsupportedFile(_("The JSON file holds no records."))
        shown = items[:self.max_rows]
        columns, rows, hidden = self._rows(shown)
        if not columns:
            raise UnsupportedFile(_("The JSON file holds no fields."))
        return Preview("table", "json", columns, rows, len(rows), total > len(shown) or self.partial, hidden)

    def _geojson(self) -> Preview:
        if self.doc_type == "FeatureCollection":
            features = self.lists.get("features") or _Records(0)
            items, total = features.items, features.count
            self._choose("features")
        elif self.doc_type == "Feature" and self.root_done:
            items, total = [self.root.value], 1
            self._visit_alone(self.root.value)
        elif self.doc_type in _GEOMETRY_TYPES:
            items, total = [{"properties": None}], 1
        elif self.partial:
            raise UnsupportedFile(str(_TOO_LARGE))
        else:
            raise UnsupportedFile(_("The GeoJSON file is not a FeatureCollection or a Feature."))
        shown = items[:self.max_rows]
        props = [f.get("properties") if isinstance(f, dict) and isinstance(f.get("properties"), dict) else {}
                 for f in shown]
        columns, rows, hidden = self._rows(props)
        bbox = tuple(self.box) if self.box[0] <= self.box[2] else None
        return Preview("geojson", "geojson", columns, rows, len(rows), total > len(rows) or self.partial, hidden,
                       sorted(self.types), bbox, total, self.partial)
