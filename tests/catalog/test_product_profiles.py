"""The product page shows each sample's stored preview, column profile and map, read from the database: the page
never opens the file (its profile was computed once, when it was uploaded)."""
from __future__ import annotations

import html
import json
import re

import pytest

from marketplace.catalog.profile_store import AssetProfile
from tests import factories
from tests.catalog.test_product_page import build_listed, text

BOUNDARIES = factories.SAMPLES / "hk" / "hk_district_council_boundaries_2001_lowres.geojson"
DETECTORS = factories.SAMPLES / "hk" / "hk_td_traffic_detector_locations.csv"


class CountingStorage:
    """The test's storage, counting every file opened."""

    def __init__(self, inner):
        self.inner, self.opened = inner, []

    def open(self, key):
        self.opened.append(key)
        return self.inner.open(key)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def counting(app, storage):
    double = CountingStorage(storage)
    app.extensions["storage"] = double
    yield double
    app.extensions["storage"] = storage


def _sample(product, name):
    return next(a for a in product.listed_version.assets if a.filename == name)


def test_the_page_shows_the_column_profiles_without_opening_the_file(client, session, storage, seller, reviewer,
                                                                     counting):
    product = build_listed(session, storage, seller, reviewer, title="Traffic detectors",
                           samples=[(DETECTORS.name, DETECTORS.read_bytes())])
    sample = _sample(product, DETECTORS.name)
    counting.opened.clear()

    response = client.get(f"/products/{product.slug}?sample={sample.id}")

    assert response.status_code == 200 and counting.opened == []
    page = text(response)
    profile = page.split('id="profile"')[1]
    assert "Profiled on all 786 rows." in profile
    row = profile.split('<th scope="row" class="mono">District</th>')[1].split("</tr>")[0]
    assert "Text" in row or "String" in row
    assert "Yuen Long" in row and "(131)" in row and "<svg" in row  # its most common values, charted
    latitude = profile.split('<th scope="row" class="mono">Latitude</th>')[1].split("</tr>")[0]
    assert "22.2471" in latitude and "22.5042" in latitude and "22.3736" in latitude  # min, max, mean, rounded
    assert 'class="chart chart-histogram"' in latitude and "<title" in latitude and "<desc" in latitude
    # Every value of the identifier occurs once: no "most common" list of ones.
    ident = profile.split('<th scope="row" class="mono">AID_ID_Number</th>')[1].split("</tr>")[0]
    assert "Every value occurs once." in ident and "<svg" not in ident
    # The dictionary says how each documented field looks in the sample.
    dictionary = page.split('id="dictionary"')[1].split("</section>")[0]
    assert "In the sample" in dictionary and "0% empty" in dictionary
    # The rows' positions are drawn as a map by the static script, with the vendored Leaflet.
    raw = response.get_data(as_text=True)
    assert 'src="/static/vendor/leaflet/leaflet.js"' in raw and 'src="/static/product-map.js"' in raw
    drawn = json.loads(html.unescape(re.search(r"data-map='([^']*)'", raw).group(1)))
    points = drawn["features"][0]["geometry"]["coordinates"]
    assert len(points) == 200 and points[0] == [114.15252, 22.24809]


def test_a_geojson_sample_is_drawn_and_its_numbers_come_from_the_stored_scan(client, session, storage, seller,
                                                                            reviewer, counting):
    product = build_listed(session, storage, seller, reviewer, title="District boundaries",
                           samples=[(BOUNDARIES.name, BOUNDARIES.read_bytes())])
    sample = _sample(product, BOUNDARIES.name)
    counting.opened.clear()

    response = client.get(f"/products/{product.slug}?sample={sample.id}")

    assert counting.opened == []
    page = text(response)
    assert "MultiPolygon, Polygon" in page and "113.8350, 22.1540 — 114.4420, 22.5620" in page
    assert "18 features drawn" in page
    raw = response.get_data(as_text=True)
    drawn = json.loads(html.unescape(re.search(r"data-map='([^']*)'", raw).group(1)))
    assert len(drawn["features"]) == 18
    assert len(response.get_data()) < 150_000  # the map's outlines are thinned to keep the page light


def test_decimals_print_rounded_for_reading(client, session, storage, seller, reviewer):
    data = (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            b'{"lat": 31.761599999999998, "name": "a"}, "geometry": {"type": "Point", '
            b'"coordinates": [121.47, 31.761599999999998]}}]}')
    product = build_listed(session, storage, seller, reviewer, title="Noisy floats", samples=[("p.geojson", data)])
    sample = _sample(product, "p.geojson")

    page = text(client.get(f"/products/{product.slug}?sample={sample.id}"))

    assert "31.7616" in page and "31.761599999999998" not in page


def test_a_file_without_a_profile_shows_it_is_being_prepared_and_the_page_writes_nothing(
        client, app, session, storage, seller, reviewer, counting, monkeypatch):
    product = build_listed(session, storage, seller, reviewer, title="Old upload",
                           samples=[(DETECTORS.name, DETECTORS.read_bytes())])
    sample = _sample(product, DETECTORS.name)
    session.query(AssetProfile).delete()
    session.commit()
    queued = []
    from marketplace.catalog import profile_store

    monkeypatch.setattr(profile_store, "profile_asset_job", queued.append)
    counting.opened.clear()

    first = text(client.get(f"/products/{product.slug}?sample={sample.id}"))

    assert "The preview is being prepared." in first
    assert queued == [] and counting.opened == []  # a GET neither queues nor reads: the command queues old files
    assert session.query(AssetProfile).count() == 0
    result = app.test_cli_runner().invoke(args=["profiles", "compute", "--queue"])
    assert result.exit_code == 0, result.output
    assert sample.id in queued and "file(s)" in result.output


def test_an_unreadable_sample_keeps_its_reason_in_each_language(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Broken sample",
                           samples=[("broken.json", b'{"a": [1, 2')])
    sample = _sample(product, "broken.json")
    url = f"/products/{product.slug}?sample={sample.id}"

    english = text(client.get(url))
    client.set_cookie("locale", "zh-Hant-HK")
    chinese = text(client.get(url))

    assert "No preview available" in english and "not valid JSON" in english
    assert "Column profiles" not in english
    assert "not valid JSON" not in chinese and "JSON" in chinese


def test_the_profiles_read_in_hong_kong_chinese(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Traffic detectors",
                           samples=[(DETECTORS.name, DETECTORS.read_bytes())])
    sample = _sample(product, DETECTORS.name)
    client.set_cookie("locale", "zh-Hant-HK")

    page = text(client.get(f"/products/{product.slug}?sample={sample.id}"))

    profile = page.split('id="profile"')[1].split("</table>")[0]
    assert "Profiled" not in profile and "Most common" not in profile and "Every value" not in profile
    assert "786" in profile and "22.2471" in profile
