"""Issue 10, identity and sessions: each attack on the accounts, tried the way an attacker would, and refused.

Organization takeover through an invitation, a session cookie reused after log-out or after a password or role
change, password guessing, learning who has an account, and reset links that work twice or point elsewhere.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace import create_app
from marketplace.accounts import members, services
from marketplace.accounts.models import AccountToken, ApiToken, MemberRole, PlatformRole, User
from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.i18n import in_locale_of, when
from tests import factories
from tests.support.clients import FreshUserClient

V1 = "/api/v1"
ANALYST = "new.analyst@harbour.example"
NEW_PASSWORD = "a brand new passphrase"


def html(response) -> str:
    return response.get_data(as_text=True)


def link_path(mail, kind: str) -> str:
    """The path of the first link of ``kind`` (invitations, verify-email, password/reset) in an e-mail."""
    return re.search(rf"https?://[^/\s]+(/{kind}/[^\s]+)", mail.body).group(1)


def copy_of(app, client):
    """A second browser holding a copy of ``client``'s session cookie, as a thief would."""
    thief = FreshUserClient(app, app.response_class, use_cookies=True)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def confirm_address(client, mail) -> None:
    """Follow the confirmation link of ``mail`` and press its button, as its recipient would."""
    path = link_path(mail, "verify-email")
    page = html(client.get(path))
    assert "Confirm my address" in page
    client.post(path.split("?")[0])


def signed_in(client) -> bool:
    return client.get("/organizations").status_code == 200


# ---------------------------------------------------------------- organization takeover

def test_invitation_takeover_by_signing_up_with_the_invited_address_fails(
        app, client, auth, session, seller, seller_org, outbox):
    auth.login(seller.email)
    client.post(f"/organizations/{seller_org.slug}/invitations", data={"email": ANALYST, "role": "owner"})
    [invitation_mail] = outbox
    invitation_path = link_path(invitation_mail, "invitations")
    auth.logout()

    # The attacker signs up with the invited address, without the link and without owning the mailbox.
    client.post("/signup", data={"email": ANALYST, "display_name": "Mallory", "password": "mallory's password",
                                 "confirm": "mallory's password", "locale": "en"})
    attacker = session.scalar(select(User).where(User.email == ANALYST))
    assert services.membership(session, attacker, seller_org.id) is None
    auth.login(ANALYST, "mallory's password")
    assert client.get(f"/organizations/{seller_org.slug}").status_code == 404

    # Even holding the link, an unconfirmed address is refused.
    assert "Confirm your e-mail address" in html(client.get(invitation_path))
    refused = client.post(invitation_path, follow_redirects=True)
    assert "Verify your e-mail address before accepting" in html(refused)
    assert services.membership(session, attacker, seller_org.id) is None

    # Only whoever reads the mailbox can confirm it; then the link works, once.
    confirmation_mail = [m for m in outbox if "/verify-email/" in m.body][-1]
    assert confirmation_mail.to == ANALYST
    confirm_address(client, confirmation_mail)
    client.post(invitation_path)
    assert services.membership(session, attacker, seller_org.id).role == MemberRole.OWNER
    assert [e.payload["role"] for e in events(session, "invitation.accepted")] == ["owner"]


def test_a_verified_account_with_another_address_cannot_use_the_link(client, auth, session, seller, seller_org):
    _, token = services.invite_member(session, seller, seller_org, ANALYST)
    other = factories.user(session, email="someone.else@example.org")
    session.commit()
    auth.login(other.email)
    client.post(f"/invitations/{token}")
    assert services.membership(session, other, seller_org.id) is None


