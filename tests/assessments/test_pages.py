"""The provider and assessment pages, end to end: an owner applies, an admin approves, a seller asks, the provider
accepts, reads the version, signs the report, and anyone reads it; refusals re-show the form with the input kept;
the pages read in three languages."""
from __future__ import annotations

import pytest

from marketplace.assessments import services
from marketplace.assessments.models import Assessment
from tests import factories
from tests.support.pages import lang_of, main

LANGUAGES = {"en": {}, "zh-Hans": {"Accept-Language": "zh-CN"}, "zh-Hant-HK": {"Accept-Language": "zh-HK"}}


def test_the_whole_journey_through_the_pages(client, auth, session, seller, seller_org, admin, provider_owner,
                                             provider_org, assessor, submitted, storage):
    auth.login(provider_owner.email)
    page = client.post(f"/seller/{provider_org.slug}/provider",
                       data={"services": ["compliance", "quality"], "qualifications": "Association member."})
    assert page.status_code == 303
    auth.logout()

    auth.login(admin.email)
    assert "Lujiazui Data Assurance" in client.get("/admin/providers").get_data(as_text=True)
    applied = services.provider_of(session, provider_org)
    assert client.post(f"/admin/providers/{applied.id}/approve").status_code == 303
    auth.logout()
    assert "Lujiazui Data Assurance" in main(client.get("/providers"))
    assert client.get(f"/providers/{provider_org.slug}").status_code == 200

    auth.login(seller.email)
    form = client.get(f"/seller/{seller_org.slug}/assessments").get_data(as_text=True)
    assert "Strategic road speeds" in form
    asked = client.post(f"/seller/{seller_org.slug}/assessments", data={
        "version": str(submitted.id), "provider": str(applied.id), "kind": "compliance", "note": "Please."})
    assert asked.status_code == 303
    number = session.query(Assessment.number).scalar()
    auth.logout()

    auth.login(assessor.email)
    inbox = client.get(f"/provider/{provider_org.slug}/assessments").get_data(as_text=True)
    assert number in inbox
    work = f"/provider/{provider_org.slug}/assessments/{number}"
    assert client.post(f"{work}/accept").status_code == 303
    page = client.get(work).get_data(as_text=True)
    assert "AID_ID_Number" in page and "Traffic Data of Strategic" in page  # the dictionary and the sources
    asset = submitted.assets[0]
    download = client.get(f"{work}/files/{asset.id}")
    assert download.status_code == 200 and download.data.startswith(b"AID_ID_Number")

    incomplete = client.post(f"{work}/sign", data={"legal_bases-0": "Open data terms.", "handling": "None held."})
    assert incomplete.status_code == 422
    kept = incomplete.get_data(as_text=True)
    assert "Open data terms." in kept and "None held." in kept and "This field is required." in kept
    signed = client.post(f"{work}/sign", data={
        "legal_bases-0": "Open data terms.", "personal_information": "none", "handling": "None held.",
        "classification": "general", "cross_boundary": "No mechanism needed.", "conclusion": "pass_with_conditions",
        "conclusion_text": "Keep the attribution."})
    assert signed.status_code == 303 and signed.headers["Location"].endswith(f"/assessments/{number}")
    auth.logout()
    report = client.get(f"/assessments/{number}")
    assert report.status_code == 200 and "Keep the attribution." in main(report)


def test_a_rejection_without_a_reason_reshows_the_list_with_the_error(client, auth, session, admin, provider_owner,
                                                                     provider_org):
    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["quality"],
                                         qualifications="Auditors.")
    session.commit()
    auth.login(admin.email)
    refused = client.post(f"/admin/providers/{applied.id}/reject", data={f"p{applied.id}-reason": "  "})
    assert refused.status_code == 422 and "This field is required." in refused.get_data(as_text=True)
    done = client.post(f"/admin/providers/{applied.id}/reject", data={f"p{applied.id}-reason": "No proof."})
    assert done.status_code == 303 and applied.status == "rejected"


