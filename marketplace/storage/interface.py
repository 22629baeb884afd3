"""The storage contract shared by every backend, plus the helpers they all use.

A backend stores opaque blobs under keys the *application* generates (for
example ``"assets/12/3f2a..."``). A client's file name never becomes a key or a
path; it only ever appears in a ``Content-Disposition`` header.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

from marketplace.errors import UploadTooLarge

#: How many bytes a backend asks its input stream for at a time.
CHUNK_SIZE = 64 * 1024

#: Longest key accepted (S3's own limit is 1024 bytes of UTF-8).
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class StoredObject:
    """What a successful ``save`` wrote: its key, byte size, hex SHA-256 and content type."""

    key: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class IncompleteUpload:
    """A save that started and never finished (the process died, or the store went away mid-upload): an S3
    multipart upload neither completed nor aborted, or a local temp file. It holds space until removed."""

    key: str
    started: datetime


@runtime_checkable
class Storage(Protocol):
    """A blob store for uploaded files (local directory or S3-compatible bucket).

    Every method refuses malformed keys with ``ValueError`` (see ``validate_key``). A store that does not answer
    (S3 endpoint down or failing, local folder unreadable or full) raises ``StorageUnavailable``: 503, not a bug.
    """

    def save(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredObject:
        """Copy ``stream`` to ``key`` in 64 KiB chunks, hashing and counting as it goes.

        Replaces any existing object at ``key``. Refuses (``UploadTooLarge``) a
        stream of more than ``max_bytes`` bytes and then leaves nothing behind:
        no partial object, temp file or pending multipart upload. Any other
        error while copying also leaves nothing behind and is re-raised.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """Return a readable binary stream of the object; the caller closes it.

        Raises ``NotFound`` when there is no object at ``key``.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the object at ``key``; a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored at ``key``."""
        ...

    def keys(self) -> Iterator[str]:
        """Every key stored (for ``flask storage check``); an unreachable store raises ``StorageUnavailable``."""
        ...

    def incomplete_uploads(self) -> Iterator[IncompleteUpload]:
        """Saves begun and never finished (see ``IncompleteUpload``), including any in progress right now."""
        ...

    def check(self) -> None:
        """Readiness: raise if the store cannot be used now (``StorageUnavailable`` when it does not answer)."""
        ...

    def presigned_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str | None:
        """Return a time-limited download URL, or ``None`` if the app must stream the object itself.

        ``filename`` (if given) is offered to the browser as an attachment name.
        Does not check that the object exists.
        """
        ...


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative storage key, else raise ``ValueError``.

    Refuses: non-strings, the empty key, absolute keys (leading ``/``), any
    ``..``, backslashes, NUL and other control characters, empty or ``.``
    path segments (``a//b``, ``a/./b``, trailing ``/``) and keys longer than
    ``MAX_KEY_BYTES`` bytes of UTF-8.
    """
    if not isinstance(key, str):
        raise ValueError(f"storage key must be a string, not {type(key).__name__}")
    if not key:
        raise ValueError("storage key must not be empty")
    if key.startswith("/"):
        raise ValueError("storage key must be relative")
    if ".." in key:
        raise ValueError("storage key must not contain '..'")
    if "\\" in key:
        raise ValueError("storage key must not contain backslashes")
    if "\x00" in key:
        raise ValueError("storage key must not contain NUL")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ValueError("storage key must not contain control characters")
    if any(part in ("", ".") for part in key.split("/")):
        raise ValueError("storage key must not contain empty or '.' segments")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"storage key must be at most {MAX_KEY_BYTES} bytes")
    return key


def validate_max_bytes(max_bytes: int) -> int:
    """Return ``max_bytes`` if it is a non-negative int, else raise ``ValueError``."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError("max_bytes must be a non-negative integer")
    return max_bytes


class MeteredReader:
    """Reads a stream in bounded chunks while counting bytes and computing SHA-256.

    Never asks the stream for more than ``CHUNK_SIZE`` bytes, nor for more than
    one byte past ``max_bytes`` in total; ``read_chunk`` raises
    ``UploadTooLarge`` as soon as more than ``max_bytes`` bytes have arrived.
    """

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self._max_bytes = validate_max_bytes(max_bytes)
        self._hash = hashlib.sha256()
        self.size = 0

    def read_chunk(self, limit: int = CHUNK_SIZE) -> bytes:
        """Return the next chunk (at most ``limit`` bytes); ``b""`` means end of stream."""
        want = max(1, min(limit, CHUNK_SIZE, self._max_bytes - self.size + 1))
        chunk = self._stream.read(want)
        if not chunk:
            return b""
        if len(chunk) > want:  # a misbehaving stream; keep the bound honest
            raise ValueError("input stream returned more bytes than requested")
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise UploadTooLarge(
                f"upload exceeds the limit of {self._max_bytes} bytes",
                {"file": [f"File is larger than {self._max_bytes} bytes."]},
            )
        self._hash.update(chunk)
        return bytes(chunk)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes read so far."""
        return self._hash.hexdigest()


class HeadThenRest:
    """An upload's first bytes, already read for the checks of what it is, followed by the rest of its stream (what
    ``Storage.save`` then reads)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk = self._head if size is None or size < 0 else self._head[:size]
            self._head = self._head[len(chunk):]
            return chunk
        return self._rest.read(size)
