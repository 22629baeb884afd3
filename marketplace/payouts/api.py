"""Payouts in the JSON API: a seller organization's payout account at the provider and its payouts, newest first
(members only; others 404, as its balances)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from marketplace.accounts.auth import require_api_user
from marketplace.accounts.services import organization_for_member
from marketplace.extensions import db
from marketplace.payouts import services
from marketplace.payouts.models import PayoutStatus

blp = Blueprint("payouts_api", __name__, description="Payouts: a seller's payout account and the payouts made to it")
MONEY = {"description": "Integer minor units of the currency (cents, fen)."}


class PayoutAccountOutSchema(Schema):
    provider = fields.String(metadata={"example": "stripe"})
    account_id = fields.String(metadata={"description": "The provider's id of the connected account (acct_...)."})
    charges_enabled = fields.Boolean(metadata={"description": "Whether sales can be paid to the account."})
    payouts_enabled = fields.Boolean(metadata={"description": "Whether the account can be paid out to a bank."})
    requirements_due = fields.List(fields.String(), metadata={
        "description": "What the provider still needs from the seller (its requirement names)."})


class PayoutOutSchema(Schema):
    number = fields.String(metadata={"example": "PO-3F9A2C41B0"})
    currency = fields.String(metadata={"example": "HKD"})
    amount = fields.Integer(metadata=MONEY)
    status = fields.String(metadata={"enum": [s.value for s in PayoutStatus],
                                     "description": "in_transit until the provider says it was paid or failed."})
    provider = fields.String(metadata={"description": "stripe, or simulated."})
    provider_reference = fields.String(allow_none=True, metadata={"description": "The provider's payout (po_...)."})
    arrival_at = fields.DateTime(allow_none=True, metadata={"description": "When the money is expected at the bank."})
    paid_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    failure = fields.String(allow_none=True, metadata={"description": "Why it failed, as the provider said it."})
    created_at = fields.DateTime()


class PayoutsOutSchema(Schema):
    payout_account = fields.Nested(PayoutAccountOutSchema, allow_none=True, metadata={
        "description": "The organization's account at the payment provider; null until it is set up."})
    payouts = fields.List(fields.Nested(PayoutOutSchema))


@blp.before_request
def _identify_first():
    require_api_user()


@blp.route("/organizations/<slug>/payouts")
@blp.response(200, PayoutsOutSchema)
def list_payouts(slug):
    """The organization's payout account and its latest payouts, newest first (members only)."""
    user = require_api_user()
    organization = organization_for_member(db.session, user, slug)
    return {"payout_account": services.payout_account(db.session, organization.id),
            "payouts": services.payouts_of(db.session, user, organization)}
