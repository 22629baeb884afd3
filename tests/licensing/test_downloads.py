"""The gated download at /products/<slug>/assets/<id> (the URL the DCAT and CKAN exports give): public samples,
deliverables only for an organization holding an active licence that covers the file's version, an audit event
for each, a stream from local storage or a redirect to a short-lived presigned URL on S3."""
from __future__ import annotations

import io
import urllib.request
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.licensing import services as licences
from marketplace.listings.assets import upload_asset
from marketplace.listings.vocab import AssetKind
from marketplace.orders import services as orders
from marketplace.payments import SimulatedPayments
from tests import factories
from tests.licensing.conftest import SCENARIO


def buy(session, user, org, plan):
    """A fulfilled order for ``plan``, paid with a good test card when it costs money."""
    order = orders.request_licence(session, user, orders.LicenceRequest(
        plan_id=plan.id, organization_id=org.id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))
    if order.amount:
        orders.start_checkout(session, user, order, SimulatedPayments(), success_url="/", cancel_url="/")
        orders.pay_with_test_card(session, user, order, "4242424242424242")
    session.commit()
    return order


def list_new_version(session, storage, seller, reviewer, product, *, new_file: tuple[str, bytes] | None = None):
    """A version 2.0 of ``product`` taken through the real review path to listed, with an extra deliverable."""
    from marketplace.listings import services as listings
    from marketplace.review import services as review

    newer = listings.new_version(session, seller, product, "2.0", "Adds the 2025 detector survey.")
    if new_file:
        upload_asset(session, storage, seller, newer, kind="deliverable", filename=new_file[0],
                     stream=io.BytesIO(new_file[1]), content_type="text/csv", max_bytes=10_000)
    listings.set_compliance(session, seller, newer, factories.COMPLIANCE, attest=True, attested_by_name="Ada Seller")
    round_ = factories.submit(session, seller, newer, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=factories.ALL_PASS)
    session.commit()
    session.expire_all()
    assert product.listed_version_id == newer.id
    return newer


def asset_of(version, kind=AssetKind.DELIVERABLE):
    return next(a for a in version.assets if a.kind == kind)


def url(product, asset) -> str:
    return f"/products/{product.slug}/assets/{asset.id}"


def downloads(session, asset) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "asset.download",
                                                         AuditEvent.subject_id == asset.id)))


@pytest.fixture
def deliverable(offer):
    return asset_of(offer[0].listed_version)


@pytest.fixture
def buyer_client(client, auth, buyer):
    auth.login(buyer.email)
    return client


def refused(response, words: str) -> None:
    assert response.status_code == 403, response.status_code
    assert words in response.get_data(as_text=True)


# ---------------------------------------------------------------- allowed


def test_an_active_licence_downloads_the_file_and_leaves_an_audit_event(session, storage, buyer, buyer_org,
                                                                        buyer_client, offer, plans, deliverable):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    response = buyer_client.get(url(offer[0], deliverable))
    assert response.status_code == 200
    with storage.open(deliverable.storage_key) as stored:
        assert response.data == stored.read()
    assert response.headers["Content-Disposition"] == "attachment; filename=detectors.csv"
    assert response.mimetype == "text/csv" and "no-store" in response.headers["Cache-Control"]
    [event] = downloads(session, deliverable)
    assert event.actor_id == buyer.id and event.payload["licence"] == order.licence.serial
    assert event.payload["sha256"] == deliverable.sha256


def test_a_head_request_asks_without_downloading(session, buyer, buyer_org, buyer_client, offer, plans,
                                                deliverable):
    """A HEAD goes through the same checks but is no download: no audit event (a link checker or a harvester's
    HEAD must not inflate a licence's download record)."""
    assert buyer_client.head(url(offer[0], deliverable)).status_code == 403
    buy(session, buyer, buyer_org, plans["Exclusive"])
    assert buyer_client.head(url(offer[0], deliverable)).status_code == 200
    by_uuid = f"/products/{offer[0].slug}/files/{deliverable.uuid.upper()}"
    assert buyer_client.head(by_uuid).status_code == 200
    assert downloads(session, deliverable) == []
    assert buyer_client.get(by_uuid).status_code == 200  # a UUID in capitals names the same file
    assert len(downloads(session, deliverable)) == 1


