"""The lifecycles of a provider's application and of an assessment, each one table of allowed moves.

Provider: applied -> approved | rejected (a platform admin decides, with a reason to reject); a rejected
organization may apply again; an admin may suspend an approved provider and reinstate it, with a reason each time.
Assessment: requested -> accepted | declined (the provider decides); accepted -> signed (a member of the provider
signs the report, which then never changes; a draft saved before is no state of its own) or declined (before
signing; a paid fee is refunded); signed -> withdrawn (the provider withdraws it with a reason: the report stays
readable, marked withdrawn, and counts for nothing). The seller may take a request back (cancelled), requested or
accepted, until its fee is paid.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from marketplace.lifecycle import Lifecycle, Subject, Words, move
from marketplace.listings.vocab import LabelledEnum, labelled


@labelled({"compliance": _l("Compliance assessment"), "quality": _l("Quality assessment"),
           "valuation": _l("Valuation")})
class AssessmentKind(LabelledEnum):
    COMPLIANCE = "compliance"
    QUALITY = "quality"
    VALUATION = "valuation"


# The kinds a seller may ask for and a provider signs a structured report of.
REPORT_KINDS = (AssessmentKind.COMPLIANCE, AssessmentKind.QUALITY, AssessmentKind.VALUATION)


@labelled({"applied": _l("Waiting for approval"), "approved": _l("Approved provider"),
           "rejected": _l("Application rejected"), "suspended": _l("Suspended provider")})
class ProviderStatus(LabelledEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


@labelled({"requested": _l("Requested"), "accepted": _l("Accepted"), "declined": _l("Declined"),
           "signed": _l("Signed"), "withdrawn": _l("Withdrawn"), "cancelled": _l("Withdrawn by the seller")})
class AssessmentStatus(LabelledEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SIGNED = "signed"
    WITHDRAWN = "withdrawn"  # a signed report its provider withdrew
    CANCELLED = "cancelled"  # the seller took the request back before the provider could start (``fees``)


# While an assessment is in one of these states, the provider's members may read the version it is about.
OPEN_STATES = frozenset({AssessmentStatus.REQUESTED, AssessmentStatus.ACCEPTED})
# A report was signed in these states: it stays public (a withdrawn one marked so).
REPORT_STATES = frozenset({AssessmentStatus.SIGNED, AssessmentStatus.WITHDRAWN})


@labelled({"pass": _l("Pass"), "pass_with_conditions": _l("Pass with conditions"), "fail": _l("Fail")})
class Conclusion(LabelledEnum):
    PASS = "pass"
    PASS_WITH_CONDITIONS = "pass_with_conditions"
    FAIL = "fail"


@labelled({"cost": _l("Cost method"), "income": _l("Income method"), "market": _l("Market method")})
class ValuationMethod(LabelledEnum):
    COST = "cost"
    INCOME = "income"
    MARKET = "market"


class Actor(enum.StrEnum):
    APPLICANT = "applicant"  # an owner of the applying organization
    ADMIN = "admin"          # a platform admin
    PROVIDER = "provider"    # a member of the provider organization
    SELLER = "seller"        # a member of the organization that asked for the assessment


class ProviderAction(enum.StrEnum):
    APPLY = "apply"
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class AssessmentAction(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    SIGN = "sign"
    WITHDRAW = "withdraw"  # the provider, a signed report
    CANCEL = "cancel"      # the seller, its request


# What the lifecycles' refusals call the actors and actions (and a provider's states, whose labels are headings).
ACTOR_WORDS = {Actor.APPLICANT: _l("the applicant"), Actor.ADMIN: _l("an admin"), Actor.PROVIDER: _l("the provider"),
               Actor.SELLER: _l("the seller")}
PROVIDER_ACTION_WORDS = {ProviderAction.APPLY: _l("apply with"), ProviderAction.APPROVE: _l("approve"),
                         ProviderAction.REJECT: _l("reject"), ProviderAction.SUSPEND: _l("suspend"),
                         ProviderAction.REINSTATE: _l("reinstate")}
PROVIDER_STATE_WORDS = {ProviderStatus.APPLIED: _l("waiting for approval"), ProviderStatus.APPROVED: _l("approved"),
                        ProviderStatus.REJECTED: _l("rejected"), ProviderStatus.SUSPENDED: _l("suspended")}
ASSESSMENT_ACTION_WORDS = {AssessmentAction.ACCEPT: _l("accept"), AssessmentAction.DECLINE: _l("decline"),
                           AssessmentAction.SIGN: _l("sign"), AssessmentAction.WITHDRAW: _l("withdraw"),
                           AssessmentAction.CANCEL: _l("withdraw")}

PROVIDER_LIFECYCLE: Lifecycle[ProviderStatus, ProviderAction] = Lifecycle("provider application", {
    (ProviderStatus.APPLIED, ProviderAction.APPROVE): move(ProviderStatus.APPROVED, Actor.ADMIN),
    (ProviderStatus.APPLIED, ProviderAction.REJECT): move(ProviderStatus.REJECTED, Actor.ADMIN),
    (ProviderStatus.REJECTED, ProviderAction.APPLY): move(ProviderStatus.APPLIED, Actor.APPLICANT),
    (ProviderStatus.APPROVED, ProviderAction.SUSPEND): move(ProviderStatus.SUSPENDED, Actor.ADMIN),
    (ProviderStatus.SUSPENDED, ProviderAction.REINSTATE): move(ProviderStatus.APPROVED, Actor.ADMIN),
}, Subject("provider", facts=lambda provider: {"organization_id": provider.organization_id}),
    words=Words(_l("a provider application"), PROVIDER_ACTION_WORDS, ACTOR_WORDS, PROVIDER_STATE_WORDS))

ASSESSMENT_LIFECYCLE: Lifecycle[AssessmentStatus, AssessmentAction] = Lifecycle("assessment request", {
    (AssessmentStatus.REQUESTED, AssessmentAction.ACCEPT): move(AssessmentStatus.ACCEPTED, Actor.PROVIDER),
    (AssessmentStatus.REQUESTED, AssessmentAction.DECLINE): move(AssessmentStatus.DECLINED, Actor.PROVIDER),
    (AssessmentStatus.ACCEPTED, AssessmentAction.SIGN): move(AssessmentStatus.SIGNED, Actor.PROVIDER),
    (AssessmentStatus.SIGNED, AssessmentAction.WITHDRAW): move(AssessmentStatus.WITHDRAWN, Actor.PROVIDER),
    # A provider may still decline an accepted request before signing (its fee, if paid, is refunded); a platform
    # admin refunding its paid fee declines it for the platform (``fees.decline_by_platform``).
    (AssessmentStatus.ACCEPTED, AssessmentAction.DECLINE): move(AssessmentStatus.DECLINED, Actor.PROVIDER,
                                                                Actor.ADMIN),
    # The seller may take a request back until the provider may start (``fees.withdraw_request`` checks the fee).
    (AssessmentStatus.REQUESTED, AssessmentAction.CANCEL): move(AssessmentStatus.CANCELLED, Actor.SELLER),
    (AssessmentStatus.ACCEPTED, AssessmentAction.CANCEL): move(AssessmentStatus.CANCELLED, Actor.SELLER),
}, Subject("assessment", facts=lambda a: {"number": a.number, "version_id": a.version_id,
                                          "provider_id": a.provider_id, "kind": a.kind.value}),
    words=Words(_l("an assessment request"), ASSESSMENT_ACTION_WORDS, ACTOR_WORDS, refusals={
        (AssessmentStatus.WITHDRAWN, AssessmentAction.WITHDRAW): _l("This report was already withdrawn.")}))
