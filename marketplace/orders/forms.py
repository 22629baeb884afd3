"""Buyer page forms of an order: the licence request with its use scenario, and the simulated checkout.

Forms only parse; the rules (which scenarios a plan allows, who may license for which organization, the test
cards) live in the services and ``licensing/scenario.py`` and come back as DomainError.errors, mapped onto the
fields by ``apply_domain_errors``.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.licensing.forms import IdempotentForm
from marketplace.licensing.scenario import MAX_DESCRIPTION, MAX_EXPECTED_USERS, MIN_DESCRIPTION, Purpose, Sector
from marketplace.listings.vocab import Territory


def blank_choice(enum_cls, label: str = "— choose —") -> list[SelectChoice]:
    return [SelectChoice("", label), *(SelectChoice(value, text) for value, text in enum_cls.choices())]


class LicenceRequestForm(IdempotentForm):
    """The organization licensing, the declared use scenario and the acceptance of the plan's terms.

    Choices are not validated here (``validate_choice=False``) so that the scenario's own messages, the same the
    API returns, appear beside the fields.
    """

    organization_id = SelectField("Organization licensing", choices=[], validate_choice=False,
                                  description="The licence is issued to this organization; every member may use it.")
    purpose = SelectField("Purpose", choices=blank_choice(Purpose), validate_choice=False)
    sector = SelectField("Sector", choices=blank_choice(Sector), validate_choice=False)
    territory = SelectField("Territory of use", choices=blank_choice(Territory), validate_choice=False,
                            description="Where the data will be used.")
    expected_users = StringField("Expected users", render_kw={"inputmode": "numeric"},
                                 validators=[Length(max=20)],
                                 description=f"How many people will work with the data (1 to {MAX_EXPECTED_USERS:,}).")
    description = TextAreaField(
        "Describe the use", render_kw={"rows": 5}, validators=[Length(max=MAX_DESCRIPTION * 2)],
        description=f"In your own words, {MIN_DESCRIPTION} to {MAX_DESCRIPTION:,} characters. "
                    "The licence and its certificate name this scenario.",
    )
    accept_terms = BooleanField("I accept the licence terms of this plan on behalf of the organization.")
    submit = SubmitField("Request licence")

    def set_organizations(self, organizations) -> LicenceRequestForm:
        self.organization_id.choices = [SelectChoice(str(o.id), o.name) for o in organizations]
        if not self.is_submitted() and len(organizations) == 1:
            self.organization_id.data = str(organizations[0].id)
        return self

    def organization(self) -> int:
        """The chosen organization's id; 0 (nobody's) for anything that is not a number."""
        raw = str(self.organization_id.data or "").strip()
        return int(raw) if raw.isdigit() and len(raw) < 10 else 0

    def scenario(self) -> dict:
        return {"purpose": self.purpose.data or "", "sector": self.sector.data or "",
                "territory": self.territory.data or "", "expected_users": (self.expected_users.data or "").strip(),
                "description": self.description.data or ""}


class CheckoutForm(FlaskForm):
    """The simulated checkout: a test card number, then pay or leave."""

    card_number = StringField("Card number", validators=[Length(max=40)],
                              render_kw={"autocomplete": "off", "inputmode": "numeric",
                                         "placeholder": "4242 4242 4242 4242"})
    pay = SubmitField("Pay")
    cancel = SubmitField("Cancel")
