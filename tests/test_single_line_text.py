"""Names and titles are one line of plain text: a display name, an organization name, a product title or a plan
name with a line break, another control character or a bidi override is refused with a field error (422 on the
API, the form shown again on pages), so nobody can write lines of their own into a platform e-mail."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization, User
from marketplace.listings.models import DataProduct
from marketplace.text import SINGLE_LINE_MESSAGE, is_single_line
from tests import factories
from tests.support.api import assert_error

PHISHING_NAME = "Ann,\r\n\r\nACTION NEEDED: confirm your payout details at https://evil.example/odx\r\n\r\n"
SIGNUP = {"email": "target@example.org", "display_name": "Ann Lee", "password": "analytical engine",
          "confirm": "analytical engine", "organization_name": "", "locale": "en"}


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("text", [
    "Ann\r\nBcc: x", "Ann\nLee", "Ann\rLee", "Ann\tLee", "Ann\x0bLee", "Ann\x7fLee", "Ann\x85Lee", "Ann\x9bLee",
    "Ann\u2028Lee", "Ann\u2029Lee", "Ann\u202aLee", "Ann\u202bLee", "Ann\u202cLee", "Ann\u202dLee",
    "txt\u202eexe.pdf", "Ann\u2066Lee", "Ann\u2067Lee", "Ann\u2068Lee", "Ann\u2069Lee", "Ann\x00Lee",
])
def test_line_breaks_controls_and_direction_overrides_are_not_single_line(text):
    assert not is_single_line(text)


@pytest.mark.parametrize("text", ["Ann Lee", "李小明", "O’Brien & Söhne — Café", "שלום\u200f Ltd", "Ann  Lee "])
def test_ordinary_names_in_any_script_are_single_line(text):
    assert is_single_line(text)


# ---------------------------------------------------------------- accounts


def test_signup_with_a_phishing_display_name_is_refused_and_mails_nobody(client, session, outbox):
    response = client.post("/signup", data={**SIGNUP, "display_name": PHISHING_NAME})
    assert response.status_code == 200 and "Check your inbox" not in html(response)
    assert 'id="display_name-errors"' in html(response) and SINGLE_LINE_MESSAGE in html(response)
    assert session.scalar(select(func.count(User.id))) == 0
    assert outbox == []


def test_signup_with_a_phishing_name_and_a_taken_address_answers_the_same_and_mails_nobody(
        client, seller, outbox):
    response = client.post("/signup", data={**SIGNUP, "email": seller.email, "display_name": PHISHING_NAME})
    assert response.status_code == 200 and "Check your inbox" not in html(response)
    assert SINGLE_LINE_MESSAGE in html(response)
    assert outbox == []


def test_signup_with_an_organization_name_on_two_lines_is_refused_on_that_field(client, session, outbox):
    response = client.post("/signup", data={**SIGNUP, "organization_name": "Acme\r\nBcc: x@example.net"})
    assert 'id="organization_name-errors"' in html(response) and SINGLE_LINE_MESSAGE in html(response)
    assert session.scalar(select(func.count(User.id))) == 0 and outbox == []


def test_organization_named_with_a_header_line_is_refused_on_the_page(client, auth, seller, session):
    auth.login(seller.email)
    response = client.post("/organizations", data={"name": "Acme\r\nBcc: x@example.net"})
    assert response.status_code in (200, 422)
    assert 'id="name-errors"' in html(response) and SINGLE_LINE_MESSAGE in html(response)
    assert session.scalar(select(func.count(Organization.id))) == 1  # the seller's own


@pytest.mark.parametrize("name", ["Acme\r\nBcc: x@example.net", "Acme\u0085Bcc", "Acme\u202eemcA"])
def test_organization_named_with_a_header_line_is_422_on_the_api(api, session, name):
    body = assert_error(api.post("/api/v1/organizations", json={"name": name}), 422, "validation_failed", "name")
    assert body["errors"]["name"] == [SINGLE_LINE_MESSAGE]
    assert session.scalar(select(func.count(Organization.id))) == 1


# ---------------------------------------------------------------- listings


@pytest.mark.parametrize("field", ["title_en", "title_zh"])
def test_product_title_with_a_direction_override_is_422_on_the_api(api, session, seller_org, field):
    data = {"organization": seller_org.slug, "title_en": "Road speeds", field: "Road speeds \u202efdp.exe"}
    body = assert_error(api.post("/api/v1/products", json=data), 422, "validation_failed", field)
    assert body["errors"][field] == [SINGLE_LINE_MESSAGE]
    assert session.scalar(select(func.count(DataProduct.id))) == 0


def test_product_title_with_a_direction_override_is_refused_on_the_page(client, auth, seller, seller_org, session):
    auth.login(seller.email)
    response = client.post("/seller/products/new", data={"organization_id": seller_org.id,
                                                         "title_en": "Road speeds \u202efdp.exe"})
    assert response.status_code == 422
    assert 'id="title_en-errors"' in html(response) and SINGLE_LINE_MESSAGE in html(response)
    assert session.scalar(select(func.count(DataProduct.id))) == 0


def test_editing_a_title_onto_two_lines_is_422_and_keeps_the_old_title(api, session, seller):
    product = factories.product(session, seller, title="Road speeds")
    session.commit()
    url = f"/api/v1/products/{product.id}/versions/1"
    assert_error(api.patch(url, json={"title_zh": "車速\u2028Bcc"}), 422, "validation_failed", "title_zh")
    assert api.get(url).get_json()["title_en"] == "Road speeds"


def test_plan_named_on_two_lines_is_422(api, session, seller):
    product = factories.product(session, seller)
    session.commit()
    plan = {**factories.PLAN, "name": "Research\nlicence"}
    body = assert_error(api.post(f"/api/v1/products/{product.id}/versions/1/plans", json=plan), 422,
                        "validation_failed", "name")
    assert body["errors"]["name"] == [SINGLE_LINE_MESSAGE]


# ---------------------------------------------------------------- what else goes into e-mails and certificates


@pytest.mark.parametrize("text", ["Ann\u200bLee", "Ann\ufeffLee", "Ann\u2060Lee", "Ann\u206aLee", "Ann\ufff9Lee",
                                  "Ann\U000e0041Lee"])
def test_invisible_characters_that_make_names_look_alike_are_not_single_line(text):
    assert not is_single_line(text)


def test_a_version_label_on_two_lines_is_refused(session, storage, seller, reviewer):
    from marketplace.errors import ValidationFailed
    from marketplace.listings import services as listings

    product = factories.listed_product(session, storage, seller, reviewer)
    with pytest.raises(ValidationFailed) as refused:
        listings.new_version(session, seller, product, "9\r\n\r\nACTION: evil.example/x", "A change.")
    assert refused.value.errors["label"] == [SINGLE_LINE_MESSAGE]
    with pytest.raises(ValidationFailed):
        listings.new_version(session, seller, product, "2.0\u202e", "A change.")


def test_a_source_title_on_two_lines_is_422(api, session, seller):
    product = factories.product(session, seller)
    session.commit()
    source = {**factories.SOURCE, "title": "Traffic\r\nBcc: x@example.net"}
    assert_error(api.post(f"/api/v1/products/{product.id}/versions/1/sources", json=source), 422,
                 "validation_failed", "title")


def test_an_attestation_signed_on_two_lines_is_refused(session, seller):
    from marketplace.errors import ValidationFailed
    from marketplace.listings import services as listings

    version = factories.product(session, seller).latest_version
    with pytest.raises(ValidationFailed) as refused:
        listings.set_compliance(session, seller, version, factories.COMPLIANCE, attest=True,
                                attested_by_name="Ann Lee\r\nInjected")
    assert refused.value.errors["attested_by_name"] == [SINGLE_LINE_MESSAGE]
