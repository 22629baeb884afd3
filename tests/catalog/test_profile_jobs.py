"""The profile job: queued by an upload and run after its commit (at once in tests), stored, run once per file;
a new upload gets its own profile, a deleted file takes its profile with it, a new version's copied files reuse
theirs, and files from before profiles existed are profiled by ``flask profiles compute``."""
from __future__ import annotations

import io
import re

from marketplace.catalog import profile_store
from marketplace.catalog.profile_store import AssetProfile, profile_asset
from marketplace.listings import assets as asset_services
from marketplace.listings import services as listings
from tests import factories
from tests.catalog.test_product_page import approve, text
from tests.catalog.test_product_profiles import CountingStorage

CSV = b"station,latitude,longitude,temp\nA,22.3,114.17,28.5\nB,22.28,114.15,29.1\n"


def upload(session, storage, seller, version, data=CSV, filename="stations.csv"):
    return asset_services.upload_asset(session, storage, seller, version, kind="sample", filename=filename,
                                       stream=io.BytesIO(data), content_type=None, max_bytes=1_000_000)


def test_an_upload_queues_its_profile_which_runs_after_the_commit(session, storage, seller):
    version = factories.product(session, seller, title="Stations").latest_version
    asset = upload(session, storage, seller, version)

    assert session.get(AssetProfile, asset.id) is None  # nothing before the upload is committed
    session.commit()

    stored = session.get(AssetProfile, asset.id)
    assert stored.state == "done" and stored.preview["kind"] == "table"
    assert [c["name"] for c in stored.profile["columns"]] == ["station", "latitude", "longitude", "temp"]
    assert stored.profile["map"]["features"][0]["geometry"]["type"] == "MultiPoint"


def test_an_upload_rolled_back_queues_nothing(session, storage, seller, monkeypatch):
    version = factories.product(session, seller, title="Stations").latest_version
    session.commit()
    ran = []
    monkeypatch.setattr(profile_store, "profile_asset", lambda *args: ran.append(args))
    upload(session, storage, seller, version)
    session.rollback()
    assert ran == []


def test_the_job_runs_once_per_asset(session, storage, seller):
    version = factories.product(session, seller, title="Stations").latest_version
    asset = upload(session, storage, seller, version)
    session.commit()
    counting = CountingStorage(storage)

    assert profile_asset(session, counting, asset.id) == "kept"
    assert counting.opened == []


def test_a_deleted_asset_is_gone_for_its_job(session, storage, seller):
    assert profile_asset(session, storage, 999_999) == "gone"


