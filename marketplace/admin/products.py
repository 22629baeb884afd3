"""The admin's list of every product: its status, seller and last review decision, filtered by status,
organization and text; and the forms that filter it and change a product's status."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from wtforms import BooleanField, Form, SelectChoice, SelectField, StringField, TextAreaField

from marketplace.accounts.models import Organization
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.states import ProductAction, ProductStatus, VersionStatus, status_words
from marketplace.review.models import ReviewCase

# Where a product's latest version stands in review, as the admin follows the backlog: waiting for a reviewer,
# being reviewed, back with the seller, refused, or not yet submitted.
REVIEW_STATES = (VersionStatus.SUBMITTED, VersionStatus.IN_REVIEW, VersionStatus.CHANGES_REQUESTED,
                 VersionStatus.REJECTED, VersionStatus.DRAFT)

PER_PAGE = 50
MAX_PAGE = 100_000
MAX_TEXT = 100

# The moves an admin makes from this page, in the glossary's words (暂停交易, 恢复交易, 摘牌).
ACTIONS = {ProductAction.SUSPEND: _l("Suspend"), ProductAction.REINSTATE: _l("Reinstate"),
           ProductAction.DELIST: _l("Delist")}


def capitalized(words: str) -> str:
    """A status in words as a choice in a list reads it, the first letter upper-case (Chinese is unchanged)."""
    return words[:1].upper() + words[1:]


class ProductFilterForm(Form):
    """The products page's GET filters. A status, review state or organization that is not one of the choices is
    refused beside its field (``refused``); a bad page number is only reported, and the first page shown."""

    status = SelectField(_l("Status"), default="")
    review = SelectField(_l("Review state"), default="")
    organization = SelectField(_l("Seller organization"), default="")
    q = StringField(_l("Title or slug contains"), default="")
    page = StringField(_l("Page"), default="1")

    def __init__(self, formdata, organizations: list[Organization]):
        super().__init__(formdata)
        self.refused = False
        self.status.choices = [SelectChoice("", _("Any status")),
                               *(SelectChoice(s.value, capitalized(status_words(s))) for s in ProductStatus)]
        self.review.choices = [SelectChoice("", _("Any review state")),
                               *(SelectChoice(s.value, capitalized(status_words(s))) for s in REVIEW_STATES)]
        self.organization.choices = [SelectChoice("", _("Any organization")),
                                     *(SelectChoice(str(o.id), o.name) for o in organizations)]

    def clean(self) -> tuple[ProductFilters, int, list[str]]:
        """The valid filters, the page number, and a notice for every value that was ignored; a value that is not
        a choice leaves its message on its field and ``refused`` set."""
        self.validate()
        ignored: list[str] = []
        for field in (self.status, self.review, self.organization):
            raw = " ".join((field.data or "").split())
            if field.errors and raw:
                field.errors = [_("\u201c%(value)s\u201d is not one of the choices: pick one from the list.",
                                  value=raw[:40])]
                field.data = ""
                self.refused = True
            else:
                field.errors = []
        self.q.data = " ".join((self.q.data or "").split())[:MAX_TEXT]
        page = (self.page.data or "1").strip()
        if not (re.fullmatch(r"[0-9]{1,6}", page) and 1 <= int(page) <= MAX_PAGE):
            ignored.append(_("Page \u201c%(value)s\u201d is not a page number; showing the first page.",
                             value=page[:40]))
            page = "1"
        self.page.data = page
        filters = ProductFilters(status=self.status.data or None, review=self.review.data or None,
                                 organization_id=int(self.organization.data) if self.organization.data else None,
                                 text=self.q.data or "")
        return filters, int(page), ignored

    def query(self, **changes) -> dict:
        """The current filters as query arguments (for page links and back from an action), with ``changes``."""
        args = {name: self[name].data for name in ("status", "review", "organization", "q", "page")}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "", "1", 1)}


class ProductStatusChangeForm(FlaskForm):
    """One move on one product: the reason the seller is told, and for delisting the admin's confirmation."""

    reason = TextAreaField(_l("Reason"), description=_l("The seller organization is told this reason. Required."))
    confirm_final = BooleanField(_l("I understand that delisting is final: the product can never be listed again."))


