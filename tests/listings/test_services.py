"""Listing rules in the services: the version lifecycle table, new versions, attestation, shared files."""
from __future__ import annotations

import io

import pytest

from marketplace.errors import InvalidTransition, ValidationFailed
from marketplace.listings import services
from marketplace.listings.assets import delete_asset, upload_asset
from marketplace.listings.states import VersionStatus
from marketplace.review import services as review
from tests import factories


@pytest.mark.parametrize("state,allowed", [
    (VersionStatus.DRAFT, True), (VersionStatus.CHANGES_REQUESTED, True), (VersionStatus.SUBMITTED, False),
    (VersionStatus.IN_REVIEW, False), (VersionStatus.APPROVED, False), (VersionStatus.REJECTED, False),
    (VersionStatus.LISTED, False), (VersionStatus.SUPERSEDED, False),
])
def test_submit_from_each_state(session, storage, seller, state, allowed):
    version = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    version.status = state  # arranging the precondition; the services never do this
    if allowed:
        review.submit_version(session, seller, version, storage)
        assert version.status == VersionStatus.SUBMITTED and version.submitted_by_id == seller.id
    else:
        with pytest.raises(InvalidTransition):
            review.submit_version(session, seller, version, storage)
        assert version.status == state


def test_new_version_copies_content_and_shares_files(session, storage, seller):
    product = factories.product(session, seller)
    first = factories.complete_version(session, storage, seller, product.latest_version)
    first.status = VersionStatus.LISTED
    second = services.new_version(session, seller, product, "1.1", "Adds 2024 data.")
    assert second.number == 2 and second.status == VersionStatus.DRAFT
    assert [s.url for s in second.sources] == [s.url for s in first.sources]
    assert [f.name for f in second.fields] == [f.name for f in first.fields]
    assert [a.storage_key for a in second.assets] == [a.storage_key for a in first.assets]
    assert second.plans[0].terms == first.plans[0].terms
    # removing a file from the draft keeps the object the listed version still uses
    key = second.assets[0].storage_key
    delete_asset(session, storage, seller, second, second.assets[0].id)
    assert storage.exists(key)


def test_new_version_refuses_duplicate_label_and_empty_changelog(session, storage, seller):
    product = factories.product(session, seller)
    product.latest_version.status = VersionStatus.LISTED
    with pytest.raises(ValidationFailed) as exc:
        services.new_version(session, seller, product, "1.0", " ")
    assert set(exc.value.errors) == {"label", "changelog"}


def test_changing_the_compliance_profile_clears_the_attestation(session, storage, seller):
    version = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    assert version.attested_at is not None
    services.set_compliance(session, seller, version, {"personal_info": "anonymised"}, attest=False,
                            attested_by_name=None)
    assert version.attested_at is None and "attestation" in services.readiness_problems(version)


def test_important_data_needs_a_reason(session, storage, seller):
    version = factories.complete_version(session, storage, seller, factories.product(session, seller).latest_version)
    services.set_compliance(session, seller, version, {"classification": "important"}, attest=True,
                            attested_by_name="Ada")
    assert "classification_reason" in services.readiness_problems(version)


def test_descriptions_from_browsers_are_stored_with_plain_newlines(session, seller):
    product = factories.product(session, seller, description_en="line one\r\nline two")
    assert product.latest_version.description_en == "line one\nline two"


def test_a_deleted_file_that_no_version_uses_leaves_storage(session, storage, seller):
    version = factories.product(session, seller).latest_version
    asset = upload_asset(session, storage, seller, version, kind="sample", filename="a.csv",
                         stream=io.BytesIO(b"a,b\n1,2\n"), content_type="text/csv", max_bytes=1000)
    key = asset.storage_key
    delete_asset(session, storage, seller, version, asset.id)
    assert not storage.exists(key)
