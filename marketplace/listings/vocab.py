"""Controlled vocabularies of a listing, each a StrEnum with a human label in the reader's language."""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from marketplace.i18n import gettext, pgettext

# Each labelled enum's labels by value, as catalog messages (set with ``labelled``).
_LABELS: dict[type, Mapping[str, LazyString]] = {}


def labelled(labels: Mapping[str, LazyString]) -> Callable[[type], type]:
    """Class decorator giving an enum its labels (``_l`` messages by value)."""
    def give(cls: type) -> type:
        _LABELS[cls] = labels
        return cls
    return give


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        """The member's name in the reader's language."""
        found = _LABELS.get(type(self), {}).get(self.value)
        if found is None:
            return self.value.replace("_", " ").capitalize()
        # An ``_l`` message, or a ``lazy_pgettext`` one (context, message) where one English word means two things.
        return gettext(*found._args) if len(found._args) == 1 else pgettext(*found._args)

    @property
    def label_en(self) -> str:
        """The member's name in English, for documents whose literals say they are English (DCAT, ODRL)."""
        found = _LABELS.get(type(self), {}).get(self.value)
        return found._args[-1] if found is not None else self.value.replace("_", " ").capitalize()

    @classmethod
    def choices(cls) -> list[tuple[str, str | LazyString]]:
        """(value, label) pairs for a form; the labels are translated when the form is rendered."""
        return [(m.value, _LABELS.get(cls, {}).get(m.value) or m.label) for m in cls]


@labelled({
    "transport": _l("Transport"), "environment": _l("Environment"), "weather": _l("Weather"),
    "geospatial": _l("Geospatial"), "energy": _l("Energy"), "economy": _l("Economy"), "health": _l("Health"),
    "population": _l("Population"), "city_management": _l("City management"), "consumer": _l("Consumer"),
    "finance": _l("Finance"), "education": _l("Education"), "other": _l("Other"),
})
class Category(LabelledEnum):
    TRANSPORT = "transport"
    ENVIRONMENT = "environment"
    WEATHER = "weather"
    GEOSPATIAL = "geospatial"
    ENERGY = "energy"
    ECONOMY = "economy"
    HEALTH = "health"
    POPULATION = "population"
    CITY_MANAGEMENT = "city_management"
    CONSUMER = "consumer"
    FINANCE = "finance"
    EDUCATION = "education"
    OTHER = "other"




@labelled({"hong_kong": _l("Hong Kong"), "shanghai": _l("Shanghai"), "cross_city": _l("Cross-city")})
class Region(LabelledEnum):
    HONG_KONG = "hong_kong"
    SHANGHAI = "shanghai"
    CROSS_CITY = "cross_city"


@labelled({
    "realtime": _l("Real time"), "hourly": _l("Hourly"), "daily": _l("Daily"), "weekly": _l("Weekly"),
    "monthly": _l("Monthly"), "quarterly": _l("Quarterly"), "yearly": _l("Yearly"), "irregular": _l("Irregular"),
    "one_off": _l("One-off"),
})
class UpdateFrequency(LabelledEnum):
    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"
    ONE_OFF = "one_off"


@labelled({"file": _l("File"), "api": _l("API"), "report": _l("Report")})
class DeliveryMethod(LabelledEnum):
    FILE = "file"
    API = "api"
    REPORT = "report"


class DataFormat(enum.StrEnum):
    CSV = "CSV"
    JSON = "JSON"
    GEOJSON = "GeoJSON"
    XLSX = "XLSX"
    PARQUET = "Parquet"
    XML = "XML"
    PDF = "PDF"
    SHP = "SHP"

    @property
    def label(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.value) for m in cls]


@labelled({
    "data_gov_hk": _l("DATA.GOV.HK"), "csdi": _l("CSDI Portal (Hong Kong)"), "hko": _l("Hong Kong Observatory"),
    "shanghai_public_data": _l("Shanghai Public Data Open Platform"), "soda": _l("SODA Shanghai Open Data Apps"),
    "shanghai_ev": _l("Shanghai EV public data"), "other": _l("Other"),
})
class Portal(LabelledEnum):
    DATA_GOV_HK = "data_gov_hk"
    CSDI = "csdi"
    HKO = "hko"
    SHANGHAI_PUBLIC_DATA = "shanghai_public_data"
    SODA = "soda"
    SHANGHAI_EV = "shanghai_ev"
    OTHER = "other"


@labelled({
    "verbatim": _l("Verbatim copy"), "subset": _l("Subset of records, unaltered"),
    "derived": _l("Derived work (transformed)"),
})
class SourceUsage(LabelledEnum):
    """How a product uses a cited source: what its licence's derivative and share-alike terms turn on."""

    VERBATIM = "verbatim"  # the source as published, unmodified
    SUBSET = "subset"      # whole records of the source, selected but not altered
    DERIVED = "derived"    # cleaned, joined, aggregated or otherwise transformed (an adaptation)


@labelled({
    "string": _l("String"), "integer": _l("Integer"), "number": _l("Number"), "boolean": _l("Boolean"),
    "date": _l("Date"), "datetime": _l("Date and time"), "geometry": _l("Geometry"), "object": _l("Object"),
    "array": _l("Array"),
})
class FieldType(LabelledEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    GEOMETRY = "geometry"
    OBJECT = "object"
    ARRAY = "array"


@labelled({"sample": _l("Sample"), "deliverable": _l("Deliverable")})
class AssetKind(LabelledEnum):
    SAMPLE = "sample"
    DELIVERABLE = "deliverable"


@labelled({"free": _l("Free"), "one_time": _l("One time"), "subscription": _l("Subscription")})
class PlanKind(LabelledEnum):
    FREE = "free"
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


@labelled({"month": _l("Month"), "year": _l("Year")})
class BillingPeriod(LabelledEnum):
    MONTH = "month"
    YEAR = "year"


class Currency(enum.StrEnum):
    CNY = "CNY"
    HKD = "HKD"
    USD = "USD"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.value) for m in cls]


@labelled({
    "internal_analysis": _l("Internal analysis"), "commercial_product": _l("Commercial product"),
    "research": _l("Research"), "ai_training": _l("AI / model training"),
})
class PermittedUse(LabelledEnum):
    INTERNAL_ANALYSIS = "internal_analysis"
    COMMERCIAL_PRODUCT = "commercial_product"
    RESEARCH = "research"
    AI_TRAINING = "ai_training"


@labelled({
    "resale": _l("Resale"), "redistribution": _l("Redistribution"), "reidentification": _l("Re-identification"),
})
class Prohibition(LabelledEnum):
    RESALE = "resale"
    REDISTRIBUTION = "redistribution"
    REIDENTIFICATION = "reidentification"


@labelled({"hong_kong": _l("Hong Kong"), "mainland_china": _l("Mainland China"), "worldwide": _l("Worldwide")})
class Territory(LabelledEnum):
    HONG_KONG = "hong_kong"
    MAINLAND_CHINA = "mainland_china"
    WORLDWIDE = "worldwide"


@labelled({
    "none": _l("None"), "anonymised": _l("Anonymised"), "personal": _l("Personal"), "sensitive": _l("Sensitive"),
})
class PersonalInfo(LabelledEnum):
    NONE = "none"
    ANONYMISED = "anonymised"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


@labelled({"general": _l("General"), "important": _l("Important"), "core": _l("Core")})
class Classification(LabelledEnum):
    """GB/T 43697-2024 data classification levels."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"
