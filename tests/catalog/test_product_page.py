"""The buyer's product page at /products/<slug>: public, listed products only, a fixed number of queries."""
from __future__ import annotations

import html
import re
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from marketplace.listings import services as listings
from marketplace.review import services as review
from tests import factories

JOURNEY_TIMES = factories.SAMPLES / "hk" / "hk_td_am_peak_car_journey_time_cross_district_2023.csv"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def approve(session, storage, seller, reviewer, version):
    """Take a complete version through the real review path: attested, submitted, claimed, approved (so listed)."""
    if version.attested_at is None:  # a new version copies the profile, not the attestation
        listings.set_compliance(session, seller, version, factories.COMPLIANCE, attest=True,
                                attested_by_name="Ada Seller")
    round_ = factories.submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.flush()
    return version


def build_listed(session, storage, seller, reviewer, *, title, samples=(), plans=0, sources=0, fields=None,
                 **metadata):
    """A listed product with extra sample files, plans, sources and dictionary fields added before review."""
    product = factories.product(session, seller, title=title)
    version = factories.complete_version(session, storage, seller, product.latest_version)
    if metadata:
        listings.update_metadata(session, seller, version, metadata)
    for filename, data in samples:
        factories.upload(session, storage, seller, version, kind="sample", filename=filename, data=data,
                         max_bytes=10_000_000)
    for i in range(plans):
        listings.add_plan(session, seller, version,
                          factories.PLAN | {"name": f"Plan {i + 2}", "amount": 1000 * (i + 2)})
    for i in range(sources):
        listings.add_source(session, seller, version, factories.SOURCE | {"title": f"Upstream {i + 2}",
                                                                           "url": f"https://data.gov.hk/x/{i}"})
    if fields is not None:
        listings.replace_dictionary(session, seller, version, fields)
    approve(session, storage, seller, reviewer, version)
    session.commit()
    return product


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def product(session, storage, seller, reviewer):
    return factories.listed_product(session, storage, seller, reviewer, title="Strategic Road Speeds")


# ---------------------------------------------------------------- what the page shows


def test_anyone_sees_a_listed_product(client, product, session):
    version = product.listed_version
    response = client.get(f"/products/{product.slug}")

    assert response.status_code == 200
    page = text(response)
    assert '<h1 lang="en">Strategic Road Speeds</h1>' in page
    assert '<p class="product-title-zh" lang="zh-Hans">香港交通数据</p>' in page
    assert "Hourly <strong>speeds</strong> on strategic roads." in page  # markdown rendered
    assert '<div class="prose" lang="zh-Hans"><p>策略性道路车速。</p></div>' in page
    assert "Harbour Analytics" in page  # the seller
    # Sources with their licence and link.
    assert "Traffic Data of Strategic / Major Roads" in page and factories.SOURCE["url"] in page
    assert "Transport Department" in page and "DATA.GOV.HK" in page
    # The data dictionary.
    assert "AID_ID_Number" in page and "Detector id" in page and "degree" in page
    # The sample previewed as a table.
    assert "detectors.csv" in page and "AID01101" in page and "22.3" in page
    # The plan and its terms in plain words.
    assert "Research licence" in page and "HK$1,200.00, paid once" in page
    assert "May be used for: research, internal analysis." in page
    assert "Not allowed: resale, re-identification." in page and "Licence lasts 365 days." in page
    # The compliance badge.
    assert version.registration_number and version.registration_number in page
    shown = version.approved_at.astimezone(ZoneInfo("Asia/Hong_Kong"))  # the day as an English reader's zone has it
    assert "General" in page and f"{shown.day} {shown:%b %Y}" in page  # in Babel's words
    assert f"/products/{product.slug}/plans/{version.plans[0].id}/license" in page  # the way to license a plan


def test_the_page_links_its_machine_readable_descriptions(client, product):
    response = client.get(f"/products/{product.slug}")
    head = response.get_data(as_text=True).split("</head>")[0]
    assert "<link rel=\"alternate\"" in head, "base.html needs {% block head %}{% endblock %} before </head>"
    assert f'<link rel="alternate" type="application/ld+json" href="/products/{product.slug}.jsonld">' in head
    assert f'<link rel="alternate" type="text/turtle" href="/products/{product.slug}.ttl">' in head
    assert f'</products/{product.slug}.jsonld>; rel="alternate"; type="application/ld+json"' in response.headers["Link"]


