"""The buyer's licence pages: My licences, one licence with its certificate and (for a subscription) the renewal
form that ``marketplace.orders.views`` answers, and the gated download every catalog export links to.

A licence of another organization is 404; a refused download is the 403 page with the reason.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from marketplace.accounts.access import Permission, permits
from marketplace.db import writes_when_read
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.licensing import services as licence_services
from marketplace.licensing.certificates import current_status, scenario_in_words, terms_in_words
from marketplace.licensing.forms import RenewForm
from marketplace.licensing.missing_files import FileMissing
from marketplace.licensing.models import Licence
from marketplace.licensing.states import LicenceStatus
from marketplace.listings.view_helpers import acting_user, send_asset
from marketplace.uow import keep_despite_error

bp = Blueprint("licensing", __name__)

LICENCE = "/licences/<int:licence_id>"


# ---------------------------------------------------------------- licences


@bp.record_once
def _offer_holdings(state) -> None:
    """The catalog (which never imports licensing) asks what a user holds of a product through the app."""
    state.app.extensions["product_holdings"] = licence_services.product_holdings


@bp.app_context_processor
def _licence_helpers() -> dict:
    """For any page: the licences the signed-in user's organizations hold for a product (the product page shows
    them), and why a product's downloads are paused."""
    def holdings_of(product) -> list[licence_services.Holding]:
        user = acting_user() if current_user.is_authenticated else None
        return licence_services.product_holdings(db.session, user, product)

    return {"holdings_of": holdings_of, "held_by_plan": licence_services.held_by_plan,
            "downloads_paused": licence_services.downloads_paused, "LicenceStatus": LicenceStatus}


def licence_or_404(licence_id: int) -> Licence:
    try:
        return licence_services.licence_for(db.session, acting_user(), licence_id)
    except NotFound as exc:
        abort(404, exc.message)


@bp.get("/licences")
@login_required
def licences():
    found = licence_services.buyer_licences(db.session, acting_user())
    return render_template("licensing/licences.html", licences=found,
                           files=licence_services.licensed_assets(db.session, found),
                           statuses={lic.id: current_status(lic) for lic in found}, LicenceStatus=LicenceStatus)


def render_licence(licence: Licence, *, form: RenewForm | None = None, status: int = 200, error: str | None = None):
    buyer = permits(acting_user(), Permission.ACT_FOR_BUYER, licence)
    return render_template(
        "licensing/licence.html", licence=licence,
        files=licence_services.licensed_assets(db.session, [licence])[licence.id],
        status=current_status(licence),
        terms=terms_in_words(licence.terms, licence.plan_kind, licence.plan.billing_period),
        scenario=scenario_in_words(licence.scenario),
        is_buyer=buyer, can_renew=buyer and licence_services.renewable(licence),
        form=form or RenewForm(formdata=None),
        error=error, LicenceStatus=LicenceStatus,
        status_reason=licence_services.status_reason_in_words(licence.status_reason),
    ), status


@bp.get(LICENCE)
@login_required
def licence(licence_id: int):
    return render_licence(licence_or_404(licence_id))


# ---------------------------------------------------------------- the gated download


@bp.get("/products/<slug>/assets/<int:asset_id>")
@writes_when_read  # a licensed download's audit event
def download(slug: str, asset_id: int):
    """A public sample of the listed version, or a deliverable for a member of a licensed organization. Refusals
    raise Forbidden (the 403 page with the reason) or NotFound; each licensed download is an audit event."""
    return _serve(licence_services.traded_product(db.session, slug), asset_id)


@bp.get("/products/<slug>/files/<file_uuid>")
@writes_when_read  # as download: a licensed download's audit event
def file_download(slug: str, file_uuid: str):
    """A file by its UUID, which outlives versions (the CKAN resource url): the listed version's copy of it,
    through the same gate and audit as ``download``."""
    product = licence_services.traded_product(db.session, slug)
    return _serve(product, licence_services.listed_file_id(db.session, product, file_uuid))


def _serve(product, asset_id: int):
    user = acting_user() if current_user.is_authenticated else None
    storage = current_app.extensions["storage"]
    try:
        grant = licence_services.authorize_download(db.session, storage, user, product, asset_id,
                                                    fetching=request.method != "HEAD")  # a HEAD asks only
    except FileMissing:
        keep_despite_error()  # the file_missing event and the seller's notice, though the answer is a 404
        raise
    asset = grant.asset
    url = storage.presigned_url(asset.storage_key, expires_in=current_app.config["DOWNLOAD_URL_SECONDS"],
                                filename=asset.filename)
    try:
        response = redirect(url) if url else send_asset(asset)
    except HTTPException:
        db.session.rollback()  # the stored file is missing: nothing was downloaded
        raise
    response.headers["Cache-Control"] = "private, no-store"
    return response
