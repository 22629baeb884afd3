"""Each file's preview and column profile, computed once off the request and stored with its asset.

Where a file is uploaded (``listings.assets.upload_asset``), its ``catalog.profile`` job is queued, to run after
the commit (it copies the profile of the same bytes under the same name and type uploaded before, never reading
them again); a new version's copies of the files before it share their stored objects, and so their profiles.
The job reads the file once, in one bounded pass (``catalog.profiles``), and stores the preview the product page
shows (with a GeoJSON file's feature count and bounding box) and the column profile. The product page and the
review case read the stored row (``profile_for``, a pure read) and never open the file; files from before profiles
existed are profiled by ``flask profiles compute`` (``--queue`` hands them to the worker).

Two workers may profile one file at once (a job retried while the first still runs, the command beside the
worker): each computes, and the first insert wins (``insert_ignoring_duplicate`` on the asset's key), the other
answers "kept". A file without a preview stores its reason as a catalog msgid and its values, put into words in
the reader's language when it is shown.
"""
from __future__ import annotations

import logging
from datetime import datetime
from functools import cache

import click
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import JSON, ForeignKey, String, bindparam, exists, or_, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from marketplace.catalog.preview import PREVIEW_REASONS, Preview
from marketplace.catalog.profiles import preview_from_json, preview_to_json, profile_stream
from marketplace.db import UTCDateTime, insert_ignoring_duplicate, utcnow, write_intent
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import BABEL_IDS
from marketplace.jobs.queue import job
from marketplace.listings.models import Asset
from marketplace.recorded_text import RecordedText
from marketplace.storage import Storage
from marketplace.uow import commit_before, job_unit_of_work

log = logging.getLogger(__name__)

TASK = "catalog.profile"
DONE, MISSING = "done", "missing"
MISSING_REASON = "The sample file is missing from storage."  # one of PREVIEW_REASONS
REASONS = RecordedText(*PREVIEW_REASONS)


class AssetProfile(db.Model):
    """What the product page shows of one stored file: its preview and column profile, computed once."""

    __tablename__ = "asset_profiles"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=DONE)  # "done", or "missing" (no stored object)
    # The preview (``catalog.preview.Preview`` as JSON); a file with no preview keeps its reason as "reason": its
    # msgid and values (rows written before kept it worded in each locale, under "errors").
    preview: Mapped[dict] = mapped_column(JSON, default=dict)
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def shown_preview(self, locale: str) -> Preview:
        """The stored preview, its reason for being empty (if it is) in ``locale``."""
        preview = preview_from_json(self.preview)
        reason = self.preview.get("reason")
        if reason:
            with force_locale(BABEL_IDS.get(locale, BABEL_IDS["en"])):
                return Preview("none", preview.format, error=reason_words(reason))
        errors = self.preview.get("errors") or {}
        if errors:
            return Preview("none", preview.format, error=errors.get(locale) or errors.get("en"))
        return preview


def stored_reason(text: str | None) -> dict:
    """A reason for having no preview, as written in English, kept as its msgid and values ("text" when it is in
    no known form: a library's words, shown as written)."""
    found = REASONS.form_of(text)
    if found is None:
        return {"text": text or ""}
    msgid, values = found
    return {"msgid": msgid, "params": {k: int(v) if v.isdigit() else v for k, v in values.items()}}


def reason_words(reason: dict) -> str:
    """A stored reason in the current locale."""
    if "msgid" not in reason:
        return reason.get("text") or ""
    return gettext(reason["msgid"], **reason.get("params", {}))


def compute(storage: Storage, asset: Asset) -> dict:
    """The row's values for ``asset``: its file read once, a reason for no preview kept as its msgid."""
    try:
        with storage.open(asset.storage_key) as stream:  # opened first: a file missing from storage says so
            with force_locale(BABEL_IDS["en"]):
                preview, profile = profile_stream(stream, filename=asset.filename, content_type=asset.content_type)
    except NotFound:
        return {"state": MISSING, "preview": {"kind": "none", "reason": stored_reason(MISSING_REASON)},
                "profile": {"error": "missing"}}
    stored = preview_to_json(preview)
    if preview.kind == "none":  # the reason is put into words for each reader, in their language
        stored["reason"] = stored_reason(preview.error)
    return {"state": DONE, "preview": stored, "profile": profile}


