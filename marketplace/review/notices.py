"""What the seller organization is told when a reviewer decides a version or changes a product's status: each member
in their own language (``notify_organization`` writes the words once per member, in their locale). What licence
holders hear of the same moves is ``marketplace.events``'. Also what the seller and an objector hear of a public
notice's steps."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.i18n import N_, current_locale_tag
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.states import ProductAction, VersionStatus
from marketplace.notifications.services import notify_organization
from marketplace.review.checklist import Decision
from marketplace.review.models import ReviewCase
from marketplace.review.notice_models import Objection, PublicNotice

# The notification of each move: its subject and its first sentence (the reason follows).
PRODUCT_WORDS = {
    ProductAction.SUSPEND: (N_("Suspended: %(title)s"),
                            N_("\u201c%(title)s\u201d is suspended: buyers no longer see it; existing licences stay "
                               "valid.")),
    ProductAction.REINSTATE: (N_("Reinstated: %(title)s"), N_("\u201c%(title)s\u201d is listed again.")),
    ProductAction.DELIST: (N_("Delisted: %(title)s"),
                           N_("\u201c%(title)s\u201d is delisted for good; existing licences stay valid until they "
                              "end.")),
}


def notify_decision(session: Session, case: ReviewCase, decision: Decision, comment: str) -> None:
    """Tell the seller organization the decision, each member in their own language."""
    version, product = case.version, case.product
    link = f"/seller/products/{product.id}/versions/{version.number}#review"

    def words() -> dict:
        return {"title": title_for_reader(version), "label": version.label,
                "reg": version.registration_number, "comment": comment}

    if decision == Decision.APPROVE and version.status == VersionStatus.ON_NOTICE:
        def subject() -> str:
            return _("Approved, on public notice: %(title)s v%(label)s", **words())

        def body() -> str:
            text = _("Your version %(label)s of \u201c%(title)s\u201d passed compliance review and is on public notice "
                     "under registration number %(reg)s; it is listed when the notice ends without an upheld "
                     "objection.", **words())
            return text + ("\n\n" + _("Reviewer's note: %(comment)s", **words()) if comment else "")
    elif decision == Decision.APPROVE:
        def subject() -> str:
            return _("Approved and listed: %(title)s v%(label)s", **words())

        def body() -> str:
            text = _("Your version %(label)s of \u201c%(title)s\u201d passed compliance review and is listed under "
                     "registration number %(reg)s.", **words())
            return text + ("\n\n" + _("Reviewer's note: %(comment)s", **words()) if comment else "")
    elif decision == Decision.REQUEST_CHANGES:
        def subject() -> str:
            return _("Changes requested: %(title)s v%(label)s", **words())

        def body() -> str:
            return _("The compliance reviewer asks for changes to version %(label)s of \u201c%(title)s\u201d "
                     "before it can be listed:\n\n%(comment)s\n\nEdit the version and submit it again.", **words())
    else:
        def subject() -> str:
            return _("Rejected: %(title)s v%(label)s", **words())

        def body() -> str:
            return _("Version %(label)s of \u201c%(title)s\u201d was rejected in compliance review:\n\n%(comment)s",
                     **words())
    notify_organization(session, case.organization, subject, body, link)


def title_for_reader(version: ProductVersion) -> str:
    """The version's title in the reader's language: the Chinese title for a Chinese reader, if there is one."""
    return version.title_zh if current_locale_tag() != "en" and version.title_zh else version.title_en


def notify_product_change(session: Session, product: DataProduct, action: ProductAction, reason: str) -> None:
    """Tell the seller organization a product was suspended, reinstated or delisted, and why."""
    subject, sentence = PRODUCT_WORDS[action]
    version = product.listed_version or product.latest_version

    def body() -> str:
        return _(sentence, title=title_for_reader(version)) + "\n\n" + _("Reason: %(reason)s", reason=reason)

    notify_organization(session, product.organization, lambda: _(subject, title=title_for_reader(version)), body,
                        f"/seller/products/{product.id}")


def tell_notice_step(session: Session, notice: PublicNotice, objection: Objection | None, what: str) -> None:
    """Tell the seller (and, for an objection, the objecting organization) a step of a public notice ("filed",
    "uphold", "dismiss", "ended"; "superseded" only the objector), each member in their own language."""
    version = notice.version
    link = f"/notices/{notice.id}"

    def title() -> str:
        return title_for_reader(version)

    subjects = {
        "filed": lambda: _("Objection to the public notice of %(title)s", title=title()),
        "uphold": lambda: _("Objection upheld: %(title)s returns to review", title=title()),
        "dismiss": lambda: _("Objection dismissed: %(title)s", title=title()),
        "ended": lambda: _("Public notice ended: %(title)s is registered", title=title()),
        "superseded": lambda: _("Objection closed: %(title)s returns to review", title=title()),
    }
    bodies = {
        "filed": lambda: _("An objection was filed against the public notice of \u201c%(title)s\u201d (%(number)s). "
                           "A compliance reviewer will decide it.", title=title(),
                           number=notice.registration_number),
        "uphold": lambda: _("The reviewer upheld an objection to \u201c%(title)s\u201d (%(number)s): the version "
                            "returns to compliance review.\n\nReason: %(reason)s", title=title(),
                            number=notice.registration_number, reason=objection.decision_reason),
        "dismiss": lambda: _("The reviewer dismissed an objection to \u201c%(title)s\u201d (%(number)s).\n\n"
                             "Reason: %(reason)s", title=title(), number=notice.registration_number,
                             reason=objection.decision_reason),
        "ended": lambda: _("The public notice of \u201c%(title)s\u201d ended without an upheld objection: its "
                           "registration certificate %(number)s is issued.", title=title(),
                           number=notice.registration_number),
        "superseded": lambda: _("Your objection to \u201c%(title)s\u201d (%(number)s) is closed without a decision "
                                "of its own: another objection was upheld, the version returned to compliance review "
                                "and this notice was withdrawn.", title=title(), number=notice.registration_number),
    }
    if what != "superseded":  # the seller heard of the upheld objection that closed it
        notify_organization(session, notice.organization, subjects[what], bodies[what], link)
    if objection is not None:
        notify_organization(session, objection.organization, subjects[what], bodies[what], link)
