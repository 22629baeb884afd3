"""Web pages: Markdown rendering, the HTML error pages and liveness; the blueprints are registered by
``marketplace.routes``."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import markdown as md
import nh3
from flask import Flask, current_app, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from marketplace.errors import DomainError, error_headers, error_title, http_error_words
from marketplace.i18n import in_locale_of, visitor_locale_tag
from marketplace.inputs import too_large_page
from marketplace.library_messages import translated

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "h3", "h4", "h5", "a", "table",
    "thead", "tbody", "tr", "th", "td", "hr",
}


_converters = threading.local()


def _converter() -> md.Markdown:
    # Building a Markdown instance loads its extensions (most of a conversion's cost); each thread reuses one.
    converter = getattr(_converters, "md", None)
    if converter is None:
        converter = _converters.md = md.Markdown(extensions=["tables", "sane_lists"])
    return converter


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised by nh3 (ammonia): no scripts, no event handlers, safe links only."""
    html = _converter().reset().convert(text or "")
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                            url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener"))


def render_http_error(error: HTTPException):
    if error.code == 413:  # an upload's form comes back with the refusal where it can
        page = too_large_page()
        if page is not None:
            return page
    title, message = http_error_words(error)
    if error.code == 503:
        # A page of its own, rendered without the context processors: they and the usual layout read the signed-in
        # user and notifications from the database, which may be the very thing that is down. Its language is the
        # cookie's or the browser's then (the saved preference is in the database).
        with in_locale_of(visitor_locale_tag()):
            title, message = http_error_words(error)
            page = current_app.jinja_env.get_template("outage.html").render(message=message, url_for=url_for)
        return page, 503, {"Content-Type": "text/html; charset=utf-8", **error_headers(error)}
    return render_template("error.html", status=error.code, title=title,
                           message=message), error.code or 500, error_headers(error)


def render_domain_error(error: DomainError):
    return render_template("error.html", status=error.status, title=error_title(error.code),
                           message=error.message), error.status, error_headers(error)


_SECRET_FIELDS = ("password", "secret", "token", "otp", "code")


def _same_site(url: str | None) -> bool:
    """Whether ``url`` (an Origin or a Referer) is on this site: same scheme and host."""
    if not url or url == "null":
        return False
    sent, here = urlsplit(url), urlsplit(request.host_url)
    return (sent.scheme, sent.netloc) == (here.scheme, here.netloc)


def _from_this_site() -> bool:
    """Whether the request's Origin (its Referer when the browser sent no Origin) is this site."""
    return _same_site(request.headers.get("Origin") or request.headers.get("Referer"))


def render_csrf_error(error: CSRFError):
    """A form of this site posted with a token that is no longer valid (the user logged in again in another window,
    or the token expired): the fields as sent, shown again with a fresh token so that one click sends them again.
    Any other refusal (a post from another site, no form at all) is the plain 400."""
    if request.method != "POST" or not request.form or not _from_this_site():
        handler = current_app.error_handler_spec[None][None].get(HTTPException)
        return handler(error) if handler else render_http_error(error)
    # Secrets are never written into a page: the user types them again.
    secret = [name for name in request.form if any(word in name.lower() for word in _SECRET_FIELDS)]
    fields = [(name, values) for name, values in request.form.lists() if name != "csrf_token" and name not in secret]
    files = [name for name, file in request.files.items(multi=True) if file and file.filename]
    target = request.full_path.rstrip("?")
    back = request.headers.get("Referer") if _same_site(request.headers.get("Referer")) else None
    return render_template("form_expired.html", fields=fields, files=files, secrets=bool(secret), target=target,
                           back=back), 400


def init_web(app: Flask) -> None:
    app.register_error_handler(CSRFError, render_csrf_error)
    app.jinja_env.filters["markdown"] = render_markdown
    # Form errors are translated from our catalogs by marketplace.library_messages, not by WTForms' own.
    app.config.setdefault("WTF_I18N_ENABLED", False)
    app.jinja_env.filters["input_message"] = translated
    @app.get("/healthz")
    def healthz():
        """Liveness for load balancers, and the floor the benchmark measures everything else against."""
        return {"status": "ok"}