def test_the_page_needs_no_javascript_and_serves_only_local_css(client, product):
    page = client.get(f"/products/{product.slug}").get_data(as_text=True)

    assert "<script" not in page
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) == ["/static/app.css"]


def test_personal_fields_are_flagged(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Lamppost owners", fields=[
        {"name": "owner_name", "type": "string", "description": "Registered owner", "personal_info": True,
         "nullable": False},
        {"name": "pm25", "type": "number", "unit": "µg/m³"},
    ])

    page = text(client.get(f"/products/{product.slug}"))

    row = re.search(r"<tr>\s*<td class=\"mono\">owner_name</td>.*?</tr>", page, re.S).group(0)
    assert "Registered owner" in row and "personal" in row and "<td>No</td>" in row  # not nullable
    assert "µg/m³" in page


# ---------------------------------------------------------------- who sees what


def test_unknown_slug_is_404(client):
    response = client.get("/products/no-such-product")

    assert response.status_code == 404 and "404" in response.get_data(as_text=True)


def test_a_draft_is_404(client, session, seller):
    draft = factories.product(session, seller, title="Unlisted draft")
    session.commit()

    assert client.get(f"/products/{draft.slug}").status_code == 404


def test_a_product_in_review_is_404(client, session, storage, seller):
    p = factories.product(session, seller, title="Waiting for review")
    factories.submit(session, seller, factories.complete_version(session, storage, seller, p.latest_version),
                          storage)
    session.commit()

    assert client.get(f"/products/{p.slug}").status_code == 404


@pytest.mark.parametrize("action", ["suspend", "delist"])
def test_a_suspended_or_delisted_product_is_404(client, session, product, reviewer, action):
    review.change_product_status(session, reviewer, product, action, "The upstream licence changed.")
    session.commit()

    assert client.get(f"/products/{product.slug}").status_code == 404


def test_only_approved_versions_are_listed(client, session, storage, seller, reviewer, product):
    v2 = listings.new_version(session, seller, product, "2.0", "Added the 2024 detectors.")
    approve(session, storage, seller, reviewer, v2)
    listings.new_version(session, seller, product, "3.0-draft", "Secret plans for 3.0.")
    session.commit()

    page = text(client.get(f"/products/{product.slug}"))
    versions = page.split('id="versions"')[1]

    assert "v2.0" in versions and "Added the 2024 detectors." in versions
    assert "v1.0" in versions
    assert "3.0-draft" not in page and "Secret plans" not in page
    current = re.search(r'<li class="is-current" aria-current="true">.*?</li>', versions, re.S).group(0)
    assert "v2.0" in current and "current" in current and v2.registration_number in current


def test_buyers_see_the_listed_version_while_a_new_one_is_in_review(client, session, storage, seller, product):
    v2 = listings.new_version(session, seller, product, "2.0", "New title.")
    listings.update_metadata(session, seller, v2, {"title_en": "Renamed in review"})
    listings.set_compliance(session, seller, v2, factories.COMPLIANCE, attest=True, attested_by_name="Ada Seller")
    factories.submit(session, seller, v2, storage)
    session.commit()

    page = text(client.get(f"/products/{product.slug}"))

    assert "Strategic Road Speeds" in page and "Renamed in review" not in page and "v2.0" not in page


# ---------------------------------------------------------------- preview


def test_the_shipped_journey_time_report_renders_with_its_header(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Kowloon journey times",
                           samples=[(JOURNEY_TIMES.name, JOURNEY_TIMES.read_bytes())])
    sample = next(a for a in product.listed_version.assets if a.filename == JOURNEY_TIMES.name)

    response = client.get(f"/products/{product.slug}?sample={sample.id}")

    assert response.status_code == 200
    preview = text(response).split('id="preview"')[1].split("</section>")[0]
    assert '<th scope="col">Origin - Destination</th>' in preview
    assert '<th scope="col">Journey Time (minutes)</th>' in preview
    assert "Princess Margaret Road\nJ/W Sheung Hing Street" in preview
    # Two samples: a selector links to each, the chosen one marked.
    assert f'?sample={sample.id}#preview" aria-current="true">{JOURNEY_TIMES.name}</a>' in preview
    assert "detectors.csv</a>" in preview


