"""Filesystem storage backend: one file per key under a root directory."""
from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

from marketplace.errors import NotFound, StorageUnavailable
from marketplace.storage.interface import (
    IncompleteUpload,
    MeteredReader,
    StoredObject,
    validate_key,
    validate_max_bytes,
)

_F = TypeVar("_F", bound=Callable)

_UNAVAILABLE = "File storage is not available; please try again shortly."


@contextlib.contextmanager
def _folder_errors() -> Iterator[None]:
    """Re-raise an operating-system error of the storage folder (unreadable, unwritable, full, I/O error, gone
    away) as ``StorageUnavailable`` (503)."""
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable(_UNAVAILABLE) from exc


def _unreadable_as_unavailable(method: _F) -> _F:
    """``_folder_errors`` around a whole method; a missing file is told apart by each method first."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _folder_errors():
            return method(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


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
        # Errors of the folder are an outage (StorageUnavailable); errors reading ``stream`` are the sender's.
        with _folder_errors():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # others' data files: owner only
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                reader = MeteredReader(stream, max_bytes)
                while chunk := reader.read_chunk():
                    with _folder_errors():
                        tmp.write(chunk)
                with _folder_errors():
                    tmp.flush()
                    os.fsync(tmp.fileno())
            with _folder_errors():
                os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return StoredObject(key=key, size=reader.size, sha256=reader.sha256, content_type=content_type)

    @_unreadable_as_unavailable
    def open(self, key: str) -> BinaryIO:
        """Open the file for binary reading; raises ``NotFound`` if there is no file at ``key``."""
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no stored object at {key!r}") from None

    @_unreadable_as_unavailable
    def delete(self, key: str) -> None:
        """Remove the file at ``key``; a missing file is not an error."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    @_unreadable_as_unavailable
    def exists(self, key: str) -> bool:
        """Tell whether a regular file is stored at ``key``; an unreadable folder is ``StorageUnavailable``."""
        return self._path(key).is_file()  # a missing file is False; an unreadable folder raises

    def presigned_url(self, key: str, *, expires_in: int, filename: str | None = None) -> None:
        """Always ``None``: local files have no URL of their own, the app streams them."""
        self._path(key)
        return None

    def keys(self) -> Iterator[str]:
        """Every stored key (temp files of saves in progress left out), in no particular order."""
        try:
            if not self.root.exists():
                return
            for folder, _dirs, files in os.walk(self.root, onerror=_raise):
                for name in sorted(files):
                    if name.startswith(".") and name.endswith(".tmp"):
                        continue
                    yield Path(folder, name).relative_to(self.root).as_posix()
        except OSError as exc:
            raise StorageUnavailable(_UNAVAILABLE) from exc

    def incomplete_uploads(self) -> Iterator[IncompleteUpload]:
        """Temp files of saves that never reached their rename (``.<name>.<random>.tmp`` beside the target)."""
        try:
            if not self.root.exists():
                return
            for folder, _dirs, files in os.walk(self.root, onerror=_raise):
                for name in sorted(files):
                    if not (name.startswith(".") and name.endswith(".tmp")) or name.startswith(".ready."):
                        continue
                    target = name[1:].rsplit(".", 2)[0]
                    started = datetime.fromtimestamp(os.stat(Path(folder, name)).st_mtime, UTC)
                    yield IncompleteUpload(Path(folder, target).relative_to(self.root).as_posix(), started)
        except OSError as exc:
            raise StorageUnavailable(_UNAVAILABLE) from exc

    @_unreadable_as_unavailable
    def check(self) -> None:
        """Readiness: the root folder exists (or can be made) and a file can be written to it and removed."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=self.root, prefix=".ready.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)


def _raise(error: OSError) -> None:
    raise error
