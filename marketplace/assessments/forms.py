"""Page forms of providers and assessments. Forms only parse; the rules live in the services and come back as
DomainError.errors, put beside the fields they name."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from marketplace.assessments.states import REPORT_KINDS, AssessmentKind, Conclusion, ValuationMethod
from marketplace.errors import DomainError
from marketplace.listings.forms import MoneyField, MultiCheckboxField, minor_to_decimal
from marketplace.listings.vocab import Classification, Currency, PersonalInfo


def choices(pairs, blank: bool = False) -> list[SelectChoice]:
    """(value, label) pairs as a select's choices, after a blank one when ``blank``."""
    return [*([SelectChoice("", "—")] if blank else []), *(SelectChoice(v, t) for v, t in pairs)]


class ApplicationForm(FlaskForm):
    services = MultiCheckboxField(_l("Services you offer"), choices=choices(AssessmentKind.choices()),
                                  validate_choice=False)
    qualifications = TextAreaField(_l("Qualifications"), description=_l(
        "Accreditations, membership of a data service provider association, and your experience."))
    document = FileField(_l("A document backing your qualifications (optional)"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"))


class FeeField(MoneyField):
    """A provider's fee typed as a decimal, refused in the words of a fee."""

    not_a_number = _l("Enter the fee as a number, e.g. 1200.00.")
    negative = _l("The fee cannot be negative.")
    too_large = _l("The fee is too large.")


class AcceptForm(FlaskForm):
    fee = FeeField(_l("Your fee (optional)"), description=_l(
        "Shown to the seller with your acceptance; leave it empty if you charge nothing here."))
    currency = SelectField(_l("Currency"), choices=choices(Currency.choices()), validate_choice=False)


class RequestForm(FlaskForm):
    version = SelectField(_l("Version"), validate_choice=False)
    provider = SelectField(_l("Data service provider"), validate_choice=False)
    kind = RadioField(_l("Assessment"), choices=choices(c for c in AssessmentKind.choices() if c[0] in REPORT_KINDS),
                      validate_choice=False)
    note = TextAreaField(_l("Note to the provider (optional)"))


class ComplianceForm(FlaskForm):
    legal_bases = FieldList(TextAreaField(_l("Legal basis")))
    personal_information = SelectField(_l("Personal information present"),
                                       choices=choices(PersonalInfo.choices(), blank=True), validate_choice=False)
    handling = TextAreaField(_l("How personal information is handled"), description=_l(
        "Collection, anonymisation, consent or other lawful basis; write that there is none if so."))
    classification = SelectField(_l("Classification"), choices=choices(Classification.choices(), blank=True),
                                 validate_choice=False)
    classification_reason = TextAreaField(_l("Why this classification (optional)"))
    cross_boundary = TextAreaField(_l("Cross-boundary position"), description=_l(
        "Whether the data may leave the Mainland or Hong Kong, and under which mechanism."))
    conclusion = RadioField(_l("Conclusion"), choices=choices(Conclusion.choices()), validate_choice=False)
    conclusion_text = TextAreaField(_l("Findings and conditions"))

    def report(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}

    draft = report


class CheckForm(Form):
    check = StringField(_l("Check"))
    result = SelectField(_l("Result"), validate_choice=False,
                         choices=choices([("passed", _l("Passed")), ("failed", _l("Failed"))], blank=True))
    detail = StringField(_l("Figures and detail"))


class QualityForm(FlaskForm):
    completeness_percent = StringField(_l("Completeness (per cent)"), description=_l(
        "The share of expected values present, e.g. 99.5."))
    records_examined = StringField(_l("Records examined"))
    accuracy_checks = FieldList(FormField(CheckForm), label=_l("Accuracy checks performed"), min_entries=3)
    timeliness_lag_days = StringField(_l("Timeliness: lag in days"), description=_l(
        "Days between the newest record and its publication."))
    summary = TextAreaField(_l("Summary"))

    def report(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}

    draft = report


class ValuationForm(FlaskForm):
    method = RadioField(_l("Valuation method"), choices=choices(ValuationMethod.choices()), validate_choice=False)
    value_low = MoneyField(_l("Value: low"))
    value_high = MoneyField(_l("Value: high"))
    currency = SelectField(_l("Currency"), choices=choices(Currency.choices()), validate_choice=False)
    basis = TextAreaField(_l("Basis of the valuation"), description=_l(
        "The costs, income streams or comparable trades the value rests on."))
    assumptions = TextAreaField(_l("Assumptions"))

    MONEY = ("value_low", "value_high")

    def report(self) -> dict:
        """The fields as the service takes them: the values in minor units."""
        return {name: (field.minor_units if field.data is not None else None) if name in self.MONEY else field.data
                for name, field in self._fields.items() if name != "csrf_token"}

    draft = report


def draft_data(form_class, draft: dict | None) -> dict:
    """A saved draft as a form's data: what the form shows when the provider comes back to it."""
    data = dict(draft or {})
    for name in getattr(form_class, "MONEY", ()):
        if isinstance(data.get(name), int):
            data[name] = minor_to_decimal(data[name])
    return data


def put_errors(form: FlaskForm, exc: DomainError) -> None:
    """A service's per-field messages beside their fields: ``legal_bases-0`` or ``accuracy_checks-1-result``
    name an entry of a list; anything else goes to the top of the form."""
    for key, messages in (exc.errors or {}).items():
        messages = [messages] if isinstance(messages, str) else list(messages)
        field = _find(form, str(key))
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)
    if not exc.errors:
        form.form_errors.append(exc.message)


def _find(form, key: str):
    name, _, rest = key.partition("-")
    field = form._fields.get(name) if hasattr(form, "_fields") else None
    if field is None or not rest:
        return field
    index, _, rest = rest.partition("-")
    if not index.isdigit() or not isinstance(field, FieldList) or int(index) >= len(field.entries):
        return field
    entry = field.entries[int(index)]
    return _find(entry.form, rest) if rest and isinstance(entry, FormField) else entry