def test_revoked_invitation_link_stops_working(client, auth, session, seller, seller_org):
    invitation, token = services.invite_member(session, seller, seller_org, ANALYST)
    analyst = factories.user(session, email=ANALYST)
    session.commit()
    auth.login(seller.email)
    page = html(client.get(f"/organizations/{seller_org.slug}"))
    assert f"/invitations/{invitation.id}/revoke" in page
    client.post(f"/organizations/{seller_org.slug}/invitations/{invitation.id}/revoke")
    auth.logout()
    auth.login(ANALYST)
    assert client.get(f"/invitations/{token}").status_code == 404
    assert client.post(f"/invitations/{token}").status_code == 404
    assert services.membership(session, analyst, seller_org.id) is None
    assert [e.subject_id for e in events(session, "invitation.revoked")] == [invitation.id]


def test_invitation_link_is_single_use(session, seller, seller_org):
    _, token = services.invite_member(session, seller, seller_org, ANALYST)
    analyst = factories.user(session, email=ANALYST)
    services.accept_invitation(session, analyst, token)
    members.remove_member(session, seller, seller_org, analyst.id)
    with pytest.raises(Exception, match="already accepted"):
        services.accept_invitation(session, analyst, token)
    assert services.membership(session, analyst, seller_org.id) is None


def test_a_token_made_before_the_owner_took_the_address_back_stops_working(app, session, seller, seller_org, outbox):
    # The attacker signs up with the victim's address; the address is unproven, so no token is offered ...
    attacker = FreshUserClient(app, app.response_class, use_cookies=True)
    attacker.post("/signup", data={"email": ANALYST, "display_name": "Mallory", "password": "mallory's password",
                                   "confirm": "mallory's password", "locale": "en"})
    attacker.post("/login", data={"email": ANALYST, "password": "mallory's password"})
    assert "Confirm your e-mail address before you create a token" in html(attacker.get("/settings/tokens"))
    refused = attacker.post("/settings/tokens", data={"name": "backdoor"})
    assert refused.status_code == 403 and "Verify your e-mail address first" in html(refused)
    # ... so give them one the way a token made before that rule would exist.
    mallory = session.scalar(select(User).where(User.email == ANALYST))
    secret = services.TOKEN_PREFIX + "made-before-the-rule-existed"
    session.add(ApiToken(user_id=mallory.id, name="backdoor", prefix=secret[:10], token_hash=services.digest(secret)))
    session.commit()
    backdoor = factories.TokenClient(attacker, secret)
    assert backdoor.get(f"{V1}/me").status_code == 200

    # The owner invites the address as owner; its real owner resets the password, as the mail tells them to ...
    _, invitation = services.invite_member(session, seller, seller_org, ANALYST, MemberRole.OWNER)
    session.commit()
    victim = FreshUserClient(app, app.response_class, use_cookies=True)
    victim.post("/password/reset", data={"email": ANALYST})
    reset = link_path(outbox[-1], "password/reset")
    victim.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    victim.post("/login", data={"email": ANALYST, "password": NEW_PASSWORD})
    victim.post(f"/invitations/{invitation}")
    assert services.membership(session, mallory, seller_org.id).role == MemberRole.OWNER

    # ... and the attacker's token no longer opens anything.
    assert backdoor.get(f"{V1}/me").status_code == 401
    assert backdoor.post(f"{V1}/products", json={"organization": seller_org.slug,
                                                 "title_en": "Planted"}).status_code == 401
    [revoked] = events(session, "api_token.revoked")
    assert revoked.payload == {"name": "backdoor", "prefix": secret[:10], "reason": "password_reset"}


def test_an_unverified_account_cannot_create_an_api_token(session):
    user = factories.user(session, email="unverified@example.org", verified=False)
    with pytest.raises(services.Forbidden, match="Verify your e-mail address first"):
        services.create_api_token(session, user, "ci")
    assert services.api_tokens_of(session, user) == []


