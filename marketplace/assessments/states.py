"""The lifecycles of a provider's application and of an assessment, each one table of allowed moves.

Provider: applied -> approved | rejected (a platform admin decides, with a reason to reject); a rejected
organization may apply again. Assessment: requested -> accepted | declined (the provider decides); accepted ->
signed (a member of the provider signs the report, which then never changes) or declined (before signing). The
seller may withdraw a request, requested or accepted, until its fee is paid.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from marketplace.lifecycle import Lifecycle, Subject, move
from marketplace.listings.vocab import LabelledEnum, labelled


@labelled({"compliance": _l("Compliance assessment"), "quality": _l("Quality assessment"),
           "valuation": _l("Valuation")})
class AssessmentKind(LabelledEnum):
    COMPLIANCE = "compliance"
    QUALITY = "quality"
    VALUATION = "valuation"  # a service a provider may declare; reports are compliance or quality


# The kinds a seller may ask for and a provider signs a structured report of.
REPORT_KINDS = (AssessmentKind.COMPLIANCE, AssessmentKind.QUALITY)


@labelled({"applied": _l("Waiting for approval"), "approved": _l("Approved provider"),
           "rejected": _l("Application rejected")})
class ProviderStatus(LabelledEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


@labelled({"requested": _l("Requested"), "accepted": _l("Accepted"), "declined": _l("Declined"),
           "signed": _l("Signed"), "withdrawn": _l("Withdrawn")})
class AssessmentStatus(LabelledEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SIGNED = "signed"
    WITHDRAWN = "withdrawn"  # the seller took the request back before the provider could start (``fees``)


# While an assessment is in one of these states, the provider's members may read the version it is about.
OPEN_STATES = frozenset({AssessmentStatus.REQUESTED, AssessmentStatus.ACCEPTED})


@labelled({"pass": _l("Pass"), "pass_with_conditions": _l("Pass with conditions"), "fail": _l("Fail")})
class Conclusion(LabelledEnum):
    PASS = "pass"
    PASS_WITH_CONDITIONS = "pass_with_conditions"
    FAIL = "fail"


class Actor(enum.StrEnum):
    APPLICANT = "applicant"  # an owner of the applying organization
    ADMIN = "admin"          # a platform admin
    PROVIDER = "provider"    # a member of the provider organization
    SELLER = "seller"        # a member of the organization that asked for the assessment


class ProviderAction(enum.StrEnum):
    APPLY = "apply"
    APPROVE = "approve"
    REJECT = "reject"


class AssessmentAction(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    SIGN = "sign"
    WITHDRAW = "withdraw"


PROVIDER_LIFECYCLE: Lifecycle[ProviderStatus, ProviderAction] = Lifecycle("provider application", {
    (ProviderStatus.APPLIED, ProviderAction.APPROVE): move(ProviderStatus.APPROVED, Actor.ADMIN),
    (ProviderStatus.APPLIED, ProviderAction.REJECT): move(ProviderStatus.REJECTED, Actor.ADMIN),
    (ProviderStatus.REJECTED, ProviderAction.APPLY): move(ProviderStatus.APPLIED, Actor.APPLICANT),
}, Subject("provider", facts=lambda provider: {"organization_id": provider.organization_id}))

ASSESSMENT_LIFECYCLE: Lifecycle[AssessmentStatus, AssessmentAction] = Lifecycle("assessment request", {
    (AssessmentStatus.REQUESTED, AssessmentAction.ACCEPT): move(AssessmentStatus.ACCEPTED, Actor.PROVIDER),
    (AssessmentStatus.REQUESTED, AssessmentAction.DECLINE): move(AssessmentStatus.DECLINED, Actor.PROVIDER),
    (AssessmentStatus.ACCEPTED, AssessmentAction.SIGN): move(AssessmentStatus.SIGNED, Actor.PROVIDER),
    # A provider may still decline an accepted request before signing (its fee, if paid, is refunded).
    (AssessmentStatus.ACCEPTED, AssessmentAction.DECLINE): move(AssessmentStatus.DECLINED, Actor.PROVIDER),
    # The seller may take a request back until the provider may start (``fees.withdraw_request`` checks the fee).
    (AssessmentStatus.REQUESTED, AssessmentAction.WITHDRAW): move(AssessmentStatus.WITHDRAWN, Actor.SELLER),
    (AssessmentStatus.ACCEPTED, AssessmentAction.WITHDRAW): move(AssessmentStatus.WITHDRAWN, Actor.SELLER),
}, Subject("assessment", facts=lambda a: {"number": a.number, "version_id": a.version_id,
                                          "provider_id": a.provider_id, "kind": a.kind.value}))
