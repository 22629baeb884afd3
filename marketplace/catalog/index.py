"""Keeping the catalog's search index in step with what is listed.

``sync_product`` is called by every move that changes what buyers see (a version listed, a product suspended,
reinstated or delisted): a listed product gets its entry and facet values rewritten from its listed version,
anything else loses its entry. ``reindex_all`` rebuilds the whole index (``flask catalog reindex``). Both write a
new catalog generation in the same transaction, which is how every process learns its facet bitmaps are stale.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from marketplace.catalog.models import CatalogEntry, CatalogText, log_change, mask_of
from marketplace.catalog.services import with_listed_content
from marketplace.chinese import fold
from marketplace.db import utcnow
from marketplace.listings.models import DataProduct, PricingPlan
from marketplace.listings.services import buyer_visible
from marketplace.listings.states import ProductStatus

# Reference rates to US cents, for sorting and price bands across currencies only; never for charging.
USD_CENTS_PER_MINOR_UNIT = {"USD": 1.0, "HKD": 0.128, "CNY": 0.138}
PRICE_BANDS = (("free", 0), ("under_100", 100_00), ("100_1000", 1000_00), ("1000_10000", 10_000_00),
               ("over_10000", None))
SEARCH_TEXT_CHARS = 20_000
TEXT_FIELDS = ("title_text", "search_text")  # written to CatalogText, the rest to CatalogEntry
_MARKDOWN = re.compile(r"[#*_`>\[\]()|-]+")


def usd_cents(plan: PricingPlan) -> int:
    return round(plan.amount * USD_CENTS_PER_MINOR_UNIT.get(str(plan.currency), 1.0))


def price_band(cents: int) -> str:
    if cents == 0:
        return "free"
    for band, ceiling in PRICE_BANDS[1:]:
        if ceiling is None or cents < ceiling:
            return band
    return PRICE_BANDS[-1][0]  # pragma: no cover


def licence_kinds(plan: PricingPlan) -> set[str]:
    """What a plan lets a buyer do, in the words a buyer filters by."""
    uses = set(plan.permitted_uses)
    kinds = set()
    if plan.amount == 0:
        kinds.add("free")
    if "commercial_product" in uses:
        kinds.add("commercial")
    elif uses <= {"research"}:
        kinds.add("research_only")
    if "ai_training" in uses:
        kinds.add("ai_training")
    if plan.licence_cap:
        kinds.add("exclusive")
    return kinds


def last_change(product: DataProduct) -> datetime:
    """When what buyers see of a listed product last changed: its listed version's approval, or its
    reinstatement if later. The index orders and filters by it (CKAN's metadata_modified), so an incremental
    harvest asking for changes since a time finds a product that came back."""
    stamps = [t for t in (product.listed_version.approved_at, product.status_changed_at) if t is not None]
    return max(stamps) if stamps else utcnow()


def _summary(text: str) -> str:
    plain = " ".join(_MARKDOWN.sub(" ", text or "").split())
    return plain if len(plain) <= 300 else plain[:297].rsplit(" ", 1)[0] + "…"


def entry_values(product: DataProduct) -> dict:
    """The index row of a listed product, facet values included, from its listed version."""
    v, org = product.listed_version, product.organization
    plans = list(v.plans)
    cheapest = min(plans, key=usd_cents) if plans else None
    titles = " ".join([v.title_en, v.title_zh or "", *v.tags])
    body = " ".join([titles, v.description_en or "", v.description_zh or "", org.name,
                     *(f"{s.title} {s.publisher}" for s in v.sources)])
    row = {
        "id": product.id, "version_id": v.id, "slug": product.slug, "title_en": v.title_en,
        "title_zh": v.title_zh or "", "summary_en": _summary(v.description_en),
        "summary_zh": _summary(v.description_zh),
        "seller_slug": org.slug, "seller_name": org.name, "category": v.category, "regions": ",".join(v.regions),
        "registration_number": v.registration_number, "classification": v.classification,
        "personal_info": v.personal_info, "min_amount": cheapest.amount if cheapest else 0,
        "min_currency": str(cheapest.currency) if cheapest else "",
        "price_sort": usd_cents(cheapest) if cheapest else 0,
        "plan_count": len(plans), "listed_at": last_change(product),
        "title_text": fold(titles.lower()), "search_text": fold(body.lower())[:SEARCH_TEXT_CHARS],
    }
    row.update(
        frequency=str(v.update_frequency) if v.update_frequency else None,
        region_mask=mask_of("region", map(str, v.regions)), format_mask=mask_of("format", map(str, v.formats)),
        delivery_mask=mask_of("delivery", map(str, v.delivery_methods)),
        currency_mask=mask_of("currency", (str(p.currency) for p in plans)),
        licence_mask=mask_of("licence", (k for p in plans for k in licence_kinds(p))),
        price_mask=mask_of("price", (price_band(usd_cents(p)) for p in plans)),
    )
    return row


def sync_product(session: Session, product: DataProduct) -> None:
    """Write a listed product's entry, or remove the entry of a product buyers may no longer see."""
    session.flush()
    entry = session.get(CatalogEntry, product.id)
    if product.status != ProductStatus.LISTED or product.listed_version is None:
        if entry is not None:
            session.execute(delete(CatalogText).where(CatalogText.id == product.id))
            session.delete(entry)
            log_change(session, product.id)
        session.flush()
        return
    row = entry_values(product)
    texts = {key: row.pop(key) for key in TEXT_FIELDS}
    if entry is None:
        session.add(CatalogEntry(**row))
        session.flush()
        session.add(CatalogText(id=product.id, **texts))
    else:
        for key, value in row.items():
            setattr(entry, key, value)
        text = session.get(CatalogText, product.id)
        for key, value in texts.items():
            setattr(text, key, value)
    log_change(session, product.id)
    session.flush()


def reindex_all(session: Session, batch: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the listed products; returns how many entries were written. ``progress`` is
    told each batch's size."""
    session.execute(delete(CatalogText))
    session.execute(delete(CatalogEntry))
    log_change(session, None)
    written, last_id = 0, 0
    while True:
        products = session.scalars(with_listed_content(
            buyer_visible().where(DataProduct.id > last_id).order_by(DataProduct.id).limit(batch))).all()
        if not products:
            return written
        rows = [entry_values(product) for product in products]
        texts = [{"id": row["id"], **{key: row.pop(key) for key in TEXT_FIELDS}} for row in rows]
        session.execute(CatalogEntry.__table__.insert(), rows)
        session.execute(CatalogText.__table__.insert(), texts)
        written += len(rows)
        last_id = products[-1].id
        if progress:
            progress(len(rows))
        session.expunge_all()
