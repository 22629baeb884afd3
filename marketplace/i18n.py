"""The interface's languages: three locales, how a request's is chosen, and dates, numbers and money through Babel.

A locale has a public tag (BCP 47: what the switcher posts, the cookie and a user's preference hold, and what
``<html lang>`` says) and a Babel identifier (what formats numbers and names the message catalog). zh-Hans is
mainland usage (its catalog ``zh_Hans``, formats of ``zh_Hans_CN``); zh-Hant-HK is Hong Kong usage.

A request's locale: a signed-in user's saved preference, then the switcher's cookie, then Accept-Language, then
English. The JSON API answers in the language its client asks for (Accept-Language first), since a token's
client is a program whose reader may not be the token's owner. URLs never carry the locale.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers, support
from flask import Flask, has_request_context, request
from flask.globals import _cv_app, _cv_request  # the contexts themselves, without a proxy
from flask_babel import (
    Babel,
    Domain,
    LazyString,
    force_locale,
    refresh,
)
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from marketplace.chinese import script_of

LOCALES = ("en", "zh-Hans", "zh-Hant-HK")
DEFAULT_LOCALE = "en"
BABEL_IDS = {"en": "en_HK", "zh-Hans": "zh_Hans", "zh-Hant-HK": "zh_Hant_HK"}
# Each locale named in its own language, for the switcher.
LOCALE_NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant-HK": "繁體中文（香港）"}
TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong")
TIMEZONE_NAMES = {"Asia/Shanghai": "Asia/Shanghai", "Asia/Hong_Kong": "Asia/Hong_Kong"}
LOCALE_COOKIE = "locale"
COOKIE_MAX_AGE = 365 * 24 * 3600
API_PATH = "/api/"
_CACHE = "marketplace.locale"
# The locale and time zone of the person a message is being written for (``in_locale_of``), over the request's.
_RECIPIENT: ContextVar[tuple[str, str | None] | None] = ContextVar("marketplace.recipient", default=None)


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs without translating it now (pybabel extracts ``N_``): for English kept in
    tables and translated with ``gettext`` where it is shown."""
    return text


def locale_tag(value: object) -> str | None:
    """The locale a language tag asks for, or None: any English is en; Traditional Chinese and the Chinese of
    Hong Kong, Macau and Taiwan are zh-Hant-HK; other Chinese (zh, zh-CN, zh-SG, zh-Hans) is zh-Hans."""
    if not isinstance(value, str):
        return None
    v = value.strip().replace("_", "-").lower()
    if v == "en" or v.startswith("en-"):
        return "en"
    if v == "zh-hant" or v.startswith(("zh-hant-", "zh-hk", "zh-mo", "zh-tw")):
        return "zh-Hant-HK"
    if v == "zh" or v.startswith("zh-"):
        return "zh-Hans"
    return None


def _accepted() -> str | None:
    for value, quality in request.accept_languages:
        tag = locale_tag(value)
        if tag and quality > 0:
            return tag
    return None


def _saved() -> str | None:
    user = current_user
    return locale_tag(getattr(user, "locale", None)) if user and user.is_authenticated else None


def current_locale_tag() -> str:
    """The locale of the request at hand (English outside a request), or of the recipient inside
    ``in_locale_of``."""
    recipient = _RECIPIENT.get()
    if recipient is not None:
        return recipient[0]
    request_context = _cv_request.get(None)
    if request_context is None:
        return DEFAULT_LOCALE
    # Kept on the request (not on g: an app context can outlive one request, as in tests).
    tag = request_context.request.environ.get(_CACHE)
    if tag is None:
        if request.path.startswith(API_PATH):
            chosen = _accepted() or _saved()
        else:
            chosen = _saved() or locale_tag(request.cookies.get(LOCALE_COOKIE)) or _accepted()
        tag = request.environ[_CACHE] = chosen or DEFAULT_LOCALE
    return tag


def visitor_locale_tag() -> str:
    """The request's locale as far as it can be told without the database (the switcher's cookie, then
    Accept-Language): for pages shown while the database is down."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = request.environ.get(_CACHE) or locale_tag(request.cookies.get(LOCALE_COOKIE)) or _accepted()
    return chosen or DEFAULT_LOCALE


def forget_locale() -> None:
    """Choose the request's locale again (after the user changed their preference)."""
    if has_request_context():
        request.environ.pop(_CACHE, None)
        refresh()


def default_timezone(tag: str) -> str:
    return "Asia/Shanghai" if tag == "zh-Hans" else "Asia/Hong_Kong"


def current_timezone() -> str:
    """The user's chosen time zone, or the one of the locale's city (the recipient's inside ``in_locale_of``)."""
    recipient = _RECIPIENT.get()
    if recipient is not None:
        return recipient[1] if recipient[1] in TIMEZONES else default_timezone(recipient[0])
    user = current_user if has_request_context() else None
    chosen = getattr(user, "timezone", None) if user and user.is_authenticated else None
    return chosen if chosen in TIMEZONES else default_timezone(current_locale_tag())


