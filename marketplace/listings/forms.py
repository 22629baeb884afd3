"""Seller page forms: parse what a browser posts into the plain dicts the listing services take.

Forms only parse (types, choices, money notation); the rules (required fields, consistency, what may change
when) live in marketplace/listings/services.py and come back as DomainError.errors, mapped onto the fields.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.chinese import to_simplified, to_traditional
from marketplace.errors import DomainError
from marketplace.listings.licences import grouped_licence_choices
from marketplace.listings.services import MAX_INDIVIDUALS
from marketplace.listings.vocab import (
    AssetKind,
    BillingPeriod,
    Category,
    Classification,
    Currency,
    DataFormat,
    DeliveryMethod,
    FieldType,
    PermittedUse,
    PersonalInfo,
    PlanKind,
    Portal,
    Prohibition,
    Region,
    SourceUsage,
    Territory,
    UpdateFrequency,
)
from marketplace.places import Place

BLANK_DICTIONARY_ROWS = 3
# What an INTEGER column holds; the services decide the sensible ranges.
_TOO_LARGE = NumberRange(max=2**31 - 1, message=_l("The number is too large."))


def _FITS_COLUMN(form, field):  # noqa: N802 - used like the validators it wraps
    """Too large only for a number: text that is no whole number already has its own message."""
    if field.data is not None:
        _TOO_LARGE(form, field)


class WholeNumberField(IntegerField):
    """An integer typed in a text box: "1.5" or "abc" is told to be a whole number."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("Enter a whole number, e.g. 365.")) from None
_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _options(choices: Callable[[], list[tuple[str, str]]]) -> Callable[[], list[SelectChoice]]:
    """Choices read when a form is shown, so their labels are in the language of the request."""
    return lambda: [SelectChoice(value, text) for value, text in choices()]


def _blank(choices: Callable[[], list[tuple[str, str]]], label: str | None = None) -> Callable[[], list[SelectChoice]]:
    return lambda: [SelectChoice("", label or _("— choose —")), *_options(choices)()]


def _none_if_blank(value):
    return value or None


class MoneyField(StringField):
    """A price typed as a decimal (``1200.00``) and kept as a ``Decimal``; never a float.

    Refuses text that is not a number, negative amounts and more than two decimal places, in the words of what the
    amount is (a price here; ``not_a_number``, ``negative`` and ``too_large`` name another amount).
    """

    not_a_number = _l("Enter the price as a number, e.g. 1200.00.")
    negative = _l("The price cannot be negative.")
    too_large = _l("The price is too large.")

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip().replace(",", "")
        self.data = None
        if not self.raw:
            return
        try:
            value = Decimal(self.raw)
        except InvalidOperation:
            raise ValueError(str(self.not_a_number)) from None
        if not value.is_finite():
            raise ValueError(str(self.not_a_number))
        if value.as_tuple().exponent < -2:
            raise ValueError(_("At most two decimal places, e.g. 1200.50."))
        if value < 0:
            raise ValueError(str(self.negative))
        if value.adjusted() > 15:  # keep absurd exponents (1e999999) from becoming giant integers
            raise ValueError(str(self.too_large))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"

    @property
    def minor_units(self) -> int:
        # Every currency we sell in (CNY, HKD, USD) has two minor digits.
        return int((self.data or Decimal(0)) * 100)


