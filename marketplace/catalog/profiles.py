"""Column profiles of a data file, computed in the same bounded pass as its preview.

Per column: its type (as dictionary inference names it), the share of empty cells, the number of distinct values,
and by type: min, max, mean and a histogram for numbers; the most common values for text and booleans; the time
range for dates. GeoJSON files add the feature count, geometry types and bounding box; GeoJSON and tables with
latitude / longitude columns add a small map sample (the first features' geometries, coarsened).

The work is bounded: at most ``PROFILE_ROWS`` rows (and JSON's ``SCAN_BYTES``), distinct values counted exactly up
to ``DISTINCT_CAP``, values counted for the top list up to ``TOP_CAP`` keys. A profile says when it covers the
file's first rows only. The result is plain JSON, stored with the asset (``catalog.profile_store``) and read by the
product page, which never opens the file.
"""
from __future__ import annotations

import json
import math
import re
from array import array
from collections import Counter
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from marketplace.catalog.preview import MAX_HEADER_CHARS, Preview, preview_stream, readable_float
from marketplace.listings.inference import NULL_TOKENS, _classify_json, _classify_text, _flatten

PROFILE_ROWS = 100_000
MAX_PROFILED_COLUMNS = 60
DISTINCT_CAP = 20_000
TOP_CAP = 20_000
TOP_SHOWN = 5
TOP_CHARS = 60
HISTOGRAM_BINS = 10
MAP_FEATURES = 200  # features (or rows with a position) drawn on the map
MAP_POSITIONS = 2_000  # coordinates drawn in all (about 40 KB of the page), lines and rings thinned to fit
RAW_POSITIONS = 200_000  # coordinates kept while reading, before thinning
MAP_DECIMALS = 5  # about a metre

_NUMERIC = frozenset({"integer", "number"})
_TIMES = frozenset({"date", "datetime"})
_LAT = re.compile(r"(^|[._ ])(lat|latitude)$|緯度|纬度", re.IGNORECASE)
_LON = re.compile(r"(^|[._ ])(lon|lng|long|longitude)$|經度|经度", re.IGNORECASE)


# --- one column ---------------------------------------------------------------------------------------------


class _Column:
    __slots__ = ("name", "type", "filled", "empty", "distinct", "distinct_over", "counts", "numbers", "first",
                 "last")

    def __init__(self, name: str):
        self.name = name
        self.type: str | None = None
        self.filled = self.empty = 0
        self.distinct: set[int] = set()
        self.distinct_over = False
        self.counts: Counter = Counter()
        self.numbers = array("d")
        self.first: tuple[Any, str] | None = None  # earliest (sort key, shown text) for dates
        self.last: tuple[Any, str] | None = None

    def add(self, kind: str | None, value: Any, text: str) -> None:
        if kind is None:
            self.empty += 1
            return
        self.filled += 1
        if self.type is None:
            self.type = kind
        elif self.type != kind:
            self.type = "number" if {self.type, kind} == {"integer", "number"} else "string"
        if not self.distinct_over:
            self.distinct.add(hash(text))
            if len(self.distinct) > DISTINCT_CAP:
                self.distinct_over, self.distinct = True, set()
        if self.type == "string" or kind in ("string", "boolean"):
            if text in self.counts or len(self.counts) < TOP_CAP:
                self.counts[text] += 1
        if kind in _NUMERIC:
            number = float(value)
            if math.isfinite(number):
                self.numbers.append(number)
        elif kind in _TIMES:
            self._time(kind, text)

    def _time(self, kind: str, text: str) -> None:
        moment = _moment(kind, text)
        if moment is None:
            return
        if self.first is None or moment[0] < self.first[0]:
            self.first = moment
        if self.last is None or moment[0] > self.last[0]:
            self.last = moment

    def result(self, rows: int) -> dict:
        kind = self.type or "string"
        out: dict[str, Any] = {
            "name": self.name[:MAX_HEADER_CHARS], "type": kind, "filled": self.filled,
            "empty": rows - self.filled, "empty_share": (rows - self.filled) / rows if rows else 0.0,
            "distinct": None if self.distinct_over else len(self.distinct),
        }
        if kind in _NUMERIC and self.numbers:
            out.update(_numbers(self.numbers, kind))
        elif kind in _TIMES and self.first is not None:
            out.update({"from": self.first[1], "to": self.last[1]})
        elif self.counts:
            top = self.counts.most_common(TOP_SHOWN)
            if top[0][1] == 1 and len(self.counts) < TOP_CAP:
                out["unique"] = True  # every value occurs once: no value is more common than another
            else:
                out["top"] = [[_clip(v), n] for v, n in top]
                out["top_exact"] = len(self.counts) < TOP_CAP
        return out


def _clip(text: str) -> str:
    return text if len(text) <= TOP_CHARS else text[:TOP_CHARS - 1] + "…"


