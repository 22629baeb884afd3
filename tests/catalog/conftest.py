"""Catalog fixtures: a small catalog of listed products in both cities and languages."""
from __future__ import annotations

import pytest

from tests import factories
from tests.support.search import searching_on

FREE = {"name": "Research (free)", "kind": "free", "amount": 0, "currency": "HKD", "permitted_uses": ["research"],
        "duration_days": 365}
CNY_COMMERCIAL = {"name": "Commercial", "kind": "one_time", "amount": 5_000_000, "currency": "CNY",
                  "permitted_uses": ["internal_analysis", "commercial_product"], "territory": "mainland_china"}


@pytest.fixture
def catalog(session, storage, seller, reviewer):
    """Four listed products and one draft, in different categories, regions, languages and prices."""
    other = factories.user(session, organization="Pudong Data Studio")
    made = {
        "traffic": factories.listed_product(
            session, storage, seller, reviewer, title="Hong Kong Strategic Road Traffic Speeds",
            title_zh="香港交通数据", tags=["traffic", "交通"], category="transport", regions=["hong_kong"],
            description_en="Average **speeds** per detector on Hong Kong expressways.", plans=[FREE]),
        "journeys": factories.listed_product(
            session, storage, seller, reviewer, title="Kowloon Journey Times", title_zh="九龍行車時間",
            tags=["journey time"], category="transport", regions=["hong_kong"],
            description_en="Route journey times across Kowloon, Hong Kong."),
        "air": factories.listed_product(
            session, storage, other, reviewer, title="Shanghai PM2.5 Hourly", title_zh="上海空气质量",
            tags=["air quality", "空气"], category="environment", regions=["shanghai"], formats=["CSV", "JSON"],
            description_en="US consulate PM2.5 series.", plans=[CNY_COMMERCIAL]),
        "weather": factories.listed_product(
            session, storage, other, reviewer, title="Typhoon Wind Gusts", title_zh="颱風陣風",
            tags=["wind"], category="weather", regions=["hong_kong", "cross_city"],
            description_en="Peak gusts at Hong Kong stations during Signal No. 8."),
    }
    factories.product(session, seller, title="Secret draft about traffic")
    session.commit()
    return made


@pytest.fixture
def search_engine(app, tmp_path):
    """The catalog searched on the embedded engine, with an index folder of the test's own."""
    from marketplace.catalog.engine_search import CatalogEngine

    with searching_on(app, CatalogEngine(str(tmp_path / "catalog-index"))) as catalog_engine:
        yield catalog_engine


@pytest.fixture
def database_search(app):
    """The catalog searched on the database, whatever SEARCH_ENGINE says."""
    with searching_on(app, None):
        yield None
