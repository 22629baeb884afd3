"""The notifications API's bodies."""
from __future__ import annotations

from marshmallow import Schema, fields


class NotificationSchema(Schema):
    id = fields.Integer()
    subject = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MarkReadInSchema(Schema):
    id = fields.Integer(strict=True, metadata={"description": "One notification; omit to mark all read."})