def test_an_application_form_keeps_the_input_on_a_refusal(client, auth, provider_owner, provider_org):
    auth.login(provider_owner.email)
    refused = client.post(f"/seller/{provider_org.slug}/provider", data={"qualifications": "Twenty years of audits."})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Twenty years of audits." in html and "Declare at least one service." in html


def test_a_request_for_another_sellers_version_is_refused(client, auth, session, storage, seller_org, provider,
                                                          submitted):
    other = factories.user(session, email="other@seller.example", organization="Other Seller")
    session.commit()
    auth.login(other.email)
    org = other.memberships[0].organization
    refused = client.post(f"/seller/{org.slug}/assessments", data={
        "version": str(submitted.id), "provider": str(provider.id), "kind": "compliance"})
    assert refused.status_code == 422 and "Choose one of your submitted versions." in refused.get_data(as_text=True)
    assert client.get(f"/seller/{submitted.product.organization.slug}/assessments").status_code == 404
    assert session.query(Assessment).count() == 0


# ---------------------------------------------------------------- the provider reads one version, nothing else


@pytest.fixture
def opened(session, seller, submitted, provider, assessor) -> Assessment:
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    services.decide_request(session, assessor, asked, accept=True)
    session.commit()
    return asked


def test_the_provider_reads_no_other_version_or_product(client, auth, session, storage, seller, provider_org,
                                                       assessor, opened, submitted):
    # another product of the same seller, and a second version of the assessed product
    other = factories.product(session, seller, title="Other product")
    factories.complete_version(session, storage, seller, other.latest_version)
    session.commit()
    auth.login(assessor.email)
    work = f"/provider/{provider_org.slug}/assessments/{opened.number}"
    for asset in other.latest_version.assets:
        assert client.get(f"{work}/files/{asset.id}").status_code == 404
    for guess in range(1, 40):  # every other id answers 404, whatever it names
        if guess not in {a.id for a in submitted.assets}:
            assert client.get(f"{work}/files/{guess}").status_code == 404, guess
    # the seller's own pages stay closed to the provider
    assert client.get(f"/seller/products/{other.id}").status_code == 404
    assert client.get(f"/seller/products/{submitted.product_id}").status_code == 404
    assert client.get(f"/seller/{submitted.product.organization.slug}/assessments").status_code == 404


def test_only_the_providers_members_open_the_request(client, auth, session, seller, provider_org, opened,
                                                     submitted, reviewer):
    work = f"/provider/{provider_org.slug}/assessments/{opened.number}"
    asset = submitted.assets[0]
    stranger = factories.user(session, email="nosy@example.org", organization="Nosy Ltd")
    session.commit()
    for who in (seller, stranger, reviewer):
        auth.login(who.email)
        assert client.get(work).status_code == 404
        assert client.get(f"{work}/files/{asset.id}").status_code == 404
        assert client.post(f"{work}/accept").status_code == 404
        own = who.memberships[0].organization.slug if who.memberships else "x"
        # the number under the visitor's own organization's address
        assert client.get(f"/provider/{own}/assessments/{opened.number}").status_code == 404
        auth.logout()
    assert client.get(work).status_code in (302, 401)


def test_the_files_close_once_the_report_is_signed(client, auth, session, provider_org, assessor, opened,
                                                  submitted):
    from marketplace.assessments import reports
    from tests.assessments.conftest import QUALITY_REPORT

    auth.login(assessor.email)
    url = f"/provider/{provider_org.slug}/assessments/{opened.number}/files/{submitted.assets[0].id}"
    assert client.get(url).status_code == 200
    reports.sign_report(session, assessor, opened, QUALITY_REPORT)
    session.commit()
    assert client.get(url).status_code == 403
    assert "AID_ID_Number" not in client.get(f"/provider/{provider_org.slug}/assessments/{opened.number}").get_data(
        as_text=True)


