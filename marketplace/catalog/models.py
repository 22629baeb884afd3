"""The search index of the catalog: one denormalised row per listed product, facet values included.

Rows are written only by ``catalog.index`` when a product is listed, re-listed, suspended or delisted, so a
search reads one table (plus the full-text index the migration creates per database: SQLite FTS5 with the
trigram tokenizer, PostgreSQL pg_trgm) and never joins the listing tables.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.listings.models import DataProduct

# The values of each multi-valued facet, in bit order. Appending is safe; reordering needs a reindex.
MASK_FACETS: dict[str, tuple[str, ...]] = {
    "region": ("hong_kong", "shanghai", "cross_city"),
    "format": ("CSV", "JSON", "GeoJSON", "XLSX", "Parquet", "XML", "PDF", "SHP"),
    "delivery": ("file", "api", "report"),
    "currency": ("CNY", "HKD", "USD"),
    "licence": ("free", "commercial", "research_only", "ai_training", "exclusive"),
    "price": ("free", "under_100", "100_1000", "1000_10000", "over_10000"),
}


def mask_of(facet: str, values) -> int:
    """The bit set of ``values`` in a mask facet (values outside its vocabulary have no bit)."""
    order = MASK_FACETS[facet]
    return sum(1 << order.index(v) for v in set(values) if v in order)

# Tables and indexes the migration creates by hand (full-text), which the models do not describe.
FULLTEXT_NAMES = ("catalog_fts", "ix_catalog_texts_search_trgm", "ix_catalog_texts_title_trgm")


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic filter: leave the hand-made full-text objects out of autogenerate comparisons."""
    return not (name and name.startswith(FULLTEXT_NAMES))


class CatalogEntry(db.Model):
    __tablename__ = "catalog_entries"
    __table_args__ = (
        Index("ix_catalog_entries_listed", "listed_at", "id"),
        Index("ix_catalog_entries_price", "price_sort", "id"),
        # A seller's and a category's newest entries, read in order and cut at the limit (related products).
        Index("ix_catalog_entries_seller_listed", "seller_slug", "listed_at", "id"),
        Index("ix_catalog_entries_category_listed", "category", "listed_at", "id"),
        # Covers every column the facet bitmaps are built from (catalog.search.facet_bitmaps), so their one scan
        # reads this narrow index, never the wide rows.
        Index("ix_catalog_entries_facets", "category", "seller_slug", "frequency", "seller_name", "region_mask",
              "format_mask", "delivery_mask", "currency_mask", "licence_mask", "price_mask"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("data_products.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    summary_en: Mapped[str] = mapped_column(String(400), default="")
    summary_zh: Mapped[str] = mapped_column(String(400), default="")
    seller_slug: Mapped[str] = mapped_column(String(80))
    seller_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(40))
    frequency: Mapped[str | None] = mapped_column(String(32))
    regions: Mapped[str] = mapped_column(String(200), default="")  # comma-joined, for display
    registration_number: Mapped[str | None] = mapped_column(String(40))
    classification: Mapped[str | None] = mapped_column(String(32))
    personal_info: Mapped[str | None] = mapped_column(String(32))
    min_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # cheapest plan, minor units of min_currency
    min_currency: Mapped[str] = mapped_column(String(3), default="")
    price_sort: Mapped[int] = mapped_column(BigInteger, default=0)  # cheapest plan in US cents (approximate)
    plan_count: Mapped[int] = mapped_column(Integer, default=0)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Multi-valued facets as bit sets (bit i = the i-th value of MASK_FACETS[facet]): one column per facet, read in
    # the facet bitmaps' one scan and filtered by a bit test, where a table of (facet, value, entry) rows took a
    # query per facet.
    region_mask: Mapped[int] = mapped_column(Integer, default=0)
    format_mask: Mapped[int] = mapped_column(Integer, default=0)
    delivery_mask: Mapped[int] = mapped_column(Integer, default=0)
    currency_mask: Mapped[int] = mapped_column(Integer, default=0)
    licence_mask: Mapped[int] = mapped_column(Integer, default=0)
    price_mask: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[DataProduct] = relationship()


class CatalogText(db.Model):
    """The searchable text of an entry, kept apart so the entry rows the facet counts read stay narrow (a text
    can be 20k characters); the full-text index reads this table."""

    __tablename__ = "catalog_texts"

    id: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"), primary_key=True)
    title_text: Mapped[str] = mapped_column(Text, default="")   # lower-cased titles and tags (relevance)
    search_text: Mapped[str] = mapped_column(Text, default="")  # lower-cased everything searchable


class CatalogState(db.Model):
    """One row naming the catalog index's current contents: ``generation`` is a fresh random token written in
    the same transaction as every change to the index, so a process that built something from the index (the
    facet bitmaps of ``catalog.search``) knows with one primary-key read whether it is still exact. A
    random token rather than a counter: a rolled-back change or a restored backup can never reuse a token that
    named other contents."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    generation: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def new_generation(session) -> str:
    """Mark the index as changed (call in the transaction that changes it); returns the new token."""
    token = secrets.token_hex(16)
    session.execute(update(CatalogState).where(CatalogState.id == 1).values(generation=token, changed_at=utcnow()))
    return token


class CatalogChange(db.Model):
    """The log of changes to the index, which each machine's search engine follows: a product whose entry was
    written or removed, or (``product_id`` None) the whole index rebuilt. Written after ``new_generation``, whose
    update locks the state row until the commit, so ids are handed out in commit order and a reader that has
    seen an id has seen every smaller one. ``generation`` tells a log that was rolled back or restored from one
    that went on: a reader finding its last id under another token starts over."""

    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    product_id: Mapped[int | None] = mapped_column(Integer)
    generation: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def prune_changes(session, before: datetime) -> int:
    """Delete the log's rows written before ``before``, except the newest (a machine compares its index with it);
    returns how many. A machine whose index stopped at a pruned row rebuilds it, as from a log gone back."""
    newest = session.scalar(select(func.max(CatalogChange.id)))
    if newest is None:
        return 0
    return session.execute(delete(CatalogChange).where(CatalogChange.changed_at < before,
                                                       CatalogChange.id < newest)).rowcount


CHANGED = "catalog_changed"  # in a session's info: its commit changes the index (the engine applies it then)


def log_change(session, product_id: int | None) -> None:
    """Mark the index as changed for one product, or for all (None), in the transaction that changes it. Its commit
    applies it to this machine's index; on PostgreSQL it also notifies every machine's follower
    (``catalog.engine_search``)."""
    token = new_generation(session)  # first: its lock orders the log's ids as the commits
    session.execute(insert(CatalogChange).values(product_id=product_id, generation=token, changed_at=utcnow()))
    session.info[CHANGED] = True