def test_the_first_sample_is_previewed_by_default(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Two samples",
                           samples=[("second.csv", b"other\nvalue\n")])

    preview = text(client.get(f"/products/{product.slug}?sample=999999")).split('id="preview"')[1]

    assert "AID01101" in preview and "<td>value</td>" not in preview


def test_a_big5_sample_renders_decoded(client, session, storage, seller, reviewer):
    data = "站名,車速\n旺角站,32.5\n".encode("big5")
    product = build_listed(session, storage, seller, reviewer, title="Big5 speeds", samples=[("speeds.csv", data)])
    sample = product.listed_version.assets[-1]

    page = text(client.get(f"/products/{product.slug}?sample={sample.id}"))

    assert '<th scope="col">站名</th>' in page and "<td>旺角站</td>" in page


def test_an_unreadable_sample_says_why_instead_of_failing(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Broken sample",
                           samples=[("broken.json", b'{"rows": [{"a": 1},')])
    sample = product.listed_version.assets[-1]

    response = client.get(f"/products/{product.slug}?sample={sample.id}")

    assert response.status_code == 200
    assert "No preview available" in text(response) and "not valid JSON" in text(response)


def test_a_geojson_sample_shows_its_bounding_box(client, session, storage, seller, reviewer):
    path = factories.SAMPLES / "hk" / "hk_district_council_boundaries_2001_lowres.geojson"
    product = build_listed(session, storage, seller, reviewer, title="District boundaries",
                           samples=[(path.name, path.read_bytes())])
    sample = product.listed_version.assets[-1]

    page = text(client.get(f"/products/{product.slug}?sample={sample.id}"))

    assert "MultiPolygon, Polygon" in page and "113.8350, 22.1540 — 114.4420, 22.5620" in page
    assert "Central & Western" in page and "中西區" in page


# ---------------------------------------------------------------- related products


def test_related_products_share_category_region_or_seller_and_exclude_the_product(
        client, session, storage, seller, reviewer, product):
    others = [factories.listed_product(session, storage, seller, reviewer, title=f"Sibling {i}") for i in range(5)]
    stranger = factories.user(session, organization="Pudong Weather Lab")
    unrelated = factories.listed_product(session, storage, stranger, reviewer, title="Shanghai Rainfall",
                                         category="weather", regions=["shanghai"])
    same_region = factories.listed_product(session, storage, stranger, reviewer, title="HK Air Quality",
                                           category="environment", regions=["hong_kong"])
    draft = factories.product(session, seller, title="Sibling draft")
    session.commit()

    page = text(client.get(f"/products/{product.slug}"))
    related = page.split('id="related-title"')[1]
    shown = re.findall(r'<a class="card product-card" href="/products/([^"]+)"', related)

    assert len(shown) == 4
    assert product.slug not in shown and draft.slug not in shown and unrelated.slug not in shown
    assert set(shown) <= {o.slug for o in others} | {same_region.slug}
    # Products sharing category, region and seller rank before one sharing only the region.
    assert same_region.slug not in shown


def test_a_region_match_alone_is_related(client, session, storage, seller, reviewer, product):
    stranger = factories.user(session, organization="Pudong Weather Lab")
    same_region = factories.listed_product(session, storage, stranger, reviewer, title="HK Air Quality",
                                           category="environment", regions=["cross_city", "hong_kong"])
    session.commit()

    related = text(client.get(f"/products/{product.slug}")).split('id="related-title"')[1]

    assert f'href="/products/{same_region.slug}"' in related and "Pudong Weather Lab" in related


def test_no_related_section_without_related_products(client, product):
    assert 'id="related-title"' not in text(client.get(f"/products/{product.slug}"))


# ---------------------------------------------------------------- queries and safety


