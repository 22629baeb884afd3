"""Each file's preview and column profile, computed once off the request and stored with its asset.

An upload queues the ``catalog.profile`` job (``listings.assets.upload_asset``, after its commit). The job reads the
file once, in one bounded pass (``catalog.profiles``), and stores the preview the product page shows (with a
GeoJSON file's feature count and bounding box) and the column profile. A file shared by several versions (a new
version starts with the files of the one before) is read once: the profile of another asset with the same stored
object is copied. The product page reads the stored row and never opens the file; a file uploaded before profiles
existed is queued when its page is first shown, or by ``flask profiles compute``.
"""
from __future__ import annotations

import logging
from datetime import datetime

import click
from cachetools import TTLCache
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.catalog.preview import Preview
from marketplace.catalog.profiles import preview_from_json, preview_to_json, profile_stream
from marketplace.db import UTCDateTime, utcnow, write_intent
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import BABEL_IDS, LOCALES
from marketplace.i18n import gettext as _
from marketplace.jobs.queue import job
from marketplace.listings.models import Asset
from marketplace.storage import Storage

log = logging.getLogger(__name__)

TASK = "catalog.profile"
DONE, MISSING = "done", "missing"
_queued: TTLCache = TTLCache(maxsize=10_000, ttl=600)  # assets this process queued lately (first views)


class AssetProfile(db.Model):
    """What the product page shows of one stored file: its preview and column profile, computed once."""

    __tablename__ = "asset_profiles"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=DONE)  # "done", or "missing" (no stored object)
    # The preview (``catalog.preview.Preview`` as JSON); a file with no preview keeps its reason in each locale.
    preview: Mapped[dict] = mapped_column(JSON, default=dict)
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def shown_preview(self, locale: str) -> Preview:
        """The stored preview, its reason for being empty (if it is) in ``locale``."""
        preview = preview_from_json(self.preview)
        errors = self.preview.get("errors") or {}
        if errors:
            return Preview("none", preview.format, error=errors.get(locale) or errors.get("en"))
        return preview


def compute(storage: Storage, asset: Asset) -> dict:
    """The row's values for ``asset``: its file read once (and again per locale only to word a failure)."""
    try:
        with storage.open(asset.storage_key) as stream:
            preview, profile = profile_stream(stream, filename=asset.filename, content_type=asset.content_type)
    except NotFound:
        errors = {}
        for tag in LOCALES:
            with force_locale(BABEL_IDS[tag]):
                errors[tag] = _("The sample file is missing from storage.")
        return {"state": MISSING, "preview": {"kind": "none", "errors": errors}, "profile": {"error": "missing"}}
    stored = preview_to_json(preview)
    if preview.kind == "none":  # the reason is shown to readers of every language
        stored["errors"] = {}
        for tag in LOCALES:
            with force_locale(BABEL_IDS[tag]), storage.open(asset.storage_key) as stream:
                again, _unused = profile_stream(stream, filename=asset.filename, content_type=asset.content_type,
                                          max_rows=1)
            stored["errors"][tag] = again.error
    return {"state": DONE, "preview": stored, "profile": profile}


def profile_asset(session: Session, storage: Storage, asset_id: int) -> str:
    """Compute and store the profile of asset ``asset_id`` unless it has one: "done", "copied" (from another
    asset of the same stored file), "kept" (it had one), "gone" (the asset was deleted meanwhile), "missing" (its
    file is not in storage; stored as such). A storage outage raises, for the job's retry."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        return "gone"
    if session.get(AssetProfile, asset_id) is not None:
        return "kept"
    twin = session.scalars(select(AssetProfile).join(Asset, Asset.id == AssetProfile.asset_id)
                           .where(Asset.storage_key == asset.storage_key, AssetProfile.state == DONE)
                           .limit(1)).first()
    if twin is not None:
        values, outcome = {"state": DONE, "preview": twin.preview, "profile": twin.profile}, "copied"
    else:
        values = compute(storage, asset)
        outcome = values["state"]
    with write_intent():
        session.add(AssetProfile(asset_id=asset_id, **values))
        session.flush()
    return outcome


def profile_for(session: Session, asset: Asset) -> AssetProfile | None:
    """The stored profile of ``asset``'s file (its own, or another asset's of the same stored file), one query;
    None while it is being computed (a file from before profiles existed is queued now, off the request)."""
    found = session.scalars(select(AssetProfile).join(Asset, Asset.id == AssetProfile.asset_id)
                            .where(Asset.storage_key == asset.storage_key)
                            .order_by((AssetProfile.asset_id == asset.id).desc()).limit(1)).first()
    if found is None and asset.id not in _queued:
        _queued[asset.id] = True
        try:
            profile_asset_job(asset.id)
        except Exception:  # the queue being down must not take the page with it; the next view tries again
            log.exception("could not queue the profile of asset %s", asset.id)
            _queued.pop(asset.id, None)
    return found


def _missing_ids(session: Session) -> list[int]:
    """The files that have no profile (uploaded before profiles existed), in upload order."""
    return list(session.scalars(select(Asset.id).outerjoin(AssetProfile, AssetProfile.asset_id == Asset.id)
                                .where(AssetProfile.asset_id.is_(None)).order_by(Asset.id)))


def queue_missing(session: Session) -> int:
    """Queue the profile of every file that has none (what was uploaded before profiles existed)."""
    missing = _missing_ids(session)
    for asset_id in missing:
        profile_asset_job(asset_id)
    return len(missing)


def compute_missing(session: Session, storage: Storage) -> dict[str, int]:
    """Compute here, one file after another, the profile of every file that has none; counts by outcome."""
    missing = _missing_ids(session)
    outcomes: dict[str, int] = {}
    for asset_id in missing:
        outcome = profile_asset(session, storage, asset_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@job(TASK, retries=3, retry_delay=30)
def profile_asset_job(asset_id: int) -> str:
    """Compute the preview and column profile of an uploaded file."""
    return profile_asset(db.session, current_app.extensions["storage"], asset_id)


@click.group("profiles")
def profiles_cli() -> None:
    """Column profiles and previews of uploaded files."""


@profiles_cli.command("compute")
@click.option("--queue", is_flag=True, help="Queue a job per file for the worker instead of computing here.")
def compute_command(queue: bool) -> None:
    """Profile every file uploaded before profiles existed (or whose job was lost)."""
    from marketplace.uow import unit_of_work

    with unit_of_work():
        if queue:
            click.echo(f"Queued {queue_missing(db.session)} file(s).")
            return
        outcomes = compute_missing(db.session, current_app.extensions["storage"])
    click.echo("Profiled: " + (", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "nothing to do"))
