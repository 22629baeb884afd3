"""Data products, their versions (revisions) and everything a version carries."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.db import TimestampMixin, UTCDateTime, str_enum
from marketplace.extensions import db
from marketplace.listings.states import ProductStatus, VersionStatus
from marketplace.listings.vocab import (
    AssetKind,
    BillingPeriod,
    Classification,
    Currency,
    FieldType,
    PersonalInfo,
    PlanKind,
    Portal,
    SourceUsage,
    Territory,
    UpdateFrequency,
)
from marketplace.places import Place


def new_uuid() -> str:
    return str(uuid.uuid4())


class DataProduct(TimestampMixin, db.Model):
    """A tradable product of one seller organization. Its content lives in its versions."""

    __tablename__ = "data_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # The product's identity outside this site (CKAN and DCAT ids): unlike the slug, it never changes.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    status: Mapped[ProductStatus] = mapped_column(str_enum(ProductStatus), default=ProductStatus.DRAFT, index=True)
    listed_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_versions.id", use_alter=True, name="fk_data_products_listed_version_id_product_versions")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why a reviewer last suspended, reinstated or delisted the product, and when.
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[ProductVersion]] = relationship(
        back_populates="product", order_by="ProductVersion.number", foreign_keys="ProductVersion.product_id",
        cascade="all, delete-orphan",
    )
    listed_version: Mapped[ProductVersion | None] = relationship(foreign_keys=[listed_version_id], post_update=True)

    @property
    def latest_version(self) -> ProductVersion:
        return self.versions[-1]


class ProductVersion(TimestampMixin, db.Model):
    """One revision of a product: the exact content a reviewer approves and a buyer gets."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("data_products.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))
    changelog: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VersionStatus] = mapped_column(str_enum(VersionStatus), default=VersionStatus.DRAFT, index=True)

    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(40))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    regions: Mapped[list] = mapped_column(JSON, default=list)
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    spatial_coverage: Mapped[str] = mapped_column(String(500), default="")
    update_frequency: Mapped[UpdateFrequency | None] = mapped_column(str_enum(UpdateFrequency))
    delivery_methods: Mapped[list] = mapped_column(JSON, default=list)
    formats: Mapped[list] = mapped_column(JSON, default=list)

    # Compliance profile declared by the seller, and the seller's attestation.
    personal_info: Mapped[PersonalInfo | None] = mapped_column(str_enum(PersonalInfo))
    classification: Mapped[Classification | None] = mapped_column(str_enum(Classification))
    classification_reason: Mapped[str] = mapped_column(Text, default="")
    source_legality: Mapped[str] = mapped_column(Text, default="")
    cross_border_transfer: Mapped[bool | None] = mapped_column()
    # Where the data was collected, and how many individuals' personal information it holds (the cross-boundary
    # rules count them).
    collected_in: Mapped[Place | None] = mapped_column(str_enum(Place, 20))
    individuals: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    attested_by_name: Mapped[str | None] = mapped_column(String(200))
    attested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set on approval: the exchange's registration number for this exact version.
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    product: Mapped[DataProduct] = relationship(back_populates="versions", foreign_keys=[product_id])
    sources: Mapped[list[OpenDataSource]] = relationship(
        back_populates="version", order_by="OpenDataSource.position", cascade="all, delete-orphan"
    )
    fields: Mapped[list[DictionaryField]] = relationship(
        back_populates="version", order_by="DictionaryField.position", cascade="all, delete-orphan"
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="version", order_by="Asset.id", cascade="all, delete-orphan"
    )
    plans: Mapped[list[PricingPlan]] = relationship(
        back_populates="version", order_by="PricingPlan.position", cascade="all, delete-orphan"
    )


class OpenDataSource(db.Model):
    """An upstream open dataset a version is built on, cited with its licence (provenance)."""

    __tablename__ = "open_data_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    portal: Mapped[Portal] = mapped_column(str_enum(Portal))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000))
    publisher: Mapped[str] = mapped_column(String(300), default="")
    licence_id: Mapped[str] = mapped_column(String(80))
    attribution: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str | None] = mapped_column(String(200))
    # What the product does with the source: the licence rules turn on it (no-derivatives, share-alike).
    usage: Mapped[SourceUsage] = mapped_column(str_enum(SourceUsage, 16), default=SourceUsage.DERIVED,
                                               server_default=SourceUsage.DERIVED.value)

    version: Mapped[ProductVersion] = relationship(back_populates="sources")


class DictionaryField(db.Model):
    """One column of the data dictionary."""

    __tablename__ = "dictionary_fields"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType))
    unit: Mapped[str] = mapped_column(String(50), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    nullable: Mapped[bool] = mapped_column(default=True)
    personal_info: Mapped[bool] = mapped_column(default=False)
    example: Mapped[str | None] = mapped_column(String(200))

    version: Mapped[ProductVersion] = relationship(back_populates="fields")


class Asset(TimestampMixin, db.Model):
    """A sample or deliverable file, stored through the storage interface under a key we generate."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("version_id", "uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The file's identity as a CKAN/DCAT resource: carried to the next version with the file, so a harvester
    # sees one resource across revisions.
    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AssetKind] = mapped_column(str_enum(AssetKind))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), index=True)  # a file copied to a new version shares it
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    version: Mapped[ProductVersion] = relationship(back_populates="assets")

    # Not stored: the file of the same version this one's bytes repeat, set by the upload that made it.
    identical_to = None


@dataclass(frozen=True)
class LicenceTerms:
    """The structured licence terms a plan grants (copied and frozen into a licence at purchase)."""

    permitted_uses: tuple[str, ...]
    prohibitions: tuple[str, ...]
    territory: str
    duration_days: int | None
    attribution_required: bool
    derivatives_allowed: bool
    share_alike: bool = False

    def to_dict(self) -> dict:
        return {
            "permitted_uses": list(self.permitted_uses), "prohibitions": list(self.prohibitions),
            "territory": self.territory, "duration_days": self.duration_days,
            "attribution_required": self.attribution_required, "derivatives_allowed": self.derivatives_allowed,
            "share_alike": self.share_alike,
        }


class PricingPlan(db.Model):
    """An offer: free, one-time or subscription, with the licence terms it grants."""

    __tablename__ = "pricing_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind))
    billing_period: Mapped[BillingPeriod | None] = mapped_column(str_enum(BillingPeriod))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3), default=Currency.CNY)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    licence_cap: Mapped[int | None] = mapped_column(Integer)

    permitted_uses: Mapped[list] = mapped_column(JSON, default=list)
    prohibitions: Mapped[list] = mapped_column(JSON, default=list)
    territory: Mapped[Territory] = mapped_column(str_enum(Territory))
    duration_days: Mapped[int | None] = mapped_column(Integer)
    attribution_required: Mapped[bool] = mapped_column(default=True)
    derivatives_allowed: Mapped[bool] = mapped_column(default=True)
    # Adaptations must be shared under the same terms (what share-alike sources such as ODbL demand).
    share_alike: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    version: Mapped[ProductVersion] = relationship(back_populates="plans")

    @property
    def terms(self) -> LicenceTerms:
        return LicenceTerms(
            permitted_uses=tuple(self.permitted_uses), prohibitions=tuple(self.prohibitions),
            territory=str(self.territory), duration_days=self.duration_days,
            attribution_required=self.attribution_required, derivatives_allowed=self.derivatives_allowed,
            share_alike=self.share_alike,
        )