# ---------------------------------------------------------------- three languages


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_read_in_each_language(client, auth, session, key_file_for_pages, seller, provider_org,
                                         assessor, opened, language):
    from marketplace.assessments import reports
    from tests.assessments.conftest import QUALITY_REPORT

    headers = LANGUAGES[language]
    words = {"en": "Data service providers", "zh-Hans": "数商", "zh-Hant-HK": "數商"}[language]
    directory = client.get("/providers", headers=headers)
    assert lang_of(directory) == language and words in main(directory)
    assessor.locale = language  # signed in, the page reads in the user's own language
    session.commit()
    auth.login(assessor.email)
    work = client.get(f"/provider/{provider_org.slug}/assessments/{opened.number}", headers=headers)
    assert work.status_code == 200 and lang_of(work) == language
    reports.sign_report(session, assessor, opened, QUALITY_REPORT)
    session.commit()
    report = client.get(f"/assessments/{opened.number}", headers=headers)
    text = main(report)
    assert {"en": "Accuracy checks performed", "zh-Hans": "已执行的准确性检查",
            "zh-Hant-HK": "已執行的準確性檢查"}[language] in text
    assert {"en": "Assessed by <a", "zh-Hans": "Lujiazui Data Assurance</a> 评估",
            "zh-Hant-HK": "Lujiazui Data Assurance</a> 評估"}[language] in text


@pytest.fixture
def key_file_for_pages(app, tmp_path):
    """The app signs with a key of this test's own."""
    saved = {name: app.config.get(name) for name in ("LICENCE_SIGNING_KEY", "LICENCE_SIGNING_KEY_FILE")}
    previous = app.extensions.pop("licence_signer", None)
    app.config.update(LICENCE_SIGNING_KEY=None, LICENCE_SIGNING_KEY_FILE=str(tmp_path / "key.pem"))
    try:
        yield
    finally:
        app.config.update(saved)
        app.extensions.pop("licence_signer", None)
        if previous is not None:
            app.extensions["licence_signer"] = previous


def test_accepting_with_a_fee_shows_it_to_the_seller(client, auth, session, seller, seller_org, provider_org,
                                                     assessor, provider, submitted):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.commit()
    auth.login(assessor.email)
    work = f"/provider/{provider_org.slug}/assessments/{asked.number}"
    refused = client.post(f"{work}/accept", data={"fee": "a lot", "currency": "HKD"})
    assert refused.status_code == 422 and "a lot" in refused.get_data(as_text=True)
    assert client.post(f"{work}/accept", data={"fee": "1,200.50", "currency": "HKD"}).status_code == 303
    assert (asked.fee_amount, asked.fee_currency) == (120050, "HKD")
    auth.logout()
    auth.login(seller.email)
    assert "1,200.50" in main(client.get(f"/seller/{seller_org.slug}/assessments"))


def test_the_admin_reads_the_applications_document(client, auth, session, storage, admin, provider_owner,
                                                   provider_org):
    import io

    applied = services.apply_as_provider(session, provider_owner, provider_org, services=["quality"],
                                         qualifications="See the certificate.", storage=storage,
                                         document=io.BytesIO(b"%PDF-1.4 accreditation"), filename="cert.pdf")
    session.commit()
    auth.login(provider_owner.email)
    assert client.get(f"/admin/providers/{applied.id}/document").status_code == 403
    auth.logout()
    auth.login(admin.email)
    assert "cert.pdf" in client.get("/admin/providers").get_data(as_text=True)
    document = client.get(f"/admin/providers/{applied.id}/document")
    assert document.status_code == 200 and document.data == b"%PDF-1.4 accreditation"
    assert "attachment" in document.headers["Content-Disposition"]
    assert client.get(f"/admin/providers/{applied.id + 1}/document").status_code == 404


def test_an_application_with_a_document_through_the_page(client, auth, session, storage, provider_owner,
                                                         provider_org):
    import io

    auth.login(provider_owner.email)
    sent = client.post(f"/seller/{provider_org.slug}/provider", content_type="multipart/form-data", data={
        "services": ["quality"], "qualifications": "ISO 8000 auditors.",
        "document": (io.BytesIO(b"accreditation letter"), "letter.txt", "text/plain")})
    assert sent.status_code == 303
    applied = services.provider_of(session, provider_org)
    assert applied.document_filename == "letter.txt"
    assert storage.open(applied.document_key).read() == b"accreditation letter"