@contextmanager
def in_locale_of(user: object) -> Iterator[str]:
    """Write for ``user`` (anything with ``locale`` and ``timezone``, or a locale tag): inside the block gettext,
    templates, ``money``, ``when`` and ``day`` use their locale and time zone, whoever made the request (an
    e-mail, a notification). Yields the locale tag."""
    if isinstance(user, str) or user is None:
        tag, zone = locale_tag(user) or DEFAULT_LOCALE, None
    else:
        tag, zone = locale_tag(getattr(user, "locale", None)) or DEFAULT_LOCALE, getattr(user, "timezone", None)
    token = _RECIPIENT.set((tag, zone))
    try:
        with force_locale(BABEL_IDS[tag]):
            yield tag
    finally:
        _RECIPIENT.reset(token)


def _select_locale() -> str:
    return BABEL_IDS[current_locale_tag()]


# ---------------------------------------------------------------- formatting
# Babel's own functions with the locale and zone named here, so mail rendered by a job formats the same way.


@cache
def _parsed(babel_id: str) -> Locale:
    return Locale.parse(babel_id)


def babel_locale() -> Locale:
    return _parsed(BABEL_IDS[current_locale_tag()])


class _Catalogs(Domain):
    """Flask-Babel's messages domain, with each context's catalog kept beside the locale it is for.

    Flask-Babel finds the catalog again on every gettext (the context through three proxies, the locale, its name,
    the cache): a catalog page of 24 products asks about 200 times. Here it is found once per locale a context uses,
    read straight from the app context: ``force_locale`` and ``refresh`` set or clear the context's locale object,
    so a catalog kept for another object is found anew."""

    def kept(self) -> tuple[str, support.NullTranslations]:
        """The catalog at hand and its locale's id ("en", "zh_Hans", "zh_Hant_HK"): a key for what is kept per
        locale, which follows ``force_locale`` as the catalog does."""
        app_context = _cv_app.get(None)
        if app_context is None:
            return BABEL_IDS[DEFAULT_LOCALE], support.NullTranslations()
        babel = getattr(app_context.g, "_flask_babel", None)
        if babel is not None:
            kept = getattr(babel, "marketplace_catalog", None)
            if kept is not None and kept[0] is getattr(babel, "babel_locale", None):
                return kept[1], kept[2]
        translations = super().get_translations()  # chooses the locale (babel_locale) if none is set yet
        babel = app_context.g._flask_babel
        locale = getattr(babel, "babel_locale", None)
        babel.marketplace_catalog = (locale, str(locale), translations)
        return str(locale), translations

    def get_translations(self):
        return self.kept()[1]


_CATALOGS = _Catalogs()
_ENGLISH = BABEL_IDS[DEFAULT_LOCALE]


# Jinja's own newstyle gettext takes the template's whole context, and inside a loop or block derives a new one
# (copying its variables) for every call; these take only the evaluation context, which says whether to escape,
# and otherwise do what Jinja's do: the message is always a format string, its values escaped in HTML.


def _filled(text: str, values: dict, escape: bool) -> str:
    # A message with its values: in HTML the message is markup and its values are escaped; Jinja's rule that a
    # message is always a format string holds (formatting a text without "%" gives it back).
    if escape:
        text = Markup(text)
    return text % values if values or "%" in text else text


def catalog_key() -> str:
    """The id of the locale whose catalog is at hand: the key of anything put into words once per locale."""
    return _CATALOGS.kept()[0]


def _catalog() -> support.NullTranslations | None:
    # The catalog of the locale at hand; none in English, the language the messages are written in (a page asks
    # for a hundred messages or more: in English each is given back as it is).
    key, translations = _CATALOGS.kept()
    return None if key == _ENGLISH else translations


@pass_eval_context
def _template_gettext(eval_context: EvalContext, string: str, /, **values: object) -> str:
    if not values and eval_context.autoescape:
        return _page_text(catalog_key(), string)
    catalog = _catalog()
    return _filled(catalog.ugettext(string) if catalog else string, values, eval_context.autoescape)


@lru_cache(maxsize=4096)
def _page_text(locale: str, string: str) -> Markup:
    # A page's own words (a message with no values, in HTML) in ``locale``, the one at hand: part of the key so
    # each locale is kept apart. Most of a page's messages are these: each is put into words once.
    catalog = _catalog()
    return _filled(catalog.ugettext(string) if catalog else string, {}, True)


@pass_eval_context
def _template_ngettext(eval_context: EvalContext, singular: str, plural: str, count: int, /,
                       **values: object) -> str:
    return ngettext(singular, plural, count, _escape=eval_context.autoescape, **values)


