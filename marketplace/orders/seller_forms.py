"""Forms of the seller's order pages (and the admin's refund): they parse what a browser sends, nothing more.

The rules (a decline needs a message, a refund a reason, who may decide or refund and from which status) live in
``marketplace.orders`` and come back as DomainError.errors keyed by these field names.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length

from marketplace.orders.common import MAX_MESSAGE

# The pages each form can be posted from, and so re-shown on or returned to: names, never URLs (no open redirect).
DECISION_PAGES = ("requests", "order")
REFUND_PAGES = ("sales", "order")


def _page(value: str | None, pages: tuple[str, ...]) -> str:
    return value if value in pages else pages[0]


class DecisionForm(FlaskForm):
    """Approve (message optional) or decline (message required) a licence request; the decision is the button."""

    decision = SelectField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                    SelectChoice("decline", _l("Decline"))],
                           validate_choice=True)
    message = TextAreaField(
        _l("Message to the buyer"), validators=[Length(max=MAX_MESSAGE)],
        description=_l("Optional when you approve; tell the buyer why when you decline."),
    )
    back = HiddenField(default="requests")

    def return_page(self) -> str:
        return _page(self.back.data, DECISION_PAGES)


class RefundForm(FlaskForm):
    """Refund a fulfilled order and revoke its licence, with the reason the buyer is told."""

    reason = TextAreaField(_l("Reason for the refund"), validators=[Length(max=MAX_MESSAGE)],
                           description=_l("The buyer is told this reason. The licence is revoked at once."))
    back = HiddenField(default="sales")

    def return_page(self) -> str:
        return _page(self.back.data, REFUND_PAGES)
