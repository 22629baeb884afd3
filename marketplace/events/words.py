"""What licence holders read of each event, written for each reader in their language (functions called inside
``in_locale_of``, see ``notifications.services``)."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from marketplace.events.dictionary import DictionaryDiff
from marketplace.events.models import EventType
from marketplace.i18n import N_, day
from marketplace.licensing.models import Licence
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.states import product_reason_in_words
from marketplace.review.notices import title_for_reader

Text = Callable[[], str]

# A product's move, as its holders read it (downloads pause while it is suspended): subject and sentence.
MOVE_WORDS = {
    EventType.SUSPENDED: (N_("Downloads paused: %(title)s"),
                          N_("\u201c%(title)s\u201d, which your organization holds a licence of, is suspended by "
                             "the exchange: its downloads are paused until it is reinstated. Your licence stays "
                             "valid.")),
    EventType.REINSTATED: (N_("Downloads resumed: %(title)s"),
                           N_("\u201c%(title)s\u201d, which your organization holds a licence of, is listed "
                              "again: its downloads are available again.")),
    EventType.DELISTED: (N_("Delisted: %(title)s"),
                         N_("\u201c%(title)s\u201d, which your organization holds a licence of, is delisted by "
                            "the exchange: new buyers cannot license it. Your licence stays valid until it ends.")),
}


def product_move(product: DataProduct, event_type: EventType, reason: str) -> tuple[Text, Text]:
    subject, sentence = MOVE_WORDS[event_type]
    version = product.listed_version or product.latest_version

    def body() -> str:
        return (_(sentence, title=title_for_reader(version)) + "\n\n"
                + _("Reason: %(reason)s", reason=product_reason_in_words(reason)))

    return (lambda: _(subject, title=title_for_reader(version))), body


def dictionary_lines(diff: DictionaryDiff) -> list[str]:
    """The difference, one line per column, in the reader's language."""
    return ([_("+ %(name)s (%(type)s): added", name=n, type=t) for n, t in diff.added]
            + [_("\u2212 %(name)s (%(type)s): removed", name=n, type=t) for n, t in diff.removed]
            + [_("~ %(name)s: type %(before)s \u2192 %(after)s", name=r.name, before=r.before, after=r.after)
               for r in diff.retyped])


def version_listed(version: ProductVersion, previous: ProductVersion, diff: DictionaryDiff) -> tuple[Text, Text]:
    def subject() -> str:
        return _("New version %(label)s: %(title)s", label=version.label, title=title_for_reader(version))

    def body() -> str:
        text = _("\u201c%(title)s\u201d, which your organization holds a licence of, lists a new version "
                 "%(label)s (before: %(previous)s).", title=title_for_reader(version), label=version.label,
                 previous=previous.label)
        if version.changelog:
            text += "\n\n" + _("What changed: %(changelog)s", changelog=version.changelog)
        if diff:
            text += "\n\n" + _("Its data dictionary changed:") + "\n" + "\n".join(dictionary_lines(diff))
        return text

    return subject, body


def licence_ending(licence: Licence) -> tuple[Text, Text]:
    version = licence.product.listed_version or licence.product.latest_version

    def subject() -> str:
        return _("Licence ends on %(day)s: %(title)s", day=day(licence.valid_until), title=title_for_reader(version))

    def body() -> str:
        return _("Your organization's licence %(serial)s of \u201c%(title)s\u201d ends on %(day)s. Renew it before "
                 "then to keep downloading.", serial=licence.serial, title=title_for_reader(version),
                 day=day(licence.valid_until))

    return subject, body
