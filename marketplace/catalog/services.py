"""Loading what buyers may see: listed products, with their listed version and everything it carries."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.accounts.models import Organization
from marketplace.catalog.models import CatalogEntry, mask_of
from marketplace.errors import NotFound
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.services import buyer_visible
from marketplace.listings.states import ProductStatus, VersionStatus


def with_listed_content(query, dictionary: bool = True):
    """Eager-load a listed product's seller and listed version with its sources, dictionary (unless not
    ``dictionary``: the CKAN and DCAT descriptions have none, and it is the largest part), files and plans (a
    fixed number of queries, however many there are)."""
    content = [selectinload(ProductVersion.sources), selectinload(ProductVersion.assets),
               selectinload(ProductVersion.plans)]
    if dictionary:
        content.append(selectinload(ProductVersion.fields))
    return query.options(joinedload(DataProduct.organization, innerjoin=True),
                         joinedload(DataProduct.listed_version).options(*content))


@cache
def _listed_product_statement():
    return buyer_visible().where(DataProduct.slug == bindparam("slug")).options(
        joinedload(DataProduct.organization, innerjoin=True), joinedload(DataProduct.listed_version))


def listed_product(session: Session, slug: str) -> DataProduct:
    """A listed product by slug with its seller and listed version (one join), and that version's sources,
    dictionary, files and plans (one query each); NotFound for drafts, suspended and delisted products and unknown
    slugs.

    The statements are built once and their values bound at each call, and for one version the relationships' own
    loads are used (each a query prepared once), where an eager ``IN`` load would build its statement anew: that
    building was a third of the page's loading time, measured."""
    product = session.scalar(_listed_product_statement(), {"slug": slug})
    if product is None:
        raise NotFound(_("No such product in the catalog."))
    version = product.listed_version
    version.sources, version.fields, version.assets, version.plans  # noqa: B018  (loaded here, not mid-template)
    return product


def listed_products(session: Session, *, limit: int, offset: int = 0) -> list[DataProduct]:
    """Listed products in a stable order (by id), a page at a time, with their listed content."""
    return list(session.scalars(with_listed_content(buyer_visible().order_by(DataProduct.id))
                                .limit(limit).offset(offset)))


def listed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(buyer_visible().subquery())) or 0


def first_approvals(session: Session, product_ids: Iterable[int]) -> dict[int, datetime]:
    """When each product was first approved (its dct:issued), in one query."""
    ids = list(product_ids)
    if not ids:
        return {}
    rows = session.execute(select(ProductVersion.product_id, func.min(ProductVersion.approved_at))
                           .where(ProductVersion.product_id.in_(ids)).group_by(ProductVersion.product_id))
    return {product_id: at for product_id, at in rows if at is not None}


def catalog_dates(session: Session) -> tuple[datetime | None, datetime | None]:
    """The catalog's dct:issued and dct:modified: the first approval among the listed products, and the latest
    change of one (an approval or a reinstatement: the index's listed_at, each dataset's dct:modified)."""
    # listed_at is each entry's last_change, never before its listed version's approval: the latest of them is the
    # latest approval or reinstatement.
    listed = buyer_visible().with_only_columns(DataProduct.id).scalar_subquery()
    first = session.scalar(select(func.min(ProductVersion.approved_at)).where(ProductVersion.product_id.in_(listed)))
    return first, session.scalar(select(func.max(CatalogEntry.listed_at)))


RELATED_COLUMNS = (CatalogEntry.id, CatalogEntry.slug, CatalogEntry.title_en, CatalogEntry.title_zh,
                   CatalogEntry.seller_slug, CatalogEntry.seller_name, CatalogEntry.category, CatalogEntry.regions,
                   CatalogEntry.region_mask, CatalogEntry.listed_at)


_RELATED_LINKS = {
    "seller": CatalogEntry.seller_slug == bindparam("seller"),
    "category": CatalogEntry.category == bindparam("category"),
    "regions": CatalogEntry.region_mask.op("&")(bindparam("regions")) != 0,
}


@cache
def _related_statement(links: tuple[str, ...]):
    """The related products' query for one set of links, built once: its values are bound at each call, so a page
    spends no time building the statement or its cache key."""
    newest = (CatalogEntry.listed_at.desc(), CatalogEntry.id.desc())
    parts = [select(CatalogEntry.id).where(_RELATED_LINKS[link], CatalogEntry.id != bindparam("product"))
             .order_by(*newest).limit(bindparam("each")).subquery() for link in links]
    return select(*RELATED_COLUMNS).where(CatalogEntry.id.in_(union_all(*(select(p.c.id) for p in parts))))