def test_every_member_of_the_licensed_organization_may_download(session, client, auth, buyer, buyer_org, plans,
                                                                offer, deliverable):
    from marketplace.accounts.models import Membership

    buy(session, buyer, buyer_org, plans["Open research"])
    colleague = factories.user(session)
    session.add(Membership(user_id=colleague.id, organization_id=buyer_org.id))
    session.commit()
    auth.login(colleague.email)
    assert client.get(url(offer[0], deliverable)).status_code == 200


def test_a_sample_of_the_listed_version_is_public(session, client, offer):
    product = offer[0]
    sample = asset_of(product.listed_version, AssetKind.SAMPLE)
    response = client.get(url(product, sample))
    assert response.status_code == 200 and response.data.startswith(b"AID_ID_Number")


def test_a_newer_listed_version_keeps_the_old_versions_files_for_a_one_time_licence(
        session, storage, seller, reviewer, buyer, buyer_org, buyer_client, offer, plans, deliverable):
    product = offer[0]
    buy(session, buyer, buyer_org, plans["Exclusive"])
    newer = list_new_version(session, storage, seller, reviewer, product,
                             new_file=("detectors-2025.csv", b"AID_ID_Number,Latitude\nAID02202,22.4\n"))

    assert buyer_client.get(url(product, deliverable)).status_code == 200
    new_file = next(a for a in newer.assets if a.filename == "detectors-2025.csv")
    refused(buyer_client.get(url(product, new_file)), "Your licence does not cover this version of the product.")
    listing = buyer_client.get("/licences").get_data(as_text=True)
    assert url(product, deliverable) in listing and url(product, new_file) not in listing


def test_a_subscription_covers_a_version_listed_during_its_period(session, storage, seller, reviewer, buyer,
                                                                  buyer_org, buyer_client, offer, plans):
    product = offer[0]
    buy(session, buyer, buyer_org, plans["Monthly"])
    newer = list_new_version(session, storage, seller, reviewer, product)
    assert buyer_client.get(url(product, asset_of(newer))).status_code == 200


# ---------------------------------------------------------------- refused


def test_anonymous_visitors_are_told_to_sign_in(session, client, offer, deliverable):
    refused(client.get(url(offer[0], deliverable)), "Sign in with an organization that holds a licence")
    assert downloads(session, deliverable) == []


def test_no_licence_no_download(session, buyer_client, offer, deliverable):
    refused(buyer_client.get(url(offer[0], deliverable)), "Your organization has no licence for this product.")
    assert downloads(session, deliverable) == []


def test_another_organizations_licence_does_not_count(session, client, auth, buyer, buyer_org, plans, offer,
                                                      deliverable):
    buy(session, buyer, buyer_org, plans["Open research"])
    stranger = factories.user(session, organization="Elsewhere Ltd")
    session.commit()
    auth.login(stranger.email)
    refused(client.get(url(offer[0], deliverable)), "Your organization has no licence for this product.")


def test_a_licence_whose_period_ended_is_refused_as_expired(session, buyer, buyer_org, buyer_client, plans, offer,
                                                            deliverable):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    order.licence.valid_from = utcnow() - timedelta(days=400)
    order.licence.valid_until = utcnow() - timedelta(days=35)  # lapsed, not yet marked by the expiry command
    session.commit()
    refused(buyer_client.get(url(offer[0], deliverable)), "Your licence has expired.")
    assert licences.expire_licences(session) == [order.licence]
    session.commit()
    refused(buyer_client.get(url(offer[0], deliverable)), "Your licence has expired.")
    page = buyer_client.get("/licences").get_data(as_text=True)
    assert "Downloads stopped: the licence is expired." in page and url(offer[0], deliverable) not in page