def test_the_page_issues_a_fixed_number_of_queries(client, session, storage, seller, reviewer, product):
    small = product
    big = build_listed(session, storage, seller, reviewer, title="Big product", plans=4, sources=3, fields=[
        {"name": f"field_{i}", "type": "string", "description": f"Field {i}"} for i in range(30)])
    for number in (2, 3):
        version = listings.new_version(session, seller, big, f"{number}.0", f"Release {number}.")
        approve(session, storage, seller, reviewer, version)
    for i in range(4):
        factories.listed_product(session, storage, seller, reviewer, title=f"Neighbour {i}")
    session.commit()
    assert len(big.listed_version.plans) == 5 and len(big.listed_version.sources) == 4
    assert len(big.listed_version.fields) == 30 and len(big.versions) == 3

    client.application.extensions["product_pages"].clear()  # first renders: no page kept by an earlier test
    counts = {}
    for name, slug in (("small", small.slug), ("big", big.slug)):
        session.expire_all()  # the request shares the test's session: start from an empty identity map
        with counted_queries() as statements:
            assert client.get(f"/products/{slug}").status_code == 200
        counts[name] = len(statements)

    assert counts["small"] == counts["big"], counts
    # The product with its seller and listed version (one join); its sources, dictionary, files and plans; its
    # versions; related products; the sample's stored preview and profile (in place of reading its file); the signed
    # assessments with their providers (one join); the newest registration certificate (the buyer's warning of its
    # expiry). A first render reads no state apart: the page is kept under the state of the objects it was rendered
    # from.
    assert counts["big"] <= 10, counts

    url = f"/products/{big.slug}"  # read before counting: the request's commit expired the test's objects
    with counted_queries() as statements:  # asked for again: rendered again, and kept from now on
        assert client.get(url).status_code == 200
    assert len(statements) == counts["big"], statements
    with counted_queries() as statements:  # a page kept rendered: only its state is read again
        assert client.get(url).status_code == 200
    assert len(statements) == 1, statements


def test_a_page_is_kept_from_its_second_request_on(client, product):
    pages = client.application.extensions["product_pages"]
    pages.clear()
    url = f"/products/{product.slug}"
    kept = [(client.get(url).status_code, pages.kept((product.slug, None, "en")) is not None) for _ in range(3)]
    assert kept == [(200, False), (200, True), (200, True)]
    assert pages.kept((product.slug, None, "zh-Hans")) is None  # each locale's page is asked for on its own


def _switcher_next(page: str) -> str:
    return html.unescape(re.search(r'<input type="hidden" name="next" value="([^"]*)"', page).group(1))


def test_a_kept_page_comes_back_to_itself_whatever_address_first_asked_for_it(client, product):
    # The kept page is served to every anonymous visitor: what the first requests carried besides the key (another
    # query, a HEAD) must not be in it, or one visitor would plant an address in everyone's language switcher.
    client.application.extensions["product_pages"].clear()
    url = f"/products/{product.slug}"
    for _ in range(2):
        client.get(f"{url}?ref=campaign&sample=abc")
        client.head(url)
    assert _switcher_next(text(client.get(url))) == url
    assert _switcher_next(text(client.get(f"{url}?utm=x"))) == url


def test_only_a_sample_the_version_has_gets_its_own_kept_page(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Two samples",
                           samples=[("b.csv", b"a,b\n1,2\n")])
    pages = client.application.extensions["product_pages"]
    pages.clear()
    url, sample = f"/products/{product.slug}", product.listed_version.assets[-1].id
    for _ in range(2):
        for query in (f"?sample={sample}", "?sample=999999", "?sample=-1"):
            assert client.get(url + query).status_code == 200
    assert pages.kept((product.slug, sample, "en")) is not None
    assert pages.kept((product.slug, 999999, "en")) is None and pages.kept((product.slug, -1, "en")) is None
    assert _switcher_next(text(client.get(f"{url}?sample={sample}&x=1"))) == f"{url}?sample={sample}"


def test_pages_say_they_differ_by_language(client, product):
    response = client.get(f"/products/{product.slug}")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    assert "Accept-Language" in client.get("/api/v1/catalog").vary


# ---------------------------------------------------------------- pages kept rendered


