"""Buyer page forms of an order: the licence request with its use scenario, and the simulated checkout.

Forms only parse; the rules (which scenarios a plan allows, who may license for which organization, the test
cards) live in the services and ``licensing/scenario.py`` and come back as DomainError.errors, mapped onto the
fields by ``apply_domain_errors``.
"""
from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.crossborder.models import MAX_EVIDENCE_NOTE, MAX_FILING_NUMBER
from marketplace.i18n import sentences
from marketplace.licensing.forms import IdempotentForm
from marketplace.licensing.scenario import (
    MAX_DESCRIPTION,
    MAX_EXPECTED_USERS,
    Purpose,
    Sector,
    allowed_purposes,
    allowed_territories,
    description_rule,
)
from marketplace.listings.vocab import Territory


def blank_choice(enum_cls):
    """Choices read when the form is shown, so their labels are in the language of the request."""
    return lambda: [SelectChoice("", _("— choose —")),
                    *(SelectChoice(value, text) for value, text in enum_cls.choices())]


class LicenceRequestForm(IdempotentForm):
    """The organization licensing, the declared use scenario and the acceptance of the plan's terms.

    Choices are not validated here (``validate_choice=False``) so that the scenario's own messages, the same the
    API returns, appear beside the fields.
    """

    organization_id = SelectField(_l("Organization licensing"), choices=[], validate_choice=False,
                                  description=_l("The licence is issued to this organization; every member may "
                                                 "use it."))
    purpose = SelectField(_l("Purpose"), choices=blank_choice(Purpose), validate_choice=False)
    sector = SelectField(_l("Sector"), choices=blank_choice(Sector), validate_choice=False)
    territory = SelectField(_l("Territory of use"), choices=blank_choice(Territory), validate_choice=False,
                            description=_l("Where the data will be used."))
    expected_users = StringField(_l("Expected users"), render_kw={"inputmode": "numeric"},
                                 validators=[Length(max=20)],
                                 description=_l("How many people will work with the data (1 to %(most)s).",
                                                most=format(MAX_EXPECTED_USERS, ",")))
    # The length is the service's rule alone (its message beside the field); maxlength only helps the browser.
    description = TextAreaField(
        _l("Describe the use"), render_kw={"rows": 5, "maxlength": MAX_DESCRIPTION},
        description=LazyString(lambda: sentences(description_rule(),
                                                 _("The licence and its certificate name this scenario."))),
    )
    accept_terms = BooleanField(_l("I accept the licence terms of this plan on behalf of the organization."))
    submit = SubmitField(_l("Request licence"))
    # Shows the trade's cross-boundary position for the organization and territory chosen, placing nothing.
    preview = SubmitField(_l("Check the cross-boundary position"))

    def set_organizations(self, organizations) -> LicenceRequestForm:
        self.organization_id.choices = [SelectChoice(str(o.id), o.name) for o in organizations]
        if not self.is_submitted() and len(organizations) == 1:
            self.organization_id.data = str(organizations[0].id)
        return self

    def limit_to(self, terms) -> LicenceRequestForm:
        """Offer only the purposes and territories the plan's terms allow (the service still checks what comes);
        a single territory is chosen already."""
        purposes = allowed_purposes(terms)
        territories = allowed_territories(terms)
        self.purpose.choices = [SelectChoice("", _("— choose —")),
                                *(SelectChoice(p.value, p.label) for p in purposes)]
        self.territory.choices = [SelectChoice("", _("— choose —")),
                                  *(SelectChoice(t.value, t.label) for t in territories)]
        if not self.is_submitted() and len(territories) == 1:
            self.territory.data = territories[0].value
        return self

    def organization(self) -> int:
        """The chosen organization's id; 0 (nobody's) for anything that is not a number."""
        raw = str(self.organization_id.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0

    def scenario(self) -> dict:
        return {"purpose": self.purpose.data or "", "sector": self.sector.data or "",
                "territory": self.territory.data or "", "expected_users": (self.expected_users.data or "").strip(),
                "description": self.description.data or ""}


class CheckoutForm(FlaskForm):
    """The simulated checkout: a test card number, then pay or leave."""

    card_number = StringField(_l("Card number"), validators=[Length(max=40)],
                              render_kw={"autocomplete": "off", "inputmode": "numeric",
                                         "placeholder": "4242 4242 4242 4242"})
    pay = SubmitField(_l("Pay"))
    cancel = SubmitField(_l("Cancel"))


class EvidenceForm(FlaskForm):
    """The buyer's evidence of the cross-boundary mechanism a trade needs (lengths are the service's rule)."""

    filing_number = StringField(_l("Filing or certificate number"), render_kw={"maxlength": MAX_FILING_NUMBER},
                                description=_l("The standard contract's filing number, the certification's or the "
                                               "security assessment's number."))
    note = TextAreaField(_l("Note to the seller"), render_kw={"rows": 2, "maxlength": MAX_EVIDENCE_NOTE})
    document = FileField(_l("Evidence document (optional)"),
                         description=_l("The filed contract, the certificate or the assessment's decision: a PDF, PNG "
                                        "or JPEG file, or plain text."),
                         render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.txt"})


class EvidenceDecisionForm(FlaskForm):
    """The seller's (or a reviewer's) decision on the buyer's evidence; rejecting gives the buyer a reason."""

    reason = TextAreaField(_l("Reason (to reject)"), render_kw={"rows": 2, "maxlength": MAX_EVIDENCE_NOTE})
    confirm = SubmitField(_l("Confirm the evidence"))
    reject = SubmitField(_l("Reject the evidence"))
