"""The cells of a JSON or GeoJSON file for the personal-information scanner: every scalar at any depth, as a
column named by its path.

Records are found wherever a file keeps them: the items of a top-level array, the containers in any array outside
a record (``{"records": [...]}``, CKAN's ``{"result": {"records": [...]}}``), and the containers of an object keyed
by id (``{"records": {"1": {...}, "2": {...}}}``, keys of digits or UUIDs); for GeoJSON, the features. Inside a
record a value's column is its path from the record: keys joined by dots, array items collapsed to ``[]``
(``person.contact.tel``, ``members[].name``); a record that is itself an array (rows of a table, as in CKAN's
``records_format=lists``) names its columns by the ids of the file's ``fields`` list when it came first, else by
position (``[0]``, ``[1]``). Values outside any record are columns named by their whole path (``meta.owner``).
GeoJSON features give their ``properties`` only (``properties.`` left out of the name); geometry is not personal.

The path is a stack of names built once per container, so a file's events cost constant time each; nesting deeper
than ``MAX_DEPTH`` ends the scan with an error instead of reading further.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from marketplace.errors import UnsupportedFile
from marketplace.listings.inference import json_events

MAX_DEPTH = 64
MAX_KEY_CHARS = 200  # a longer key is cut in a column name
MAX_FIELDS = 10_000  # CKAN field ids remembered to name the columns of array rows
RECORD = object()  # marks the start of a record in a cell stream
GEOJSON_TYPES = ("FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection")
_ID_KEY = re.compile(r"\d{1,20}|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


class _Frame:
    """One open container: its column-name prefix, whether it is (inside) a record, and its current key."""

    __slots__ = ("array", "prefix", "in_record", "row", "key", "index", "skip", "fields", "top", "feature")

    def __init__(self, array: bool, prefix: str, in_record: bool, row: bool = False, skip: bool = False,
                 fields: bool = False, top: bool = False):
        self.array, self.prefix, self.in_record, self.row, self.skip = array, prefix, in_record, row, skip
        self.fields, self.top = fields, top  # fields: a CKAN "fields" list; top: the top-level object
        self.key: str = ""
        self.index = 0
        self.feature = False


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def json_cells(buf, head: bytes, at_eof: bool, geo: bool, column: Callable[[str], Any]) -> Iterator[Any]:
    """Yield ``RECORD`` at the start of each record and ``(column(name), value)`` for each scalar (see the module).

    Raises UnsupportedFile for nesting deeper than ``MAX_DEPTH`` or a GeoJSON file of no GeoJSON type."""
    stack: list[_Frame] = []
    field_ids: list[str] = []
    records, root, doc_type = 0, None, None
    for event, value in json_events(buf, head, at_eof):
        if event == "map_key":
            stack[-1].key = value if len(value) <= MAX_KEY_CHARS else value[:MAX_KEY_CHARS]
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            continue
        root = root or event
        container = event in ("start_map", "start_array")
        parent = stack[-1] if stack else None
        starts = in_record = row = skip = False
        name = ""
        if parent is None:
            starts = in_record = not container  # a lone scalar is one record
        elif parent.skip:
            skip = True
        elif parent.in_record:
            in_record = True
            if not parent.array:
                name = _join(parent.prefix, parent.key)
                if parent.feature:  # a GeoJSON feature: its properties only
                    skip, name = parent.key != "properties", ""
            elif parent.row:
                i = parent.index
                name = field_ids[i] if i < len(field_ids) else f"[{i}]"
            else:
                name = parent.prefix + "[]"
        elif parent.array:  # a list outside any record: its containers are records, and anything in a top list
            starts = not parent.fields and (container or len(stack) == 1)
            name = "" if starts else parent.prefix + "[]"
        else:
            key = parent.key
            starts = container and _ID_KEY.fullmatch(key) is not None  # records keyed by id
            name = parent.prefix + "[]" if starts else _join(parent.prefix, key)
            if parent.top and key == "type" and event == "string":
                doc_type = value
            if geo and parent.top:  # a lone Feature's properties, a FeatureCollection's features
                skip, name = key not in ("properties", "features"), "" if key == "properties" else name
        if starts:
            in_record, name, row = True, "", event == "start_array"
        if parent is not None and parent.array:
            parent.index += 1
        if starts:
            records += 1
            yield RECORD
        if container:
            if len(stack) >= MAX_DEPTH:
                raise UnsupportedFile(f"The JSON nests deeper than {MAX_DEPTH} levels; it was not read past that.")
            fields = (event == "start_array" and parent is not None and not parent.array and not parent.in_record
                      and parent.key == "fields")
            frame = _Frame(event == "start_array", name, in_record, row, skip, fields, top=parent is None)
            frame.feature = geo and starts and event == "start_map"
            stack.append(frame)
            continue
        if parent is not None and len(stack) >= 2 and stack[-2].fields and parent.key == "id" \
                and isinstance(value, str) and len(field_ids) < MAX_FIELDS:
            field_ids.append(value[:MAX_KEY_CHARS])
        if not skip:
            yield column(name or "value"), value
    if geo and doc_type not in GEOJSON_TYPES:
        raise UnsupportedFile("The GeoJSON file is not a FeatureCollection or a Feature.")
    if not records and root is not None:
        yield RECORD  # a lone object is one record
