"""The demo's public notice: one approved product that went through its notice with an objection the reviewer
dismissed, and ended with a verifiable registration certificate. The demo back-dates the notice so that it has
ended; every step is the real service's (objection, decision, the end of the notice)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, User
from marketplace.db import utcnow
from marketplace.listings.models import DataProduct
from marketplace.listings.states import ProductStatus
from marketplace.review import public_notice
from marketplace.review.notice_models import NoticeStatus, PublicNotice

OBJECTION = ("The sample lists detector identifiers that look like they could be tied to individual vehicles; "
             "please confirm that no personal information is included.")
DISMISSAL = ("The identifiers name fixed roadside detectors of the Transport Department, not vehicles or people; "
             "the data dictionary says so and the pre-screen found no personal information.")


def demo_public_notice(session: Session, seller_org: Organization, objector: User, objector_org: Organization,
                       reviewer: User) -> str | None:
    """Take the seller's first listed product through its notice: the objector's objection, the reviewer's
    dismissal, the notice back-dated to have ended, its registration certificate issued. The registration number;
    None when the seller has no listed product. Idempotent: a notice that already ended is left as it is."""
    product = session.scalar(select(DataProduct).where(DataProduct.organization_id == seller_org.id,
                                                       DataProduct.status == ProductStatus.LISTED)
                             .order_by(DataProduct.id).limit(1))
    if product is None or product.listed_version is None:
        return None
    notice = session.scalar(select(PublicNotice).where(PublicNotice.version_id == product.listed_version_id)
                            .order_by(PublicNotice.id.desc()).limit(1))
    if notice is None:
        return None
    if notice.status == NoticeStatus.OPEN:
        if not notice.objections:
            objection = public_notice.object_to(session, objector, notice, objector_org, OBJECTION)
            public_notice.decide_objection(session, reviewer, objection, "dismiss", DISMISSAL)
        now = utcnow()
        notice.opens_at = now - timedelta(days=16)
        notice.closes_at = now - timedelta(days=1)
        public_notice.end_notice(session, notice, now)
    return notice.registration_number
