"""Filesystem storage backend: one file per key under a root directory."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from marketplace.errors import NotFound
from marketplace.storage.interface import MeteredReader, StoredObject, validate_key, validate_max_bytes


class LocalStorage:
    """Stores each object as a file at ``root/<key>``; the app streams downloads itself.

    Refuses (``ValueError``) malformed keys and any key whose resolved path,
    symlinks included, would leave ``root``. The root is created on first save.
    """

    def __init__(self, root: str | Path) -> None:
        """Remember ``root`` (made absolute); nothing is created until the first save."""
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        """Map a validated key to a path, refusing (``ValueError``) one that escapes the root."""
        validate_key(key)
        root = self.root.resolve()
        path = (root / key).resolve()
        if path == root or not path.is_relative_to(root):
            raise ValueError("storage key resolves outside the storage root")
        return path

    def save(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredObject:
        """Copy ``stream`` to a temp file beside the target, then atomically rename it into place.

        Refuses (``UploadTooLarge``) more than ``max_bytes`` bytes. On that or any
        other error the temp file is removed and an existing object at ``key``
        is left untouched. Files are created owner-only (mode 0600, as mkstemp
        makes them).
        """
        path = self._path(key)
        validate_max_bytes(max_bytes)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # others' data files: owner only
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                reader = MeteredReader(stream, max_bytes)
                while chunk := reader.read_chunk():
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return StoredObject(key=key, size=reader.size, sha256=reader.sha256, content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        """Open the file for binary reading; raises ``NotFound`` if there is no file at ``key``."""
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no stored object at {key!r}") from None

    def delete(self, key: str) -> None:
        """Remove the file at ``key``; a missing file is not an error."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def exists(self, key: str) -> bool:
        """Tell whether a regular file is stored at ``key``."""
        return self._path(key).is_file()

    def presigned_url(self, key: str, *, expires_in: int, filename: str | None = None) -> None:
        """Always ``None``: local files have no URL of their own, the app streams them."""
        self._path(key)
        return None