def related_entries(session: Session, product: DataProduct, limit: int = 4) -> list:
    """Listed products sharing the seller, the category or a region with ``product``, most in common first: rows
    of the index with the columns a related card shows (``RELATED_COLUMNS``).

    Each kind of link takes its newest few candidates from the index (seller and category through their
    newest-first indexes, the region bit test walking the newest-first index), in one query; ranking the handful
    of candidates happens here.
    """
    version = product.listed_version
    regions = mask_of("region", map(str, version.regions))
    links = ("seller", *(("category",) if version.category else ()), *(("regions",) if regions else ()))
    candidates = session.execute(_related_statement(links), {
        "product": product.id, "seller": product.organization.slug, "category": str(version.category or ""),
        "regions": regions, "each": limit * 2}).all()

    def in_common(entry) -> int:
        return ((entry.seller_slug == product.organization.slug) + (entry.category == version.category)
                + bool(entry.region_mask & regions))

    return sorted(candidates, key=lambda e: (-in_common(e), -e.listed_at.timestamp(), -e.id))[:limit]


def suspended_holdings(session: Session, user, slug: str, holdings_of: Callable) -> tuple[DataProduct, list] | None:
    """A suspended product and the licences ``user``'s organizations hold of it (``holdings_of``, licensing's
    ``product_holdings``, passed in: the catalog never imports licensing), or None when the product is not
    suspended or they hold none: who may still see a product buyers no longer can."""
    if len(slug) > 120:
        return None
    product = session.scalar(select(DataProduct).where(DataProduct.slug == slug,
                                                       DataProduct.status == ProductStatus.SUSPENDED))
    if product is None or product.listed_version is None:
        return None
    holdings = holdings_of(session, user, product)
    return (product, holdings) if holdings else None


# Versions a reviewer approved: the one listed now and the ones it superseded (never drafts or versions in review).
APPROVED_STATES = (VersionStatus.APPROVED, VersionStatus.LISTED, VersionStatus.SUPERSEDED)


@cache
def _approved_versions_statement():
    return (select(ProductVersion)
            .where(ProductVersion.product_id == bindparam("product"), ProductVersion.status.in_(APPROVED_STATES),
                   ProductVersion.approved_at.is_not(None))
            .order_by(ProductVersion.number.desc()))


def approved_versions(session: Session, product: DataProduct) -> list[ProductVersion]:
    """The product's approved versions, newest first (a statement built once, its product bound at each call)."""
    return list(session.scalars(_approved_versions_statement(), {"product": product.id}))


def product_page_state(session: Session, slug: str) -> tuple | None:
    """What a product page shows, summed up in one indexed read: None when buyers may not see the product, else
    its id, listed version, the product's, the seller's and the approved versions' last changes.

    Listed versions are frozen (only drafts are edited), so any change a buyer could see on the page (a suspension,
    a new version approved or listed, the seller's profile) changes this tuple; a rendered page cached with the
    tuple it was rendered under is current exactly while the tuple is unchanged."""
    def approved(aggregate):  # over the product's approved versions
        return (select(aggregate).where(ProductVersion.product_id == DataProduct.id,
                                        ProductVersion.status.in_(APPROVED_STATES),
                                        ProductVersion.approved_at.is_not(None))
                .correlate(DataProduct).scalar_subquery())

    stmt = (buyer_visible()
            .with_only_columns(DataProduct.id, DataProduct.listed_version_id, DataProduct.updated_at,
                               Organization.updated_at, approved(func.count()),
                               approved(func.max(ProductVersion.updated_at)), maintain_column_froms=False)
            .join_from(DataProduct, Organization, Organization.id == DataProduct.organization_id)
            .where(DataProduct.slug == slug))
    row = session.execute(stmt).first()
    return tuple(row) if row is not None else None


def page_state_of(product: DataProduct, versions: list[ProductVersion]) -> tuple:
    """``product_page_state`` of a product already loaded with its approved versions (``approved_versions``),
    read from them with no query: a page rendered from these objects is kept under the state they show."""
    return (product.id, product.listed_version_id, product.updated_at, product.organization.updated_at,
            len(versions), max((v.updated_at for v in versions), default=None))
