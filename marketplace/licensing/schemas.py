"""Marshmallow schemas of the licences API (the HTTP edge only): licences held, certificate checks."""
from __future__ import annotations

from marshmallow import Schema, fields

from marketplace.licensing.certificates import certificate_url
from marketplace.licensing.states import LicenceStatus


def enum_values(enum_cls) -> list[str]:
    return [m.value for m in enum_cls]


class PlanRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class ScenarioOutSchema(Schema):
    purpose = fields.String()
    sector = fields.String()
    territory = fields.String()
    expected_users = fields.Integer()
    description = fields.String()


class IssuedLicenceSchema(Schema):
    id = fields.Integer()
    serial = fields.String()
    status = fields.String(metadata={"enum": enum_values(LicenceStatus)})
    order_id = fields.Integer()
    order_number = fields.Function(lambda lic: lic.order.number)
    product = fields.Function(lambda lic: lic.product.slug, metadata={"description": "Product slug."})
    plan = fields.Nested(PlanRefSchema)
    buyer_organization = fields.Function(lambda lic: lic.buyer_organization.slug)
    seller_organization = fields.Function(lambda lic: lic.seller_organization.slug)
    terms = fields.Dict(metadata={"description": "The plan's terms as frozen at issue."})
    scenario = fields.Nested(ScenarioOutSchema)
    version_ids = fields.List(fields.Integer())
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True, metadata={"description": "None: perpetual."})
    status_reason = fields.String()
    certificate_url = fields.Function(lambda lic: certificate_url(lic.serial))


class VerificationSchema(Schema):
    """What a certificate check finds: valid or not, why, the serial, and the licence's status on record."""

    valid = fields.Boolean(required=True)
    reason = fields.String(required=True)
    serial = fields.String(allow_none=True, metadata={
        "description": "A certificate's serial, or a voucher's, an assessment report's or a registration's number."})
    kind = fields.String(metadata={"enum": ["certificate", "voucher", "assessment", "registration"]})
    status = fields.String(allow_none=True, metadata={
        "description": "a licence: active, expired or revoked; a voucher: what happened to its money since; an "
                       "assessment report: signed or withdrawn; a registration: valid, expired, renewed, suspended "
                       "or delisted; null if unknown"})


class VoucherSchema(Schema):
    """A transaction voucher: the signed document as issued, and what happened to its money since."""

    number = fields.String()
    document = fields.Dict(metadata={"description": "The signed voucher: {\"voucher\": statement, \"signature\": "
                                                    "{alg, kid, value}}, as /vouchers/<number>.json downloads it."})
    refunded = fields.Integer(metadata={"description": "Minor units refunded to the buyer since settlement."})
    disputed = fields.Boolean(metadata={"description": "A dispute of the payment is open."})
    dispute_lost = fields.Boolean(metadata={"description": "A dispute reversed the payment."})
