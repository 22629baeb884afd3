"""Where an organization is and where data was collected: the places the cross-boundary rules tell apart.

The nine Mainland cities of the Greater Bay Area are named one by one (the GBA standard contract applies to them
and Hong Kong only); the rest of the Mainland is Shanghai, Beijing or "elsewhere in the Mainland". This module
knows no domain, so organizations (accounts) and versions (listings) can both hold a place.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

_LABELS = {
    "guangzhou": _l("Guangzhou"), "shenzhen": _l("Shenzhen"), "zhuhai": _l("Zhuhai"), "foshan": _l("Foshan"),
    "huizhou": _l("Huizhou"), "dongguan": _l("Dongguan"), "zhongshan": _l("Zhongshan"), "jiangmen": _l("Jiangmen"),
    "zhaoqing": _l("Zhaoqing"), "shanghai": _l("Shanghai"), "beijing": _l("Beijing"),
    "mainland_other": _l("Elsewhere in the Mainland"), "hong_kong": _l("Hong Kong"),
    "elsewhere": _l("Outside the Mainland and Hong Kong"),
}


class Place(enum.StrEnum):
    GUANGZHOU = "guangzhou"
    SHENZHEN = "shenzhen"
    ZHUHAI = "zhuhai"
    FOSHAN = "foshan"
    HUIZHOU = "huizhou"
    DONGGUAN = "dongguan"
    ZHONGSHAN = "zhongshan"
    JIANGMEN = "jiangmen"
    ZHAOQING = "zhaoqing"
    SHANGHAI = "shanghai"
    BEIJING = "beijing"
    MAINLAND_OTHER = "mainland_other"
    HONG_KONG = "hong_kong"
    ELSEWHERE = "elsewhere"

    @property
    def label(self) -> str:
        return str(_LABELS[self.value])

    @property
    def in_mainland(self) -> bool:
        return self not in (Place.HONG_KONG, Place.ELSEWHERE)

    @property
    def in_mainland_gba(self) -> bool:
        """One of the nine Mainland cities of the Greater Bay Area (Shanghai and Beijing are not)."""
        return self in MAINLAND_GBA_CITIES

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(p.value, p.label) for p in cls]


MAINLAND_GBA_CITIES = frozenset({Place.GUANGZHOU, Place.SHENZHEN, Place.ZHUHAI, Place.FOSHAN, Place.HUIZHOU,
                                 Place.DONGGUAN, Place.ZHONGSHAN, Place.JIANGMEN, Place.ZHAOQING})