@pytest.mark.parametrize("how", ["password change", "log out everywhere"])
def test_ending_every_session_revokes_every_api_token(client, auth, session, seller, api_token, how):
    api = factories.TokenClient(client, api_token)
    auth.login(seller.email)
    if how == "password change":
        client.post("/settings/password", data={"current_password": factories.PASSWORD, "password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    else:
        client.post("/settings/logout-everywhere")
    assert api.get(f"{V1}/me").status_code == 401
    reason = {"password change": "password_changed", "log out everywhere": "logged_out_everywhere"}[how]
    assert [e.payload["reason"] for e in events(session, "api_token.revoked")] == [reason]


def test_a_plain_log_out_keeps_api_tokens(client, auth, session, seller, api_token):
    auth.login(seller.email)
    auth.logout()
    assert factories.TokenClient(client, api_token).get(f"{V1}/me").status_code == 200
    assert events(session, "api_token.revoked") == []


def test_an_unverified_owner_cannot_invite(client, auth, session, outbox):
    owner = factories.user(session, email="unverified.owner@example.org", organization="Unproven", verified=False)
    session.commit()
    slug = owner.memberships[0].organization.slug
    auth.login(owner.email)
    page = html(client.get(f"/organizations/{slug}"))
    assert "Confirm your e-mail address first: invitations go out in your name." in page
    assert "Send invitation" not in page
    refused = client.post(f"/organizations/{slug}/invitations", data={"email": ANALYST, "role": "member"})
    assert refused.status_code == 403 and "Verify your e-mail address first" in html(refused)
    with pytest.raises(services.Forbidden):
        services.invite_member(session, owner, owner.memberships[0].organization, ANALYST)
    assert outbox == [] and events(session, "invitation.created") == []


def test_a_plain_member_sees_no_pending_invitations(client, auth, api, session, seller, seller_org, colleague):
    services.invite_member(session, seller, seller_org, ANALYST)
    session.commit()
    auth.login(colleague.email)
    page = html(client.get(f"/organizations/{seller_org.slug}"))
    assert ANALYST not in page and "Pending invitations" not in page
    colleague_api = factories.TokenClient(client, factories.api_token(session, colleague))
    refused = colleague_api.get(f"{V1}/organizations/{seller_org.slug}/invitations")
    assert refused.status_code == 403 and ANALYST not in refused.get_data(as_text=True)
    assert [i["email"] for i in api.get(f"{V1}/organizations/{seller_org.slug}/invitations").get_json()] == [ANALYST]
    with pytest.raises(services.Forbidden):
        services.pending_invitations(session, colleague, seller_org)


# ---------------------------------------------------------------- members

@pytest.fixture
def colleague(session, seller, seller_org):
    _, token = services.invite_member(session, seller, seller_org, "colleague@example.org")
    user = factories.user(session, email="colleague@example.org", name="Colin Colleague")
    services.accept_invitation(session, user, token)
    session.commit()
    return user


def test_last_owner_cannot_leave_be_removed_or_demoted(client, auth, api, session, seller, seller_org, colleague):
    auth.login(seller.email)
    for path, data in [(f"/organizations/{seller_org.slug}/leave", {}),
                       (f"/organizations/{seller_org.slug}/members/{seller.id}/role", {"role": "member"})]:
        page = html(client.post(path, data=data, follow_redirects=True))
        assert "needs at least one owner" in page
    assert services.membership(session, seller, seller_org.id).role == MemberRole.OWNER

    for method, body in [("delete", None), ("patch", {"role": "member"})]:
        resp = getattr(api, method)(f"{V1}/organizations/{seller_org.slug}/members/{seller.id}", json=body)
        assert resp.status_code == 409
        assert resp.get_json()["code"] == "conflict" and set(resp.get_json()) == {"status", "code", "message", "errors"}


def test_owner_promotes_then_leaves_and_a_member_can_leave(client, auth, session, seller, seller_org, colleague):
    auth.login(seller.email)
    client.post(f"/organizations/{seller_org.slug}/members/{colleague.id}/role", data={"role": "owner"})
    assert services.membership(session, colleague, seller_org.id).role == MemberRole.OWNER
    left = client.post(f"/organizations/{seller_org.slug}/leave", follow_redirects=True)
    assert f"You left {seller_org.name}" in html(left)
    assert services.membership(session, seller, seller_org.id) is None
    assert signed_in(client)  # leaving ended the other sessions, not this one
    changes = session.scalars(select(AuditEvent).where(AuditEvent.action.like("membership.%")).order_by(AuditEvent.id))
    assert [e.action for e in changes] == ["membership.role_changed", "membership.left"]


def test_plain_member_cannot_remove_or_promote(client, auth, session, seller, seller_org, colleague):
    auth.login(colleague.email)
    page = html(client.get(f"/organizations/{seller_org.slug}"))
    assert "Change role" not in page and "Leave Harbour Analytics" in page
    assert client.post(f"/organizations/{seller_org.slug}/members/{seller.id}/remove").status_code == 403
    assert client.post(f"/organizations/{seller_org.slug}/members/{colleague.id}/role",
                       data={"role": "owner"}).status_code == 403
    assert services.membership(session, colleague, seller_org.id).role == MemberRole.MEMBER


def test_api_lists_members_changes_roles_removes_and_revokes_invitations(api, session, seller, seller_org, colleague):
    listed = api.get(f"{V1}/organizations/{seller_org.slug}/members").get_json()
    assert [(m["email"], m["role"]) for m in listed] == [(seller.email, "owner"), (colleague.email, "member")]
    changed = api.patch(f"{V1}/organizations/{seller_org.slug}/members/{colleague.id}", json={"role": "owner"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "owner"
    assert api.patch(f"{V1}/organizations/{seller_org.slug}/members/{colleague.id}",
                     json={"role": "king"}).status_code == 422
    assert api.delete(f"{V1}/organizations/{seller_org.slug}/members/{colleague.id}").status_code == 204
    assert api.delete(f"{V1}/organizations/{seller_org.slug}/members/{colleague.id}").status_code == 404

    invitation, _ = services.invite_member(session, seller, seller_org, ANALYST)
    session.commit()
    assert [i["email"] for i in api.get(f"{V1}/organizations/{seller_org.slug}/invitations").get_json()] == [ANALYST]
    assert api.delete(f"{V1}/organizations/{seller_org.slug}/invitations/{invitation.id}").status_code == 204
    assert api.get(f"{V1}/organizations/{seller_org.slug}/invitations").get_json() == []
    assert api.delete(f"{V1}/organizations/{seller_org.slug}/invitations/999999").status_code == 404


# ---------------------------------------------------------------- sessions

def test_cookie_copied_before_logout_is_refused(app, client, auth, seller):
    auth.login(seller.email)
    thief = copy_of(app, client)
    assert signed_in(thief)
    auth.logout()
    assert not signed_in(thief)
    assert not signed_in(client)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, session, seller):
    auth.login(seller.email)
    thief = copy_of(app, client)
    wrong = client.post("/settings/password", data={"current_password": "not my password", "password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert "Wrong password." in html(wrong)
    assert signed_in(thief)
    done = client.post("/settings/password", data={"current_password": factories.PASSWORD,
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/settings"
    assert signed_in(client) and not signed_in(thief)
    assert services.authenticate(session, seller.email, NEW_PASSWORD) == seller
    assert len(events(session, "account.password_changed")) == 1


def test_organization_role_change_ends_the_members_sessions(app, client, auth, session, seller, seller_org, colleague):
    auth.login(colleague.email)
    colleague_browser = copy_of(app, client)
    auth.logout()
    auth.login(seller.email)
    client.post(f"/organizations/{seller_org.slug}/members/{colleague.id}/role", data={"role": "owner"})
    assert not signed_in(colleague_browser)
    assert signed_in(client)


def test_removed_member_is_signed_out(app, client, auth, session, seller, seller_org, colleague):
    colleague_browser = FreshUserClient(app, app.response_class, use_cookies=True)
    colleague_browser.post("/login", data={"email": colleague.email, "password": factories.PASSWORD})
    assert colleague_browser.get(f"/organizations/{seller_org.slug}").status_code == 200
    auth.login(seller.email)
    client.post(f"/organizations/{seller_org.slug}/members/{colleague.id}/remove")
    assert not signed_in(colleague_browser)


def test_platform_role_change_ends_the_users_sessions(app, client, auth, session, seller):
    auth.login(seller.email)
    services.set_platform_role(session, seller.email, PlatformRole.REVIEWER)
    session.commit()
    assert not signed_in(client)
    [event] = events(session, "account.platform_role_changed")
    assert event.payload == {"from": "none", "to": "reviewer"}


def test_log_out_everywhere_ends_every_session(app, client, auth, seller):
    auth.login(seller.email)
    laptop = copy_of(app, client)
    assert "Log out everywhere" in html(client.get("/settings"))
    client.post("/settings/logout-everywhere")
    assert not signed_in(client) and not signed_in(laptop)


def test_session_cookie_without_the_current_version_is_refused(app, client, auth, seller):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    for user_id in (str(seller.id), f"{seller.id}:0", f"{seller.id}:x", "junk"):
        client.set_cookie("session", serializer.dumps({"_user_id": user_id, "_fresh": True}))
        assert not signed_in(client)


def test_csrf_token_is_renewed_at_log_in(app, seller):
    csrf_app = create_app("testing", WTF_CSRF_ENABLED=True,
                          SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    browser = FreshUserClient(csrf_app, csrf_app.response_class, use_cookies=True)

    def token(page) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html(page)).group(1)

    before = token(browser.get("/login"))
    logged_in = browser.post("/login", data={"email": seller.email, "password": factories.PASSWORD,
                                             "csrf_token": before})
    assert logged_in.status_code == 302
    assert browser.post("/organizations", data={"name": "Planted", "csrf_token": before}).status_code == 400
    after = token(browser.get("/organizations"))
    assert after != before
    assert browser.post("/organizations", data={"name": "Fresh", "csrf_token": after}).status_code == 302


def test_a_session_seen_from_another_browser_must_log_in_again_to_create_a_token(app, client, session, seller):
    client.post("/login", data={"email": seller.email, "password": factories.PASSWORD},
                headers={"User-Agent": "Laptop"})
    thief = copy_of(app, client)
    assert thief.get("/settings/tokens", headers={"User-Agent": "Elsewhere"}).status_code == 200
    refused = thief.post("/settings/tokens", data={"name": "exfiltrate"}, headers={"User-Agent": "Elsewhere"})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert services.api_tokens_of(session, seller) == []


# ---------------------------------------------------------------- password guessing

def test_thirty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(client, auth, session, seller):
    pages = [html(auth.login(seller.email, f"guess number {n}")) for n in range(30)]
    assert all("Wrong e-mail address or password." in page for page in pages)
    right = html(auth.login(seller.email))
    assert "Wrong e-mail address or password." in right
    assert not signed_in(client)
    assert seller.locked_until > utcnow()

    failures = events(session, "account.login_failed")
    assert len(failures) == 31
    assert {e.subject_id for e in failures} == {seller.id}
    assert all("guess" not in str(e.payload) and factories.PASSWORD not in str(e.payload) for e in failures)
    assert [e.payload["reason"] for e in failures[:5]] == ["wrong_password"] * 5
    assert {e.payload["reason"] for e in failures[5:]} == {"locked"}


def test_lock_grows_with_each_run_of_failures_and_success_resets_the_count(session, seller):
    for _ in range(4):
        with pytest.raises(services.Unauthorized):
            services.authenticate(session, seller.email, "wrong guess")
    assert services.authenticate(session, seller.email, factories.PASSWORD) == seller
    assert seller.failed_login_count == 0

    locks = []
    for _ in range(2):
        for _ in range(services.MAX_FAILED_LOGINS):
            with pytest.raises(services.Unauthorized):
                services.authenticate(session, seller.email, "wrong guess")
        locks.append(seller.locked_until - utcnow())
        seller.locked_until = utcnow() - timedelta(seconds=1)  # the lock ran out
    assert timedelta(minutes=14) < locks[0] <= timedelta(minutes=15)
    assert timedelta(minutes=29) < locks[1] <= timedelta(minutes=30)
    assert services.authenticate(session, seller.email, factories.PASSWORD) == seller


def test_failures_are_counted_in_the_database_not_on_a_stale_copy(session, seller):
    assert seller.failed_login_count == 0  # this request read the user ...
    # ... while concurrent requests counted three failures of their own.
    session.execute(update(User).where(User.id == seller.id).values(failed_login_count=3)
                    .execution_options(synchronize_session=False))
    with pytest.raises(services.Unauthorized):
        services.authenticate(session, seller.email, "wrong guess")
    assert seller.failed_login_count == 4
    with pytest.raises(services.LoginRefused) as refused:
        services.authenticate(session, seller.email, "wrong guess")
    assert refused.value.newly_locked is seller and seller.locked_until > utcnow()


def test_a_long_history_of_failures_locks_for_at_most_a_day(session, seller):
    session.execute(update(User).where(User.id == seller.id).values(failed_login_count=10**6 - 1)
                    .execution_options(synchronize_session=False))
    with pytest.raises(services.LoginRefused):
        services.authenticate(session, seller.email, "wrong guess")
    assert utcnow() < seller.locked_until <= utcnow() + services.MAX_LOCK


def test_a_locked_account_and_an_unknown_address_get_the_same_answer(client, auth, seller):
    for n in range(services.MAX_FAILED_LOGINS):
        auth.login(seller.email, f"guess number {n}")
    locked = auth.login(seller.email, factories.PASSWORD)
    unknown = auth.login("nobody@example.org", factories.PASSWORD)
    assert _normalised(locked, seller.email) == _normalised(unknown, "nobody@example.org")
    page = html(locked)
    assert "Wrong e-mail address or password." in page and "locked" not in page.split("After repeated")[0]
    assert "After repeated failed log-ins an account is locked for a while" in page
    assert 'href="/password/reset"' in page


def test_locking_an_account_mails_its_owner_once_with_a_reset_link(app, auth, seller, outbox):
    for n in range(services.MAX_FAILED_LOGINS + 3):
        auth.login(seller.email, f"guess number {n}")
    [mail] = outbox
    assert mail.to == seller.email and "locked" in mail.subject
    with app.test_request_context(), in_locale_of(seller):  # the owner's own time zone, named
        assert f"until {when(seller.locked_until, 'zone')}:" in mail.body
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert re.findall(r"https?://\S+", mail.body) == [f"{base}/password/reset"]


def test_failed_log_in_keeps_only_a_well_formed_address(auth, session):
    auth.login("my secret passphrase", "oops")
    auth.login("Someone@Example.org", "wrong")
    assert [e.payload for e in events(session, "account.login_failed")] == [
        {"email": None, "malformed": True, "reason": "unknown_address"},
        {"email": "someone@example.org", "reason": "unknown_address"}]


def test_failed_log_in_with_an_unknown_address_is_audited(client, auth, session):
    page = html(auth.login("Nobody@Example.org", "some password"))
    assert "Wrong e-mail address or password." in page
    [event] = events(session, "account.login_failed")
    assert (event.actor_id, event.subject_type, event.subject_id) == (None, "user", None)
    assert event.payload == {"email": "nobody@example.org", "reason": "unknown_address"}


def test_log_in_and_log_out_are_audited(client, auth, session, seller):
    auth.login(seller.email)
    auth.logout()
    assert [(e.action, e.actor_id) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["account.logged_in", "account.logged_out"]))
        .order_by(AuditEvent.id))] == [
        ("account.logged_in", seller.id), ("account.logged_out", seller.id)]


# ---------------------------------------------------------------- who has an account

def _normalised(response, email: str) -> tuple[int, str | None, str]:
    return response.status_code, response.headers.get("Location"), html(response).replace(email, "EMAIL")


def test_signup_answers_the_same_for_taken_and_free_addresses(client, seller):
    data = {"display_name": "Eve", "password": "eve's long password", "confirm": "eve's long password",
            "locale": "en"}
    taken = client.post("/signup", data={**data, "email": seller.email})
    free = client.post("/signup", data={**data, "email": "free@example.org"})
    assert _normalised(taken, seller.email) == _normalised(free, "free@example.org")


@pytest.mark.parametrize("path", ["/password/reset", "/verify-email/resend"])
def test_reset_and_resend_answer_the_same_for_known_and_unknown_addresses(client, session, path, outbox):
    unverified = factories.user(session, email="unverified@example.org", verified=False)
    session.commit()
    known = client.post(path, data={"email": unverified.email}, follow_redirects=True)
    unknown = client.post(path, data={"email": "nobody@example.org"}, follow_redirects=True)
    assert _normalised(known, unverified.email) == _normalised(unknown, "nobody@example.org")
    assert [m.to for m in outbox] == [unverified.email]


# ---------------------------------------------------------------- password reset

def test_reset_link_sets_a_new_password_once_and_ends_every_session(app, client, auth, session, seller, outbox):
    auth.login(seller.email)
    other_browser = copy_of(app, client)
    anonymous = FreshUserClient(app, app.response_class, use_cookies=True)
    anonymous.post("/password/reset", data={"email": seller.email})
    path = link_path(outbox[-1], "password/reset")
    assert "Choose a new password" in html(anonymous.get(path))
    done = anonymous.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/login"
    assert not signed_in(client) and not signed_in(other_browser)

    again = anonymous.post(path, data={"password": "another new password", "confirm": "another new password"})
    assert again.status_code == 409 and "already used" in html(again)
    assert services.authenticate(session, seller.email, NEW_PASSWORD) == seller
    assert [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action.like("account.password_reset%")).order_by(AuditEvent.id))] == [
        "account.password_reset_requested", "account.password_reset"]


def test_expired_or_unknown_reset_link_says_so(client, session, seller, outbox):
    client.post("/password/reset", data={"email": seller.email})
    path = link_path(outbox[-1], "password/reset")
    session.scalar(select(AccountToken)).expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    expired = client.get(path)
    assert expired.status_code == 409 and "expired" in html(expired)
    refused = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 409
    assert client.get("/password/reset/not-a-token").status_code == 404
    assert services.authenticate(session, seller.email, factories.PASSWORD) == seller


def test_reset_lifts_a_lock(client, auth, session, seller, outbox):
    for _ in range(services.MAX_FAILED_LOGINS):
        auth.login(seller.email, "wrong guess")
    client.post("/password/reset", data={"email": seller.email})
    path = link_path(outbox[-1], "password/reset")
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert auth.login(seller.email, NEW_PASSWORD).headers["Location"] == "/seller/"


def test_reset_token_is_stored_hashed(client, session, seller, outbox):
    client.post("/password/reset", data={"email": seller.email})
    secret = link_path(outbox[-1], "password/reset").rsplit("/", 1)[1]
    stored = session.scalar(select(AccountToken))
    assert stored.token_hash == services.digest(secret) and secret not in stored.token_hash


# ---------------------------------------------------------------- e-mail verification

def test_confirmation_link_verifies_once(client, session, outbox):
    client.post("/signup", data={"email": "ada@example.org", "display_name": "Ada", "password": "analytical engine",
                                 "confirm": "analytical engine", "locale": "en"})
    [mail] = outbox
    path = link_path(mail, "verify-email")
    confirm_address(client, mail)
    ada = session.scalar(select(User).where(User.email == "ada@example.org"))
    assert ada.email_verified
    used = client.post(path.split("?")[0])
    assert used.status_code == 409 and "already used" in html(used)
    assert [e.subject_id for e in events(session, "account.email_verified")] == [ada.id]
    assert [e.subject_id for e in events(session, "account.signed_up")] == [ada.id]


def test_expired_confirmation_link_says_so_and_offers_a_new_one(client, session, outbox):
    client.post("/signup", data={"email": "ada@example.org", "display_name": "Ada", "password": "analytical engine",
                                 "confirm": "analytical engine", "locale": "en"})
    session.scalar(select(AccountToken)).expires_at = utcnow() - timedelta(hours=1)
    session.commit()
    page = client.get(link_path(outbox[0], "verify-email"))
    assert page.status_code == 409 and "expired" in html(page) and "/verify-email/resend" in html(page)


def test_unverified_user_sees_a_banner_with_a_resend_button(client, auth, session, outbox):
    user = factories.user(session, email="unverified@example.org", verified=False)
    session.commit()
    auth.login(user.email)
    page = html(client.get("/organizations"))
    assert "Please confirm your e-mail address" in page and 'action="/verify-email/resend"' in page
    client.post("/verify-email/resend", data={"email": user.email})
    assert [m.to for m in outbox] == [user.email]


def test_verified_user_sees_no_banner(client, auth, seller):
    auth.login(seller.email)
    assert "Please confirm your e-mail address" not in html(client.get("/organizations"))


# ---------------------------------------------------------------- links come from PUBLIC_BASE_URL

def test_links_in_emails_ignore_a_hostile_host_header(app, client, auth, session, seller, seller_org, outbox):
    hostile = {"Host": "evil.example"}
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    client.post("/password/reset", data={"email": seller.email}, headers=hostile)
    client.post("/signup", data={"email": "ada@example.org", "display_name": "Ada", "password": "analytical engine",
                                 "confirm": "analytical engine", "locale": "en"}, headers=hostile)
    client.post("/login", data={"email": seller.email, "password": factories.PASSWORD}, headers=hostile)
    client.post(f"/organizations/{seller_org.slug}/invitations", data={"email": ANALYST, "role": "member"},
                headers=hostile)
    assert len(outbox) == 3
    for mail in outbox:
        links = re.findall(r"https?://\S+", mail.body)
        assert links and all(link.startswith(base + "/") for link in links), mail.body
        assert "evil.example" not in mail.body


# ---------------------------------------------------------------- the rest of the audit trail

def test_api_tokens_are_audited(client, auth, session, seller):
    auth.login(seller.email)
    client.post("/settings/tokens", data={"name": "CI"})
    token = services.api_tokens_of(session, seller)[0]
    client.post(f"/settings/tokens/{token.id}/revoke")
    assert [(e.action, e.subject_id, e.payload["name"]) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("api_token.%")).order_by(AuditEvent.id))] == [
        ("api_token.created", token.id, "CI"), ("api_token.revoked", token.id, "CI")]
    assert token.token_hash not in str([e.payload for e in events(session, "api_token.created")])


