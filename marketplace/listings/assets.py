"""Sample and deliverable files of a version: upload (streamed, capped, hashed), delete, copy, infer."""
from __future__ import annotations

import mimetypes
import re
import unicodedata
import uuid
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.errors import NotFound, ValidationFailed
from marketplace.jobs.outbox import enqueue_after_commit
from marketplace.listings.filetypes import check_upload
from marketplace.listings.models import Asset, ProductVersion
from marketplace.listings.services import require_edit, require_unfrozen, touch
from marketplace.listings.vocab import AssetKind
from marketplace.storage import HeadThenRest, Storage

mimetypes.add_type("application/geo+json", ".geojson")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
PROFILE_TASK = "catalog.profile"  # catalog.profile_store's job, named (the catalog sits above listings)
HEAD_BYTES = 8192  # what the file checks read of an upload before storing it




def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < HEAD_BYTES and (chunk := stream.read(HEAD_BYTES - len(head))):
        head += chunk
    return head


def filesize(size: int) -> str:
    """A file's size in bytes or binary multiples (the same digits and units in every locale of the interface)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def display_filename(name: str | None) -> str:
    """A client's file name reduced to a safe label (no path parts, no control characters).

    It is only ever shown and offered back in Content-Disposition, never used as a path.
    """
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "file"


def content_type_for(filename: str, claimed: str | None) -> str:
    guessed = mimetypes.guess_type(filename)[0]
    if guessed:
        return guessed
    claimed = (claimed or "").split(";")[0].strip().lower()
    return claimed if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", claimed or "") else "application/octet-stream"


def upload_asset(
    session: Session, storage: Storage, user: User, version: ProductVersion, *, kind: str, filename: str | None,
    stream: BinaryIO, content_type: str | None, max_bytes: int,
) -> Asset:
    """Stream a file into storage under a key we generate and record its size, type and SHA-256.

    Refuses a version that is not editable, an unknown kind, a program, a file not of the product's formats or
    whose first bytes are not what its name says (UnsupportedFile, nothing stored), and a file over
    ``max_bytes`` (UploadTooLarge, nothing left behind). Asks ``accounts.access`` first (NotFound outside the
    seller, Forbidden unverified). A file identical to one already on the version is taken: the new asset's
    ``identical_to`` names that one (None otherwise), for the caller to warn about.
    """
    require_edit(user, version)
    require_unfrozen(session, version)
    if kind not in tuple(AssetKind):
        raise ValidationFailed(_("Unknown asset kind."), {"kind": [_("Choose sample or deliverable.")]})
    name = display_filename(filename)
    head = _read_head(stream)
    check_upload(name, head, version.formats)
    ctype = content_type_for(name, content_type)
    key = f"assets/{version.product_id}/{uuid.uuid4().hex}"
    stored = storage.save(key, HeadThenRest(head, stream), content_type=ctype, max_bytes=max_bytes)
    if stored.size == 0:
        storage.delete(key)
        raise ValidationFailed(_("The file is empty."), {"file": [_("The file is empty.")]})
    asset = Asset(
        version=version, kind=AssetKind(kind), filename=name, content_type=ctype, size=stored.size,
        sha256=stored.sha256, storage_key=key, uploaded_by_id=user.id,
    )
    session.add(asset)
    try:
        session.flush()
    except Exception:
        storage.delete(key)
        raise
    touch(version)
    # Its preview and column profile are computed off the request, once the upload is committed.
    enqueue_after_commit(session, PROFILE_TASK, asset.id)
    record(session, actor_id=user.id, action="asset.uploaded", subject_type="asset", subject_id=asset.id,
           payload={"version_id": version.id, "kind": kind, "sha256": stored.sha256, "size": stored.size})
    # Allowed (a sample may be the whole file), but rarely meant.
    asset.identical_to = next((a for a in version.assets if a.id != asset.id and a.sha256 == asset.sha256), None)
    return asset


def upload_warnings(asset: Asset) -> list[str]:
    """What the seller should know about a file just uploaded: that it is identical to one already on the
    version (``identical_to``, set by ``upload_asset``)."""
    twin = asset.identical_to
    if twin is None:
        return []
    return [_("%(name)s is identical to %(other)s (%(kind)s, %(size)s), already on this version. Delete one if you "
              "did not mean to upload it twice.", name=asset.filename, other=twin.filename,
              kind=_("sample") if twin.kind.value == "sample" else _("deliverable"), size=filesize(twin.size))]


def asset_of(version: ProductVersion, asset_id: int) -> Asset:
    for asset in version.assets:
        if asset.id == asset_id:
            return asset
    raise NotFound(_("No such file."))


def delete_asset(session: Session, storage: Storage, user: User, version: ProductVersion, asset_id: int) -> None:
    """Remove a file from an editable version; the stored object goes only when no other version uses it.

    Refuses (like every change) anyone who may not edit the product; the deletion is an audit event.
    """
    require_edit(user, version)
    require_unfrozen(session, version)
    asset = asset_of(version, asset_id)
    key = asset.storage_key
    gone = {"version_id": version.id, "product_id": version.product_id, "kind": asset.kind.value,
            "filename": asset.filename, "sha256": asset.sha256, "size": asset.size}
    version.assets.remove(asset)
    session.flush()
    stored_object_deleted = not session.scalar(select(func.count(Asset.id)).where(Asset.storage_key == key))
    record(session, actor_id=user.id, action="asset.deleted", subject_type="asset", subject_id=asset_id,
           payload=gone | {"stored_object_deleted": stored_object_deleted})
    # The event is written (and flushed) before the object goes: no deletion leaves without its record.
    if stored_object_deleted:
        storage.delete(key)
    touch(version)


def record_download(session: Session, user: User, asset: Asset, as_role: str) -> None:
    """Write the audit event every download leaves behind (who, which file, in what role), before the bytes go."""
    record(session, actor_id=user.id, action="asset.downloaded", subject_type="asset", subject_id=asset.id,
           payload={"version_id": asset.version_id, "product_id": asset.version.product_id,
                    "filename": asset.filename, "sha256": asset.sha256, "size": asset.size, "as": as_role})


def copy_assets(source: ProductVersion, target: ProductVersion) -> None:
    """A new version starts with the files of the one before (same stored objects, new rows); a copy shows the
    profile stored for its object (``catalog.profile_store.profile_for``), so nothing is computed for it."""
    target.assets.extend(Asset(kind=a.kind, filename=a.filename, content_type=a.content_type, size=a.size,
                               sha256=a.sha256, storage_key=a.storage_key, uploaded_by_id=a.uploaded_by_id,
                               uuid=a.uuid) for a in source.assets)


def infer_from_asset(storage: Storage, asset: Asset):
    """Infer a data dictionary from a stored CSV, JSON or GeoJSON file (bounded memory)."""
    from marketplace.listings.inference import infer_dictionary

    with storage.open(asset.storage_key) as stream:
        return infer_dictionary(stream, filename=asset.filename, content_type=asset.content_type)


def dictionary_from_inference(version: ProductVersion, result) -> list[dict]:
    """Inferred fields as dictionary rows, keeping the descriptions, units and flags already written by hand."""
    existing = {f.name.lower(): f for f in version.fields}
    rows = []
    for f in result.fields:
        old = existing.get(f.name.lower())
        rows.append({
            "name": f.name, "type": f.type, "nullable": f.nullable, "example": f.example,
            "unit": old.unit if old else "", "description": old.description if old else "",
            "personal_info": old.personal_info if old else False,
        })
    return rows
