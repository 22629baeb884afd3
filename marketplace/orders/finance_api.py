"""Money in the JSON API, read from the ledger: a seller organization's balances and monthly statement (members
only; others 404), and a seller's fee rate, set by a platform admin (audited)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from marketplace.accounts.access import Permission, require
from marketplace.accounts.auth import require_api_user
from marketplace.accounts.models import Organization
from marketplace.accounts.services import organization_for_member
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_timezone
from marketplace.ledger.fees import default_fee_bps, fee_rate, set_fee_override
from marketplace.ledger.models import TransactionKind
from marketplace.ledger.sales import MAX_BPS
from marketplace.ledger.statements import parse_month
from marketplace.orders import finance
from marketplace.schema_fields import strict_int

blp = Blueprint("finance_api", __name__, description="Money: a seller's balances and statements, fee rates")
ORG = "/organizations/<slug>"
MONEY = {"description": "Integer minor units of the currency (cents, fen)."}


class BalanceOutSchema(Schema):
    currency = fields.String(metadata={"example": "HKD"})
    pending = fields.Integer(metadata={**MONEY, "description": "Owed, available after the settlement delay."})
    available = fields.Integer(metadata={**MONEY, "description": "Owed and free to be paid out."})
    held = fields.Integer(metadata={**MONEY, "description": "Owed but held while a payment is disputed."})
    in_payout = fields.Integer(metadata={**MONEY, "description": "Paid out, on its way to the seller's bank."})


class StatementLineOutSchema(Schema):
    occurred_at = fields.DateTime()
    # Releases and a payout's arrival move nothing the seller is owed: they make no line.
    kind = fields.String(metadata={"enum": [k.value for k in TransactionKind
                                            if k not in (TransactionKind.RELEASE, TransactionKind.PAYOUT_PAID)]})
    order_id = fields.Integer(allow_none=True)
    gross = fields.Integer(metadata={"description": "Paid by the buyer (+) or given back (-), minor units."})
    fee = fields.Integer(metadata={"description": "The platform fee kept (+) or given back (-), minor units."})
    net = fields.Integer(metadata={"description": "The change in what is owed to the seller, minor units."})
    held = fields.Integer(metadata={"description": "The change in what is held for a dispute, minor units."})


class StatementOutSchema(Schema):
    currency = fields.String()
    month = fields.Function(lambda s: f"{s.month:%Y-%m}", metadata={"example": "2026-12"})
    opening = fields.Integer(metadata=MONEY)
    closing = fields.Integer(metadata=MONEY)
    lines = fields.List(fields.Nested(StatementLineOutSchema))


class FeeInSchema(Schema):
    fee_bps = strict_int(required=True, allow_none=True, validate=validate.Range(0, MAX_BPS), metadata={
        "description": "The seller's own fee in basis points (1000 = 10 %); null returns it to the default."})


class FeeOutSchema(Schema):
    organization = fields.String(attribute="slug")
    fee_bps = fields.Integer(allow_none=True, metadata={"description": "The seller's own rate, or null."})
    effective_fee_bps = fields.Function(fee_rate, metadata={"description": "The rate new orders are charged."})
    default_fee_bps = fields.Function(lambda _org: default_fee_bps())


@blp.before_request
def _identify_first():
    """Who is asking (and, to set a fee, whether a platform admin is), before any body is read."""
    user = require_api_user()
    if request.endpoint == "finance_api.set_fee":
        require(user, Permission.ADMIN)


@blp.route(f"{ORG}/balances")
@blp.response(200, BalanceOutSchema(many=True))
def balances(slug):
    """What the platform owes the organization, per currency: pending, available and held, and what is in payout
    (members only)."""
    user = require_api_user()
    return finance.balances(db.session, user, organization_for_member(db.session, user, slug))


@blp.route(f"{ORG}/statements/<month>")
@blp.response(200, StatementOutSchema(many=True))
def statement(slug, month):
    """The organization's statement of a month (``YYYY-MM``, in your time zone), one per currency: opening
    balance, each sale, refund, dispute step and payout (started, or failed and given back) with gross, fee and
    net, and closing balance. A month not written as YYYY-MM is 404."""
    user = require_api_user()
    organization = organization_for_member(db.session, user, slug)
    found, _orders, _fee = finance.statement(db.session, user, organization, parse_month(month),
                                             ZoneInfo(current_timezone()))
    return found


@blp.route(f"{ORG}/fee", methods=["PUT"])
@blp.arguments(FeeInSchema)
@blp.response(200, FeeOutSchema)
def set_fee(data, slug):
    """Give a seller organization a fee rate of its own, or return it to the default with null (platform admins;
    audited). Orders already placed keep the rate they fixed."""
    user = require_api_user()
    organization = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if organization is None:
        raise NotFound(_("No such organization."))
    return set_fee_override(db.session, user, organization, data["fee_bps"])
