"""S3-compatible storage backend (AWS S3, MinIO, moto, ...)."""
from __future__ import annotations

import contextlib
import io
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable
from flask_babel import gettext as _

from marketplace.errors import NotFound, StorageUnavailable
from marketplace.storage.interface import (
    CHUNK_SIZE,
    IncompleteUpload,
    MeteredReader,
    StoredObject,
    validate_key,
    validate_max_bytes,
)

#: S3's smallest allowed multipart part (all parts but the last).
MIN_PART_SIZE = 5 * 1024 * 1024
#: S3's largest part number.
MAX_PARTS = 10_000
#: SigV4 presigned URLs live at most seven days.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

#: Error codes that mean "no such key" (``404`` is what HEAD requests report).
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _is_not_found(exc: ClientError) -> bool:
    """Tell whether a botocore error means the object does not exist."""
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")) in _NOT_FOUND_CODES


#: Error codes S3 gives when it is overloaded or down for a moment (besides any 5xx status), or when the bucket
#: itself is gone (a store restored empty, a misconfiguration): no request of ours can succeed until it is back.
_UNAVAILABLE_CODES = frozenset({"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout", "NoSuchBucket"})


def is_unavailable(exc: BaseException) -> bool:
    """Tell whether a botocore error means the S3 endpoint is down or overloaded, not that the request was wrong:
    no connection, a connection dropped mid-answer, a timeout, or a 5xx answer."""
    if isinstance(exc, (EndpointUnreachable, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or str(exc.response.get("Error", {}).get("Code", "")) in _UNAVAILABLE_CODES
    return False


@contextlib.contextmanager
def _unavailable_as_storage_error() -> Iterator[None]:
    """Re-raise an unreachable or failing endpoint as ``StorageUnavailable`` (503); other errors pass unchanged."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        if is_unavailable(exc):
            raise StorageUnavailable(_("File storage is not answering; please try again shortly.")) from exc
        raise


def content_disposition(filename: str) -> str:
    """Build an ``attachment`` Content-Disposition for ``filename`` (RFC 6266 / RFC 5987).

    The quoted ``filename`` is an ASCII fallback with quotes, backslashes,
    control characters and path separators replaced; ``filename*`` carries
    the full UTF-8 name percent-encoded.
    """
    name = filename.replace("/", "_").replace("\\", "_")
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip() or "download"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r'["%;]', "_", fallback).strip() or "download"
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


class _BodyReader(io.RawIOBase):
    """Adapts botocore's ``StreamingBody`` to a raw stream so it can be buffered."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage:
    """Stores each object in an S3 bucket at ``prefix + key``; downloads go via presigned URLs.

    Refuses (``ValueError``) malformed keys and prefixes. Maps S3's
    ``NoSuchKey``/404 onto ``NotFound`` and an endpoint that does not answer
    (or answers 5xx) onto ``StorageUnavailable``; other S3 errors propagate
    as botocore ``ClientError``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        client: Any = None,
        connect_timeout: float = 5,
        read_timeout: float = 60,
    ) -> None:
        """Use ``client`` if given, else build a boto3 S3 client for ``endpoint_url`` and ``region``.

        Credentials not given fall back to boto3's usual chain (env, config,
        instance role). A non-empty ``prefix`` is normalised to end with ``/``.
        """
        if not bucket:
            raise ValueError("S3 bucket name must not be empty")
        self.bucket = bucket
        self.region = region or "us-east-1"
        prefix = (prefix or "").strip("/")
        self.prefix = f"{validate_key(prefix)}/" if prefix else ""
        if client is None:
            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # Only send/validate checksums when S3 requires them: keeps
                # S3-compatible servers that lack the newer checksum headers working.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
                # An endpoint that does not answer is an outage to report (503), not a request to hold for
                # botocore's default minute per attempt.
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            )
            session = boto3.session.Session()
            client = session.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=self.region,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                config=config,
            )
        self.client = client

    def _object_key(self, key: str) -> str:
        """Validate ``key`` and return the full S3 key (prefix included)."""
        return self.prefix + validate_key(key)

    def ensure_bucket(self) -> None:
        """Create the bucket unless it already exists (meant for development and tests)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou",):
                raise

    @_unavailable_as_storage_error()
    def save(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredObject:
        """Stream ``stream`` to S3: one ``put_object`` if it fits in one part, else a multipart upload.

        Holds at most one part (5 MiB, or more only when ``max_bytes`` needs
        over 10,000 parts) plus one 64 KiB chunk in memory. Refuses
        (``UploadTooLarge``) more than ``max_bytes`` bytes; on that or any other
        error a started multipart upload is aborted, so nothing is left behind.
        """
        object_key = self._object_key(key)
        validate_max_bytes(max_bytes)
        part_size = max(MIN_PART_SIZE, math.ceil(max_bytes / MAX_PARTS))
        reader = MeteredReader(stream, max_bytes)
        buffer = io.BytesIO()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        def upload_part() -> None:
            buffer.seek(0)
            part_number = len(parts) + 1
            response = self.client.upload_part(
                Bucket=self.bucket, Key=object_key, UploadId=upload_id, PartNumber=part_number, Body=buffer
            )
            parts.append({"ETag": response["ETag"], "PartNumber": part_number})

        try:
            while True:
                room = part_size - buffer.tell()
                chunk = reader.read_chunk(room if room > 0 else CHUNK_SIZE)
                if not chunk:
                    break
                if room <= 0:
                    # A full part and more data to come: this has to be multipart.
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=object_key, ContentType=content_type
                        )["UploadId"]
                    upload_part()
                    buffer = io.BytesIO()
                buffer.write(chunk)
            if upload_id is None:
                buffer.seek(0)
                self.client.put_object(Bucket=self.bucket, Key=object_key, Body=buffer, ContentType=content_type)
            else:
                if buffer.tell():
                    upload_part()
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=object_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=object_key, UploadId=upload_id)
                except Exception:  # the original error matters more than a failed cleanup
                    pass
            raise
        return StoredObject(key=key, size=reader.size, sha256=reader.sha256, content_type=content_type)

    @_unavailable_as_storage_error()
    def open(self, key: str) -> BinaryIO:
        """Return a buffered binary stream over the object's body; raises ``NotFound`` if missing."""
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if _is_not_found(exc):
                raise NotFound(f"no stored object at {key!r}") from None
            raise
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=CHUNK_SIZE)  # type: ignore[return-value]

    @_unavailable_as_storage_error()
    def delete(self, key: str) -> None:
        """Delete the object; a missing key is not an error."""
        object_key = self._object_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if not _is_not_found(exc):
                raise

    def _require_bucket(self) -> None:
        """StorageUnavailable if the bucket itself is gone (a store restored empty, a misconfiguration)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _is_not_found(exc) or str(exc.response.get("Error", {}).get("Code", "")) == "NoSuchBucket":
                raise StorageUnavailable(f"File storage has no bucket {self.bucket!r}.") from exc
            raise

    @_unavailable_as_storage_error()
    def exists(self, key: str) -> bool:
        """Tell whether the object exists (HEAD request); other S3 errors propagate."""
        object_key = self._object_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if _is_not_found(exc):
                self._require_bucket()  # a HEAD answer has no body to say which is missing: the key or the bucket
                return False
            raise
        return True

    def presigned_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """Return a presigned GET URL valid for ``expires_in`` seconds (1 .. 7 days).

        With ``filename`` the response is served as an attachment of that name.
        Refuses (``ValueError``) an out-of-range ``expires_in``. Does not check
        that the object exists.
        """
        object_key = self._object_key(key)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not 0 < expires_in <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} seconds")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": object_key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def keys(self) -> Iterator[str]:
        """Every key stored under this storage's prefix (prefix removed), in S3's listing order."""
        paginator = self.client.get_paginator("list_objects_v2")
        with _unavailable_as_storage_error():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):]

    def incomplete_uploads(self) -> Iterator[IncompleteUpload]:
        """Multipart uploads under this prefix neither completed nor aborted (S3 keeps their parts, and bills them,
        until a lifecycle rule or an abort removes them)."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with _unavailable_as_storage_error():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    yield IncompleteUpload(upload["Key"][len(self.prefix):], upload["Initiated"])

    @_unavailable_as_storage_error()
    def check(self) -> None:
        """Readiness: the bucket answers a HEAD request. Raises ``StorageUnavailable`` when the endpoint does not
        answer; a missing bucket or refused credentials raise botocore's ``ClientError``."""
        self.client.head_bucket(Bucket=self.bucket)