def test_a_kept_page_is_not_served_once_the_product_is_suspended(client, session, product, reviewer):
    for _ in range(3):  # the second request keeps the page, the third is served from it
        assert client.get(f"/products/{product.slug}").status_code == 200

    review.change_product_status(session, reviewer, product, "suspend", "The upstream licence changed.")
    session.commit()
    assert client.get(f"/products/{product.slug}").status_code == 404

    review.change_product_status(session, reviewer, product, "reinstate", "Cleared.")
    session.commit()
    assert client.get(f"/products/{product.slug}").status_code == 200


def test_a_kept_page_shows_a_newly_listed_version(client, session, storage, seller, reviewer, product):
    for _ in range(2):  # the second request keeps the page
        assert "v1.0" in text(client.get(f"/products/{product.slug}"))
    assert client.application.extensions["product_pages"].kept((product.slug, None, "en")) is not None

    v2 = listings.new_version(session, seller, product, "2.0", "Added the 2024 detectors.")
    listings.update_metadata(session, seller, v2, {"title_en": "Strategic Road Speeds 2024"})
    approve(session, storage, seller, reviewer, v2)
    session.commit()

    page = text(client.get(f"/products/{product.slug}"))
    assert "Strategic Road Speeds 2024" in page and "Added the 2024 detectors." in page


def test_signed_in_visitors_never_get_the_anonymous_page(client, auth, session, product, seller):
    assert "Log in" in text(client.get(f"/products/{product.slug}"))
    auth.login(seller.email)
    page = text(client.get(f"/products/{product.slug}"))
    assert "Log out (seller@example.org)" in page
    auth.logout()
    assert "Log out" not in text(client.get(f"/products/{product.slug}"))


def test_description_markup_is_sanitised(client, session, storage, seller, reviewer):
    product = factories.listed_product(
        session, storage, seller, reviewer, title="Hostile",
        description_en='Fine **text**<script>alert("x")</script><img src=x onerror="alert(1)">'
                       ' [a](javascript:alert(2))')

    page = client.get(f"/products/{product.slug}").get_data(as_text=True)

    assert "<script" not in page and "onerror" not in page and "javascript:" not in page
    assert "<strong>text</strong>" in page


def test_sample_cells_are_escaped(client, session, storage, seller, reviewer):
    product = build_listed(session, storage, seller, reviewer, title="Hostile cells",
                           samples=[("evil.csv", b'name,"<b>col</b>"\n<img src=x onerror=alert(1)>,2\n')])
    sample = product.listed_version.assets[-1]

    page = client.get(f"/products/{product.slug}?sample={sample.id}").get_data(as_text=True)

    assert "<img src=x onerror" not in page and "<b>col</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;col&lt;/b&gt;" in page


# ---------------------------------------------------------------- reading it: keyboard, screen readers, words


def test_the_dictionary_scrolls_by_keyboard_and_has_a_name(client, product):
    page = text(client.get(f"/products/{product.slug}"))
    assert re.search(r'<div class="table-wrap" tabindex="0" role="region" aria-label="Data dictionary">\s*'
                     r'<table class="table product-dictionary">', page)


def test_english_source_names_are_marked_english_on_a_chinese_page(client, product):
    page = text(client.get(f"/products/{product.slug}", headers={"Accept-Language": "zh-HK"}))
    assert '<strong lang="en">Traffic Data of Strategic / Major Roads' in page
    english = text(client.get(f"/products/{product.slug}", headers={"Accept-Language": "en"}))
    assert "<strong>Traffic Data of Strategic / Major Roads" in english  # the page's own language: no mark


def test_a_coverage_within_one_year_names_the_year_once(client, session, product):
    from datetime import date

    version = product.listed_version
    version.temporal_start, version.temporal_end = date(2025, 1, 1), date(2025, 12, 31)
    session.commit()
    client.application.extensions["product_pages"].clear()
    page = text(client.get(f"/products/{product.slug}"))
    assert "<dd>2025</dd>" in page and "2025–2025" not in page


def test_the_automatic_first_changelog_reads_in_the_readers_language(client, product):
    assert product.listed_version.changelog.strip() == "First version."  # stored as written, in English
    client.application.extensions["product_pages"].clear()
    page = text(client.get(f"/products/{product.slug}", headers={"Accept-Language": "zh-HK"}))
    assert '<p class="small">第一個版本。</p>' in page and "First version." not in page
