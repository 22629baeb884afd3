"""Notifications in the JSON API."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from marketplace.accounts.auth import require_api_user
from marketplace.extensions import db
from marketplace.notifications import services
from marketplace.notifications.schemas import MarkReadInSchema, NotificationSchema

blp = Blueprint("notifications_api", __name__, description="Your notifications")


@blp.before_request
def _identify_first():
    """Who is asking, before any body or query is read."""
    require_api_user()


class NotificationQuerySchema(Schema):
    unread = fields.Boolean(load_default=False)


@blp.route("/notifications")
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True))
def list_notifications(query):
    """Your latest notifications, newest first."""
    return services.notifications_for(db.session, require_api_user(), unread_only=query["unread"])


@blp.route("/notifications/read", methods=["POST"])
@blp.arguments(MarkReadInSchema, required=False)
@blp.response(200, Schema.from_dict({"marked": fields.Integer()}))
def mark_read(data):
    """Mark one notification (``id``) or all of them read."""
    marked = services.mark_read(db.session, require_api_user(), (data or {}).get("id"))
    db.session.commit()
    return {"marked": marked}
