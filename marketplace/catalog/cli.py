"""``flask catalog reindex``: rebuild the catalog's search index from the listed products, with progress bars."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from marketplace.uow import unit_of_work


def init_catalog_cli(app: Flask) -> None:
    @app.cli.group("catalog")
    def catalog_group() -> None:
        """The catalog's search index."""

    @catalog_group.command("reindex")
    def catalog_reindex() -> None:
        """Rebuild the search index from the listed products, then this machine's search engine index (when
        SEARCH_ENGINE is tantivy; other machines rebuild theirs from the change log at their next search)."""
        from marketplace.catalog.index import reindex_all
        from marketplace.catalog.models import CHANGED
        from marketplace.listings.services import buyer_visible

        engine = app.extensions.get("catalog_engine")
        with unit_of_work() as session:
            listed = session.scalar(select(func.count()).select_from(buyer_visible().subquery()))
            with click.progressbar(length=listed, label="Catalog entries") as bar:
                written = reindex_all(session, progress=bar.update)
            if engine is not None:  # rebuilt below, with its bar, not at the commit
                session.info.pop(CHANGED, None)
        if engine is not None:
            from marketplace.catalog.engine_search import IndexBusy

            try:
                with unit_of_work() as session, click.progressbar(length=written, label="Search engine") as bar:
                    engine.rebuild(session, progress=bar.update)
            except IndexBusy:
                raise click.ClickException(
                    f"Indexed {written} listed product(s) in the database, but not in this machine's search engine "
                    f"index ({engine.path}): another process holds it. Its followers rebuild it from the change log "
                    f"once it is let go; run this again to rebuild it here.") from None
        click.echo(f"Indexed {written} listed product(s).")
