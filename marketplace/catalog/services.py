"""Loading what buyers may see: listed products, with their listed version and everything it carries."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.errors import NotFound
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible


def with_listed_content(query):
    """Eager-load a listed product's seller and listed version with its sources, dictionary, files and plans
    (a fixed number of queries, however many there are)."""
    return query.options(
        selectinload(DataProduct.organization),
        selectinload(DataProduct.listed_version).options(
            selectinload(ProductVersion.sources), selectinload(ProductVersion.fields),
            selectinload(ProductVersion.assets), selectinload(ProductVersion.plans),
        ),
    )


def listed_product(session: Session, slug: str) -> DataProduct:
    """A listed product by slug; NotFound for drafts, suspended and delisted products and unknown slugs."""
    product = session.scalar(with_listed_content(buyer_visible().where(DataProduct.slug == slug)))
    if product is None:
        raise NotFound("No such product in the catalog.")
    return product


def listed_products(session: Session, *, limit: int, offset: int = 0) -> list[DataProduct]:
    """Listed products in a stable order (by id), a page at a time, with their listed content."""
    return list(session.scalars(with_listed_content(buyer_visible().order_by(DataProduct.id))
                                .limit(limit).offset(offset)))


def listed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(buyer_visible().subquery())) or 0
