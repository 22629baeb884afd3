"""What the audit trail's events are about, in words and links: the trail stores an object as a type and an id
("version", 31); the admin reads "Parking vacancy feed v3" and follows it. Each page of events is resolved in one
query per kind of object. The audit package knows no domain; this module, above them all, does."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditEvent
from marketplace.bilingual import title_of
from marketplace.i18n import N_
from marketplace.licensing.models import Licence
from marketplace.listings.models import Asset, DataProduct, ProductVersion
from marketplace.orders.models import Order
from marketplace.review.models import ReviewCase

# The kinds of object the trail names, in the reader's words (the stored type stays the identifier).
KIND_WORDS = {"product": N_("product"), "version": N_("version"), "asset": N_("file"), "order": N_("order"),
              "licence": N_("licence"), "user": N_("user"), "organization": N_("organization"),
              "membership": N_("membership"), "invitation": N_("invitation"), "api_token": N_("API token"),
              "job": N_("job"), "payment_anomaly": N_("payment anomaly"), "notice": N_("public notice"),
              "objection": N_("objection"), "registration": N_("registration certificate")}


def kind_words(kind: str) -> str:
    return _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind.replace("_", " ")


@dataclass(frozen=True)
class Linked:
    """An object as the admin reads it: its words, where it is shown (if anywhere), and the product it belongs to."""

    label: str
    url: str | None = None
    product_id: int | None = None


def _title(version: ProductVersion | None) -> str:
    return title_of(version) if version is not None else ""


def _shown_version(product: DataProduct) -> ProductVersion | None:
    return product.listed_version or (product.versions[-1] if product.versions else None)


def resolve_subjects(session: Session, events: Iterable[AuditEvent]) -> dict[tuple[str, int], Linked]:
    """Each event's object in words and with a link, keyed by (subject type, subject id)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.subject_id is not None:
            wanted[e.subject_type].add(e.subject_id)
    out: dict[tuple[str, int], Linked] = {}
    for kind, ids in wanted.items():
        resolver = RESOLVERS.get(kind)
        if resolver is not None:
            out.update({(kind, key): linked for key, linked in resolver(session, ids).items()})
    return out


def _products(session: Session, ids: set[int]) -> dict[int, Linked]:
    found = session.scalars(select(DataProduct).where(DataProduct.id.in_(ids))
                            .options(selectinload(DataProduct.versions), selectinload(DataProduct.listed_version)))
    return {p.id: Linked(_title(_shown_version(p)) or p.slug, url_for("review.product", product_id=p.id), p.id)
            for p in found}


def _version_label(version: ProductVersion) -> str:
    return _("%(title)s v%(label)s", title=_title(version), label=version.label)


def _versions(session: Session, ids: set[int]) -> dict[int, Linked]:
    cases = dict(session.execute(select(ReviewCase.version_id, ReviewCase.id)
                                 .where(ReviewCase.version_id.in_(ids))).all())
    out = {}
    for v in session.scalars(select(ProductVersion).where(ProductVersion.id.in_(ids))):
        url = (url_for("review.case", case_id=cases[v.id]) if v.id in cases
               else url_for("review.product", product_id=v.product_id))
        out[v.id] = Linked(_version_label(v), url, v.product_id)
    return out


def _assets(session: Session, ids: set[int]) -> dict[int, Linked]:
    found = session.scalars(select(Asset).where(Asset.id.in_(ids)).options(selectinload(Asset.version)))
    return {a.id: Linked(_("%(file)s of %(version)s", file=a.filename, version=_version_label(a.version)),
                         url_for("review.product", product_id=a.version.product_id), a.version.product_id)
            for a in found}


def _orders(session: Session, ids: set[int]) -> dict[int, Linked]:
    rows = session.execute(select(Order, ProductVersion).join(ProductVersion, ProductVersion.id == Order.version_id)
                           .where(Order.id.in_(ids)))
    return {o.id: Linked(_("%(number)s · %(title)s", number=o.number, title=_title(v)),
                         url_for("orders.order", order_id=o.id), o.product_id) for o, v in rows}


def _licences(session: Session, ids: set[int]) -> dict[int, Linked]:
    rows = session.execute(select(Licence, ProductVersion).join(Order, Order.id == Licence.order_id)
                           .join(ProductVersion, ProductVersion.id == Order.version_id).where(Licence.id.in_(ids)))
    return {lic.id: Linked(_("%(serial)s · %(title)s", serial=lic.serial, title=_title(v)),
                           url_for("certificates.show", serial=lic.serial), lic.product_id) for lic, v in rows}


def _users(session: Session, ids: set[int]) -> dict[int, Linked]:
    return {u.id: Linked(u.display_name or u.email, url_for("admin.audit", actor=u.email))
            for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _organizations(session: Session, ids: set[int]) -> dict[int, Linked]:
    return {o.id: Linked(o.name) for o in session.scalars(select(Organization).where(Organization.id.in_(ids)))}


RESOLVERS = {"product": _products, "version": _versions, "asset": _assets, "order": _orders, "licence": _licences,
             "user": _users, "organization": _organizations}


def actors_of(session: Session, events: Iterable[AuditEvent]) -> dict[int, User]:
    """The users who acted in ``events``, by id."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def matching_users(session: Session, text: str) -> Select | None:
    """The ids of users whose name or e-mail address contains ``text`` (any case; an exact address matches only
    its user), as a query; None when there is no such user."""
    exact = select(User.id).where(User.email == text.lower())
    query = exact if session.scalar(exact) is not None else select(User.id).where(
        or_(User.email.icontains(text, autoescape=True), User.display_name.icontains(text, autoescape=True)))
    return query if session.scalar(query.limit(1)) is not None else None


def find_product(session: Session, text: str) -> DataProduct | None:
    """A product by its slug or its number."""
    if re.fullmatch(r"[0-9]{1,10}", text):  # ASCII digits: int() refuses "²", which isdigit() takes
        found = session.get(DataProduct, int(text))
        if found is not None:
            return found
    return session.scalar(select(DataProduct).where(DataProduct.slug == text.lower()))


def product_subjects(product: DataProduct) -> tuple[tuple[str, Select], ...]:
    """Everything in the trail that concerns ``product``, as (subject type, query of ids) pairs: the product, its
    versions and their files, its orders and licences."""
    versions = select(ProductVersion.id).where(ProductVersion.product_id == product.id)
    return (("product", select(DataProduct.id).where(DataProduct.id == product.id)), ("version", versions),
            ("asset", select(Asset.id).where(Asset.version_id.in_(versions))),
            ("order", select(Order.id).where(Order.product_id == product.id)),
            ("licence", select(Licence.id).where(Licence.product_id == product.id)))
