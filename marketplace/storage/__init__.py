"""Blob storage for uploaded data files: a local directory or an S3-compatible bucket."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplace.storage.interface import HeadThenRest, IncompleteUpload, Storage, StoredObject, validate_key
from marketplace.storage.local import LocalStorage
from marketplace.storage.s3 import S3Storage

__all__ = ["HeadThenRest", "IncompleteUpload", "LocalStorage", "S3Storage", "Storage", "StoredObject",
           "storage_from_config", "validate_key"]


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """Build the backend named by ``config["STORAGE_BACKEND"]`` (``"local"`` or ``"s3"``).

    ``local`` needs ``STORAGE_LOCAL_ROOT``; ``s3`` needs ``S3_BUCKET`` and reads
    ``S3_ENDPOINT_URL``, ``S3_REGION``, ``S3_ACCESS_KEY_ID``,
    ``S3_SECRET_ACCESS_KEY``, ``S3_PREFIX``, ``S3_CONNECT_TIMEOUT`` and ``S3_READ_TIMEOUT``
    (seconds) if present. Refuses
    (``ValueError``) an unknown or missing backend name; a missing required
    setting raises ``KeyError``.
    """
    backend = str(config.get("STORAGE_BACKEND") or "").strip().lower()
    if backend == "local":
        return LocalStorage(config["STORAGE_LOCAL_ROOT"])
    if backend == "s3":
        return S3Storage(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION", "us-east-1"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            prefix=config.get("S3_PREFIX", ""),
            connect_timeout=float(config.get("S3_CONNECT_TIMEOUT", 5)),
            read_timeout=float(config.get("S3_READ_TIMEOUT", 60)),
        )
    raise ValueError(f"unknown STORAGE_BACKEND {config.get('STORAGE_BACKEND')!r}; expected 'local' or 's3'")