def minor_to_decimal(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- product metadata


class MetadataForm(FlaskForm):
    """The descriptive fields of a version (the create form adds the organization)."""

    title_en = StringField(_l("Title (English)"), validators=[Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Length(max=200)])
    description_en = TextAreaField(
        _l("Description (English)"), render_kw={"rows": 8},
        description=_l("Markdown: **bold**, lists, links, tables. HTML is sanitised: scripts and styles are removed."),
    )
    description_zh = TextAreaField(
        _l("Description (Chinese)"), render_kw={"rows": 8},
        description=_l("Markdown, sanitised the same way as the English description."),
    )
    category = SelectField(_l("Category"), choices=_blank(Category.choices), default="")
    tags = StringField(_l("Tags"), description=_l("Comma-separated, English or Chinese, e.g. traffic, 交通, speed."))
    regions = MultiCheckboxField(_l("Regions covered"), choices=_options(Region.choices))
    temporal_start = DateField(_l("Temporal coverage from"), validators=[Optional()])
    temporal_end = DateField(_l("Temporal coverage until"), validators=[Optional()])
    spatial_coverage = StringField(
        _l("Spatial coverage"), validators=[Length(max=500)], description=_l("e.g. All 18 districts of Hong Kong.")
    )
    update_frequency = SelectField(_l("Update frequency"), choices=_blank(UpdateFrequency.choices), default="")
    delivery_methods = MultiCheckboxField(_l("Delivery methods"), choices=_options(DeliveryMethod.choices))
    formats = MultiCheckboxField(_l("Formats"), choices=_options(DataFormat.choices))
    submit = SubmitField(_l("Save"))

    def fill(self, version) -> MetadataForm:
        """Fill the form from a version (for a GET)."""
        for name in ("title_en", "title_zh", "description_en", "description_zh", "spatial_coverage",
                     "temporal_start", "temporal_end", "regions", "delivery_methods", "formats"):
            getattr(self, name).data = getattr(version, name)
        self.category.data = version.category or ""
        self.update_frequency.data = version.update_frequency.value if version.update_frequency else ""
        self.tags.data = ", ".join(version.tags or [])
        return self

    def to_data(self) -> dict:
        return {
            "title_en": (self.title_en.data or "").strip(), "title_zh": (self.title_zh.data or "").strip(),
            "description_en": self.description_en.data or "", "description_zh": self.description_zh.data or "",
            "category": _none_if_blank(self.category.data),
            "tags": [t.strip() for t in _TAG_SEPARATORS.split(self.tags.data or "") if t.strip()],
            "regions": self.regions.data or [], "temporal_start": self.temporal_start.data,
            "temporal_end": self.temporal_end.data, "spatial_coverage": (self.spatial_coverage.data or "").strip(),
            "update_frequency": _none_if_blank(self.update_frequency.data),
            "delivery_methods": self.delivery_methods.data or [], "formats": self.formats.data or [],
        }


# The other script a seller may be offered for the Chinese title and description (never applied silently).
SCRIPT_CONVERSIONS = {"to_traditional": to_traditional, "to_simplified": to_simplified}


def script_conversions(*texts: str | None) -> list[str]:
    """The conversions that would change ``texts``: Simplified text is offered Traditional and the reverse."""
    text = "\n".join(t or "" for t in texts)
    return [name for name, convert in SCRIPT_CONVERSIONS.items() if convert(text) != text]


def convert_chinese(form: MetadataForm, direction: str) -> bool:
    """Rewrite the form's Chinese title and description in the script ``direction`` names (to show the seller, who
    saves or edits it); False for a direction that is not offered."""
    convert = SCRIPT_CONVERSIONS.get(direction)
    if convert is None:
        return False
    for field in (form.title_zh, form.description_zh):
        field.data = convert(field.data or "")
        field.raw_data = None
    return True


class NewProductForm(MetadataForm):
    organization_id = SelectField(_l("Organization"), coerce=int)
    submit = SubmitField(_l("Create draft"))


# ---------------------------------------------------------------- sources


USAGE_HELP = _l("A verbatim copy or an unaltered subset of records stays under the source's licence; cleaning, "
                "joining or aggregating it makes a derived work. Licences without derivatives or with share-alike "
                "terms treat them differently.")


class SourceForm(FlaskForm):
    portal = SelectField(_l("Portal"), choices=_options(Portal.choices), default=Portal.DATA_GOV_HK.value)
    title = StringField(_l("Dataset title"), validators=[Length(max=300)])
    url = StringField(_l("Dataset URL"), validators=[Length(max=1000)], render_kw={"type": "url"})
    publisher = StringField(_l("Publisher"), validators=[Length(max=300)])
    # Unknown licences are refused by the service (one rule, one message), not by choice validation.
    licence_id = SelectField(_l("Licence"), choices=[], validate_choice=False,
                             description=_l("Open-data licences and the portals' terms of use come first; search for "
                                            "any other licence by its name or identifier."))
    attribution = TextAreaField(_l("Attribution text"), render_kw={"rows": 2})
    usage = SelectField(_l("How the product uses it"), choices=_options(SourceUsage.choices),
                        default=SourceUsage.DERIVED.value, description=USAGE_HELP)
    external_id = HiddenField(validators=[Length(max=200)])
    submit = SubmitField(_l("Add source"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        open_data, others = grouped_licence_choices()
        # Groups without a label render as plain options: the blank choice first, then two optgroups.
        self.licence_id.choices = {
            None: [SelectChoice("", _("— choose a licence —"))],
            _("Open-data licences"): [SelectChoice(value, text) for value, text in open_data],
            _("Other licences"): [SelectChoice(value, text) for value, text in others],
        }

    def to_data(self) -> dict:
        return {
            "portal": self.portal.data, "title": (self.title.data or "").strip(), "url": (self.url.data or "").strip(),
            "publisher": (self.publisher.data or "").strip(), "licence_id": self.licence_id.data or "",
            "attribution": (self.attribution.data or "").strip(), "external_id": self.external_id.data or None,
            "usage": self.usage.data,
        }


class SourceEditForm(FlaskForm):
    """Correct a cited source in place: its title, address, publisher and attribution text."""

    title = StringField(_l("Dataset title"), validators=[Length(max=300)])
    url = StringField(_l("Dataset URL"), validators=[Length(max=1000)], render_kw={"type": "url"})
    publisher = StringField(_l("Publisher"), validators=[Length(max=300)])
    attribution = TextAreaField(_l("Attribution text"), render_kw={"rows": 2})
    submit = SubmitField(_l("Save source"))

    def fill(self, source) -> SourceEditForm:
        for name in ("title", "url", "publisher", "attribution"):
            getattr(self, name).data = getattr(source, name)
        return self

    def to_data(self) -> dict:
        return {name: (getattr(self, name).data or "").strip() for name in ("title", "url", "publisher", "attribution")}


class SourceUsageForm(FlaskForm):
    """Change how the product uses a source already cited."""

    usage = SelectField(_l("How the product uses it"), choices=_options(SourceUsage.choices), description=USAGE_HELP)
    submit = SubmitField(_l("Save"))


# A dataset of the shipped DATA.GOV.HK catalog metadata, so that the example works offline as typed.
LOOKUP_EXAMPLE = "https://data.gov.hk/en-data/dataset/hk-td-sm_1-traffic-speed-map"


class SourceLookupForm(FlaskForm):
    q = StringField(_l("DATA.GOV.HK dataset URL or name"), validators=[Length(max=1000)],
                    description=_l("Paste a dataset page address or its CKAN name; the add-source form is filled "
                                   "for you to review before saving."),
                    render_kw={"placeholder": LOOKUP_EXAMPLE})
    submit = SubmitField(_l("Fill from DATA.GOV.HK"))


# ---------------------------------------------------------------- data dictionary


class DictionaryRowForm(Form):
    name = StringField(_l("Field"), validators=[Length(max=200)])
    type = SelectField(_l("Type"), choices=_options(FieldType.choices), default=FieldType.STRING.value)
    unit = StringField(_l("Unit"), validators=[Length(max=50)])
    description = StringField(_l("Description"), validators=[Length(max=1000)])
    nullable = BooleanField(_l("Nullable"), default=True)
    personal_info = BooleanField(_l("Personal info"))
    example = HiddenField(validators=[Length(max=200)])


class DictionaryForm(FlaskForm):
    rows = FieldList(FormField(DictionaryRowForm), max_entries=1000)
    submit = SubmitField(_l("Save dictionary"))

    @classmethod
    def for_rows(cls, rows, **kwargs) -> DictionaryForm:
        """A form showing ``rows`` (model rows or dicts) followed by blank rows to add fields."""
        items = [r if not isinstance(r, dict) else SimpleNamespace(**r) for r in rows]
        items += [SimpleNamespace() for _ in range(BLANK_DICTIONARY_ROWS)]
        return cls(formdata=None, data={"rows": items}, **kwargs)

    def to_fields(self) -> tuple[list[dict], list[int]]:
        """The non-blank rows as service dicts, and for each the index of its row in the form."""
        fields, positions = [], []
        for index, entry in enumerate(self.rows.entries):
            row = entry.form
            if not (row.name.data or "").strip():
                continue  # a blank row is room to add a field, not a field
            fields.append({
                "name": row.name.data.strip(), "type": row.type.data, "unit": (row.unit.data or "").strip(),
                "description": (row.description.data or "").strip(), "nullable": bool(row.nullable.data),
                "personal_info": bool(row.personal_info.data), "example": (row.example.data or None),
            })
            positions.append(index)
        return fields, positions

    def apply_errors(self, exc: DomainError, positions: list[int]) -> None:
        """Map ``fields.<i>.<name>`` errors of the service back onto the form's rows."""
        for key, messages in (exc.errors or {}).items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "fields" and parts[1].isascii() and parts[1].isdigit() \
                    and int(parts[1]) < len(positions):
                row = self.rows.entries[positions[int(parts[1])]].form
                field = row._fields.get(parts[2])
                if field is not None:
                    field.errors = list(field.errors) + list(messages)
                    continue
            self.form_errors.extend(messages)
        self.form_errors.insert(0, exc.message)


# ---------------------------------------------------------------- files


class UploadForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_options(AssetKind.choices), default=AssetKind.SAMPLE.value)
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    submit = SubmitField(_l("Upload"))


# ---------------------------------------------------------------- pricing plans


class PlanForm(FlaskForm):
    name = StringField(_l("Plan name"), validators=[Length(max=120)], render_kw={"placeholder": _l("Research licence")})
    kind = SelectField(_l("Kind"), choices=_options(PlanKind.choices), default=PlanKind.ONE_TIME.value)
    billing_period = SelectField(
        _l("Billing period"), choices=_blank(BillingPeriod.choices, _l("— none (not a subscription) —")), default="",
    )
    amount = MoneyField(_l("Price"), description=_l("In the currency's main unit, e.g. 1200.00; 0 for a free plan."),
                        render_kw={"inputmode": "decimal", "placeholder": "1200.00"})
    currency = SelectField(_l("Currency"), choices=_options(Currency.choices), default=Currency.HKD.value)
    requires_approval = BooleanField(_l("Each request needs our approval"))
    licence_cap = WholeNumberField(_l("Licence cap"), validators=[Optional(), _FITS_COLUMN],
                               description=_l("Most licences sold under this plan (exclusive data); empty for no cap."))
    permitted_uses = MultiCheckboxField(_l("Permitted uses"), choices=_options(PermittedUse.choices))
    prohibitions = MultiCheckboxField(_l("Prohibited"), choices=_options(Prohibition.choices))
    territory = SelectField(_l("Territory"), choices=_options(Territory.choices), default=Territory.HONG_KONG.value)
    duration_days = WholeNumberField(_l("Duration (days)"), validators=[Optional(), _FITS_COLUMN],
                                 description=_l("How long a licence lasts; empty for no end."))
    attribution_required = BooleanField(_l("Attribution required"), default=True)
    derivatives_allowed = BooleanField(_l("Derivatives allowed"), default=True)
    share_alike = BooleanField(_l("Share-alike"), description=_l("Adaptations must be shared under these same terms "
                               "(required when a source is share-alike, e.g. ODbL or CC BY-SA)."))
    submit = SubmitField(_l("Save plan"))

    def fill(self, plan) -> PlanForm:
        for name in ("name", "requires_approval", "licence_cap", "permitted_uses", "prohibitions", "duration_days",
                     "attribution_required", "derivatives_allowed", "share_alike"):
            getattr(self, name).data = getattr(plan, name)
        for name in ("kind", "currency", "territory"):
            getattr(self, name).data = str(getattr(plan, name))
        self.billing_period.data = str(plan.billing_period) if plan.billing_period else ""
        self.amount.data = minor_to_decimal(plan.amount)
        return self

    def to_data(self) -> dict:
        return {
            "name": (self.name.data or "").strip(), "kind": self.kind.data,
            "billing_period": _none_if_blank(self.billing_period.data), "amount": self.amount.minor_units,
            "currency": self.currency.data, "requires_approval": bool(self.requires_approval.data),
            "licence_cap": self.licence_cap.data, "permitted_uses": self.permitted_uses.data or [],
            "prohibitions": self.prohibitions.data or [], "territory": self.territory.data,
            "duration_days": self.duration_days.data, "attribution_required": bool(self.attribution_required.data),
            "derivatives_allowed": bool(self.derivatives_allowed.data), "share_alike": bool(self.share_alike.data),
        }


# ---------------------------------------------------------------- compliance


class ComplianceForm(FlaskForm):
    personal_info = SelectField(_l("Personal information"), choices=_blank(PersonalInfo.choices), default="")
    classification = SelectField(
        _l("Data classification (GB/T 43697-2024)"), choices=_blank(Classification.choices), default="",
    )
    classification_reason = TextAreaField(_l("Reason for the classification"), render_kw={"rows": 2},
                                          description=_l("Required for important data."))
    source_legality = TextAreaField(_l("How the sources were lawfully obtained"), render_kw={"rows": 3})
    cross_border_transfer = RadioField(
        _l("Does the data cross borders (e.g. Hong Kong ↔ mainland)?"),
        choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))], validators=[Optional()],
    )
    legal_basis = TextAreaField(_l("Legal basis"), render_kw={"rows": 2})
    collected_in = SelectField(_l("Where the data was collected"), choices=_blank(Place.choices), default="",
                               description=_l("Decides, with where the buyer is, whether a trade provides data "
                                              "outside the Mainland."))
    individuals = WholeNumberField(
        _l("Number of individuals the data is about"),
        validators=[Optional(), NumberRange(min=0, max=MAX_INDIVIDUALS)],
        description=_l("Required when the data holds personal information: the cross-boundary rules count "
                       "individuals."))
    attest = BooleanField(_l("I attest that this compliance profile is true and complete."))
    attested_by_name = StringField(_l("Attested by (full name)"), validators=[Length(max=200)])
    submit = SubmitField(_l("Save compliance profile"))

    def fill(self, version, default_name: str = "") -> ComplianceForm:
        self.personal_info.data = str(version.personal_info) if version.personal_info else ""
        self.classification.data = str(version.classification) if version.classification else ""
        for name in ("classification_reason", "source_legality", "legal_basis"):
            getattr(self, name).data = getattr(version, name)
        cross = version.cross_border_transfer
        self.cross_border_transfer.data = None if cross is None else ("yes" if cross else "no")
        self.collected_in.data = str(version.collected_in) if version.collected_in else ""
        self.individuals.data = version.individuals
        self.attested_by_name.data = version.attested_by_name or default_name
        return self

    def validate(self, extra_validators=None) -> bool:
        """The form's checks, then that important data states its reason (on this step, before anything is
        attested). Whether the profile may be attested is the service's rule (``check_compliance``)."""
        valid = super().validate(extra_validators)
        data = self.to_data()
        if data["classification"] == "important" and not data["classification_reason"]:
            self.classification_reason.errors = [*self.classification_reason.errors,
                                                 _("Important data needs a stated reason.")]
            valid = False
        return valid

    def to_data(self) -> dict:
        cross = self.cross_border_transfer.data
        return {
            "personal_info": _none_if_blank(self.personal_info.data),
            "classification": _none_if_blank(self.classification.data),
            "classification_reason": (self.classification_reason.data or "").strip(),
            "source_legality": (self.source_legality.data or "").strip(),
            "cross_border_transfer": None if cross not in ("yes", "no") else cross == "yes",
            "legal_basis": (self.legal_basis.data or "").strip(),
            "collected_in": _none_if_blank(self.collected_in.data),
            "individuals": self.individuals.data,
        }


# ---------------------------------------------------------------- versions


class NewVersionForm(FlaskForm):
    label = StringField(_l("Version label"), validators=[Length(max=40)], render_kw={"placeholder": "1.1"})
    changelog = TextAreaField(_l("What changed"), render_kw={"rows": 3})
    submit = SubmitField(_l("Start new version"))

