"""The seller console pages: forms in, one service call, redirect; refusals re-render with the input kept."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.listings.models import Asset, DataProduct, OpenDataSource, PricingPlan
from marketplace.listings.states import VersionStatus
from tests import factories

TRAFFIC_CSV = factories.SAMPLES / "hk" / "hk_td_traffic_detector_locations.csv"


@pytest.fixture
def complete(session, storage, seller, draft):
    factories.complete_version(session, storage, seller, draft.latest_version)
    session.commit()
    return draft


def vurl(product, suffix: str = "", number: int = 1) -> str:
    return f"/seller/products/{product.id}/versions/{number}{suffix}"


def text(response) -> str:
    return response.get_data(as_text=True)


def stored_files(storage) -> list:
    return [p for p in storage.root.rglob("*") if p.is_file()] if storage.root.exists() else []


METADATA = {
    "title_en": "Hong Kong traffic detectors", "title_zh": "香港交通探测器",
    "description_en": "Where **detectors** are.", "description_zh": "探测器位置。", "category": "transport",
    "tags": "traffic，交通, roads", "regions": ["hong_kong"],
    "temporal_start": "2023-01-01", "temporal_end": "2023-12-31", "spatial_coverage": "All districts",
    "update_frequency": "monthly", "delivery_methods": ["file", "api"], "formats": ["CSV", "GeoJSON"],
}

PLAN_FORM = {
    "plan-name": "Research licence", "plan-kind": "one_time", "plan-billing_period": "", "plan-amount": "1200.00",
    "plan-currency": "HKD", "plan-permitted_uses": ["research", "internal_analysis"],
    "plan-prohibitions": ["resale"], "plan-territory": "hong_kong", "plan-duration_days": "365",
    "plan-attribution_required": "y", "plan-derivatives_allowed": "y",
}

SOURCE_FORM = {f"source-{k}": v for k, v in factories.SOURCE.items()}


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("url", ["/seller/", "/seller/products/new", "/seller/products/1"])
def test_seller_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_dashboard_lists_my_products_with_status(seller_client, draft):
    page = text(seller_client.get("/seller/"))
    assert "Traffic detectors" in page
    assert "Harbour Analytics" in page
    assert "badge-draft" in page
    assert "New product" in page


def _other_product(session):
    stranger = factories.user(session, email="other@example.org", organization="Kowloon Data")
    product = factories.product(session, stranger, title="Not yours")
    session.commit()
    return product


OTHER_ORG_URLS = [
    ("get", "/seller/products/{id}"),
    ("get", "/seller/products/{id}/versions/1"),
    ("get", "/seller/products/{id}/versions/1/edit"),
    ("post", "/seller/products/{id}/versions/1/edit"),
    ("post", "/seller/products/{id}/versions/1/sources"),
    ("post", "/seller/products/{id}/versions/1/sources/lookup"),
    ("post", "/seller/products/{id}/versions/1/sources/1/delete"),
    ("post", "/seller/products/{id}/versions/1/dictionary"),
    ("post", "/seller/products/{id}/versions/1/assets"),
    ("post", "/seller/products/{id}/versions/1/assets/1/infer"),
    ("post", "/seller/products/{id}/versions/1/assets/1/delete"),
    ("get", "/seller/products/{id}/assets/1"),
    ("post", "/seller/products/{id}/versions/1/plans"),
    ("get", "/seller/products/{id}/versions/1/plans/1/edit"),
    ("post", "/seller/products/{id}/versions/1/plans/1/delete"),
    ("post", "/seller/products/{id}/versions/1/compliance"),
    ("post", "/seller/products/{id}/versions/1/submit"),
    ("post", "/seller/products/{id}/versions"),
]


@pytest.mark.parametrize(("method", "url"), OTHER_ORG_URLS)
def test_another_organizations_product_is_404_on_every_page(seller_client, session, method, url):
    product = _other_product(session)
    response = getattr(seller_client, method)(url.format(id=product.id), data={"title_en": "hijack"})
    assert response.status_code == 404
    assert product.latest_version.title_en == "Not yours"


def test_user_without_an_organization_is_told_to_create_one(client, auth, session):
    loner = factories.user(session, email="loner@example.org")
    session.commit()
    auth.login(loner.email)
    assert "not a member of any organization" in text(client.get("/seller/"))
    assert "not a member of any organization" in text(client.get("/seller/products/new"))
    assert client.post("/seller/products/new", data={"title_en": "X"}).status_code == 422


def test_unknown_version_is_404(seller_client, draft):
    assert seller_client.get(vurl(draft, number=7)).status_code == 404


# ---------------------------------------------------------------- create and edit


def test_create_product_via_the_form(seller_client, session, seller_org):
    response = seller_client.post("/seller/products/new", data={"organization_id": seller_org.id, **METADATA})
    assert response.status_code == 302
    product = session.scalar(select(DataProduct).where(DataProduct.organization_id == seller_org.id))
    # A new draft goes on to its sources: the next step after its details.
    assert response.headers["Location"].endswith(f"/seller/products/{product.id}/versions/1/sources")
    version = product.latest_version
    assert version.tags == ["traffic", "交通", "roads"]
    assert version.regions == ["hong_kong"] and version.formats == ["CSV", "GeoJSON"]
    assert str(version.temporal_end) == "2023-12-31"
    page = text(seller_client.get(f"/seller/products/{product.id}", follow_redirects=True))
    assert "Hong Kong traffic detectors" in page and "<strong>detectors</strong>" in page
    assert "Hong Kong traffic detectors" in text(seller_client.get("/seller/"))


def test_new_product_form_preselects_my_only_organization(seller_client, seller_org):
    page = text(seller_client.get("/seller/products/new"))
    assert re.search(rf'<option selected value="{seller_org.id}">|<option value="{seller_org.id}" selected', page)


def test_missing_english_title_re_renders_with_error_and_keeps_input(seller_client, session, seller_org):
    data = {"organization_id": seller_org.id, **METADATA, "title_en": "  "}
    response = seller_client.post("/seller/products/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "An English title is required." in page
    assert 'value="香港交通探测器"' in page and "Where **detectors** are." in page
    assert session.scalar(select(func.count(DataProduct.id))) == 0


def test_end_date_before_start_date_is_refused(seller_client, session, seller_org):
    data = {"organization_id": seller_org.id, **METADATA, "temporal_start": "2024-05-01", "temporal_end": "2024-01-01"}
    response = seller_client.post("/seller/products/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "before its start" in page
    assert 'value="2024-05-01"' in page and 'value="2024-01-01"' in page


def test_malformed_date_is_a_field_error_not_a_crash(seller_client, seller_org):
    response = seller_client.post("/seller/products/new",
                                  data={"organization_id": seller_org.id, "title_en": "X", "temporal_start": "soon"})
    assert response.status_code == 422
    assert "field-error" in text(response)


def test_edit_metadata(seller_client, draft):
    old = seller_client.get(vurl(draft, "/edit"))  # the former address of the form
    assert old.status_code == 302 and old.headers["Location"].endswith(vurl(draft, "/details"))
    page = text(seller_client.get(vurl(draft, "/details")))
    assert 'value="Traffic detectors"' in page
    response = seller_client.post(vurl(draft, "/edit"), data=METADATA)
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft, "/sources"))
    version = draft.latest_version
    assert version.title_en == "Hong Kong traffic detectors"
    assert version.update_frequency == "monthly" and version.category == "transport"


def test_xss_in_description_is_sanitised(seller_client, draft):
    evil = "Hello <script>alert('x')</script> <img src=x onerror=alert(1)> [link](javascript:alert(1))"
    seller_client.post(vurl(draft, "/details"), data={**METADATA, "description_en": evil})
    page = text(seller_client.get(vurl(draft)))
    assert "<script>alert" not in page
    assert "onerror" not in page.split('id="overview"')[1].split("</section>")[0]
    assert "javascript:" not in page


# ---------------------------------------------------------------- sources


def test_add_source(seller_client, draft):
    response = seller_client.post(vurl(draft, "/sources"), data=SOURCE_FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith(vurl(draft, "/sources"))
    [source] = draft.latest_version.sources
    assert source.licence_id == "LicenseRef-DATA.GOV.HK-Terms"
    page = text(seller_client.get(vurl(draft, "/sources")))
    assert "DATA.GOV.HK Terms and Conditions of Use" in page


def test_datagovhk_lookup_prefills_the_source_form_without_saving(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/sources/lookup"), data={"lookup-q": "hk-wsd-wsd5-water-consumption"})
    assert response.status_code == 200
    page = text(response)
    assert 'value="Data on Water Consumption"' in page
    assert 'value="https://data.gov.hk/en-data/dataset/hk-wsd-wsd5-water-consumption"' in page
    assert 'value="Water Supplies Department"' in page
    assert re.search(r'<option selected value="LicenseRef-DATA.GOV.HK-Terms">', page)
    assert session.scalar(select(func.count(OpenDataSource.id))) == 0


def test_datagovhk_lookup_accepts_a_dataset_url(seller_client, draft):
    url = "https://data.gov.hk/en-data/dataset/hk-wsd-wsd5-water-consumption"
    response = seller_client.post(vurl(draft, "/sources/lookup"), data={"lookup-q": url})
    assert 'value="Data on Water Consumption"' in text(response)


def test_datagovhk_lookup_of_unknown_dataset_is_a_form_error(seller_client, draft):
    response = seller_client.post(vurl(draft, "/sources/lookup"), data={"lookup-q": "no-such-dataset-anywhere"})
    assert response.status_code == 422
    page = text(response)
    assert "No dataset with this URL or name" in page and 'value="no-such-dataset-anywhere"' in page


def test_unknown_licence_is_rejected(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/sources"), data={**SOURCE_FORM, "source-licence_id": "Made-Up-1.0"})
    assert response.status_code == 422
    page = text(response)
    assert "Choose a licence from the SPDX list" in page
    assert 'value="Traffic Data of Strategic / Major Roads"' in page
    assert session.scalar(select(func.count(OpenDataSource.id))) == 0


def test_remove_source(seller_client, session, seller, draft):
    source = factories.listings.add_source(session, seller, draft.latest_version, factories.SOURCE)
    session.commit()
    response = seller_client.post(vurl(draft, f"/sources/{source.id}/delete"))
    assert response.status_code == 302
    assert draft.latest_version.sources == []


# ---------------------------------------------------------------- data dictionary


def _dictionary_form(rows):
    data = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"dict-rows-{i}-{key}"] = value
    return data


def test_save_dictionary_ignores_blank_rows(seller_client, draft):
    data = _dictionary_form([
        {"name": "AID_ID_Number", "type": "string", "description": "Detector id", "unit": ""},
        {"name": "", "type": "string", "unit": "", "description": ""},
        {"name": "Latitude", "type": "number", "unit": "degree", "nullable": "y", "personal_info": ""},
    ])
    response = seller_client.post(vurl(draft, "/dictionary"), data=data)
    assert response.status_code == 302
    fields = draft.latest_version.fields
    assert [(f.name, f.type, f.unit, f.nullable) for f in fields] == [
        ("AID_ID_Number", "string", "", False), ("Latitude", "number", "degree", True)]
    page = text(seller_client.get(vurl(draft, "/dictionary")))
    assert page.count('name="dict-rows-') >= 5 * 6  # two saved rows + three blank rows


def test_duplicate_dictionary_names_are_refused_on_the_row(seller_client, draft):
    data = _dictionary_form([
        {"name": "speed", "type": "number", "description": "first"},
        {"name": "", "type": "string"},
        {"name": "Speed", "type": "integer", "description": "second"},
    ])
    response = seller_client.post(vurl(draft, "/dictionary"), data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Duplicate field name &#39;Speed&#39;" in page or "Duplicate field name 'Speed'" in page
    # the error sits on the third row of the form (index 2), and the input is kept
    row = page.split('name="dict-rows-2-name"')[1].split("</td>")[0]
    assert "Duplicate field name" in row
    assert 'value="second"' in page
    assert draft.latest_version.fields == []


def _upload(client, product, path=TRAFFIC_CSV, kind="sample", content=None, filename=None):
    content = path.read_bytes() if content is None else content
    return client.post(vurl(product, "/assets"), content_type="multipart/form-data", data={
        "upload-kind": kind, "upload-file": (io.BytesIO(content), filename or path.name, "text/csv"),
    })


def test_infer_from_an_uploaded_csv_proposes_its_columns(seller_client, session, draft):
    assert _upload(seller_client, draft).status_code == 302
    [asset] = draft.latest_version.assets
    response = seller_client.post(vurl(draft, f"/assets/{asset.id}/infer"), follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    for column in ("AID_ID_Number", "District", "Road_TC", "Latitude", "Longitude", "Rotation"):
        assert f'value="{column}"' in page
    assert re.search(r'name="dict-rows-7-type"[^>]*>.*?<option selected value="number">', page, re.S)
    assert "scanned" in page and "Nothing is saved" in page
    session.expire_all()
    assert draft.latest_version.fields == []  # proposed, not saved


def test_infer_from_an_unsupported_file_says_why(seller_client, draft):
    _upload(seller_client, draft, content=b"%PDF-1.4 not data", filename="report.csv")
    [asset] = draft.latest_version.assets
    response = seller_client.post(vurl(draft, f"/assets/{asset.id}/infer"), follow_redirects=True)
    assert response.status_code == 422
    dictionary = text(response).split('id="dictionary"')[1].split("</section>")[0]
    assert "Could not infer a dictionary" in dictionary and "PDF document" in dictionary


# ---------------------------------------------------------------- files


def test_upload_records_size_type_and_sha256(seller_client, storage, draft):
    content = TRAFFIC_CSV.read_bytes()
    response = _upload(seller_client, draft, kind="deliverable")
    assert response.status_code == 302
    [asset] = draft.latest_version.assets
    assert asset.sha256 == hashlib.sha256(content).hexdigest()
    assert asset.size == len(content) and asset.kind == "deliverable"
    assert asset.filename == TRAFFIC_CSV.name and asset.content_type == "text/csv"
    assert storage.exists(asset.storage_key)
    page = text(seller_client.get(vurl(draft, "/files")))
    assert "164.6 KiB" in page and asset.sha256[:12] in page


def test_upload_never_uses_the_client_filename_as_a_path(seller_client, storage, draft):
    _upload(seller_client, draft, content=b"a,b\n1,2\n", filename="../../etc/passwd.csv")
    [asset] = draft.latest_version.assets
    assert asset.filename == "passwd.csv"
    assert ".." not in asset.storage_key and asset.storage_key.startswith(f"assets/{draft.id}/")


def test_upload_over_the_limit_is_413_and_leaves_nothing(app, seller_client, session, storage, draft):
    limit = app.config["MAX_UPLOAD_BYTES"]
    assert limit + 1000 < app.config["MAX_CONTENT_LENGTH"]
    response = _upload(seller_client, draft, content=b"x" * (limit + 1000), filename="big.csv")
    assert response.status_code == 413
    assert "upload limit is 1.0 MiB" in text(response)
    assert stored_files(storage) == []
    assert session.scalar(select(func.count(Asset.id))) == 0


def test_request_over_max_content_length_is_413_and_leaves_nothing(app, seller_client, session, storage, draft):
    response = _upload(seller_client, draft, content=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    assert response.status_code == 413
    assert stored_files(storage) == []
    assert session.scalar(select(func.count(Asset.id))) == 0


def test_upload_without_a_file_is_a_field_error(seller_client, draft):
    response = seller_client.post(vurl(draft, "/assets"), data={"upload-kind": "sample"})
    assert response.status_code == 422
    assert "Choose a file to upload." in text(response)


def test_seller_download_returns_the_bytes_as_attachment_and_is_audited(seller_client, session, seller, draft):
    _upload(seller_client, draft)
    [asset] = draft.latest_version.assets
    response = seller_client.get(f"/seller/products/{draft.id}/assets/{asset.id}")
    assert response.status_code == 200
    assert response.data == TRAFFIC_CSV.read_bytes()
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert TRAFFIC_CSV.name in response.headers["Content-Disposition"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "asset.downloaded"))
    assert event.subject_id == asset.id and event.actor_id == seller.id and event.payload["as"] == "seller"


def test_seller_download_redirects_to_a_presigned_url_when_the_backend_has_one(seller_client, storage,
                                                                             monkeypatch, draft):
    _upload(seller_client, draft)
    [asset] = draft.latest_version.assets
    calls = []

    def presigned_url(key, *, expires_in, filename=None):
        calls.append((key, expires_in, filename))
        return "https://objects.example/signed"

    monkeypatch.setattr(storage, "presigned_url", presigned_url)
    response = seller_client.get(f"/seller/products/{draft.id}/assets/{asset.id}")
    assert response.status_code == 302 and response.headers["Location"] == "https://objects.example/signed"
    assert calls == [(asset.storage_key, 300, TRAFFIC_CSV.name)]


def test_download_of_an_asset_of_another_product_is_404(seller_client, session, seller, draft):
    _upload(seller_client, draft)
    [asset] = draft.latest_version.assets
    mine = factories.product(session, seller, title="Another of mine")
    session.commit()
    assert seller_client.get(f"/seller/products/{mine.id}/assets/{asset.id}").status_code == 404


def test_delete_asset_removes_the_stored_file(seller_client, storage, draft):
    _upload(seller_client, draft)
    [asset] = draft.latest_version.assets
    key = asset.storage_key
    assert seller_client.post(vurl(draft, f"/assets/{asset.id}/delete")).status_code == 302
    assert draft.latest_version.assets == [] and not storage.exists(key)


# ---------------------------------------------------------------- pricing plans


def test_plan_amount_is_stored_in_minor_units(seller_client, draft):
    response = seller_client.post(vurl(draft, "/plans"), data=PLAN_FORM)
    assert response.status_code == 302
    [plan] = draft.latest_version.plans
    assert plan.amount == 120000 and isinstance(plan.amount, int)
    assert plan.permitted_uses == ["research", "internal_analysis"] and plan.duration_days == 365
    page = text(seller_client.get(vurl(draft, "/plans")))
    assert "HK$1,200.00, paid once" in page and "Licence lasts 365 days." in page


def test_plan_amount_with_more_than_two_decimals_is_rejected(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/plans"), data={**PLAN_FORM, "plan-amount": "12.345"})
    assert response.status_code == 422
    page = text(response)
    assert "At most two decimal places" in page and 'value="12.345"' in page
    assert session.scalar(select(func.count(PricingPlan.id))) == 0


def test_free_plan_with_a_price_is_rejected(seller_client, session, draft):
    response = seller_client.post(vurl(draft, "/plans"), data={**PLAN_FORM, "plan-kind": "free", "plan-amount": "5"})
    assert response.status_code == 422
    assert "A free plan costs nothing" in text(response)
    assert session.scalar(select(func.count(PricingPlan.id))) == 0


def test_edit_plan_shows_decimal_price_and_saves(seller_client, session, seller, draft):
    plan = factories.listings.add_plan(session, seller, draft.latest_version, factories.PLAN)
    session.commit()
    url = vurl(draft, f"/plans/{plan.id}/edit")
    assert 'value="1200.00"' in text(seller_client.get(url))
    form = {k.removeprefix("plan-"): v for k, v in PLAN_FORM.items()}
    response = seller_client.post(url, data={**form, "kind": "subscription", "billing_period": "month",
                                             "amount": "99.5"})
    assert response.status_code == 302
    assert (plan.kind, plan.billing_period, plan.amount) == ("subscription", "month", 9950)


def test_remove_plan(seller_client, session, seller, draft):
    plan = factories.listings.add_plan(session, seller, draft.latest_version, factories.PLAN)
    session.commit()
    assert seller_client.post(vurl(draft, f"/plans/{plan.id}/delete")).status_code == 302
    assert draft.latest_version.plans == []


# ---------------------------------------------------------------- compliance and submission


COMPLIANCE_FORM = {
    "compliance-personal_info": "none", "compliance-classification": "general",
    "compliance-source_legality": "Public DATA.GOV.HK data.", "compliance-cross_border_transfer": "no",
    "compliance-legal_basis": "Open data terms of use",
}


def test_compliance_attestation_records_name_and_time(seller_client, seller, draft):
    response = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-attest": "y", "compliance-attested_by_name": "Ada Seller"})
    assert response.status_code == 302
    version = draft.latest_version
    assert version.cross_border_transfer is False and version.personal_info == "none"
    assert version.attested_by_name == "Ada Seller" and version.attested_by_id == seller.id
    assert version.attested_at is not None
    assert response.headers["Location"].endswith(vurl(draft))  # on to review and submit
    assert "Attested by <strong>Ada Seller</strong>" in text(seller_client.get(vurl(draft, "/compliance")))


def test_a_count_of_individuals_without_personal_information_is_not_kept(seller_client, draft):
    response = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-individuals": "5000", "compliance-collected_in": "hong_kong"})
    assert response.status_code == 302
    version = draft.latest_version
    assert version.personal_info == "none" and version.individuals is None and version.collected_in == "hong_kong"


def test_attesting_without_a_name_is_refused(seller_client, draft):
    response = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-attest": "y", "compliance-attested_by_name": ""})
    assert response.status_code == 422
    assert "Name the person who attests." in text(response)
    assert draft.latest_version.attested_at is None


def test_submitting_an_incomplete_version_shows_what_is_missing(seller_client, draft):
    response = seller_client.post(vurl(draft, "/submit"))
    assert response.status_code == 422
    page = text(response)
    assert "not ready for review" in page
    assert "Cite at least one upstream open data source." in page
    assert "Upload at least one sample file." in page
    assert draft.latest_version.status == VersionStatus.DRAFT


EDIT_ENDPOINTS = [
    ("/edit", METADATA), ("/sources", SOURCE_FORM), ("/sources/lookup", {"lookup-q": "hk-wsd-wsd5-water-consumption"}),
    ("/dictionary", _dictionary_form([{"name": "x", "type": "string"}])), ("/plans", PLAN_FORM),
    ("/compliance", COMPLIANCE_FORM), ("/submit", {}), ("/assets", {"upload-kind": "sample"}),
]


def test_submitting_a_complete_version_makes_it_read_only(seller_client, complete):
    response = seller_client.post(vurl(complete, "/submit"))
    assert response.status_code == 302
    assert complete.latest_version.status == VersionStatus.SUBMITTED
    for step in ("", "/details", "/sources", "/files", "/dictionary", "/plans", "/compliance"):
        page = text(seller_client.get(vurl(complete, step)))
        assert "read-only" in page
        assert 'name="source-title"' not in page and 'name="dict-rows-0-name"' not in page
        assert 'name="plan-name"' not in page and 'name="compliance-attest"' not in page
        assert 'name="title_en"' not in page and 'name="upload-file"' not in page
        assert "/edit" not in page


@pytest.mark.parametrize(("suffix", "data"), EDIT_ENDPOINTS)
def test_edits_of_a_submitted_version_are_refused_with_409(seller_client, session, storage, seller, complete, suffix,
                                                          data):
    factories.submit(session, seller, complete.latest_version, storage)
    session.commit()
    response = seller_client.post(vurl(complete, suffix), data=data)
    assert response.status_code == 409
    assert "can no longer be changed" in text(response) or "Cannot submit" in text(response)


@pytest.mark.parametrize("suffix", ["/sources/{source}/delete", "/assets/{asset}/delete", "/plans/{plan}/delete",
                                    "/assets/{asset}/infer", "/plans/{plan}/edit"])
def test_removals_from_a_submitted_version_are_refused_with_409(seller_client, session, storage, seller, complete,
                                                              suffix):
    version = complete.latest_version
    factories.submit(session, seller, version, storage)
    session.commit()
    ids = {"source": version.sources[0].id, "asset": version.assets[0].id, "plan": version.plans[0].id}
    response = seller_client.post(vurl(complete, suffix.format(**ids)), data=PLAN_FORM)
    assert response.status_code == 409
    assert len(version.sources) == 1 and len(version.assets) == 2 and len(version.plans) == 1


def test_new_version_of_a_rejected_product(seller_client, session, seller, complete):
    version = complete.latest_version
    version.status = VersionStatus.REJECTED  # arranged: the review flow is not what this test is about
    session.commit()
    page = text(seller_client.get(f"/seller/products/{complete.id}", follow_redirects=True))
    assert "Start new version" in page
    refused = seller_client.post(f"/seller/products/{complete.id}/versions",
                                 data={"newversion-label": "1.0", "newversion-changelog": ""})
    assert refused.status_code == 422
    assert "already exists" in text(refused) and "Say what changed" in text(refused)
    response = seller_client.post(f"/seller/products/{complete.id}/versions",
                                  data={"newversion-label": "1.1", "newversion-changelog": "Fixed coordinates."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/seller/products/{complete.id}/versions/2")
    new = complete.latest_version
    assert (new.number, new.label, new.status) == (2, "1.1", VersionStatus.DRAFT)
    assert len(new.sources) == 1 and len(new.assets) == 2
    opened = seller_client.get(f"/seller/products/{complete.id}")
    assert opened.headers["Location"].endswith(f"/seller/products/{complete.id}/versions/2")  # the latest version
    workspace = text(seller_client.get(vurl(complete, "/sources", number=2)))
    assert "v1.1" in workspace and 'name="source-title"' in workspace  # editable
    old = text(seller_client.get(f"/seller/products/{complete.id}/versions/1/sources"))
    assert "read-only" in old and 'name="source-title"' not in old


def test_new_version_while_a_draft_is_open_is_409(seller_client, draft):
    response = seller_client.post(f"/seller/products/{draft.id}/versions",
                                  data={"newversion-label": "1.1", "newversion-changelog": "More."})
    assert response.status_code == 409
    assert "still draft" in text(response)
