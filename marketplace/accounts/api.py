"""Your account, organizations and invitations in the JSON API; licence and source look-ups."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, pre_dump, validate

from marketplace.accounts import members, services
from marketplace.accounts.auth import require_api_user
from marketplace.accounts.invitations import invite_and_email
from marketplace.accounts.models import MemberRole, Organization
from marketplace.extensions import db
from marketplace.places import Place
from marketplace.schema_fields import URL_PATTERN, line

blp = Blueprint("accounts_api", __name__, description="Your account and organizations; reference look-ups")


@blp.before_request
def _identify_first():
    """An organization's routes name it by slug: who is asking, and whether they belong to it, is decided before
    any body is read, so a stranger gets 401 or 404 whatever the request carries (services ask again)."""
    if "slug" in (request.view_args or {}):
        request.environ[_ORGANIZATION] = services.organization_for_member(
            db.session, require_api_user(), request.view_args["slug"])


_ORGANIZATION = "marketplace.organization"


def _organization() -> Organization:
    """The organization of the route's slug, as the hook above found it for a member (one look-up a request)."""
    return request.environ[_ORGANIZATION]


class MembershipOutSchema(Schema):
    organization = fields.Function(lambda m: m.organization.slug)
    organization_name = fields.Function(lambda m: m.organization.name)
    role = fields.String()


class MeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    email_verified = fields.Boolean()
    locale = fields.String()
    platform_role = fields.String()
    memberships = fields.List(fields.Nested(MembershipOutSchema))


class OrganizationInSchema(Schema):
    name = line(200, min_len=1, blank=False, required=True)
    description = fields.String(validate=validate.Length(max=2000))
    website = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), allow_none=True,
                         metadata={"pattern": URL_PATTERN})
    contact_email = fields.Email(validate=validate.Length(max=254), allow_none=True)


class MemberOutSchema(Schema):
    user_id = fields.Integer()
    email = fields.Function(lambda m: m.user.email)
    display_name = fields.Function(lambda m: m.user.display_name)
    role = fields.String()


class OrganizationOutSchema(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    website = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    location = fields.String(allow_none=True, metadata={
        "description": "Where the organization is established (the cross-boundary rules read it), one of "
                       + ", ".join(p.value for p in Place) + "; set on its page."})
    members = fields.List(fields.Nested(MemberOutSchema), attribute="memberships")


class InvitationInSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(load_default="member", validate=validate.OneOf([r.value for r in MemberRole]))


class MemberRoleInSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in MemberRole]))


class InvitationOutSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    expires_at = fields.DateTime()


class InvitationSentSchema(InvitationOutSchema):
    """A new invitation, and whether its e-mail went out."""

    mail_sent = fields.Boolean(metadata={"description": (
        "Whether the invitation e-mail was handed to the mail server. False: the invitation is saved but the "
        "invitee was not told; revoke it and invite again once mail works.")})

    @pre_dump
    def _flatten(self, sent: dict, **kwargs) -> dict:
        invitation = sent["invitation"]
        return {name: getattr(invitation, name) for name in ("id", "email", "role", "expires_at")} | {
            "mail_sent": sent["mail_sent"]}


@blp.route("/me")
@blp.response(200, MeSchema)
def me():
    """The user of the token, with the organizations they act for."""
    return require_api_user()


@blp.route("/organizations")
@blp.response(200, OrganizationOutSchema(many=True))
def list_organizations():
    return [m.organization for m in services.memberships_of(db.session, require_api_user())]


@blp.route("/organizations", methods=["POST"])
@blp.arguments(OrganizationInSchema)
@blp.response(201, OrganizationOutSchema)
def create_organization(data):
    """Create an organization; you become its owner."""
    org = services.create_organization(db.session, require_api_user(), **data)
    return org


@blp.route("/organizations/<slug>")
@blp.response(200, OrganizationOutSchema)
def get_organization(slug):
    return _organization()


@blp.route("/organizations/<slug>/invitations", methods=["POST"])
@blp.arguments(InvitationInSchema)
@blp.response(201, InvitationSentSchema)
def invite(data, slug):
    """Invite an e-mail address to join (owners whose address is verified; rate-limited). The invitee gets an
    e-mail with the link; ``mail_sent`` says whether it went out (the invitation is saved either way). The
    address is answered in its ASCII form (an internationalised domain as ``xn--``), as it is mailed."""
    user, org = require_api_user(), _organization()
    invitation, sent = invite_and_email(db.session, user, org, data["email"], MemberRole(data["role"]))
    return {"invitation": invitation, "mail_sent": sent}


@blp.route("/organizations/<slug>/invitations")
@blp.response(200, InvitationOutSchema(many=True))
def list_invitations(slug):
    """Invitations of the organization still waiting for an answer (owners only: they name the invitees)."""
    user, org = require_api_user(), _organization()
    return services.pending_invitations(db.session, user, org)


@blp.route("/organizations/<slug>/invitations/<int:invitation_id>", methods=["DELETE"])
@blp.response(204)
def revoke_invitation(slug, invitation_id):
    """Revoke an open invitation (owners only): its link stops working."""
    user, org = require_api_user(), _organization()
    services.revoke_invitation(db.session, user, org, invitation_id)


@blp.route("/organizations/<slug>/members")
@blp.response(200, MemberOutSchema(many=True))
def list_members(slug):
    """The members of the organization and their roles."""
    user, org = require_api_user(), _organization()
    return members.members_of(db.session, user, org)


@blp.route("/organizations/<slug>/members/<int:user_id>", methods=["PATCH"])
@blp.arguments(MemberRoleInSchema)
@blp.response(200, MemberOutSchema)
def change_member_role(data, slug, user_id):
    """Make a member an owner or a plain member (owners only; the last owner stays an owner: 409).
    The member's browser sessions end."""
    user, org = require_api_user(), _organization()
    membership = members.change_member_role(db.session, user, org, user_id, MemberRole(data["role"]))
    return membership


@blp.route("/organizations/<slug>/members/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def remove_member(slug, user_id):
    """Remove a member (owners), or leave (your own user id); the last owner cannot go (409)."""
    user, org = require_api_user(), _organization()
    members.remove_member(db.session, user, org, user_id)