def _moment(kind: str, text: str) -> tuple[Any, str] | None:
    """A date or time as a sort key (UTC for times with an offset) and as shown: to the minute, offset kept."""
    try:
        if kind == "date":
            day = date(int(text[:4]), int(text[5:7]), int(text[8:10]))
            return datetime(day.year, day.month, day.day), day.isoformat()
        moment = datetime.fromisoformat(text.replace(",", ".").upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    shown = moment.strftime("%Y-%m-%d %H:%M")
    if moment.tzinfo is not None:
        offset = moment.strftime("%z")
        shown += " UTC" if offset == "+0000" else f" {offset[:3]}:{offset[3:]}"
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment, shown


def _numbers(values: array, kind: str) -> dict:
    low, high = min(values), max(values)
    mean = math.fsum(values) / len(values)
    return {"min": _plain(low, kind), "max": _plain(high, kind), "mean": float(format(mean, ".6g")),
            "histogram": histogram(values, low, high, whole=kind == "integer")}


def _plain(value: float, kind: str) -> int | float:
    return int(value) if kind == "integer" and abs(value) < 2**53 else float(readable_float(value))


def histogram(values, low: float, high: float, *, whole: bool = False, bins: int = HISTOGRAM_BINS) -> dict:
    """Counts of ``values`` in equal bins from ``low`` to ``high`` (the last bin closed); whole numbers over a
    short range get one bin per value. ``edges`` has one more entry than ``counts``."""
    if high <= low:
        return {"edges": [low, high], "counts": [len(values)]}
    if whole and high - low < 2 * bins:
        bins = int(high - low) + 1
        edges = [low + i for i in range(bins + 1)]
        width = 1.0
    else:
        width = (high - low) / bins
        edges = [float(readable_float(low + i * width)) for i in range(bins)] + [high]
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return {"edges": edges, "counts": counts}


# --- a file's profile ------------------------------------------------------------------------------------------


class _Table:
    """The columns of one list of records (or of the CSV table) and the map positions found in it."""

    def __init__(self) -> None:
        self.columns: dict[str, _Column] = {}
        self.rows = 0
        self.points: list[list[float]] = []  # rows' positions (longitude, latitude)
        self.geometries: list[dict] = []  # features' geometries as read
        self.positions = 0

    def map(self) -> dict | None:
        """The map sample: the rows' positions as one MultiPoint, or the features thinned to ``MAP_POSITIONS``."""
        if self.points:
            return {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": self.points}}]}
        step = max(1, math.ceil(self.positions / MAP_POSITIONS))
        features = [{"type": "Feature", "properties": {}, "geometry": _thinned(g, step)} for g in self.geometries]
        features = [f for f in features if f["geometry"]]
        return {"type": "FeatureCollection", "features": features} if features else None

    def column(self, name: str) -> _Column | None:
        found = self.columns.get(name)
        if found is None and len(self.columns) < MAX_PROFILED_COLUMNS:
            found = self.columns[name] = _Column(name)
        return found


class Profiler:
    """Reads every row a preview scan shows it (``preview.RowVisitor``), up to ``PROFILE_ROWS``."""

    def __init__(self, max_rows: int = PROFILE_ROWS):
        self.max_rows = max_rows
        self.done = False
        self.tables: dict[str | None, _Table] = {}
        self.chosen: str | None = ""
        self.geojson = False

    def _table(self, source: str | None) -> _Table:
        table = self.tables.get(source)
        if table is None:
            table = self.tables[source] = _Table()
        return table

    def _count(self, table: _Table) -> None:
        table.rows += 1
        if table.rows >= self.max_rows:
            self.done = True

    def csv_row(self, names: list[str], row: list[str]) -> None:
        table = self._table("")
        position: list[float | None] = [None, None]
        for name, cell in zip(names, row, strict=False):
            column = table.column(name)
            text = cell.strip()
            kind = None if text in NULL_TOKENS else _classify_text(text)
            if column is not None:
                column.add(kind, text, text)
            if kind in _NUMERIC:
                _position(position, name, float(text))
        _place(table, position)
        self._count(table)

    def record(self, source: str | None, record: Any) -> None:
        table = self._table(source)
        geometry = None
        if source == "features" or (source is None and isinstance(record, dict) and record.get("type") == "Feature"):
            self.geojson = True
            geometry = record.get("geometry") if isinstance(record, dict) else None
            record = record.get("properties") if isinstance(record, dict) else None
            record = record if isinstance(record, dict) else {}
        position: list[float | None] = [None, None]
        seen = set()
        for name, value in _flatten(record):
            if name in seen:
                continue
            seen.add(name)
            kind = _classify_json(value)
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, str):
                text = value.strip()
            elif isinstance(value, float):
                text = readable_float(value)
            column = table.column(name)
            if column is not None:
                column.add(kind, value, text)
            if kind in _NUMERIC:
                _position(position, name, float(value))
        for column in table.columns.values():  # a key a record lacks is an empty cell of that record
            if column.name not in seen:
                column.empty += 1
        if geometry is not None:
            _draw(table, geometry)
        else:
            _place(table, position)
        self._count(table)

    def choose(self, source: str | None) -> None:
        self.chosen = source

    def result(self, preview: Preview) -> dict:
        """The profile as plain JSON, for the list the preview showed."""
        table = self.tables.get(self.chosen) or _Table()
        profile: dict[str, Any] = {
            "format": preview.format, "rows": table.rows, "partial": self.done or preview.partial_scan,
            "columns": [c.result(table.rows) for c in table.columns.values()],
        }
        if preview.kind == "geojson":
            profile.update({"feature_count": preview.feature_count, "geometry_types": preview.geometry_types,
                            "bbox": list(preview.bbox) if preview.bbox else None})
        drawn = table.map()
        if drawn:
            profile["map"] = drawn
        return profile


def _position(position: list[float | None], name: str, value: float) -> None:
    if _LAT.search(name) and -90 <= value <= 90:
        position[0] = value
    elif _LON.search(name) and -180 <= value <= 180:
        position[1] = value


def _place(table: _Table, position: list[float | None]) -> None:
    lat, lon = position
    if lat is None or lon is None or len(table.points) >= MAP_FEATURES or (lat == 0 and lon == 0):
        return
    table.points.append([round(lon, MAP_DECIMALS), round(lat, MAP_DECIMALS)])


def _draw(table: _Table, geometry: Any) -> None:
    if len(table.geometries) >= MAP_FEATURES or table.positions >= RAW_POSITIONS or not isinstance(geometry, dict):
        return
    count = _geometry_positions(geometry)
    if count and table.positions + count <= RAW_POSITIONS:
        table.geometries.append(geometry)
        table.positions += count


def _geometry_positions(geometry: dict) -> int:
    if geometry.get("type") == "GeometryCollection":
        return sum(_geometry_positions(g) for g in geometry.get("geometries") or [] if isinstance(g, dict))
    return _count_positions(geometry.get("coordinates"))


def _thinned(geometry: dict, step: int) -> dict | None:
    """The geometry with rounded coordinates, its lines and rings keeping every ``step``-th position."""
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        parts = [p for p in (_thinned(g, step) for g in geometry.get("geometries") or [] if isinstance(g, dict)) if p]
        return {"type": kind, "geometries": parts} if parts else None
    thinned = _thin(geometry.get("coordinates"), step)
    return {"type": kind, "coordinates": thinned} if thinned else None


def _is_position(value: Any) -> bool:
    return (isinstance(value, list) and len(value) >= 2 and all(isinstance(v, (int, float)) for v in value[:2])
            and not isinstance(value[0], bool))


def _count_positions(coords: Any) -> int:
    if _is_position(coords):
        return 1
    if isinstance(coords, list):
        return sum(_count_positions(c) for c in coords)
    return 0


def _thin(coords: Any, step: int) -> Any:
    if _is_position(coords):
        return [round(float(coords[0]), MAP_DECIMALS), round(float(coords[1]), MAP_DECIMALS)]
    if not isinstance(coords, list):
        return None
    if coords and _is_position(coords[0]):  # a line or ring: keep every step-th position, and its ends
        kept = coords[::step]
        if kept[-1] is not coords[-1]:
            kept.append(coords[-1])
        if coords[0] == coords[-1] and len(kept) < 4:  # a ring needs four positions
            kept = coords if len(coords) <= 4 else [coords[0], coords[len(coords) // 3],
                                                    coords[2 * len(coords) // 3], coords[-1]]
        return [_thin(c, 1) for c in kept]
    parts = [_thin(c, step) for c in coords]
    return [p for p in parts if p]


def profile_stream(stream: BinaryIO, *, filename: str, content_type: str | None = None,
                   max_rows: int = PROFILE_ROWS) -> tuple[Preview, dict]:
    """A file's preview and column profile, in one bounded pass; never raises for a bad file (the profile then
    holds ``error``, the preview's reason)."""
    profiler = Profiler(max_rows)
    preview = preview_stream(stream, filename=filename, content_type=content_type, visitor=profiler)
    if preview.kind == "none":
        return preview, {"format": preview.format, "error": preview.error, "rows": 0, "columns": []}
    try:
        return preview, profiler.result(preview)
    except Exception as exc:  # noqa: BLE001 - a profile is never worth a failed job
        return preview, {"format": preview.format, "error": f"{type(exc).__name__}", "rows": 0, "columns": []}


def preview_to_json(preview: Preview) -> dict:
    return asdict(preview)


def preview_from_json(data: dict) -> Preview:
    data = dict(data)
    if data.get("bbox") is not None:
        data["bbox"] = tuple(data["bbox"])
    known = Preview.__dataclass_fields__
    return Preview(**{k: v for k, v in data.items() if k in known})
