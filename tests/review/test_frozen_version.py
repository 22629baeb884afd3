"""A version buyers licensed keeps its files, dictionary and terms: returned to review by an upheld objection and
sent back for changes, it may change only its words, through the service, the seller's pages and the API."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from marketplace.errors import Conflict
from marketplace.listings import assets, services
from marketplace.listings.states import VersionStatus
from marketplace.review import public_notice as notices
from marketplace.review import services as review
from marketplace.review.notice_models import PublicNotice
from tests import factories
from tests.review.conftest import PASSING

FROZEN = "Buyers hold licences to version"


@pytest.fixture
def returned(session, claimed, reviewer):
    """The claimed case's version listed, an objection to it upheld, and changes requested of the seller."""
    review.approve_version(session, reviewer, claimed, answers=PASSING)
    session.commit()
    notice = session.scalar(select(PublicNotice).where(PublicNotice.version_id == claimed.version.id))
    objector = factories.user(session, email="objector@example.org", organization="Pearl River Data")
    session.commit()
    objection = notices.object_to(session, objector, notice, objector.memberships[0].organization, "Personal data.")
    session.commit()
    notices.decide_objection(session, reviewer, objection, "uphold", "Personal data confirmed in the sample.")
    session.commit()
    review.claim_case(session, reviewer, claimed)
    review.request_changes(session, reviewer, claimed, "Explain the columns better.")
    session.commit()
    assert claimed.version.status == VersionStatus.CHANGES_REQUESTED
    return claimed.version


def _deliverable(version):
    return next(a for a in version.assets if a.kind.value == "deliverable")


def test_the_service_refuses_to_change_the_files_dictionary_and_terms_of_a_listed_version(session, storage, seller,
                                                                                        returned):
    kept = [(a.filename, a.sha256) for a in returned.assets]
    with pytest.raises(Conflict, match=f"{FROZEN} {returned.label}"):
        assets.delete_asset(session, storage, seller, returned, _deliverable(returned).id)
    with pytest.raises(Conflict, match=FROZEN):
        assets.upload_asset(session, storage, seller, returned, kind="deliverable", filename="d.csv",
                            stream=io.BytesIO(b"a,b\n1,2\n"), content_type="text/csv", max_bytes=10_000)
    with pytest.raises(Conflict, match=FROZEN):
        services.replace_dictionary(session, seller, returned, [{"name": "other", "type": "string"}])
    with pytest.raises(Conflict, match=FROZEN):
        services.update_metadata(session, seller, returned, {"title_en": "Another title"})
    session.rollback()
    assert [(a.filename, a.sha256) for a in returned.assets] == kept
    # Its words may still change.
    services.update_metadata(session, seller, returned, {"description_en": "Columns explained.",
                                                         "title_en": returned.title_en})
    session.commit()
    assert returned.description_en == "Columns explained."


def test_a_never_listed_version_sent_back_keeps_its_files_editable(session, storage, seller, claimed, reviewer):
    review.request_changes(session, reviewer, claimed, "Add a sample.")
    session.commit()
    version = claimed.version
    assets.delete_asset(session, storage, seller, version, _deliverable(version).id)
    session.commit()
    assert all(a.kind.value != "deliverable" for a in version.assets)


def test_the_pages_refuse_to_replace_a_licensed_deliverable(session, client, auth, seller, returned):
    auth.login(seller.email)
    base = f"/seller/products/{returned.product_id}/versions/{returned.number}"
    files = client.get(f"{base}/files")  # the step offers no upload and no delete
    assert files.status_code == 200
    files = files.get_data(as_text=True)
    assert FROZEN in files and f'action="{base}/assets"' not in files and "/delete" not in files
    dictionary = client.get(f"{base}/dictionary").get_data(as_text=True)
    assert FROZEN in dictionary and f'action="{base}/dictionary"' not in dictionary
    deleted = client.post(f"{base}/assets/{_deliverable(returned).id}/delete")
    assert deleted.status_code == 409 and FROZEN in deleted.get_data(as_text=True)
    uploaded = client.post(f"{base}/assets", content_type="multipart/form-data", data={
        "upload-kind": "deliverable", "upload-file": (io.BytesIO(b"a,b\n1,2\n"), "d.csv", "text/csv")})
    assert uploaded.status_code == 409 and FROZEN in uploaded.get_data(as_text=True)
    session.expire_all()
    assert "d.csv" not in [a.filename for a in returned.assets] and _deliverable(returned)


def test_the_api_refuses_to_replace_a_licensed_deliverable(session, api, returned):
    base = f"/api/v1/products/{returned.product_id}/versions/{returned.number}"
    deleted = api.delete(f"{base}/assets/{_deliverable(returned).id}")
    assert deleted.status_code == 409 and FROZEN in deleted.get_json()["message"]
    uploaded = api.post(f"{base}/assets", query_string={"kind": "deliverable", "filename": "d.csv"},
                        data=b"a,b\n1,2\n", content_type="text/csv")
    assert uploaded.status_code == 409 and FROZEN in uploaded.get_json()["message"]
    session.expire_all()
    assert "d.csv" not in [a.filename for a in returned.assets] and _deliverable(returned)


def test_the_details_page_changes_only_the_words_of_a_licensed_version(session, client, auth, seller, returned):
    auth.login(seller.email)
    base = f"/seller/products/{returned.product_id}/versions/{returned.number}"
    saved = {"title_en": returned.title_en, "title_zh": returned.title_zh, "description_zh": returned.description_zh,
             "category": returned.category, "tags": ", ".join(returned.tags), "regions": returned.regions,
             "temporal_start": "", "temporal_end": "", "spatial_coverage": returned.spatial_coverage,
             "update_frequency": returned.update_frequency.value, "delivery_methods": returned.delivery_methods,
             "formats": returned.formats}
    assert client.post(f"{base}/details", data={**saved, "description_en": "Columns explained."}).status_code == 302
    retitled = client.post(f"{base}/details", data={**saved, "title_en": "Another title"})
    assert retitled.status_code == 409 and FROZEN in retitled.get_data(as_text=True)
    session.expire_all()
    assert returned.description_en == "Columns explained." and returned.title_en != "Another title"
