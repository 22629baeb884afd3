"""The webhook endpoint form (the service checks every field, so each error shows with the others)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from marketplace.events.models import EventType
from marketplace.listings.forms import MultiCheckboxField

# What each event type is called on the page.
EVENT_LABELS = {
    EventType.VERSION_LISTED: _l("A held product lists a new version"),
    EventType.DICTIONARY_CHANGED: _l("A new version changes the data dictionary"),
    EventType.SUSPENDED: _l("A held product is suspended"),
    EventType.REINSTATED: _l("A held product is reinstated"),
    EventType.DELISTED: _l("A held product is delisted"),
    EventType.LICENCE_ENDING: _l("A licence nears its end"),
}


class EndpointForm(FlaskForm):
    url = StringField(_l("URL"),
                      description=_l("An https:// address on the public internet that accepts POST requests."))
    event_types = MultiCheckboxField(_l("Events"), choices=lambda: [(t.value, str(label))
                                                                   for t, label in EVENT_LABELS.items()])
    description = StringField(_l("Description"))