def test_creating_an_organization_is_audited_from_the_page_the_sign_up_and_the_api(client, auth, api, session,
                                                                                     seller):
    auth.login(seller.email)
    client.post("/organizations", data={"name": "From The Page"})
    auth.logout()
    client.post("/signup", data={"email": "ada@example.org", "display_name": "Ada", "password": "analytical engine",
                                 "confirm": "analytical engine", "locale": "en", "organization_name": "From Sign-up"})
    api.post(f"{V1}/organizations", json={"name": "From The API"})
    ada = session.scalar(select(User).where(User.email == "ada@example.org"))
    created = events(session, "organization.created")[-3:]
    assert [(e.actor_id, e.subject_type, e.payload) for e in created] == [
        (seller.id, "organization", {"slug": "from-the-page", "name": "From The Page"}),
        (ada.id, "organization", {"slug": "from-sign-up", "name": "From Sign-up"}),
        (seller.id, "organization", {"slug": "from-the-api", "name": "From The API"})]


def test_invitation_created_is_audited_without_its_secret(session, seller, seller_org):
    invitation, token = services.invite_member(session, seller, seller_org, ANALYST, MemberRole.OWNER)
    [event] = events(session, "invitation.created")
    assert (event.actor_id, event.subject_id) == (seller.id, invitation.id)
    assert event.payload == {"organization": seller_org.slug, "email": ANALYST, "role": "owner"}
    assert token not in str(event.payload)
