"""The account pages, driven through the test client like a browser would."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace import create_app
from marketplace.accounts import services
from marketplace.accounts.forms import SignupForm, apply_domain_errors
from marketplace.accounts.models import ApiToken, MemberRole, User
from marketplace.db import utcnow
from marketplace.errors import ValidationFailed
from marketplace.jobs.models import OutboxMessage, OutboxStatus
from tests import factories

SIGNUP = {
    "email": "ada@example.org", "display_name": "Ada Lovelace", "password": "analytical engine",
    "confirm": "analytical engine", "organization_name": "", "locale": "en",
}


def html(response) -> str:
    return response.get_data(as_text=True)


def invitation_token(mail) -> str:
    return re.search(r"/invitations/(\S+)", mail.body).group(1)


@pytest.fixture
def member(session, seller, seller_org):
    """A plain member of the seller's organization."""
    _, token = services.invite_member(session, seller, seller_org, "member@example.org")
    user = factories.user(session, email="member@example.org", name="Mia Member")
    services.accept_invitation(session, user, token)
    session.commit()
    return user


# ---------------------------------------------------------------- sign-up

def test_signup_creates_an_unverified_account_and_mails_its_confirmation_link(client, session, outbox):
    response = client.post("/signup", data={**SIGNUP, "organization_name": "Harbour Analytics", "locale": "zh-Hans"})
    assert response.status_code == 200 and "Check your inbox" in html(response)
    user = session.scalar(select(User).where(User.email == "ada@example.org"))
    assert user.locale == "zh-Hans" and not user.email_verified
    [membership] = services.memberships_of(session, user)
    assert membership.role == MemberRole.OWNER and membership.organization.name == "Harbour Analytics"
    [mail] = outbox
    assert mail.to == "ada@example.org" and "/verify-email/" in mail.body
    assert client.get("/organizations").status_code == 302  # not logged in until they log in
    auth_response = client.post("/login", data={"email": SIGNUP["email"], "password": SIGNUP["password"]})
    assert auth_response.status_code == 302
    page = html(client.get("/organizations"))  # in the language chosen at sign-up
    assert '<html lang="zh-Hans">' in page and "请确认您的电子邮件地址" in page
    assert "Please confirm your e-mail address" not in page


def test_password_is_stored_hashed_with_argon2(client, session):
    client.post("/signup", data=SIGNUP)
    user = session.scalar(select(User).where(User.email == "ada@example.org"))
    assert user.password_hash.startswith("$argon2id$")
    assert SIGNUP["password"] not in user.password_hash


def test_signup_with_taken_email_says_check_your_inbox_and_mails_the_owner(client, seller, session, outbox):
    response = client.post("/signup", data={**SIGNUP, "email": seller.email, "display_name": "Second Seller",
                                            "organization_name": "Kowloon Data"})
    page = html(response)
    assert response.status_code == 200 and "Check your inbox" in page
    assert "Already registered" not in page and "already" not in page.lower()
    [mail] = outbox
    assert mail.to == seller.email and "tried to sign up" in mail.subject
    assert session.scalar(select(User).where(User.display_name == "Second Seller")) is None


def test_signup_shows_form_errors_per_field_without_echoing_password(client, session):
    data = {**SIGNUP, "confirm": "something else entirely", "display_name": ""}
    page = html(client.post("/signup", data=data))
    assert "The passwords differ." in page
    assert re.search(r'id="display_name-errors"', page)
    assert SIGNUP["password"] not in page and "something else entirely" not in page
    assert session.scalar(select(User).where(User.email == SIGNUP["email"])) is None


def test_signup_shows_the_services_refusal_on_the_field(client):
    page = html(client.post("/signup", data={**SIGNUP, "email": "not-an-email"}))
    assert re.search(r'id="email-errors"', page)
    assert 'value="not-an-email"' in page


