"""The type of an uploaded document judged by its name and its first bytes: a PDF, PNG or JPEG file or plain
text, refused when the bytes are not what the name says (an HTML page or a program renamed ``.pdf``). Objection
evidence, cross-boundary evidence and a provider's application document are all checked here."""
from __future__ import annotations

from flask_babel import gettext as _

from marketplace.errors import UnsupportedFile

# Documents and images, recognised by their first bytes as well as their name (plain text by being UTF-8 without
# NUL).
DOCUMENT_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
}


def document_type(filename: str, head: bytes, field: str = "evidence", refusal: str | None = None) -> str:
    """The content type of a document judged by its name and first bytes; refuses (UnsupportedFile on ``field``)
    any other type (with ``refusal`` as the words, if given), or bytes that are not what the name says."""
    name = (filename or "").lower()
    ext = name[name.rfind("."):] if "." in name else ""
    kind = DOCUMENT_TYPES.get(ext)
    if kind is None:
        message = refusal or _("Evidence may be a PDF, PNG or JPEG file or plain text.")
        raise UnsupportedFile(message, {field: [message]})
    content_type, magic = kind
    looks_right = head.startswith(magic) if magic else b"\x00" not in head and _utf8(head)
    if not looks_right:
        message = _("The content of %(name)s does not look like its type (judged by its first bytes).",
                    name=filename)
        raise UnsupportedFile(message, {field: [message]})
    return content_type


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the head is still text
        return exc.start >= len(head) - 3
    return True
