"""Seller-side rules for products and versions: create, edit, cite sources, dictionary, plans,
compliance profile, new versions and submission for review.

Every function takes the session and the acting user and asks ``accounts.access`` first: a product of an
organization the user does not belong to is NotFound (we do not reveal that it exists); an account whose e-mail
address is not verified may not create or change anything (Forbidden). Content can change only while its
version is editable (draft or changes requested); anything else is InvalidTransition. Every change writes an
audit event naming the fields it changed (never their text).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.access import Permission, member_organizations_query, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditEvent
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from marketplace.i18n import N_
from marketplace.lifecycle import lock_row
from marketplace.listings.licences import get_licence
from marketplace.listings.models import (
    DataProduct,
    DictionaryField,
    OpenDataSource,
    PricingPlan,
    ProductVersion,
)
from marketplace.listings.states import (
    EDITABLE_VERSION_STATES,
    NEW_VERSION_AFTER_STATES,
    ProductStatus,
    VersionAction,
    status_words,
)
from marketplace.listings.vocab import AssetKind, BillingPeriod, PersonalInfo, PlanKind, SourceUsage
from marketplace.places import Place
from marketplace.text import single_line_errors

# Fields of a version a seller edits directly (the rest have their own functions).
METADATA_FIELDS = (
    "title_en", "title_zh", "description_en", "description_zh", "category", "tags", "regions",
    "temporal_start", "temporal_end", "spatial_coverage", "update_frequency", "delivery_methods", "formats",
)
COMPLIANCE_FIELDS = (
    "personal_info", "classification", "classification_reason", "source_legality", "cross_border_transfer",
    "legal_basis", "collected_in", "individuals",
)
# The most individuals a version may declare (what its column holds; no data set names more people).
MAX_INDIVIDUALS = 2_000_000_000
SOURCE_FIELDS = ("portal", "title", "url", "publisher", "licence_id", "attribution", "external_id", "usage")
FIELD_FIELDS = ("name", "type", "unit", "description", "nullable", "personal_info", "example")
# The changelog a new product's first version gets (in its creator's language; pages show it in the reader's).
FIRST_VERSION = N_("First version.")
PLAN_FIELDS = (
    "name", "kind", "billing_period", "amount", "currency", "requires_approval", "licence_cap",
    "permitted_uses", "prohibitions", "territory", "duration_days", "attribution_required", "derivatives_allowed",
    "share_alike",
)


MAX_LICENCE_CAP = 1_000_000

# ---------------------------------------------------------------- access

def products_query(user: User):
    """Products of every organization ``user`` belongs to."""
    return select(DataProduct).where(DataProduct.organization_id.in_(member_organizations_query(user)))


def buyer_visible():
    """The one rule of what buyers may see: listed products, through their approved listed version only.

    Drafts, suspended and delisted products are hidden (licences already sold stay valid elsewhere).
    """
    return select(DataProduct).where(DataProduct.status == ProductStatus.LISTED,
                                     DataProduct.listed_version_id.is_not(None))


def seller_products(session: Session, user: User, organization_id: int | None = None) -> list[DataProduct]:
    query = products_query(user).options(
        selectinload(DataProduct.versions), selectinload(DataProduct.organization),
        selectinload(DataProduct.listed_version),
    ).order_by(DataProduct.updated_at.desc())
    if organization_id is not None:
        query = query.where(DataProduct.organization_id == organization_id)
    return list(session.scalars(query))


def product_for_seller(session: Session, user: User, product_id: int) -> DataProduct:
    """The product if ``user`` is a member of its seller organization; NotFound for anyone else."""
    product = session.get(DataProduct, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    require(user, Permission.VIEW_SELLER_PRODUCT, product)
    return product


def version_for_seller(session: Session, user: User, product_id: int, number: int) -> ProductVersion:
    product = product_for_seller(session, user, product_id)
    for version in product.versions:
        if version.number == number:
            return version
    raise NotFound(_("No such version."))


def require_editable(version: ProductVersion) -> None:
    """Refuse (InvalidTransition) any change to a version that is not draft or changes-requested."""
    if version.status not in EDITABLE_VERSION_STATES:
        raise InvalidTransition(
            _("Version %(label)s is %(status)s and can no longer be changed.", label=version.label,
              status=status_words(version.status))
            + (" " + _("Create a new version to change a listed product.") if version.status == "listed" else "")
        )


# What a version returned to review after being listed may still change: its words, never what buyers got.
UNFROZEN_FIELDS = frozenset({"description_en", "description_zh", "changelog"})


def was_listed(session: Session, version: ProductVersion) -> bool:
    """Whether ``version`` has ever been listed: only a listed version is sold, so this covers every version a
    licence or a paid order refers to."""
    if version.product.listed_version_id == version.id:
        return True
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.subject_type == "version", AuditEvent.subject_id == version.id,
        AuditEvent.action == f"version.{VersionAction.LIST.value}").limit(1)) is not None


def require_unfrozen(session: Session, version: ProductVersion) -> None:
    """Refuse (Conflict) a change to the files, dictionary or terms of a version that has ever been listed: the
    licences and certificates issued for it state them."""
    if was_listed(session, version):
        raise Conflict(_("Buyers hold licences to version %(label)s: publish the change as a new version.",
                         label=version.label))


def lock_version(session: Session, version: ProductVersion) -> None:
    """Hold ``version``'s row until the transaction ends (``lifecycle.lock_row``) and read it and everything it
    holds again: what is checked after this (a step's saved stamp) stays true until the change that follows is
    committed, since every concurrent save of the version waits here. Pending changes are flushed first."""
    lock_row(session, version)
    session.expire_all()  # its dictionary, plans and the rest as committed by the save that held the lock before


def touch(version: ProductVersion) -> None:
    """Mark the product as changed now (the seller dashboard sorts by it)."""
    version.product.updated_at = utcnow()


def require_edit(user: User, version: ProductVersion) -> None:
    """Refuse anyone who may not edit the product (NotFound / Forbidden), then a version that is not editable."""
    require(user, Permission.EDIT_PRODUCT, version.product)
    require_editable(version)


def _changed(obj: object, values: dict) -> list[str]:
    """The names of the fields ``values`` would change on ``obj`` (what an audit event says, never the text)."""
    return sorted(k for k, v in values.items() if getattr(obj, k, None) != v)


def _audit(session: Session, user: User, action: str, version: ProductVersion, subject_type: str = "version",
           subject_id: int | None = None, **payload) -> None:
    record(session, actor_id=user.id, action=action, subject_type=subject_type,
           subject_id=subject_id if subject_id is not None else version.id,
           payload={"product_id": version.product_id, "version_id": version.id, **payload})


# ---------------------------------------------------------------- products and metadata

def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title, max_length=80) or "product"
    slug, n = base, 2
    while session.scalar(select(DataProduct.id).where(DataProduct.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_metadata(data: dict) -> None:
    errors: dict[str, list[str]] = {}
    if "title_en" in data and not (data["title_en"] or "").strip():
        errors["title_en"] = [_("An English title is required.")]
    # Titles go into e-mail subjects and bodies, certificates and exports: one line, no direction overrides.
    errors = single_line_errors({key: data.get(key) for key in ("title_en", "title_zh")}) | errors
    start, end = data.get("temporal_start"), data.get("temporal_end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["temporal_end"] = [_("The end of the temporal coverage is before its start.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)


def check_metadata(data: dict) -> None:
    """Refuse (ValidationFailed) descriptive fields the service would refuse, without saving anything."""
    _check_metadata({k: v for k, v in data.items() if k in METADATA_FIELDS})


def _normalise_lists(data: dict) -> dict:
    out = dict(data)
    for key in ("description_en", "description_zh"):
        if isinstance(out.get(key), str):
            out[key] = out[key].replace("\r\n", "\n")  # browsers send CRLF from text areas
    if "tags" in out:
        seen: list[str] = []
        for tag in out["tags"] or []:
            tag = " ".join(str(tag).split())[:40]
            if tag and tag.lower() not in {t.lower() for t in seen}:
                seen.append(tag)
        out["tags"] = seen[:20]
    for key in ("regions", "delivery_methods", "formats"):
        if key in out:
            out[key] = list(dict.fromkeys(str(v) for v in out[key] or []))
    return out


def create_product(session: Session, user: User, organization: Organization, data: dict) -> DataProduct:
    """Create a product draft with its first version (1.0) for ``organization``; the user must belong to it."""
    require(user, Permission.CREATE_PRODUCT, organization)
    data = _normalise_lists({"title_en": ""} | {k: v for k, v in data.items() if k in METADATA_FIELDS})
    _check_metadata(data)
    product = DataProduct(
        organization_id=organization.id, slug=_unique_slug(session, data["title_en"]), created_by_id=user.id,
    )
    session.add(product)
    session.flush()
    version = ProductVersion(product=product, number=1, label="1.0", changelog=_(FIRST_VERSION), **data)
    session.add(version)
    session.flush()
    record(session, actor_id=user.id, action="product.created", subject_type="product", subject_id=product.id,
           payload={"organization_id": organization.id, "slug": product.slug})
    return product


def update_metadata(session: Session, user: User, version: ProductVersion, data: dict) -> ProductVersion:
    """Change the descriptive fields of an editable version."""
    require_edit(user, version)
    data = _normalise_lists({k: v for k, v in data.items() if k in METADATA_FIELDS})
    if _changed(version, {k: v for k, v in data.items() if k not in UNFROZEN_FIELDS}):
        require_unfrozen(session, version)
    _check_metadata({k: getattr(version, k) for k in ("temporal_start", "temporal_end")} | data)
    changed = _changed(version, data)
    for key, value in data.items():
        setattr(version, key, value)
    touch(version)
    if changed:
        _audit(session, user, "version.metadata_updated", version, fields=changed)
    return version


# ---------------------------------------------------------------- sources

def _check_source(data: dict) -> None:
    errors: dict[str, list[str]] = {}
    if not get_licence(data.get("licence_id") or ""):
        errors["licence_id"] = [_("Choose a licence from the SPDX list or a portal's terms of use.")]
    url = data.get("url") or ""
    if not url.startswith(("http://", "https://")):
        errors["url"] = [_("Give the dataset's http(s) address.")]
    if not (data.get("title") or "").strip():
        errors["title"] = [_("Required.")]
    if "usage" in data and data["usage"] not in {u.value for u in SourceUsage}:
        errors["usage"] = [_("Say how the product uses the source: verbatim, subset or derived.")]
    # Cited in e-mails, certificates and exports: one line each.
    errors = single_line_errors({key: data.get(key) for key in ("title", "publisher", "external_id")}) | errors
    if errors:
        raise ValidationFailed(_("The source is not valid."), errors)


def check_source(data: dict) -> None:
    """Refuse (ValidationFailed) source data the service would refuse, without saving anything."""
    _check_source({k: v for k, v in data.items() if k in SOURCE_FIELDS})


def add_source(session: Session, user: User, version: ProductVersion, data: dict) -> OpenDataSource:
    """Cite an upstream open dataset with its licence; refuses unknown licences and duplicate URLs."""
    require_edit(user, version)
    require_unfrozen(session, version)
    data = {k: v for k, v in data.items() if k in SOURCE_FIELDS}
    _check_source(data)
    if any(s.url == data["url"] for s in version.sources):
        raise Conflict(_("This source is already cited."), {"url": [_("Already cited.")]})
    source = OpenDataSource(version=version, position=len(version.sources), **data)
    session.add(source)
    session.flush()
    touch(version)
    _audit(session, user, "source.added", version, "source", source.id, url=source.url,
           licence_id=source.licence_id)
    return source


def _child(items: Iterable, child_id: int, what: str):
    for item in items:
        if item.id == child_id:
            return item
    raise NotFound(_("No such plan.") if what == "plan" else _("No such source."))


def update_source(session: Session, user: User, version: ProductVersion, source_id: int, data: dict) -> OpenDataSource:
    """Change a cited source; the same checks as adding one."""
    require_edit(user, version)
    require_unfrozen(session, version)
    source = _child(version.sources, source_id, "source")
    merged = {k: getattr(source, k) for k in SOURCE_FIELDS} | {k: v for k, v in data.items() if k in SOURCE_FIELDS}
    _check_source(merged)
    changed = _changed(source, merged)
    for key, value in merged.items():
        setattr(source, key, value)
    touch(version)
    if changed:
        _audit(session, user, "source.updated", version, "source", source.id, fields=changed)
    return source


def remove_source(session: Session, user: User, version: ProductVersion, source_id: int) -> None:
    """Stop citing a source."""
    require_edit(user, version)
    require_unfrozen(session, version)
    source = _child(version.sources, source_id, "source")
    version.sources.remove(source)
    touch(version)
    _audit(session, user, "source.removed", version, "source", source_id, url=source.url)


# ---------------------------------------------------------------- data dictionary

def replace_dictionary(session: Session, user: User, version: ProductVersion,
                       fields: list[dict]) -> list[DictionaryField]:
    """Replace the whole data dictionary; refuses duplicate or empty field names (case-insensitive)."""
    require_edit(user, version)
    require_unfrozen(session, version)
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, field in enumerate(fields):
        name = (field.get("name") or "").strip()
        if not name:
            errors[f"fields.{i}.name"] = [_("Required.")]
        elif name.lower() in seen:
            errors[f"fields.{i}.name"] = [_("Duplicate field name '%(name)s'.", name=name)]
        seen.add(name.lower())
    if errors:
        raise ValidationFailed(_("The data dictionary is not valid."), errors)
    before = {f.name: {k: getattr(f, k) for k in FIELD_FIELDS} for f in version.fields}
    version.fields.clear()
    session.flush()
    for i, field in enumerate(fields):
        values = {k: v for k, v in field.items() if k in FIELD_FIELDS}
        values["name"] = values["name"].strip()
        values.setdefault("unit", "")
        values.setdefault("description", "")
        version.fields.append(DictionaryField(position=i, **values))
    session.flush()
    touch(version)
    after = {f.name: {k: getattr(f, k) for k in FIELD_FIELDS} for f in version.fields}
    _audit(session, user, "dictionary.replaced", version, count=len(after),
           added=sorted(after.keys() - before.keys()), removed=sorted(before.keys() - after.keys()),
           changed=sorted(n for n in after.keys() & before.keys() if after[n] != before[n]))
    return version.fields


# ---------------------------------------------------------------- pricing plans

def _check_plan(data: dict) -> None:
    errors: dict[str, list[str]] = {}
    kind, amount = data.get("kind"), data.get("amount") or 0
    if not (data.get("name") or "").strip():
        errors["name"] = [_("Required.")]
    errors |= single_line_errors({"name": data.get("name")})
    if kind == PlanKind.FREE and amount != 0:
        errors["amount"] = [_("A free plan costs nothing: set the amount to 0.")]
    if kind in (PlanKind.ONE_TIME, PlanKind.SUBSCRIPTION) and amount <= 0:
        errors["amount"] = [_("A paid plan needs a price above zero.")]
    if amount < 0 or amount > 10**12:
        errors["amount"] = [_("The amount is out of range.")]
    if kind == PlanKind.SUBSCRIPTION and data.get("billing_period") not in tuple(BillingPeriod):
        errors["billing_period"] = [_("A subscription is billed monthly or yearly.")]
    if kind != PlanKind.SUBSCRIPTION and data.get("billing_period"):
        errors["billing_period"] = [_("Only subscriptions have a billing period.")]
    if data.get("licence_cap") is not None and not 1 <= data["licence_cap"] <= MAX_LICENCE_CAP:
        errors["licence_cap"] = [_("A cap is 1 to %(most)s licences, or empty for no cap.",
                                       most=format(MAX_LICENCE_CAP, ","))]
    if data.get("duration_days") is not None and not 1 <= data["duration_days"] <= 36500:
        errors["duration_days"] = [_("Between 1 and 36500 days, or empty for no end.")]
    if not data.get("permitted_uses"):
        errors["permitted_uses"] = [_("Grant at least one permitted use.")]
    if set(data.get("permitted_uses") or ()) & set(data.get("prohibitions") or ()):
        errors["prohibitions"] = [_("A use cannot be both permitted and prohibited.")]
    if not data.get("territory"):
        errors["territory"] = [_("Required.")]
    if data.get("share_alike") and data.get("derivatives_allowed") is False:
        errors["share_alike"] = [_("Share-alike terms govern adaptations, so they need derivatives allowed.")]
    if errors:
        raise ValidationFailed(_("The plan is not valid."), errors)


def check_plan(data: dict) -> None:
    """Refuse (ValidationFailed) plan data the service would refuse, without saving anything."""
    _check_plan(data)


def _plan_values(data: dict) -> dict:
    values = {k: v for k, v in data.items() if k in PLAN_FIELDS}
    for key in ("permitted_uses", "prohibitions"):
        if key in values:
            values[key] = list(dict.fromkeys(str(v) for v in values[key] or []))
    if values.get("billing_period") == "":
        values["billing_period"] = None
    return values


def add_plan(session: Session, user: User, version: ProductVersion, data: dict) -> PricingPlan:
    """Add a pricing plan with the licence terms it grants; refuses inconsistent price, period and terms."""
    require_edit(user, version)
    require_unfrozen(session, version)
    values = _plan_values(data)
    values.setdefault("amount", 0)
    _check_plan(values)
    plan = PricingPlan(version=version, position=len(version.plans), **values)
    session.add(plan)
    session.flush()
    touch(version)
    _audit(session, user, "plan.added", version, "plan", plan.id, kind=str(plan.kind), amount=plan.amount,
           currency=str(plan.currency))
    return plan


def update_plan(session: Session, user: User, version: ProductVersion, plan_id: int, data: dict) -> PricingPlan:
    """Change a pricing plan; the same checks as adding one."""
    require_edit(user, version)
    require_unfrozen(session, version)
    plan = _child(version.plans, plan_id, "plan")
    merged = {k: getattr(plan, k) for k in PLAN_FIELDS} | _plan_values(data)
    _check_plan(merged)
    changed = _changed(plan, merged)
    for key, value in merged.items():
        setattr(plan, key, value)
    touch(version)
    if changed:
        _audit(session, user, "plan.updated", version, "plan", plan.id, fields=changed)
    return plan


def remove_plan(session: Session, user: User, version: ProductVersion, plan_id: int) -> None:
    """Withdraw a pricing plan from an editable version."""
    require_edit(user, version)
    require_unfrozen(session, version)
    version.plans.remove(_child(version.plans, plan_id, "plan"))
    touch(version)
    _audit(session, user, "plan.removed", version, "plan", plan_id)


# ---------------------------------------------------------------- compliance profile

def profile_problems(profile: dict) -> dict[str, list[str]]:
    """What a compliance profile still lacks before it can be attested, by field (the submission checklist's
    words)."""
    problems = {
        "personal_info": (profile.get("personal_info"), _("Declare the personal-information category.")),
        "classification": (profile.get("classification"), _("Declare the data classification level.")),
        "source_legality": ((profile.get("source_legality") or "").strip(),
                            _("State how the sources were lawfully obtained.")),
        "cross_border_transfer": (profile.get("cross_border_transfer") is not None,
                                  _("State whether data crosses borders.")),
    }
    return {name: [message] for name, (given, message) in problems.items() if not given} | _personal_info_gaps(profile)


def _personal_info_gaps(profile: dict) -> dict[str, list[str]]:
    """Personal information declared without where it was collected or how many individuals it is about: the
    cross-boundary rules weigh a trade by both, so neither may be left out (nor the count be 0)."""
    if str(profile.get("personal_info") or "") not in ("personal", "sensitive"):
        return {}
    errors: dict[str, list[str]] = {}
    if not profile.get("collected_in"):
        errors["collected_in"] = [_("Declare where the personal information was collected.")]
    if not profile.get("individuals"):
        errors["individuals"] = [_("Declare how many individuals' personal information the data holds (at least "
                                   "1).")]
    return errors


def _profile_value_errors(values: dict) -> dict[str, list[str]]:
    """What no profile may hold: a count of individuals that is not a whole number from 0, a place not listed."""
    errors: dict[str, list[str]] = {}
    count = values.get("individuals")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 0 <= count <= MAX_INDIVIDUALS):
        errors["individuals"] = [_("Give the number of individuals as a whole number from 0.")]
    place = values.get("collected_in")
    if place is not None and place not in {p.value for p in Place}:
        errors["collected_in"] = [_("Choose where the data was collected from the list.")]
    return errors


def check_compliance(profile: dict, *, attest: bool, attested_by_name: str | None) -> None:
    """Refuse (ValidationFailed) what ``set_compliance`` would refuse for ``profile`` (the whole profile as it
    would be saved), without saving anything: an attestation without a name, or of an incomplete profile."""
    errors: dict[str, list[str]] = {}
    if attest and not (attested_by_name or "").strip():
        errors["attested_by_name"] = [_("Name the person who attests.")]
    errors = single_line_errors({"attested_by_name": attested_by_name}) | errors
    if attest and (missing := profile_problems(profile)):
        raise ValidationFailed(_("Complete the profile before attesting it: nothing was attested."),
                               missing | errors)
    if errors:
        raise ValidationFailed(_("The compliance profile is not valid."), errors)


def set_compliance(
    session: Session, user: User, version: ProductVersion, data: dict, *, attest: bool, attested_by_name: str | None,
) -> ProductVersion:
    """Declare the compliance profile; with ``attest`` the named seller attests it now.

    Refuses (ValidationFailed, nothing saved) an attestation without a name, or of a profile that would still be
    incomplete (``profile_problems``). Data declared without personal information (none, or anonymised) holds no
    count of individuals: one given is cleared (where the data was collected stays: it still decides the
    cross-boundary rules for important data). Any change to the profile clears an earlier attestation: an
    attestation covers what it saw.
    """
    require_edit(user, version)
    require_unfrozen(session, version)
    values = {k: v for k, v in data.items() if k in COMPLIANCE_FIELDS}
    if str(values.get("personal_info", version.personal_info) or "") in (PersonalInfo.NONE, PersonalInfo.ANONYMISED):
        values["individuals"] = None  # a count of individuals means nothing without personal information
    if errors := _profile_value_errors(values) or _personal_info_gaps(
            {k: getattr(version, k) for k in COMPLIANCE_FIELDS} | values):
        raise ValidationFailed(_("Correct the compliance profile."), errors)
    check_compliance({k: getattr(version, k) for k in COMPLIANCE_FIELDS} | values, attest=attest,
                     attested_by_name=attested_by_name)
    fields = _changed(version, values)
    had_attestation = version.attested_at is not None
    for key, value in values.items():
        setattr(version, key, value)
    if attest:
        version.attested_by_name = attested_by_name.strip()
        version.attested_by_id = user.id
        version.attested_at = utcnow()
    elif fields:
        version.attested_by_name = version.attested_by_id = version.attested_at = None
    touch(version)
    if fields or attest:
        _audit(session, user, "version.compliance_updated", version, fields=fields, attested=bool(attest),
               attestation_cleared=had_attestation and not attest and bool(fields))
    return version


# ---------------------------------------------------------------- versions and submission

def new_version(session: Session, user: User, product: DataProduct, label: str, changelog: str) -> ProductVersion:
    """Open a new draft version copying the latest one; refused while another version is still open."""
    require(user, Permission.EDIT_PRODUCT, product)
    latest = product.latest_version
    if product.status == ProductStatus.DELISTED:
        raise InvalidTransition(_("This product was delisted; it takes no new versions."))
    if latest.status not in NEW_VERSION_AFTER_STATES:
        raise Conflict(_("Version %(label)s is still %(status)s; finish it before starting another.",
                         label=latest.label, status=status_words(latest.status)))
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label:
        errors["label"] = [_("Give the version a label, e.g. 1.1 or 2025-Q3.")]
    elif label_errors := single_line_errors({"label": label}):  # it goes into e-mails and certificates
        errors |= label_errors
    elif any(v.label == label for v in product.versions):
        errors["label"] = [_("Version %(label)s already exists.", label=label)]
    if not (changelog or "").strip():
        errors["changelog"] = [_("Say what changed in this version.")]
    if errors:
        raise ValidationFailed(_("The new version is not valid."), errors)
    copy = ProductVersion(
        product=product, number=latest.number + 1, label=label, changelog=changelog.strip(),
        **{k: getattr(latest, k) for k in METADATA_FIELDS + COMPLIANCE_FIELDS},
    )
    session.add(copy)
    from marketplace.listings.assets import copy_assets  # assets own their storage rules

    with session.no_autoflush:
        for s in latest.sources:
            copy.sources.append(OpenDataSource(position=s.position, **{k: getattr(s, k) for k in SOURCE_FIELDS}))
        for f in latest.fields:
            copy.fields.append(DictionaryField(position=f.position, **{k: getattr(f, k) for k in FIELD_FIELDS}))
        for p in latest.plans:
            copy.plans.append(PricingPlan(position=p.position, **{k: getattr(p, k) for k in PLAN_FIELDS}))
        copy_assets(latest, copy)
    session.flush()
    record(session, actor_id=user.id, action="version.created", subject_type="version", subject_id=copy.id,
           payload={"product_id": product.id, "label": label})
    return copy


def readiness_problems(version: ProductVersion) -> dict[str, list[str]]:
    """What a version still lacks before it can be submitted, by field."""
    p: dict[str, list[str]] = {}

    def need(field: str, ok: object, message: str) -> None:
        if not ok:
            p.setdefault(field, []).append(message)

    need("title_en", (version.title_en or "").strip(), _("English title is required."))
    need("title_zh", (version.title_zh or "").strip(), _("Chinese title is required."))
    need("description_en", (version.description_en or "").strip(), _("English description is required."))
    need("description_zh", (version.description_zh or "").strip(), _("Chinese description is required."))
    need("category", version.category, _("Choose a category."))
    need("regions", version.regions, _("Choose at least one region."))
    need("update_frequency", version.update_frequency, _("State the update frequency."))
    need("delivery_methods", version.delivery_methods, _("Choose at least one delivery method."))
    need("formats", version.formats, _("Choose at least one format."))
    need("sources", version.sources, _("Cite at least one upstream open data source."))
    need("fields", version.fields, _("Describe the data in the data dictionary."))
    need("assets", any(a.kind == AssetKind.SAMPLE for a in version.assets), _("Upload at least one sample file."))
    need("assets", any(a.kind == AssetKind.DELIVERABLE for a in version.assets), _("Upload at least one deliverable."))
    need("plans", version.plans, _("Offer at least one pricing plan."))
    for field, messages in profile_problems({k: getattr(version, k) for k in COMPLIANCE_FIELDS}).items():
        p.setdefault(field, []).extend(messages)
    need("attestation", version.attested_at, _("A seller must attest the compliance profile."))
    if version.classification == "important":
        need("classification_reason", (version.classification_reason or "").strip(),
             _("Important data needs a stated reason."))
    return p