def test_apply_domain_errors_maps_fields_and_puts_the_rest_on_top(app):
    with app.test_request_context():
        form = SignupForm(meta={"csrf": False})
        apply_domain_errors(form, ValidationFailed("Nope.", {"email": ["Bad address."], "plan": "Unknown plan."}))
        assert form.email.errors == ["Bad address."]
        assert form.form_errors == ["Plan: Unknown plan."]

        form = SignupForm(meta={"csrf": False})
        apply_domain_errors(form, ValidationFailed("Something is off."))
        assert form.form_errors == ["Something is off."]

        form = SignupForm(meta={"csrf": False})
        apply_domain_errors(form, ValidationFailed("x", {"name": ["Required."]}), aliases={"name": "organization_name"})
        assert form.organization_name.errors == ["Required."]


# ---------------------------------------------------------------- log in, log out

def test_login_and_logout(client, auth, seller):
    response = auth.login(seller.email)
    assert response.status_code == 302
    assert client.get("/organizations").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/organizations").status_code == 302


def test_login_with_wrong_password_is_vague_and_keeps_email(client, auth, seller):
    response = auth.login(seller.email, "not the password")
    page = html(response)
    assert response.status_code == 200
    assert "Wrong e-mail address or password." in page
    assert f'value="{seller.email}"' in page
    assert "not the password" not in page
    unknown = html(auth.login("nobody@example.org", "not the password"))
    assert "Wrong e-mail address or password." in unknown