@dataclass(frozen=True)
class ProductFilters:
    status: str | None = None
    review: str | None = None  # the latest version's status, one of REVIEW_STATES
    organization_id: int | None = None
    text: str = ""


@dataclass(frozen=True)
class ProductRow:
    product: DataProduct
    version: ProductVersion  # the listed version, else the latest
    last_case: ReviewCase | None  # the product's latest decided review case

    @property
    def review_state(self) -> VersionStatus | None:
        """Where the latest version stands in review, if it is not approved, listed or superseded."""
        status = self.product.latest_version.status
        return VersionStatus(status) if status in REVIEW_STATES else None


def product_organizations(session: Session) -> list[Organization]:
    """The organizations that have a product, by name."""
    return list(session.scalars(select(Organization).where(
        Organization.id.in_(select(DataProduct.organization_id))).order_by(Organization.name)))


def product_rows(session: Session, filters: ProductFilters, *, limit: int, offset: int) -> tuple[list[ProductRow], int]:
    """A page of products, newest first, with the version shown for each and its last review decision; and how
    many products match."""
    query = select(DataProduct)
    if filters.status:
        query = query.where(DataProduct.status == filters.status)
    if filters.organization_id:
        query = query.where(DataProduct.organization_id == filters.organization_id)
    if filters.review:
        latest = latest_versions()
        query = query.where(DataProduct.id.in_(select(latest.c.product_id).where(latest.c.status == filters.review)))
    if filters.text:
        titled = select(ProductVersion.product_id).where(or_(
            ProductVersion.title_en.icontains(filters.text, autoescape=True),
            ProductVersion.title_zh.icontains(filters.text, autoescape=True)))
        query = query.where(or_(DataProduct.slug.icontains(filters.text, autoescape=True),
                                DataProduct.id.in_(titled)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    products = list(session.scalars(
        query.options(selectinload(DataProduct.versions), selectinload(DataProduct.organization),
                      selectinload(DataProduct.listed_version))
        .order_by(DataProduct.id.desc()).limit(limit).offset(offset)))
    decided = last_decisions(session, [p.id for p in products])
    return [ProductRow(p, p.listed_version or p.latest_version, decided.get(p.id)) for p in products], total


def latest_versions():
    """Each product's latest version: its product and status (a subquery)."""
    newest = (select(ProductVersion.product_id, func.max(ProductVersion.number).label("number"))
              .group_by(ProductVersion.product_id).subquery())
    return (select(ProductVersion.product_id, ProductVersion.status)
            .join(newest, (ProductVersion.product_id == newest.c.product_id)
                  & (ProductVersion.number == newest.c.number))
            .subquery())


def review_state_counts(session: Session) -> list[tuple[VersionStatus, int]]:
    """How many products have their latest version in each of REVIEW_STATES (the review backlog), in that order."""
    latest = latest_versions()
    counts = dict(session.execute(select(latest.c.status, func.count()).group_by(latest.c.status)).all())
    return [(state, counts.get(state, 0)) for state in REVIEW_STATES]


def last_decisions(session: Session, product_ids: list[int]) -> dict[int, ReviewCase]:
    """Each product's latest decided review case, in one query for the page."""
    if not product_ids:
        return {}
    out: dict[int, ReviewCase] = {}
    for case in session.scalars(select(ReviewCase).where(ReviewCase.product_id.in_(product_ids),
                                                         ReviewCase.decided_at.is_not(None))
                                .options(selectinload(ReviewCase.version))
                                .order_by(ReviewCase.decided_at, ReviewCase.id)):
        out[case.product_id] = case
    return out
