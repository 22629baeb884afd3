"""The case page opens on what a reviewer needs first: the sample as buyers will see it, the pre-screen's findings
counted per checklist item (each count linking to its item), then the checklist; the version's content follows."""
from __future__ import annotations

import html
import io

from marketplace.listings.assets import upload_asset
from marketplace.review import services as review
from tests import factories


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_case_opens_on_the_preview_the_findings_and_the_checklist(client, auth, reviewer, case):
    auth.login(reviewer.email)
    page = text(client.get(f"/review/cases/{case.id}"))
    order = [page.index(marker) for marker in ('id="preview"', 'id="findings"', 'id="checklist"', 'id="content"',
                                               'id="prescreen"', 'id="history"')]
    assert order == sorted(order)
    preview = page[page.index('id="preview"'):page.index('id="findings"')]
    assert "Preview of the sample" in preview and '<table class="table product-preview">' in preview
    findings = page[page.index('id="findings"'):page.index('id="checklist"')]
    assert "0 blocking" in findings and 'href="#item-source_legality"' in findings
    assert 'href="#checklist"' in page[:page.index('id="preview"')]  # one click from the top


def test_the_findings_count_blocking_and_warnings_per_item(client, auth, session, storage, seller, reviewer, version):
    upload_asset(session, storage, seller, version, kind="deliverable", filename="people.csv",
                 stream=io.BytesIO(b"name,hkid\nChan Tai Man,A123456(3)\n"), content_type="text/csv",
                 max_bytes=100_000)
    session.commit()
    review.submit_version(session, seller, version, storage)
    session.commit()
    case = review.case_for_version(session, version)
    auth.login(reviewer.email)
    page = text(client.get(f"/review/cases/{case.id}"))
    findings = page[page.index('id="findings"'):page.index('id="checklist"')]
    item = findings[findings.index("Personal information"):]
    item = item[:item.index("</li>")]
    assert "blocking" in item and 'href="#item-personal_information"' in item and "badge-prescreen-fail" in findings


def test_a_version_with_several_samples_switches_between_them_on_the_case(client, auth, session, storage, seller,
                                                                           reviewer, version):
    upload_asset(session, storage, seller, version, kind="sample", filename="second.csv",
                 stream=io.BytesIO(b"station,reading\nTKO,7\n"), content_type="text/csv", max_bytes=100_000)
    session.commit()
    review.submit_version(session, seller, version, storage)
    session.commit()
    case = review.case_for_version(session, version)
    second = next(a for a in version.assets if a.filename == "second.csv")
    auth.login(reviewer.email)
    page = text(client.get(f"/review/cases/{case.id}?sample={second.id}"))
    assert f"/review/cases/{case.id}?sample={second.id}#preview" in page and "TKO" in page
    assert "/products/" not in page[page.index('id="preview"'):page.index('id="findings"')]  # no public page yet


def test_buyers_and_sellers_cannot_open_a_case(client, auth, session, case):
    buyer = factories.user(session, email="buyer@example.org", organization="Buying Org")
    session.commit()
    auth.login(buyer.email)
    assert client.get(f"/review/cases/{case.id}").status_code == 403


def test_the_case_shows_the_stored_preview_and_never_opens_the_sample(app, client, auth, session, storage, reviewer,
                                                                       case):
    from marketplace.catalog.profile_store import AssetProfile
    from tests.catalog.test_product_profiles import CountingStorage

    counting = CountingStorage(storage)
    app.extensions["storage"] = counting
    try:
        auth.login(reviewer.email)
        page = text(client.get(f"/review/cases/{case.id}"))
        preview = page[page.index('id="preview"'):page.index('id="findings"')]
        assert '<table class="table product-preview">' in preview and counting.opened == []

        session.query(AssetProfile).delete()  # a file whose profile is not stored yet
        session.commit()
        page = text(client.get(f"/review/cases/{case.id}"))
        assert "The preview is being prepared." in page and counting.opened == []
        assert session.query(AssetProfile).count() == 0  # the page wrote nothing, queued nothing
    finally:
        app.extensions["storage"] = storage
