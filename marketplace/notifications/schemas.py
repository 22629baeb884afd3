"""The notifications API's bodies."""
from __future__ import annotations

from marshmallow import Schema, fields

from marketplace.schema_fields import row_id


class NotificationSchema(Schema):
    id = fields.Integer()
    subject = fields.Function(lambda note: note.shown("subject"), metadata={"type": "string"})
    body = fields.Function(lambda note: note.shown("body"), metadata={"type": "string"})
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MarkReadInSchema(Schema):
    id = row_id(metadata={"description": "One notification; omit to mark all read."})
