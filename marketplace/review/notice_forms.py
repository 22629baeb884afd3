"""Forms of the public notice pages: an objection, a reviewer's decision on it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from marketplace.review.public_notice import MAX_REASONS


class ObjectionForm(FlaskForm):
    organization_id = SelectField(_l("Object for"), coerce=int, validators=[InputRequired()])
    reasons = TextAreaField(_l("Reasons"), validators=[Length(max=MAX_REASONS)],
                            description=_l("What in this product or its registration is wrong, and why."))
    evidence = FileField(_l("Evidence (optional)"), description=_l("A PDF, PNG or JPEG file, or plain text."))

    def __init__(self, organizations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization_id.choices = [SelectChoice(o.id, o.name) for o in organizations]


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("dismiss", _l("Dismiss")),
                                                   SelectChoice("uphold", _l("Uphold"))],
                          validators=[InputRequired(_l("Choose uphold or dismiss."))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=MAX_REASONS)],
                           description=_l("Told to the seller and the objector."))
