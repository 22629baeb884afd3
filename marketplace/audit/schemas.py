"""The audit report at the API's edge."""
from __future__ import annotations

from marshmallow import Schema, fields


class AuditReportSchema(Schema):
    ok = fields.Boolean(metadata={"description": "The chain and every signed checkpoint hold."})
    checked = fields.Integer(metadata={"description": "Events walked."})
    broken_at = fields.Integer(allow_none=True, metadata={"description": "The first event whose link breaks."})
    reason = fields.String()
    checkpoints = fields.Integer(metadata={"description": "Signed checkpoints checked."})
    problems = fields.List(fields.String(), metadata={"description": "What each failing checkpoint shows."})
