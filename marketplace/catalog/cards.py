"""A catalog page's product cards, put into the reader's words in one pass before the page is drawn.

A results page shows 24 cards, each with a category, titles and a summary in the reader's language first, a price,
a plan count and regions: building them here costs a few Python calls a card, where the template called a dozen
helpers and messages for each (the catalog's narrow search is most of its time in drawing the page).
"""
from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup

from marketplace import i18n
from marketplace.bilingual import Shown, bilingual, first_of
from marketplace.catalog.models import CatalogEntry
from marketplace.listings.view_helpers import label, labels
from marketplace.listings.vocab import Category, Region


class Card(NamedTuple):
    slug: str
    category: str
    seller: str
    titles: list[Shown]  # the reader's language first; the first is a fallback when the reader's is missing
    summary: Shown
    price: Markup  # "Free plan" or "From <strong>HK$1,200.00</strong>"
    plans: str
    regions: str
    registration_number: str | None


def cards(entries: list[CatalogEntry]) -> list[Card]:
    free = Markup("<strong>%s</strong>") % i18n.gettext("Free plan")
    from_price = Markup(i18n.gettext("From <strong>%(price)s</strong>"))
    return [Card(
        slug=e.slug, category=label(Category, e.category), seller=e.seller_name,
        titles=bilingual(e.title_en, e.title_zh),
        summary=first_of(e.summary_en, e.summary_zh),
        price=free if e.min_amount == 0 else from_price % {"price": i18n.money(e.min_amount, e.min_currency)},
        plans=i18n.ngettext("%(num)d plan", "%(num)d plans", e.plan_count),
        regions=labels(Region, e.regions.split(",")), registration_number=e.registration_number,
    ) for e in entries]
