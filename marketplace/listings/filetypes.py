"""What a sample or a deliverable may be: a file of one of the formats the product declares (all data formats when
it declares none), judged by its name and its first bytes; never a program."""
from __future__ import annotations

import os

from flask_babel import gettext as _

from marketplace.errors import UnsupportedFile
from marketplace.listings.vocab import DataFormat

# The names each declared format's files have.
EXTENSIONS = {
    DataFormat.CSV: (".csv", ".tsv", ".txt"),
    DataFormat.JSON: (".json", ".jsonl", ".ndjson"),
    DataFormat.GEOJSON: (".geojson", ".json"),
    DataFormat.XLSX: (".xlsx",),
    DataFormat.PARQUET: (".parquet",),
    DataFormat.XML: (".xml", ".kml", ".gml"),
    DataFormat.PDF: (".pdf",),
    DataFormat.SHP: (".zip", ".shp", ".shx", ".dbf", ".prj"),
}
_TEXT = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".geojson", ".xml", ".kml", ".gml", ".prj"}
# How a binary format's files begin.
_MAGIC = {".xlsx": (b"PK\x03\x04",), ".zip": (b"PK\x03\x04", b"PK\x05\x06"), ".parquet": (b"PAR1",),
          ".pdf": (b"%PDF-",), ".shp": (b"\x00\x00\x27\x0a",), ".shx": (b"\x00\x00\x27\x0a",)}
_PROGRAM_EXTENSIONS = {".exe", ".dll", ".com", ".bat", ".cmd", ".msi", ".scr", ".ps1", ".vbs", ".js", ".jar", ".sh",
                       ".apk", ".app", ".bin", ".elf", ".so", ".dylib", ".py", ".pl", ".rb", ".php", ".html", ".htm"}
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa", b"\xca\xfe\xba\xbe",
                  b"#!")


def _looks_text(head: bytes) -> bool:
    """Text in any encoding (UTF-8, GB18030, Big5 ...): no NUL byte and hardly any control characters."""
    if b"\x00" in head:
        return False
    sample = head[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls <= len(sample) // 100


def check_upload(filename: str, head: bytes, declared: list[str] | None) -> None:
    """Refuse (UnsupportedFile, on the file field) a program, a type the product's formats do not include, or
    bytes that are not what the name says."""
    ext = os.path.splitext((filename or "").lower())[1]
    formats = [f for f in DataFormat if not declared or f.value in declared]
    names = ", ".join(f.value for f in formats)
    if ext in _PROGRAM_EXTENSIONS or head.startswith(_PROGRAM_MAGIC):
        message = _("%(name)s is a program or a script, not data: it cannot be a sample or a deliverable.",
                    name=filename)
        raise UnsupportedFile(message, {"file": [message]})
    allowed = {e for f in formats for e in EXTENSIONS[f]}
    if ext not in allowed:
        message = _("%(name)s is not a file of this product's formats (%(formats)s). Upload one of those, or add "
                    "its format on the Details step.", name=filename, formats=names)
        raise UnsupportedFile(message, {"file": [message]})
    expected = _MAGIC.get(ext)
    if ext in _TEXT and not _looks_text(head) or expected and not head.startswith(expected):
        kind = ext.lstrip(".").upper()
        message = _("The content of %(name)s does not look like %(kind)s (judged by its first bytes). Check that "
                    "this is the right file.", name=filename, kind=kind)
        raise UnsupportedFile(message, {"file": [message]})
