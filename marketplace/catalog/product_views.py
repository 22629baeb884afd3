"""The buyer's product page: a listed product through its approved listed version, public, read-only.

Everything the page shows is loaded in a fixed number of queries whatever a product carries: the product with
its seller and listed content (``catalog.services.listed_product``, eager-loaded), its approved versions, and
its related products (one query each), and the chosen sample's preview and column profile, stored when the file
was uploaded (one query: the page never opens a file).

Pages for anonymous visitors are kept rendered, per process, with the product's state they were rendered under
(``catalog.services.page_state_of``, read from the very objects the page was rendered from). A request for a kept
page reads that state again (``product_page_state``, one indexed query) and serves the kept page only if it is
unchanged, so a suspension or a new listing made by any process or machine shows at once; nothing authoritative
lives in the process. A page not kept costs no such read. Only the related products may lag, by up to
``PAGE_TTL`` seconds.
"""
from __future__ import annotations

import zlib

from cachetools import LRUCache, TTLCache
from flask import Blueprint, abort, current_app, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.assessments.reports import standing_for_versions
from marketplace.catalog import profile_display
from marketplace.catalog.kept import KeptByState
from marketplace.catalog.preview import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS
from marketplace.catalog.profile_store import profile_for, profiles_cli
from marketplace.catalog.services import (
    approved_versions,
    listed_product,
    page_state_of,
    product_page_state,
    related_entries,
    suspended_holdings,
)
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_tag
from marketplace.listings.models import Asset, ProductVersion
from marketplace.listings.vocab import AssetKind
from marketplace.web import render_markdown

bp = Blueprint("product", __name__)
PAGE_TTL = 60  # seconds a kept page may show stale related products
PAGE_CACHE_BYTES = 32 * 2**20  # compressed pages kept per process (a page is ~4 KB compressed, ~20 KB raw)
DESCRIPTIONS = 2048  # rendered descriptions kept per process
ASKED = 32768  # pages asked for once, remembered (by their key's hash) so that a second request keeps the page


class PageCache(KeptByState):
    """Rendered anonymous product pages, zlib-compressed, bounded by size and age (``KeptByState``: kept from a
    page's second request on, with the product's state it was rendered under); and rendered descriptions."""

    def __init__(self) -> None:
        super().__init__(TTLCache(PAGE_CACHE_BYTES, PAGE_TTL, getsizeof=lambda kept: len(kept[1])), ASKED)
        self._descriptions: LRUCache = LRUCache(DESCRIPTIONS)

    @staticmethod
    def page(kept: tuple | None, state: tuple) -> bytes | None:
        """The kept page if it was rendered under ``state``."""
        if kept is None or kept[0] != state:
            return None
        return zlib.decompress(kept[1])

    def keep(self, key: tuple, state: tuple, html: str) -> None:
        """Keep the page rendered under ``state`` if it was asked for before (compressed only then)."""
        if self.admits(key):
            self.store(key, state, zlib.compress(html.encode(), 1))

    def description(self, version: ProductVersion) -> dict[str, str]:
        """The version's descriptions as sanitised HTML (Markdown rendering is most of a page's cost); a listed
        version's text never changes, and ``updated_at`` is in the key in case it ever does."""
        key = (version.id, version.updated_at)
        with self._lock:
            found = self._descriptions.get(key)
        if found is None:
            found = {"en": render_markdown(version.description_en), "zh": render_markdown(version.description_zh)}
            with self._lock:
                self._descriptions[key] = found
        return found


@bp.record_once
def _add_cache(state) -> None:
    state.app.extensions["product_pages"] = PageCache()
    state.app.jinja_env.globals.update(profile_display.HELPERS)  # the preview and profile, wherever they are shown
    state.app.cli.add_command(profiles_cli)


def chosen_sample(version: ProductVersion, requested: int | None) -> tuple[Asset | None, list[Asset]]:
    """The sample to preview (the requested one if it is a sample of this version, else the first) and all of them."""
    samples = [a for a in version.assets if a.kind == AssetKind.SAMPLE]
    chosen = next((a for a in samples if a.id == requested), samples[0] if samples else None)
    return chosen, samples


def _suspended_for_holder(slug: str) -> str | None:
    """For a signed-in member of an organization holding a licence of a suspended product: a page saying its
    downloads are paused and why, with the licences held (to everyone else the product is not in the catalog)."""
    holdings_of = current_app.extensions.get("product_holdings")
    if not current_user.is_authenticated or holdings_of is None:
        return None
    held = suspended_holdings(db.session, current_user._get_current_object(), slug, holdings_of)
    if held is None:
        return None
    product, holdings = held
    return render_template("catalog/product_suspended.html", product=product, version=product.listed_version,
                           holdings=holdings)


# ---------------------------------------------------------------- the page


@bp.get("/products/<slug>")
def page(slug: str):
    pages: PageCache = current_app.extensions["product_pages"]
    page_url = url_for("product.page", slug=slug)
    alternates = [(f"{page_url}.jsonld", "application/ld+json"), (f"{page_url}.ttl", "text/turtle")]
    headers = {"Link": ", ".join(f'<{href}>; rel="alternate"; type="{mime}"' for href, mime in alternates)}
    # Only what every anonymous visitor sees alike is kept: signed-in pages carry the user's menu, flashes are once.
    keepable = not current_user.is_authenticated and "_flashes" not in session
    requested = request.args.get("sample", type=int)
    key = (slug, requested, current_locale_tag())  # one kept page per locale: the words differ
    kept = pages.kept(key) if keepable else None
    if kept is not None:  # only a kept page needs the product's state read apart: a new render reads it anyway
        state = product_page_state(db.session, slug)
        if state is None:
            abort(404, _("No such product in the catalog."))
        html = pages.page(kept, state)
        if html is not None:
            return html, 200, {**headers, "Content-Type": "text/html; charset=utf-8"}
    try:
        product = listed_product(db.session, slug)
    except NotFound as exc:
        paused = _suspended_for_holder(slug)
        if paused is not None:
            return paused
        abort(404, exc.message)
    version = product.listed_version
    sample, samples = chosen_sample(version, requested)
    # The sample's preview and profile were computed from its file once, off the request; the page never opens it.
    stored = profile_for(db.session, sample) if sample else None
    preview = stored.shown_preview(current_locale_tag()) if stored else None
    profile = stored.profile if stored and preview.kind != "none" else None
    named_sample = sample is not None and requested == sample.id  # the address names a sample the version has
    # A page waiting for its profile is not kept, nor one asked for a sample the version does not have (made-up
    # ids would each take a place in the cache).
    keepable = keepable and (stored is not None or sample is None) and (requested is None or named_sample)
    versions = approved_versions(db.session, product)
    html = render_template(
        "catalog/product.html", product=product, version=version, organization=product.organization,
        versions=versions, related=related_entries(db.session, product),
        sample=sample, samples=samples, preview=preview, profile=profile, alternates=alternates,
        profile_columns=profile_display.by_name(profile), map_tiles=current_app.config.get("MAP_TILE_URL") or "",
        description=pages.description(version),
        # Where the language switcher comes back to: the page as kept, whatever else the request's address held.
        come_back_to=url_for("product.page", slug=slug, sample=sample.id) if named_sample else page_url,
        deliverables=[a for a in version.assets if a.kind == AssetKind.DELIVERABLE],
        limits={"rows": MAX_ROWS, "columns": MAX_COLUMNS, "cell": MAX_CELL_CHARS},
        assessments=standing_for_versions(db.session, [version.id]),
    )
    if keepable:
        pages.keep(key, page_state_of(product, versions), html)
    return html, 200, headers
