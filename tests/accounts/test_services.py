"""Account rules, called directly: sign-up, log-in, invitations, API tokens."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from marketplace.accounts import services
from marketplace.accounts.models import MemberRole, PlatformRole
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from tests import factories

# ---------------------------------------------------------------- register

def test_register_normalises_email_and_hashes_password(session):
    user = services.register_user(session, email="  Ada@Example.ORG ", password=factories.PASSWORD,
                                  display_name="Ada")
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash
    assert user.platform_role == PlatformRole.NONE


def test_register_with_organization_makes_the_user_its_owner(session):
    user = services.register_user(session, email="ada@example.org", password=factories.PASSWORD,
                                  display_name="Ada", organization_name="Harbour Analytics")
    [membership] = services.memberships_of(session, user)
    assert membership.role == MemberRole.OWNER
    assert membership.organization.slug == "harbour-analytics"


def test_register_refuses_taken_email_case_insensitively(session):
    factories.user(session, email="ada@example.org")
    with pytest.raises(Conflict) as exc:
        services.register_user(session, email="ADA@example.org", password=factories.PASSWORD, display_name="Ada")
    assert "email" in exc.value.errors


@pytest.mark.parametrize("email, password, field", [
    ("not-an-email", factories.PASSWORD, "email"),
    ("ada@example.org", "short", "password"),
])
def test_register_refuses_bad_input_per_field(session, email, password, field):
    with pytest.raises(ValidationFailed) as exc:
        services.register_user(session, email=email, password=password, display_name="Ada")
    assert field in exc.value.errors


def test_register_unknown_locale_falls_back_to_english(session):
    user = services.register_user(session, email="ada@example.org", password=factories.PASSWORD,
                                  display_name="Ada", locale="fr")
    assert user.locale == "en"


# ---------------------------------------------------------------- authenticate

def test_authenticate_accepts_right_password_any_email_case(session):
    user = factories.user(session, email="ada@example.org")
    assert services.authenticate(session, "ADA@example.org", factories.PASSWORD) is user


@pytest.mark.parametrize("email, password", [
    ("ada@example.org", "wrong password!"),
    ("nobody@example.org", factories.PASSWORD),
    ("not an email", factories.PASSWORD),
    ("ada@example.org", ""),
])
def test_authenticate_refuses_with_one_vague_message(session, email, password):
    factories.user(session, email="ada@example.org")
    with pytest.raises(Unauthorized) as exc:
        services.authenticate(session, email, password)
    assert exc.value.message == "Wrong e-mail address or password."


def test_authenticate_refuses_deactivated_user(session):
    user = factories.user(session, email="ada@example.org")
    user.active = False
    with pytest.raises(Unauthorized):
        services.authenticate(session, "ada@example.org", factories.PASSWORD)


# ---------------------------------------------------------------- invitations

@pytest.fixture
def invitee(session):
    return factories.user(session, email="bob@example.org", name="Bob")


def test_invitation_is_accepted_by_the_invited_address(session, seller, seller_org, invitee):
    _, token = services.invite_member(session, seller, seller_org, "Bob@Example.org")
    joined = services.accept_invitation(session, invitee, token)
    assert joined.organization_id == seller_org.id and joined.role == MemberRole.MEMBER
    assert services.pending_invitations(session, seller, seller_org) == []


def test_expired_invitation_is_refused(session, seller, seller_org, invitee):
    invitation, token = services.invite_member(session, seller, seller_org, invitee.email, days=1)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(Conflict, match="expired"):
        services.accept_invitation(session, invitee, token)
    assert services.membership(session, invitee, seller_org.id) is None


def test_signing_up_with_an_invited_address_joins_nothing(session, seller, seller_org):
    services.invite_member(session, seller, seller_org, "new@example.org", MemberRole.OWNER)
    newcomer = factories.user(session, email="new@example.org")
    assert services.memberships_of(session, newcomer) == []


def test_unverified_account_cannot_accept_its_invitation(session, seller, seller_org):
    _, token = services.invite_member(session, seller, seller_org, "new@example.org")
    newcomer = factories.user(session, email="new@example.org", verified=False)
    with pytest.raises(Forbidden, match="Verify your e-mail"):
        services.accept_invitation(session, newcomer, token)
    assert services.membership(session, newcomer, seller_org.id) is None


def test_invitation_for_another_address_is_refused(session, seller, seller_org, invitee):
    _, token = services.invite_member(session, seller, seller_org, "carol@example.org")
    with pytest.raises(Forbidden):
        services.accept_invitation(session, invitee, token)


def test_invitation_cannot_be_accepted_twice(session, seller, seller_org, invitee):
    _, token = services.invite_member(session, seller, seller_org, invitee.email)
    services.accept_invitation(session, invitee, token)
    with pytest.raises(Conflict, match="already"):
        services.accept_invitation(session, invitee, token)


def test_unknown_or_revoked_invitation_is_not_found(session, seller, seller_org, invitee):
    invitation, token = services.invite_member(session, seller, seller_org, invitee.email)
    invitation.revoked_at = utcnow()
    for secret in (token, "no-such-token"):
        with pytest.raises(NotFound):
            services.invitation_for_token(session, secret)
        with pytest.raises(NotFound):
            services.accept_invitation(session, invitee, secret)


def test_only_owners_invite(session, seller, seller_org, invitee):
    _, token = services.invite_member(session, seller, seller_org, invitee.email)
    services.accept_invitation(session, invitee, token)
    with pytest.raises(Forbidden):
        services.invite_member(session, invitee, seller_org, "carol@example.org")


def test_inviting_a_member_again_is_a_conflict(session, seller, seller_org):
    with pytest.raises(Conflict) as exc:
        services.invite_member(session, seller, seller_org, seller.email)
    assert "email" in exc.value.errors


# ---------------------------------------------------------------- API tokens

def test_token_is_stored_as_sha256_and_identifies_its_user(session, seller):
    token, secret = services.create_api_token(session, seller, "ci")
    assert secret.startswith(services.TOKEN_PREFIX) and token.prefix == secret[:10]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert services.user_for_token(session, secret) is seller
    assert token.last_used_at is None  # looking a token up writes nothing; the request stamps it afterwards


def test_a_token_use_is_stamped_at_most_once_a_minute(session, seller):
    token, _ = services.create_api_token(session, seller, "ci")
    session.flush()
    first = utcnow()
    assert services.token_stamp_due(token, first)
    assert services.stamp_token_use(session, token.id, first) is True
    session.refresh(token)
    assert token.last_used_at == first and not services.token_stamp_due(token, first + timedelta(seconds=30))
    assert services.stamp_token_use(session, token.id, first + timedelta(seconds=30)) is False
    later = first + timedelta(minutes=2)
    assert services.stamp_token_use(session, token.id, later) is True
    session.refresh(token)
    assert token.last_used_at == later


def test_revoked_token_no_longer_authenticates(session, seller):
    token, secret = services.create_api_token(session, seller, "ci")
    services.revoke_api_token(session, seller, token.id)
    assert token.revoked_at is not None
    assert services.user_for_token(session, secret) is None


def test_revoking_twice_keeps_the_first_time(session, seller):
    token, _ = services.create_api_token(session, seller, "ci")
    services.revoke_api_token(session, seller, token.id)
    first = token.revoked_at
    services.revoke_api_token(session, seller, token.id)
    assert token.revoked_at == first


def test_user_cannot_revoke_someone_elses_token(session, seller):
    token, secret = services.create_api_token(session, seller, "ci")
    other = factories.user(session)
    with pytest.raises(NotFound):
        services.revoke_api_token(session, other, token.id)
    assert services.user_for_token(session, secret) is seller


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_token_needs_a_name(session, seller, name):
    with pytest.raises(ValidationFailed):
        services.create_api_token(session, seller, name)