@pytest.mark.parametrize(("body", "name", "words"), [
    (b"", "accreditation.pdf", "is empty"),
    (b"<html><body>accreditation</body></html>", "accreditation.pdf", "does not look like its type"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "accreditation.pdf", "does not look like its type"),
    (b"#!/bin/sh\necho hi\n", "accreditation.sh", "may be a PDF, PNG or JPEG file or plain text"),
])
def test_an_application_document_must_be_what_its_name_says(client, auth, session, storage, provider_owner,
                                                            provider_org, body, name, words):
    import io

    auth.login(provider_owner.email)
    refused = client.post(f"/seller/{provider_org.slug}/provider", content_type="multipart/form-data", data={
        "services": ["quality"], "qualifications": "ISO 8000 auditors.",
        "document": (io.BytesIO(body), name, "application/pdf")})
    assert refused.status_code in (415, 422)
    html = refused.get_data(as_text=True)
    assert words in html and "ISO 8000 auditors." in html
    assert services.provider_of(session, provider_org) is None


def test_a_second_application_is_refused_with_the_reason_on_the_page(client, auth, session, provider_owner,
                                                                     provider_org):
    auth.login(provider_owner.email)
    form = {"services": ["quality"], "qualifications": "ISO 8000 auditors."}
    assert client.post(f"/seller/{provider_org.slug}/provider", data=form).status_code == 303
    again = client.post(f"/seller/{provider_org.slug}/provider", data=form)
    assert again.status_code == 409
    assert f"{provider_org.name} has already applied to be a data service provider." in again.get_data(as_text=True)


def test_an_application_document_up_to_its_own_cap(client, auth, session, storage, app, provider_owner,
                                                   provider_org):
    """The document may be larger than a page form's cap (2 MB), up to PROVIDER_DOCUMENT_MAX_BYTES."""
    import io

    auth.login(provider_owner.email)
    form_cap, document_cap = app.config["FORM_MAX_BYTES"], app.config["PROVIDER_DOCUMENT_MAX_BYTES"]
    assert form_cap < 3 * 1024 * 1024 < document_cap

    def send(size: int):
        return client.post(f"/seller/{provider_org.slug}/provider", content_type="multipart/form-data", data={
            "services": ["quality"], "qualifications": "ISO 8000 auditors.",
            "document": (io.BytesIO(b"%PDF-" + b"x" * (size - 5)), "accreditation.pdf", "application/pdf")})

    assert send(document_cap + 1).status_code == 413
    assert services.provider_of(session, provider_org) is None
    unread = send(document_cap + 128 * 1024)  # past the body's cap: refused before it is read, the form shown again
    page = unread.get_data(as_text=True)
    assert unread.status_code == 413 and "The file may be at most 10 MB." in page and "fill in the form again" in page
    assert 'name="qualifications"' in page and "ISO 8000 auditors." not in page
    assert send(3 * 1024 * 1024).status_code == 303
    assert services.provider_of(session, provider_org).document_size == 3 * 1024 * 1024


def test_an_application_body_is_refused_unread_to_anyone_but_an_owner(client, auth, session, provider_org,
                                                                      assessor, seller):
    import io

    def send():
        return client.post(f"/seller/{provider_org.slug}/provider", content_type="multipart/form-data", data={
            "services": ["quality"], "qualifications": "Q.",
            "document": (io.BytesIO(b"x"), "a.pdf", "application/pdf")})

    assert send().status_code in (302, 401)
    auth.login(assessor.email)  # a member, not an owner
    assert send().status_code == 403
    auth.logout()
    auth.login(seller.email)  # not a member
    assert send().status_code == 404
    assert services.provider_of(session, provider_org) is None