def profile_asset(session: Session, storage: Storage, asset_id: int) -> str:
    """Compute and store the profile of asset ``asset_id`` unless it has one: "done", "copied" (from another
    asset of the same stored file, or of the same bytes under the same name and type: a file uploaded again),
    "kept" (it had one), "gone" (the asset was deleted meanwhile), "missing" (its
    file is not in storage; stored as such). A profile stored meanwhile by another worker wins: "kept". A storage
    outage raises, for the job's retry."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        return "gone"
    if _stored(session, asset_id):
        return "kept"
    twin = session.scalars(select(AssetProfile).join(Asset, Asset.id == AssetProfile.asset_id)
                           .where(or_(Asset.storage_key == asset.storage_key,
                                      (Asset.sha256 == asset.sha256) & (Asset.filename == asset.filename)
                                      & (Asset.content_type == asset.content_type)),
                                  AssetProfile.state == DONE)
                           .limit(1)).first()
    if twin is not None:
        values, outcome = {"state": DONE, "preview": twin.preview, "profile": twin.profile}, "copied"
    else:
        values = compute(storage, asset)
        outcome = values["state"]
    commit_before(session, "storing a file's profile")  # ends the long read: the insert begins its own write
    with write_intent():
        if not insert_ignoring_duplicate(session, AssetProfile, {"asset_id": asset_id, "computed_at": utcnow(),
                                                                 **values}, ["asset_id"]):
            return "kept"
    return outcome


def _stored(session: Session, asset_id: int) -> bool:
    return session.scalar(select(AssetProfile.asset_id).where(AssetProfile.asset_id == asset_id)) is not None


@cache
def _profile_statement():
    return (select(AssetProfile).join(Asset, Asset.id == AssetProfile.asset_id)
            .where(Asset.storage_key == bindparam("key"))
            .order_by((AssetProfile.asset_id == bindparam("asset")).desc()).limit(1))


def profile_for(session: Session, asset: Asset) -> AssetProfile | None:
    """The stored profile of ``asset``'s file (its own, or another asset's of the same stored file), in one query
    (a statement built once, its values bound at each call); None while it is being computed. A pure read: nothing
    is queued or written."""
    return session.scalars(_profile_statement(), {"key": asset.storage_key, "asset": asset.id}).first()


def _missing_ids(session: Session) -> list[int]:
    """The files that have no profile (uploaded before profiles existed), in upload order: a stored object with a
    profile on any of its assets (a file and its copies in later versions) has one."""
    profiled = aliased(Asset)
    return list(session.scalars(select(Asset.id).where(~exists().where(
        profiled.storage_key == Asset.storage_key, AssetProfile.asset_id == profiled.id)).order_by(Asset.id)))


def queue_missing(session: Session) -> int:
    """Queue the profile of every file that has none (what was uploaded before profiles existed)."""
    missing = _missing_ids(session)
    for asset_id in missing:
        profile_asset_job(asset_id)
    return len(missing)


def compute_missing(session: Session, storage: Storage) -> dict[str, int]:
    """Compute here, one file after another, the profile of every file that has none, each file a unit of work of
    its own: a file that fails ("failed", logged) is rolled back alone and the others are kept. Counts by
    outcome."""
    with job_unit_of_work(session):
        missing = _missing_ids(session)
    outcomes: dict[str, int] = {}
    for asset_id in missing:
        try:
            with job_unit_of_work(session):
                outcome = profile_asset(session, storage, asset_id)
        except Exception:  # noqa: BLE001 - one file's failure is reported (and rolled back), the next is profiled
            log.exception("profiling asset %s failed", asset_id)
            outcome = "failed"
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
    """Profile every file uploaded before profiles existed (or whose job was lost), each file committed alone."""
    from marketplace.uow import unit_of_work

    if queue:
        with unit_of_work():
            click.echo(f"Queued {queue_missing(db.session)} file(s).")
        return
    outcomes = compute_missing(db.session, current_app.extensions["storage"])
    click.echo("Profiled: " + (", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "nothing to do"))
    if outcomes.get("failed"):
        raise SystemExit(1)  # the others are stored; the log says why each failed one failed