def gettext(string: str, /, **values: object) -> str:
    """Flask-Babel's ``gettext`` without its per-call lookups, for the hottest paths (labels of vocabulary): as
    Flask-Babel's, a message given no values is not formatted (it may be a format string filled later)."""
    catalog = _catalog()
    text = catalog.ugettext(string) if catalog else string
    return text % values if values else text


def pgettext(context: str, string: str, /) -> str:
    """``gettext`` of a message in ``context`` (one English word that means two things), without per-call lookups."""
    catalog = _catalog()
    return catalog.upgettext(context, string) if catalog else string


def lazy_gettext(string: str, /, **values: object) -> LazyString:
    """``gettext`` when the text is put into words (module-level names: the locale is the request's)."""
    return LazyString(gettext, string, **values)


def ngettext(singular: str, plural: str, count: int, /, _escape: bool = False, **values: object) -> str:
    """Flask-Babel's ``ngettext`` (``num`` is the count unless given) without its per-call lookups."""
    values.setdefault("num", count)
    catalog = _catalog()
    text = catalog.ungettext(singular, plural, count) if catalog else singular if count == 1 else plural
    return _filled(text, values, _escape)


def money(amount_minor: int, currency: object) -> str:
    """An amount in minor units, formatted for the locale (CNY, HKD and USD all have two decimals)."""
    return _money(BABEL_IDS[current_locale_tag()], int(amount_minor), str(currency))


@lru_cache(maxsize=4096)
def _money(babel_id: str, amount_minor: int, currency: str) -> str:
    # Prices repeat (a catalog page shows the same few dozen): Babel's formatting, once per amount and locale.
    return numbers.format_currency(Decimal(amount_minor).scaleb(-2), currency, locale=_parsed(babel_id))


def number(value: object) -> str:
    return numbers.format_decimal(value, locale=babel_locale())


def when(moment: datetime | date | None, style: str = "medium") -> str:
    """A time in the user's time zone (a date as it is), in the locale's words; "—" for none."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return dates.format_date(moment, "medium", locale=babel_locale())
    zone = ZoneInfo(current_timezone())
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = dates.format_datetime(aware, "short" if style == "short" else "medium", tzinfo=zone,
                                 locale=babel_locale())
    return f"{text} ({current_timezone()})" if style == "zone" else text


def parse_time(iso: str | None) -> datetime | None:
    """A signed statement's time (RFC 3339 in UTC, "...Z") as a datetime, to show in the reader's zone and words."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def day(moment: datetime | date | None) -> str:
    """The calendar day of a time in the user's time zone (a date as it is)."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment = aware.astimezone(ZoneInfo(current_timezone())).date()
    return dates.format_date(moment, "medium", locale=babel_locale())


def text_lang(text: str | None) -> str | None:
    """The language to mark on a piece of a seller's or a source's text: its Chinese script, or "en" for text in
    Latin letters on a Chinese page (so a screen reader does not read it with a Chinese voice); None when the
    page's own language fits."""
    tag = script_of(text)
    if tag or not text or current_locale_tag() == "en":
        return tag
    return "en" if any("a" <= c.lower() <= "z" for c in text) else None


def html_lang() -> str:
    return current_locale_tag()


def init_i18n(app: Flask) -> None:
    """Flask-Babel with the locale and time zone of each request, and the template helpers of this module."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel = Babel(app, locale_selector=_select_locale, timezone_selector=current_timezone)
    babel.domain_instance = _CATALOGS  # Flask-Babel's messages domain, its catalog kept (see _Catalogs)
    # Jinja's _(), gettext() and ngettext() through the kept catalog (see _template_gettext); Flask-Babel's own
    # newstyle callables stay for pgettext() and {% trans %}'s context forms.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    # Flask-Babel keeps the locale on the app context, which can outlive a request (tests, jobs): each request
    # chooses again.
    app.before_request(refresh)
    app.after_request(_vary_by_language)
    app.jinja_env.globals.update(
        html_lang=html_lang, LOCALES=LOCALES, LOCALE_NAMES=LOCALE_NAMES, current_locale_tag=current_locale_tag,
        money=money, number=number, when=when, day=day, current_timezone=current_timezone, script_of=script_of,
        text_lang=text_lang, sentence_gap=sentence_gap, parse_time=parse_time,
    )


def _vary_by_language(response):
    # Pages and JSON are written in the language the request asked for (Accept-Language, or the switcher's
    # cookie): a shared cache must keep one copy per language. Files are the same in every language.
    if response.mimetype in ("text/html", "application/json", "application/problem+json"):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def sentence_gap() -> str:
    """What goes between two sentences in the reader's language: a space in English, nothing in Chinese."""
    return "" if current_locale_tag().startswith("zh") else " "


def sentences(*parts: object) -> str:
    """Sentences joined as the reader's language writes them: with a space in English, with none in Chinese (a
    full stop 。 is followed by no space). Empty parts are left out."""
    return sentence_gap().join(str(part).strip() for part in parts if str(part or "").strip())