def test_a_refund_revokes_the_licence_and_stops_downloads(session, seller, buyer, buyer_org, buyer_client, plans,
                                                          offer, deliverable):
    order = buy(session, buyer, buyer_org, plans["Exclusive"])
    assert buyer_client.get(url(offer[0], deliverable)).status_code == 200
    orders.refund_order(session, seller, order, "Delivered the wrong region.", SimulatedPayments())
    session.commit()
    refused(buyer_client.get(url(offer[0], deliverable)), "Your licence was revoked.")
    assert len(downloads(session, deliverable)) == 1  # only the download before the refund


def test_downloads_pause_while_the_product_is_suspended(session, reviewer, buyer, buyer_org, buyer_client, plans,
                                                        offer, deliverable):
    from marketplace.review.services import suspend_product

    buy(session, buyer, buyer_org, plans["Open research"])
    suspend_product(session, reviewer, offer[0], "Personal data found.")
    session.commit()
    refused(buyer_client.get(url(offer[0], deliverable)), "Downloads are paused")


def test_unknown_files_and_products_are_404(session, storage, seller, reviewer, buyer_client, offer, deliverable):
    product = offer[0]
    other = factories.listed_product(session, storage, seller, reviewer, title="Another product")
    draft = factories.product(session, seller, title="A draft")
    session.commit()
    assert buyer_client.get(url(other, deliverable)).status_code == 404  # a file of another product
    assert buyer_client.get(f"/products/{product.slug}/assets/2147483647").status_code == 404
    assert buyer_client.get(f"/products/{product.slug}/assets/99999999999").status_code == 404
    assert buyer_client.get(f"/products/no-such-product/assets/{deliverable.id}").status_code == 404
    assert buyer_client.get(f"/products/{'x' * 500}/assets/{deliverable.id}").status_code == 404
    assert buyer_client.get(f"/products/{draft.slug}/assets/{deliverable.id}").status_code == 404


def test_a_sample_of_an_unlisted_version_is_not_public(session, seller, client, offer):
    from marketplace.listings import services as listings

    newer = listings.new_version(session, seller, offer[0], "2.0", "Work in progress.")
    session.commit()
    assert client.get(url(offer[0], asset_of(newer, AssetKind.SAMPLE))).status_code == 404


def test_a_missing_stored_file_is_404_and_not_counted(session, storage, buyer, buyer_org, buyer_client, plans, offer,
                                                      deliverable):
    buy(session, buyer, buyer_org, plans["Open research"])
    storage.delete(deliverable.storage_key)
    assert buyer_client.get(url(offer[0], deliverable)).status_code == 404
    assert downloads(session, deliverable) == []


# ---------------------------------------------------------------- S3: a presigned redirect


def test_on_s3_the_download_redirects_to_a_short_lived_presigned_url(app, monkeypatch, session, storage,
                                                                      moto_endpoint, buyer, buyer_org, buyer_client,
                                                                      plans, offer, deliverable):
    from marketplace.storage import S3Storage
    from tests.support.moto import DUMMY_ACCESS_KEY_ID, DUMMY_REGION, DUMMY_SECRET_ACCESS_KEY

    s3 = S3Storage(f"test-{uuid.uuid4().hex[:20]}", endpoint_url=moto_endpoint, region=DUMMY_REGION,
                   access_key_id=DUMMY_ACCESS_KEY_ID, secret_access_key=DUMMY_SECRET_ACCESS_KEY)
    s3.ensure_bucket()
    with storage.open(deliverable.storage_key) as stored:
        content = stored.read()
    s3.save(deliverable.storage_key, io.BytesIO(content), content_type="text/csv", max_bytes=10_000)
    buy(session, buyer, buyer_org, plans["Exclusive"])
    monkeypatch.setitem(app.extensions, "storage", s3)

    response = buyer_client.get(url(offer[0], deliverable))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(moto_endpoint)
    assert f"X-Amz-Expires={app.config['DOWNLOAD_URL_SECONDS']}&" in location  # short-lived, from config
    assert len(downloads(session, deliverable)) == 1
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(location, timeout=10) as fetched:
        assert fetched.read() == content
        assert "detectors.csv" in fetched.headers["Content-Disposition"]
