"""``flask storage check``: do the asset rows and the stored objects agree?

Three kinds of problem: an asset row whose object is missing (its download would fail; the seller must upload it
again), an object no row names (left by an upload whose transaction never committed, or by a bucket restored
from elsewhere; it costs storage and may be deleted), and an upload begun long ago and never finished (the store
went away mid-upload; S3 keeps the parts until a lifecycle rule or an abort removes them). The store is listed
once and compared with the rows, so a bucket of many files costs a few list calls, not a request per file. Works
the same on local and S3 storage.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.errors import Unavailable
from marketplace.listings.models import Asset, ProductVersion
from marketplace.storage import IncompleteUpload, Storage

#: An upload still unfinished after this long is not in progress any more.
STALE_UPLOAD = timedelta(hours=1)


@dataclass(frozen=True)
class MissingObject:
    """An asset row whose stored object is gone."""

    asset_id: int
    product_id: int
    version_number: int
    kind: str
    filename: str
    storage_key: str


@dataclass
class StorageReport:
    """What ``check_storage`` found: rows without objects, objects without rows, and how many of each it saw."""

    missing: list[MissingObject] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    incomplete: list[IncompleteUpload] = field(default_factory=list)
    rows: int = 0
    objects: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unreferenced and not self.incomplete


def check_storage(session: Session, storage: Storage, *, stale_after: timedelta = STALE_UPLOAD) -> StorageReport:
    """Compare every asset row's key with the keys the store holds, and list uploads unfinished for longer than
    ``stale_after``. Raises ``StorageUnavailable`` when the store does not answer; changes nothing."""
    stored = set(storage.keys())
    cutoff = utcnow() - stale_after
    incomplete = sorted((u for u in storage.incomplete_uploads() if u.started <= cutoff), key=lambda u: u.started)
    rows = session.execute(
        select(Asset.id, Asset.storage_key, Asset.kind, Asset.filename, ProductVersion.product_id,
               ProductVersion.number).join(ProductVersion, ProductVersion.id == Asset.version_id).order_by(Asset.id)
    ).all()
    referenced: dict[str, list] = defaultdict(list)
    for row in rows:
        referenced[row.storage_key].append(row)
    report = StorageReport(rows=len(rows), objects=len(stored), incomplete=incomplete)
    report.missing = [MissingObject(row.id, row.product_id, row.number, str(row.kind.value), row.filename,
                                    row.storage_key)
                      for row in rows if row.storage_key not in stored]
    report.unreferenced = sorted(stored - referenced.keys())
    return report


def init_storage_cli(app: Flask) -> None:
    @app.cli.group("storage")
    def storage_group() -> None:
        """The file store the assets live in."""

    @storage_group.command("check")
    @click.option("--stale-minutes", type=click.IntRange(min=0), default=int(STALE_UPLOAD.total_seconds() // 60),
                  show_default=True, help="Report unfinished uploads begun longer ago than this.")
    def storage_check(stale_minutes: int) -> None:
        """List asset rows whose stored object is missing, stored objects no asset names, and stale unfinished uploads.

        Exit status 0 when they agree, 1 when there are problems, 2 when the store does not answer. An upload in
        progress may show its object as unreferenced for a moment.
        """
        from marketplace.extensions import db
        from marketplace.health.outages import as_unavailable

        try:
            report = check_storage(db.session, app.extensions["storage"], stale_after=timedelta(minutes=stale_minutes))
        except Exception as exc:
            outage = as_unavailable(exc)
            if outage is None:
                raise
            cause = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ else exc
            click.echo(f"{outage.message} ({type(cause).__name__})", err=True)
            sys.exit(2)
        click.echo(f"Checked {report.rows} asset rows against {report.objects} stored objects.")
        if report.missing:
            click.echo(f"Missing objects ({len(report.missing)}): asset rows whose stored file is gone")
            for m in report.missing:
                click.echo(f"  asset {m.asset_id} (product {m.product_id} version {m.version_number}, {m.kind} "
                           f"{m.filename}): {m.storage_key}")
        if report.unreferenced:
            click.echo(f"Unreferenced objects ({len(report.unreferenced)}): stored, named by no asset")
            for key in report.unreferenced:
                click.echo(f"  {key}")
        if report.incomplete:
            click.echo(f"Incomplete uploads ({len(report.incomplete)}): begun over {stale_minutes} minutes ago, "
                       "never finished")
            for upload in report.incomplete:
                click.echo(f"  {upload.key} (started {upload.started:%Y-%m-%d %H:%M:%S} UTC)")
        if report.ok:
            click.echo("No problems found.")
        else:
            sys.exit(1)
