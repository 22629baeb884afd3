"""Account endpoints of the JSON API: me, organizations, invitations, licence and source look-ups."""
from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.accounts import services
from marketplace.jobs.models import OutboxMessage, OutboxStatus
from tests import factories

V1 = "/api/v1"


def test_me_names_the_tokens_user_and_organizations(api, seller):
    me = api.get(f"{V1}/me").get_json()
    assert me["email"] == seller.email
    assert me["memberships"] == [{"organization": "harbour-analytics", "organization_name": "Harbour Analytics",
                                  "role": "owner"}]


def test_create_organization_makes_the_caller_its_owner(api):
    resp = api.post(f"{V1}/organizations", json={"name": "Pudong Charging Data"})
    assert resp.status_code == 201
    org = resp.get_json()
    assert org["slug"] == "pudong-charging-data"
    assert org["members"][0]["role"] == "owner"
    assert [o["slug"] for o in api.get(f"{V1}/organizations").get_json()] == [
        "harbour-analytics", "pudong-charging-data"]


def test_owner_invites_by_email_with_the_configured_expiry(api, app, outbox):
    resp = api.post(f"{V1}/organizations/harbour-analytics/invitations", json={"email": "New@Example.org"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["email"] == "new@example.org" and resp.get_json()["mail_sent"] is True
    assert [m.to for m in outbox] == ["new@example.org"]
    assert "/invitations/" in outbox[0].body
    assert "expires on" in outbox[0].body


def test_member_cannot_invite_and_outsider_sees_404(client, session, seller_org):
    member = factories.user(session, email="member@example.org")
    from marketplace.accounts.models import Membership

    session.add(Membership(user_id=member.id, organization_id=seller_org.id))
    outsider = factories.user(session, email="outsider@example.org")
    session.commit()
    as_member = factories.TokenClient(client, factories.api_token(session, member))
    as_outsider = factories.TokenClient(client, factories.api_token(session, outsider))
    url = f"{V1}/organizations/{seller_org.slug}/invitations"
    assert as_member.post(url, json={"email": "x@example.org"}).status_code == 403
    assert as_outsider.post(url, json={"email": "x@example.org"}).status_code == 404
    assert as_outsider.get(f"{V1}/organizations/{seller_org.slug}").status_code == 404


def test_inviting_an_existing_member_is_409(api, seller):
    resp = api.post(f"{V1}/organizations/harbour-analytics/invitations", json={"email": seller.email})
    assert resp.status_code == 409 and resp.get_json()["errors"] == {"email": ["Already a member."]}


def test_licences_list_portal_terms_and_spdx(api):
    ids = [lic["id"] for lic in api.get(f"{V1}/licences").get_json()]
    assert ids[:3] == ["LicenseRef-DATA.GOV.HK-Terms", "LicenseRef-DataShanghai-Terms", "LicenseRef-SODA-Data-Licence"]
    assert {"CC-BY-4.0", "ODbL-1.0", "CC0-1.0"} <= set(ids)


def test_source_lookup_by_ckan_name_and_soda_slug(api):
    hk = api.get(f"{V1}/sources/lookup", query_string={"q": "hk-wsd-wsd5-water-consumption"}).get_json()
    assert hk["publisher"] == "Water Supplies Department" and hk["portal"] == "data_gov_hk"
    sh = api.get(f"{V1}/sources/lookup", query_string={"q": "traffic-index"}).get_json()
    assert sh["licence_id"] == "LicenseRef-SODA-Data-Licence" and sh["publisher"] == "上海市城乡建设和交通发展研究院"


# ---------------------------------------------------------------- internationalised domains and failed mail


def test_an_invitation_to_an_internationalised_domain_is_stored_and_sent_in_ascii(
        client, api, session, seller_org, smtp):
    resp = api.post(f"{V1}/organizations/{seller_org.slug}/invitations", json={"email": "Anna@Bücher.example"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["email"] == "anna@xn--bcher-kva.example" and resp.get_json()["mail_sent"] is True
    [received] = smtp.received
    assert received.recipients == ["anna@xn--bcher-kva.example"]
    assert received.message["To"] == "anna@xn--bcher-kva.example"

    # Whoever signed up with the Unicode spelling is the invitee: the two forms are one address.
    anna = factories.user(session, email="anna@bücher.example")
    session.commit()
    assert anna.email == "anna@bücher.example"
    token = re.search(r"/invitations/(\S+)", received.message.get_content()).group(1)
    assert services.accept_invitation(session, anna, token).organization_id == seller_org.id


def test_an_invitation_while_the_mail_server_is_down_is_201_and_its_mail_waits_in_the_outbox(
        api, session, seller_org, mail_server_down):
    resp = api.post(f"{V1}/organizations/{seller_org.slug}/invitations", json={"email": "new@example.org"})
    assert resp.status_code == 201 and resp.get_json()["mail_sent"] is True  # queued, retried until it leaves
    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)).all()
    assert message.payload["to"] == "new@example.org" and message.attempts == 1 and message.last_error
    listed = api.get(f"{V1}/organizations/{seller_org.slug}/invitations").get_json()
    assert [i["email"] for i in listed] == ["new@example.org"]


def test_the_openapi_document_describes_mail_sent(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "mail_sent" in schemas["InvitationSent"]["properties"]