def test_a_new_upload_replaces_the_profile_shown(client, session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Stations")
    version = listings.new_version(session, seller, product, "2.0", "New stations.")
    for old in [a for a in version.assets if a.kind.value == "sample"]:
        asset_services.delete_asset(session, storage, seller, version, old.id)
        assert session.get(AssetProfile, old.id) is None  # the profile goes with its asset
    upload(session, storage, seller, version, b"station,temp\nNew,30.5\nOther,31\n", "new.csv")
    approve(session, storage, seller, reviewer, version)
    session.commit()

    page = text(client.get(f"/products/{product.slug}"))

    assert "new.csv" in page and "Profiled on all 2 rows." in page and "30.5" in page


def test_a_new_versions_copied_files_share_their_objects_profiles_and_the_page_shows_them(
        client, session, storage, seller, reviewer):
    product = factories.listed_product(session, storage, seller, reviewer, title="Stations")
    session.commit()
    shown = re.findall(r"Profiled on [^<.]*\.", text(client.get(f"/products/{product.slug}")))
    version = listings.new_version(session, seller, product, "2.0", "Same files.")
    session.commit()
    counting = CountingStorage(storage)

    assert all(session.get(AssetProfile, a.id) is None for a in version.assets)  # nothing was computed or copied
    assert all(profile_store.profile_for(session, a).asset_id not in {c.id for c in version.assets}
               for a in version.assets)  # each copy reads its object's stored profile
    assert not set(profile_store._missing_ids(session)) & {a.id for a in version.assets}
    assert profile_store.compute_missing(session, counting) == {} and counting.opened == []
    approve(session, storage, seller, reviewer, version)
    session.commit()
    page = text(client.get(f"/products/{product.slug}"))
    assert shown and re.findall(r"Profiled on [^<.]*\.", page) == shown and "v2.0" in page


def profiled_then_lost(session, storage, seller):
    """A sample whose profile is gone and whose file was then deleted from storage."""
    version = factories.product(session, seller, title="Stations").latest_version
    asset = upload(session, storage, seller, version)
    session.commit()  # its own job profiles it
    session.query(AssetProfile).delete()
    session.commit()
    storage.delete(asset.storage_key)
    return asset


def test_a_missing_file_is_recorded_as_missing(session, storage, seller):
    asset = profiled_then_lost(session, storage, seller)

    assert profile_asset(session, storage, asset.id) == "missing"
    stored = session.get(AssetProfile, asset.id)
    assert stored.preview["kind"] == "none"
    assert stored.shown_preview("en").error == "The sample file is missing from storage."
    assert "missing" not in stored.shown_preview("zh-Hant-HK").error


def test_the_command_profiles_files_from_before_profiles(app, session, storage, seller):
    version = factories.product(session, seller, title="Stations").latest_version
    asset = upload(session, storage, seller, version)
    session.commit()
    session.query(AssetProfile).delete()
    session.commit()

    result = app.test_cli_runner().invoke(args=["profiles", "compute"])

    assert result.exit_code == 0, result.output
    assert "1 done" in result.output
    assert session.get(AssetProfile, asset.id).state == "done"


def test_the_command_commits_each_file_so_one_failure_keeps_the_others(app, session, storage, seller, monkeypatch):
    version = factories.product(session, seller, title="Stations").latest_version
    first = upload(session, storage, seller, version)
    second = upload(session, storage, seller, version, b"a,b\n1,2\n", "other.csv")
    session.commit()
    session.query(AssetProfile).delete()
    session.commit()
    real = profile_store.compute

    def compute(storage_, asset):
        if asset.id == first.id:
            raise OSError("storage outage")
        return real(storage_, asset)

    monkeypatch.setattr(profile_store, "compute", compute)

    result = app.test_cli_runner().invoke(args=["profiles", "compute"])

    assert result.exit_code == 1 and "1 done" in result.output and "1 failed" in result.output
    session.expire_all()
    assert session.get(AssetProfile, second.id).state == "done" and session.get(AssetProfile, first.id) is None


def test_a_profile_stored_meanwhile_by_another_worker_wins_without_an_error(session, storage, seller, monkeypatch):
    version = factories.product(session, seller, title="Stations").latest_version
    asset = upload(session, storage, seller, version)
    session.commit()
    session.query(AssetProfile).delete()
    session.commit()
    real = profile_store.compute

    def compute_while_another_stores(storage_, asset_):
        values = real(storage_, asset_)
        session.add(AssetProfile(asset_id=asset_.id, **values))  # the other worker's insert lands first
        session.flush()
        return values

    monkeypatch.setattr(profile_store, "compute", compute_while_another_stores)

    assert profile_asset(session, storage, asset.id) == "kept"
    assert session.query(AssetProfile).filter_by(asset_id=asset.id).count() == 1


def test_a_reason_for_no_preview_is_stored_as_its_msgid_and_shown_in_each_language(session, storage, seller):
    version = factories.product(session, seller, title="Broken").latest_version
    asset = upload(session, storage, seller, version, b'{"a": [1, 2', "broken.json")
    session.commit()

    stored = session.get(AssetProfile, asset.id)

    assert stored.preview["reason"]["msgid"] == "The file is not valid JSON: %(problem)s."
    assert "errors" not in stored.preview and "problem" in stored.preview["reason"]["params"]
    assert stored.shown_preview("en").error.startswith("The file is not valid JSON: ")
    chinese = stored.shown_preview("zh-Hans").error
    assert "JSON" in chinese and "not valid" not in chinese


def test_a_missing_files_reason_is_a_msgid_too(session, storage, seller):
    asset = profiled_then_lost(session, storage, seller)

    profile_asset(session, storage, asset.id)

    assert session.get(AssetProfile, asset.id).preview["reason"] == {
        "msgid": "The sample file is missing from storage.", "params": {}}


def test_a_file_uploaded_again_copies_the_stored_profile_of_the_same_bytes_name_and_type(session, storage, seller):
    first = upload(session, storage, seller, factories.product(session, seller, title="Stations").latest_version)
    session.commit()
    other = factories.product(session, seller, title="Stations again").latest_version
    again = upload(session, storage, seller, other)
    renamed = upload(session, storage, seller, other, filename="renamed.csv")
    session.commit()  # the jobs ran: the same file copied the profile, the renamed one was read
    session.query(AssetProfile).filter(AssetProfile.asset_id.in_([again.id, renamed.id])).delete()
    session.commit()
    counting = CountingStorage(storage)

    assert again.storage_key != first.storage_key
    assert profile_asset(session, counting, again.id) == "copied" and counting.opened == []
    assert profile_asset(session, counting, renamed.id) == "done" and len(counting.opened) == 1
    assert session.get(AssetProfile, again.id).profile == session.get(AssetProfile, first.id).profile
