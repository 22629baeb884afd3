"""The webhook endpoint pages of an organization's owners: the list with the form to register one, and each
endpoint with its delivery log, replay, roll the secret, disable or enable, delete. The secret is shown on the page
that answers its creation or roll, once."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.accounts.forms import apply_domain_errors
from marketplace.errors import ValidationFailed
from marketplace.events import webhooks
from marketplace.events.forms import EVENT_LABELS, EndpointForm
from marketplace.extensions import db

bp = Blueprint("webhooks", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is for a signed-in owner (the services refuse anyone else)."""


def _list_page(organization_id: int, form: EndpointForm, status: int = 200):
    organization, found = webhooks.organization_endpoints(db.session, current_user, organization_id)
    return render_template("webhooks/endpoints.html", org=organization, form=form, labels=EVENT_LABELS,
                           endpoints=found), status


@bp.get("/organizations/<int:organization_id>/webhooks")
def endpoints(organization_id: int):
    return _list_page(organization_id, EndpointForm())


@bp.post("/organizations/<int:organization_id>/webhooks")
def create(organization_id: int):
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            made = webhooks.create_endpoint(db.session, current_user, organization_id, form.url.data or "",
                                            form.event_types.data or [], form.description.data or "")
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            return _endpoint_page(made.endpoint.id, secret=made.secret)
    return _list_page(organization_id, form, 400)


def _endpoint_page(endpoint_id: int, secret: str | None = None):
    endpoint, organization, deliveries = webhooks.endpoint_page(db.session, current_user, endpoint_id)
    return render_template("webhooks/endpoint.html", endpoint=endpoint, secret=secret, labels=EVENT_LABELS,
                           org=organization, deliveries=deliveries)


@bp.get("/webhooks/<int:endpoint_id>")
def endpoint(endpoint_id: int):
    return _endpoint_page(endpoint_id)


@bp.post("/webhooks/<int:endpoint_id>/roll")
def roll(endpoint_id: int):
    made = webhooks.roll_secret(db.session, current_user, endpoint_id)
    return _endpoint_page(made.endpoint.id, secret=made.secret)


@bp.post("/webhooks/<int:endpoint_id>/enable")
def enable(endpoint_id: int):
    webhooks.set_enabled(db.session, current_user, endpoint_id, True)
    flash(_("The endpoint is enabled."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/disable")
def disable(endpoint_id: int):
    webhooks.set_enabled(db.session, current_user, endpoint_id, False)
    flash(_("The endpoint is disabled: it receives nothing until you enable it."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def delete(endpoint_id: int):
    organization_id = webhooks.delete_endpoint(db.session, current_user, endpoint_id)
    flash(_("The endpoint is deleted."), "success")
    return redirect(url_for("webhooks.endpoints", organization_id=organization_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
def replay(endpoint_id: int, delivery_id: int):
    webhooks.replay(db.session, current_user, endpoint_id, delivery_id)
    flash(_("The delivery is sent again."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
