"""Controlled vocabularies of a listing, each a StrEnum with a human label."""
from __future__ import annotations

import enum


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


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


_PLACE_LABELS = {"hong_kong": "Hong Kong", "mainland_china": "Mainland China", "cross_city": "Cross-city"}


class Region(LabelledEnum):
    HONG_KONG = "hong_kong"
    SHANGHAI = "shanghai"
    CROSS_CITY = "cross_city"

    @property
    def label(self) -> str:
        return _PLACE_LABELS.get(self.value, super().label)


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


class Portal(LabelledEnum):
    DATA_GOV_HK = "data_gov_hk"
    CSDI = "csdi"
    HKO = "hko"
    SHANGHAI_PUBLIC_DATA = "shanghai_public_data"
    SODA = "soda"
    SHANGHAI_EV = "shanghai_ev"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "data_gov_hk": "DATA.GOV.HK", "csdi": "CSDI Portal (Hong Kong)", "hko": "Hong Kong Observatory",
            "shanghai_public_data": "Shanghai Public Data Open Platform", "soda": "SODA Shanghai Open Data Apps",
            "shanghai_ev": "Shanghai EV public data", "other": "Other",
        }[self.value]


class SourceUsage(LabelledEnum):
    """How a product uses a cited source: what its licence's derivative and share-alike terms turn on."""

    VERBATIM = "verbatim"  # the source as published, unmodified
    SUBSET = "subset"      # whole records of the source, selected but not altered
    DERIVED = "derived"    # cleaned, joined, aggregated or otherwise transformed (an adaptation)

    @property
    def label(self) -> str:
        return {
            "verbatim": "Verbatim copy", "subset": "Subset of records, unaltered",
            "derived": "Derived work (transformed)",
        }[self.value]


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


class AssetKind(LabelledEnum):
    SAMPLE = "sample"
    DELIVERABLE = "deliverable"


class PlanKind(LabelledEnum):
    FREE = "free"
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


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


class PermittedUse(LabelledEnum):
    INTERNAL_ANALYSIS = "internal_analysis"
    COMMERCIAL_PRODUCT = "commercial_product"
    RESEARCH = "research"
    AI_TRAINING = "ai_training"

    @property
    def label(self) -> str:
        return {"ai_training": "AI / model training"}.get(self.value, super().label)


class Prohibition(LabelledEnum):
    RESALE = "resale"
    REDISTRIBUTION = "redistribution"
    REIDENTIFICATION = "reidentification"

    @property
    def label(self) -> str:
        return {"reidentification": "Re-identification"}.get(self.value, super().label)


class Territory(LabelledEnum):
    HONG_KONG = "hong_kong"
    MAINLAND_CHINA = "mainland_china"
    WORLDWIDE = "worldwide"

    @property
    def label(self) -> str:
        return _PLACE_LABELS.get(self.value, super().label)


class PersonalInfo(LabelledEnum):
    NONE = "none"
    ANONYMISED = "anonymised"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class Classification(LabelledEnum):
    """GB/T 43697-2024 data classification levels."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"