def test_login_follows_a_relative_next(client, seller):
    response = client.post("/login?next=/settings/tokens", data={"email": seller.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/settings/tokens"


def test_login_page_carries_next_into_the_form(client):
    page = html(client.get("/login?next=/organizations"))
    assert 'name="next" type="hidden" value="/organizations"' in page


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/path", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil.example", "/\t/evil.example", "evil.example",
])
def test_login_rejects_offsite_next(client, seller, target):
    response = client.post("/login", data={"email": seller.email, "password": factories.PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/seller/"


def test_logout_requires_post(client, auth, seller):
    auth.login(seller.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/organizations").status_code == 200  # still logged in
    client.post("/logout")
    assert client.get("/organizations").status_code == 302


@pytest.mark.parametrize("method, path", [
    ("get", "/organizations"),
    ("post", "/organizations"),
    ("get", "/organizations/harbour-analytics"),
    ("post", "/organizations/harbour-analytics/invitations"),
    ("get", "/invitations/some-token"),
    ("post", "/invitations/some-token"),
    ("get", "/settings/tokens"),
    ("post", "/settings/tokens"),
    ("post", "/settings/tokens/1/revoke"),
    ("get", "/settings"),
    ("get", "/settings/password"),
    ("post", "/settings/password"),
    ("post", "/settings/logout-everywhere"),
    ("post", "/organizations/harbour-analytics/members/1/role"),
    ("post", "/organizations/harbour-analytics/members/1/remove"),
    ("post", "/organizations/harbour-analytics/leave"),
    ("post", "/organizations/harbour-analytics/invitations/1/revoke"),
])
def test_login_required_pages_redirect(client, seller, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_post_without_csrf_token_is_refused(app, seller):
    csrf_app = create_app("testing", WTF_CSRF_ENABLED=True,
                          SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    client = csrf_app.test_client()
    credentials = {"email": seller.email, "password": factories.PASSWORD}
    refused = client.post("/login", data=credentials)
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html(client.get("/login"))).group(1)
    assert client.post("/login", data={**credentials, "csrf_token": token}).status_code == 302


def test_root_sends_visitors_to_the_catalog_and_users_onwards(client, auth, seller):
    assert client.get("/").headers["Location"] == "/catalog"
    auth.login(seller.email)
    assert client.get("/").headers["Location"] == "/seller/"


# ---------------------------------------------------------------- organizations and invitations

def test_organizations_page_lists_roles_and_creates_an_organization(client, auth, seller, session):
    auth.login(seller.email)
    page = html(client.get("/organizations"))
    assert "Harbour Analytics" in page and "badge-owner" in page
    response = client.post("/organizations", data={"name": "Kowloon Data", "description": "Traffic feeds."})
    assert response.status_code == 302 and response.headers["Location"] == "/organizations/kowloon-data"
    assert "Traffic feeds." in html(client.get("/organizations/kowloon-data"))
    assert [m.organization.name for m in services.memberships_of(session, seller)] == [
        "Harbour Analytics", "Kowloon Data"]


def test_organization_form_errors_are_shown(client, auth, seller):
    auth.login(seller.email)
    page = html(client.post("/organizations", data={"name": "", "website": "not a url"}))
    assert 'id="name-errors"' in page and 'id="website-errors"' in page


def test_organization_website_is_linked_only_when_it_is_http(client, auth, seller, session):
    services.create_organization(session, seller, name="Risky", website="javascript:alert(1)")
    services.create_organization(session, seller, name="Safe", website="https://safe.example")
    session.commit()
    auth.login(seller.email)
    assert 'href="javascript:' not in html(client.get("/organizations/risky"))
    assert 'href="https://safe.example"' in html(client.get("/organizations/safe"))


def test_owner_invites_by_email_and_invitee_joins(app, client, auth, seller, seller_org, session, outbox):
    bob = factories.user(session, email="bob@example.org", name="Bob")
    session.commit()
    auth.login(seller.email)
    response = client.post(f"/organizations/{seller_org.slug}/invitations",
                           data={"email": "Bob@Example.org", "role": "owner"})
    assert response.status_code == 302
    page = html(client.get(response.headers["Location"]))
    assert "Invitation sent to bob@example.org" in page and "Pending invitations" in page

    [mail] = outbox
    assert mail.to == "bob@example.org" and "Harbour Analytics" in mail.subject
    assert f"{app.config['PUBLIC_BASE_URL']}/invitations/" in mail.body
    token = invitation_token(mail)

    auth.logout()
    auth.login(bob.email)
    invitation_page = html(client.get(f"/invitations/{token}"))
    assert "Join Harbour Analytics" in invitation_page and "Accept and join" in invitation_page
    joined = client.post(f"/invitations/{token}")
    assert joined.headers["Location"] == f"/organizations/{seller_org.slug}"
    assert services.membership(session, bob, seller_org.id).role == MemberRole.OWNER
    assert "You joined Harbour Analytics as owner." in html(client.get(joined.headers["Location"]))


def test_invitee_without_account_signs_up_confirms_and_joins_through_the_link(
        client, auth, seller, seller_org, session, outbox):
    auth.login(seller.email)
    client.post(f"/organizations/{seller_org.slug}/invitations", data={"email": "new@example.org", "role": "member"})
    token = invitation_token(outbox[0])
    auth.logout()

    to_login = client.get(f"/invitations/{token}")
    assert to_login.headers["Location"] == f"/login?next=%2Finvitations%2F{token}"
    signup_link = re.search(r'href="(/signup\?next=[^"]+)"', html(client.get(to_login.headers["Location"]))).group(1)
    assert html(client.get(signup_link)).count(f'value="/invitations/{token}"') == 1
    response = client.post("/signup", data={**SIGNUP, "email": "new@example.org", "next": f"/invitations/{token}"})
    assert "Check your inbox" in html(response)
    newcomer = session.scalar(select(User).where(User.email == "new@example.org"))
    assert services.membership(session, newcomer, seller_org.id) is None  # signing up joins nothing

    verify_link = re.search(r"https?://\S+(/verify-email/\S+)", outbox[-1].body).group(1)
    confirm_page = html(client.get(verify_link))
    action = re.search(r'action="([^"]+)"', confirm_page.split("<main>")[1]).group(1)
    confirmed = client.post(action, data={"next": f"/invitations/{token}"})
    assert confirmed.headers["Location"] == f"/login?next=/invitations/{token}"
    logged_in = client.post(confirmed.headers["Location"], data={"email": "new@example.org",
                                                                 "password": SIGNUP["password"]})
    assert logged_in.headers["Location"] == f"/invitations/{token}"
    assert "Accept and join" in html(client.get(f"/invitations/{token}"))
    client.post(f"/invitations/{token}")
    assert services.membership(session, newcomer, seller_org.id).role == MemberRole.MEMBER
    assert "This invitation was accepted" in html(client.get(f"/invitations/{token}"))


def test_invite_form_shows_the_services_refusal(client, auth, seller, seller_org, member, outbox):
    auth.login(seller.email)
    page = html(client.post(f"/organizations/{seller_org.slug}/invitations",
                            data={"email": member.email, "role": "member"}))
    assert re.search(r'id="email-errors"[^>]*>\s*<li>Already a member', page)
    assert outbox == []


def test_member_cannot_invite(client, auth, member, seller_org, outbox):
    auth.login(member.email)
    page = html(client.get(f"/organizations/{seller_org.slug}"))
    assert "Mia Member" in page and "Send invitation" not in page
    response = client.post(f"/organizations/{seller_org.slug}/invitations",
                           data={"email": "friend@example.org", "role": "owner"})
    assert response.status_code == 403
    assert outbox == []


def test_non_member_gets_404_for_org_page(client, auth, session, seller_org):
    stranger = factories.user(session, email="stranger@example.org")
    session.commit()
    auth.login(stranger.email)
    assert client.get(f"/organizations/{seller_org.slug}").status_code == 404
    assert client.post(f"/organizations/{seller_org.slug}/invitations",
                       data={"email": "stranger@example.org", "role": "owner"}).status_code == 404
    assert client.get("/organizations/no-such-org").status_code == 404


def test_invitation_for_another_address_is_explained_and_refused(client, auth, session, seller, seller_org):
    _, token = services.invite_member(session, seller, seller_org, "carol@example.org")
    session.commit()
    auth.login(seller.email)
    page = html(client.get(f"/invitations/{token}"))
    assert "was sent to carol@example.org" in page and "Accept and join" not in page
    response = client.post(f"/invitations/{token}", follow_redirects=True)
    assert "sent to another e-mail address" in html(response)


def test_expired_invitation_page_says_so(client, auth, session, seller, seller_org):
    bob = factories.user(session, email="bob@example.org")
    invitation, token = services.invite_member(session, seller, seller_org, bob.email)
    invitation.expires_at = utcnow() - timedelta(hours=1)
    session.commit()
    auth.login(bob.email)
    assert "This invitation has expired" in html(client.get(f"/invitations/{token}"))
    client.post(f"/invitations/{token}")
    assert services.membership(session, bob, seller_org.id) is None


def test_unknown_invitation_is_404(client, auth, seller):
    auth.login(seller.email)
    assert client.get("/invitations/nope").status_code == 404


# ---------------------------------------------------------------- API tokens

def test_token_secret_shown_once_and_stored_hashed(client, auth, seller, session):
    auth.login(seller.email)
    response = client.post("/settings/tokens", data={"name": "CI upload"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(dpm_[^"]+)"', html(response)).group(1)

    token = session.scalar(select(ApiToken).where(ApiToken.user_id == seller.id))
    assert token.name == "CI upload"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in token.prefix + token.token_hash

    listing = html(client.get("/settings/tokens"))
    assert "CI upload" in listing and token.prefix in listing
    assert secret not in listing
    assert all(secret not in cookie.value for cookie in client._cookies.values())
    assert services.user_for_token(session, secret) == seller


def test_token_needs_a_name(client, auth, seller):
    auth.login(seller.email)
    page = html(client.post("/settings/tokens", data={"name": ""}))
    assert 'id="name-errors"' in page and "dpm_" not in page


def test_revoke_button_revokes_the_token(client, auth, seller, session):
    token, secret = services.create_api_token(session, seller, "old script")
    session.commit()
    auth.login(seller.email)
    response = client.post(f"/settings/tokens/{token.id}/revoke", follow_redirects=True)
    page = html(response)
    assert "Token revoked" in page and "badge-revoked" in page
    assert services.user_for_token(session, secret) is None


def test_cannot_revoke_someone_elses_token(client, auth, seller, session):
    token, secret = services.create_api_token(session, seller, "seller's")
    other = factories.user(session, email="other@example.org")
    session.commit()
    auth.login(other.email)
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    assert services.user_for_token(session, secret) == seller


# ---------------------------------------------------------------- the frame

@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_public_pages_are_utf8_and_use_the_served_stylesheet(client, path):
    page = html(client.get(path))
    assert '<meta charset="utf-8">' in page
    assert 'href="/static/app.css"' in page
    assert "http://" not in page.split("<body>")[0] and "https://" not in page.split("<body>")[0]


def test_stylesheet_is_served(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200 and ".badge-changes_requested" in html(response)


# ---------------------------------------------------------------- bad input on the identity pages

@pytest.mark.parametrize("path, data", [
    ("/password/reset", {"email": ""}),
    ("/password/reset", {"email": "x" * 300}),
    ("/password/reset", {"email": "not an address"}),
    ("/verify-email/resend", {"email": "not an address"}),
    ("/verify-email/resend", {}),
])
def test_link_request_pages_answer_bad_input_without_error(client, path, data):
    response = client.post(path, data=data, follow_redirects=True)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/verify-email/%00", "/verify-email/" + "x" * 2000, "/password/reset/..%2F.."])
def test_unknown_mailed_links_are_404(client, path):
    assert client.get(path).status_code in (400, 404)


def test_member_pages_refuse_bad_input_clearly(client, auth, session, seller, seller_org, member):
    auth.login(seller.email)
    role_url = f"/organizations/{seller_org.slug}/members/{member.id}/role"
    refused = client.post(role_url, data={"role": "king"}, follow_redirects=True)
    assert refused.status_code == 200 and "Choose owner or member." in html(refused)
    assert client.post(f"/organizations/{seller_org.slug}/members/999999/remove").status_code == 404
    assert client.post(f"/organizations/{seller_org.slug}/members/abc/remove").status_code == 404
    assert client.post(f"/organizations/{seller_org.slug}/invitations/999999/revoke").status_code == 404
    assert services.membership(session, member, seller_org.id).role == MemberRole.MEMBER


def test_password_change_form_refuses_short_and_mismatched_passwords(client, auth, seller):
    auth.login(seller.email)
    page = html(client.post("/settings/password", data={"current_password": factories.PASSWORD,
                                                         "password": "short", "confirm": "different"}))
    assert 'id="password-errors"' in page and "The passwords differ." in page
    assert services.check_password(seller, factories.PASSWORD)


# ---------------------------------------------------------------- internationalised domains and failed mail


def test_signup_at_an_internationalised_domain_is_mailed_in_ascii_and_logs_in_by_either_spelling(
        client, session, smtp):
    response = client.post("/signup", data={**SIGNUP, "email": "ada@bücher.example"})
    assert "Check your inbox" in html(response)
    user = session.scalar(select(User).where(User.email == "ada@bücher.example"))
    assert user is not None
    [received] = smtp.received
    assert received.recipients == ["ada@xn--bcher-kva.example"]
    for spelling in ("ada@xn--bcher-kva.example", "Ada@Bücher.example"):
        login = client.post("/login", data={"email": spelling, "password": SIGNUP["password"]})
        assert login.status_code == 302, spelling
        client.post("/logout")


def test_an_invitation_while_the_mail_server_is_down_is_saved_and_its_mail_waits_in_the_outbox(
        client, auth, seller, seller_org, session, mail_server_down):
    auth.login(seller.email)
    response = client.post(f"/organizations/{seller_org.slug}/invitations",
                           data={"email": "new@bücher.example", "role": "member"})
    assert response.status_code == 302
    page = html(client.get(response.headers["Location"]))
    assert "Invitation sent to new@xn--bcher-kva.example." in page
    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)).all()
    assert message.payload["to"] == "new@xn--bcher-kva.example" and "Connection refused" in message.last_error
    assert [i.email for i in services.pending_invitations(session, seller, seller_org)] == [
        "new@xn--bcher-kva.example"]


def test_signup_asks_for_the_organization_of_buyers_and_sellers_alike(client):
    page = client.get("/signup").get_data(as_text=True)
    assert "Buying or selling data?" in page and "licences are issued to it" in page
    assert "Selling data?" not in page.replace("Buying or selling data?", "")
