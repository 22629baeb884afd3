"""The platform fee: the default rate from config, a seller organization's own rate set by a platform admin
(audited), and the rate an order fixes when it is placed."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.audit.services import record
from marketplace.errors import ValidationFailed
from marketplace.ledger.sales import MAX_BPS


def default_fee_bps() -> int:
    return int(current_app.config["PLATFORM_FEE_BPS"])


def fee_rate(organization: Organization) -> int:
    """The fee in basis points on this seller's sales now: its own rate, else the platform's default."""
    return organization.fee_bps if organization.fee_bps is not None else default_fee_bps()


def percent(bps: int) -> str:
    """Basis points as a percentage for people: 1000 -> "10", 1250 -> "12.5"."""
    return f"{bps / 100:.2f}".rstrip("0").rstrip(".")


def set_fee_override(session: Session, user: User, organization: Organization, bps: int | None) -> Organization:
    """A platform admin gives the seller a fee rate of its own (0..10000 basis points), or takes it back (None);
    audited with the old and the new rate. Orders already placed keep the rate they fixed. Anything but a whole
    number in range (a form's text, a float) is refused here, for the page and the API alike."""
    require(user, Permission.ADMIN)
    if bps is not None and (isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= MAX_BPS):
        raise ValidationFailed(_("The fee must be a whole number of basis points from 0 to 10000."),
                               {"fee_bps": [_("Enter a whole number from 0 to 10000, or leave it empty.")]})
    before, organization.fee_bps = organization.fee_bps, bps
    record(session, actor_id=user.id, action="organization.fee_set", subject_type="organization",
           subject_id=organization.id, payload={"before": before, "after": bps, "default": default_fee_bps()})
    return organization
