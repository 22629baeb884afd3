"""The seller console: products, versions and everything a version carries, as server-rendered pages.

Each view parses its form, calls one service and redirects with a flash (the request commits at its end). When the
service refuses, the same page is rendered again with the messages on the fields and the input kept (422 invalid,
409 not editable any more, 413 file too large); another organization's product is 404.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from marketplace.accounts.forms import apply_domain_errors
from marketplace.bilingual import title_of
from marketplace.db import writes_when_read
from marketplace.errors import DomainError, NotFound, UploadTooLarge, ValidationFailed
from marketplace.extensions import db, login_manager
from marketplace.listings import assets, opendata, services
from marketplace.listings.forms import (
    ComplianceForm,
    DictionaryForm,
    MetadataForm,
    NewProductForm,
    NewVersionForm,
    PlanForm,
    SourceEditForm,
    SourceForm,
    SourceLookupForm,
    SourceUsageForm,
    UploadForm,
    convert_chinese,
    script_conversions,
)
from marketplace.listings.states import EDITABLE_VERSION_STATES
from marketplace.listings.view_helpers import (
    STAMP_FIELD,
    acting_user,
    changed_elsewhere,
    done,
    filesize,
    find_asset,
    load_product,
    load_version,
    plan_changed_elsewhere,
    plan_stamp,
    refused,
    render_workspace,
    send_asset,
    step_stamp,
    workspace_url,
)
from marketplace.listings.vocab import SourceUsage

bp = Blueprint("seller", __name__, url_prefix="/seller")

VERSION = "/products/<int:product_id>/versions/<int:number>"


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()


def _storage():
    return current_app.extensions["storage"]


def _editable(product, version, step: str):
    """Refuse (409) any change to a version the service would not change, before reading the form."""
    try:
        services.require_editable(version)
    except DomainError as exc:
        return refused(product, version, exc, step=step)
    return None


def _stale(version, form, key: str, step: str):
    """When the step was changed in another window since this form was opened: the form again with the input
    kept, what is saved now, and a new stamp (409), so that saving again is a choice; else None."""
    saved = changed_elsewhere(version, step, form)
    if saved is None:
        return None
    return render_workspace(version.product, version, status=409, forms={key: form}, step=step,
                            error=_("This step was changed in another window since you opened it: check and save "
                                    "again."), saved_now=saved, stamp=step_stamp(version, step))


def _all_errors(form, check) -> None:
    """After the form's own checks failed: the service's checks too, so that every error shows at once (a field
    keeps its first message; the service's summary heads the form)."""
    try:
        check(form.to_data())
    except ValidationFailed as exc:
        for name, messages in (exc.errors or {}).items():
            field = form._fields.get(name)
            if field is not None and not field.errors:
                field.errors = list(messages)
        form.form_errors.insert(0, exc.message)


def _save(version, form, key: str, change, message: str, then: str, step: str | None = None, check=None):
    """Validate ``form``, make ``change(form)`` (one service call) and go to the step ``then``; on a refusal
    re-show the form's step with the input kept. ``step``: the step whose saved values the form replaces (a save
    from a window opened before another change is refused); ``check``: the service's checks of the form's data,
    run too when the form's own fail."""
    if step and form.is_submitted() and (stale := _stale(version, form, key, step)):
        return stale
    if not form.validate_on_submit():
        if check is not None and form.is_submitted():
            _all_errors(form, check)
        return render_workspace(version.product, version, status=422, forms={key: form})
    try:
        change(form)
    except DomainError as exc:
        apply_domain_errors(form, exc)
        return refused(version.product, version, exc, {key: form})
    return done(version, message, then)


def _act(version, change, message: str, step: str):
    """Make a form-less ``change()`` (one service call) and go back to ``step``; on a refusal re-show it."""
    try:
        change()
    except DomainError as exc:
        return refused(version.product, version, exc, step=step)
    return done(version, message, step)


# ---------------------------------------------------------------- dashboard and products


@bp.get("/")
def dashboard():
    products = services.seller_products(db.session, acting_user())
    return render_template("seller/dashboard.html", products=products,
                           memberships=acting_user().memberships)


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    user = acting_user()
    form = NewProductForm()
    form.organization_id.choices = [SelectChoice(m.organization_id, m.organization.name) for m in user.memberships]
    if not form.is_submitted() and len(user.memberships) == 1:
        form.organization_id.data = user.memberships[0].organization_id
    if converted := _convert_script(form):
        return _metadata_page(form, creating=True, notice=converted)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _metadata_page(form, creating=True), status
    organization = next(m.organization for m in user.memberships if m.organization_id == form.organization_id.data)
    try:
        product = services.create_product(db.session, user, organization, form.to_data())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return _metadata_page(form, creating=True), exc.status
    flash(_("Draft “%(title)s” created. Add its sources, dictionary, files and plans.",
            title=title_of(product.latest_version)), "success")
    return redirect(workspace_url(product.latest_version, "sources"))


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    """A product opens on its latest version's review-and-submit step: what is done, what is missing."""
    product = load_product(product_id)
    return redirect(workspace_url(product.latest_version))


@bp.get(VERSION)
def version(product_id: int, number: int):
    """The last step of the editor: the checklist, submission, the compliance review and the versions."""
    version = load_version(product_id, number)
    return render_workspace(version.product, version, step="review")


@bp.get(f"{VERSION}/review")
def review_step(product_id: int, number: int):
    """The review step's name as an address: the step is the version's own address."""
    return redirect(workspace_url(load_version(product_id, number)))


# ---------------------------------------------------------------- the steps before review


def _step(step: str):
    def show(product_id: int, number: int):
        version = load_version(product_id, number)
        if step == "dictionary" and (asset_id := request.args.get("proposal", type=int)) is not None:
            return _proposal(version, asset_id)
        return render_workspace(version.product, version, step=step)
    show.__name__ = f"step_{step}"
    show.__doc__ = f"The {step} step of the editor: its forms, empty or filled from the version."
    return show


for _key in ("sources", "files", "dictionary", "plans", "compliance"):
    bp.add_url_rule(f"{VERSION}/{_key}", view_func=_step(_key), methods=["GET"])


@bp.route(f"{VERSION}/details", methods=["GET", "POST"], endpoint="step_details")
@bp.route(f"{VERSION}/edit", methods=["GET", "POST"])
def edit_metadata(product_id: int, number: int):
    """The details step: titles, descriptions, category, coverage and delivery (read-only once submitted). Its
    former address, /edit, still takes the form and sends a visitor to the step."""
    version = load_version(product_id, number)
    product = version.product
    if request.method == "GET" and request.endpoint == "seller.edit_metadata":
        return redirect(workspace_url(version, "details"))
    if request.method == "GET" and version.status not in EDITABLE_VERSION_STATES:
        return render_workspace(product, version, step="details")
    if refusal := _editable(product, version, "details"):
        return refusal
    form = MetadataForm()
    if not form.is_submitted():
        form.fill(version)
    if converted := _convert_script(form):
        return render_workspace(product, version, forms={"metadata": form}, notice=converted,
                                conversions=_conversions(form))
    if form.is_submitted() and (stale := _stale(version, form, "metadata", "details")):
        return stale
    if not form.validate_on_submit():
        if form.is_submitted():
            _all_errors(form, services.check_metadata)
        status = 422 if form.is_submitted() else 200
        return render_workspace(product, version, status=status, forms={"metadata": form},
                                conversions=_conversions(form))
    try:
        services.update_metadata(db.session, acting_user(), version, form.to_data())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_workspace(product, version, status=exc.status, forms={"metadata": form},
                                error=exc.message, conversions=_conversions(form))
    return done(version, _("Details saved."), "sources")


def _conversions(form: MetadataForm) -> list[str]:
    return script_conversions(form.title_zh.data, form.description_zh.data)


def _metadata_page(form: MetadataForm, **page):
    """The create form of a product, offering the other script for its Chinese text."""
    return render_template("seller/product_form.html", form=form, conversions=_conversions(form), **page)


def _convert_script(form: MetadataForm) -> str | None:
    """When the seller asked to rewrite the Chinese text in the other script: do it in the form only (nothing is
    saved) and say so; None for any other post."""
    direction = request.form.get("convert") if form.is_submitted() else None
    if not direction or not convert_chinese(form, direction):
        return None
    if direction == "to_traditional":
        return _("The Chinese title and description are now in Traditional Chinese (Hong Kong). Check them, "
                 "edit what the conversion got wrong, then save.")
    return _("The Chinese title and description are now in Simplified Chinese. Check them, edit what the "
             "conversion got wrong, then save.")


@bp.post("/products/<int:product_id>/versions")
def new_version(product_id: int):
    product = load_product(product_id)
    latest = product.latest_version
    form = NewVersionForm(prefix="newversion")
    if not form.validate_on_submit():
        return render_workspace(product, latest, status=422, forms={"new_version": form})
    try:
        created = services.new_version(db.session, acting_user(), product, form.label.data, form.changelog.data)
    except DomainError as exc:
        apply_domain_errors(form, exc)
        return refused(product, latest, exc, {"new_version": form})
    return done(created, _("Version %(label)s started as a draft with everything from %(previous)s.",
                           label=created.label, previous=latest.label))


# ---------------------------------------------------------------- sources


@bp.post(f"{VERSION}/sources")
def add_source(product_id: int, number: int):
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "sources"):
        return refusal
    return _save(version, SourceForm(prefix="source"), "source",
                 lambda form: services.add_source(db.session, acting_user(), version, form.to_data()),
                 _("Source added."), "sources", check=services.check_source)


@bp.post(f"{VERSION}/sources/lookup")
def lookup_source(product_id: int, number: int):
    """Fill the add-source form from the shipped DATA.GOV.HK catalog; nothing is saved until the seller adds it."""
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "sources"):
        return refusal
    form = SourceLookupForm(prefix="lookup")
    found = opendata.lookup_source(form.q.data) if form.validate_on_submit() else None
    if found is None:
        form.q.errors = list(form.q.errors) + [
            _("No dataset with this URL or name in the DATA.GOV.HK catalog. Check it, or fill the form by hand.")]
        return render_workspace(version.product, version, status=422, forms={"lookup": form})
    source = SourceForm(formdata=None, prefix="source", data=found)
    return render_workspace(version.product, version, forms={"lookup": form, "source": source},
                            notice=_("Found “%(title)s”. Review the details below, then add the source.",
                                     title=found["title"]))


@bp.post(f"{VERSION}/sources/<int:source_id>/usage")
def update_source_usage(product_id: int, number: int, source_id: int):
    """Change how the product uses a cited source: a verbatim copy, an unaltered subset or a derived work."""
    version = load_version(product_id, number)
    form = SourceUsageForm()
    if not form.validate_on_submit():
        choices = ", ".join(u.label.lower() for u in SourceUsage)
        return render_workspace(version.product, version, status=422, step="sources",
                                error=_("Choose how the product uses the source: %(choices)s.", choices=choices))
    return _act(version, lambda: services.update_source(db.session, acting_user(), version, source_id,
                                                        {"usage": form.usage.data}),
                _("Source usage saved."), "sources")


@bp.route(f"{VERSION}/sources/<int:source_id>/edit", methods=["GET", "POST"])
def edit_source(product_id: int, number: int, source_id: int):
    """Correct a cited source's title, address, publisher or attribution, in its row of the sources step."""
    version = load_version(product_id, number)
    source = next((s for s in version.sources if s.id == source_id), None)
    if source is None:
        return refused(version.product, version, NotFound(_("No such source.")), step="sources")
    if refusal := _editable(version.product, version, "sources"):
        return refusal
    form = SourceEditForm(prefix=f"edit{source.id}")
    if not form.is_submitted():
        form.fill(source)
    page = {"forms": {"source_edit": form}, "editing": source.id}
    if not form.validate_on_submit():
        if form.is_submitted():
            _all_errors(form, lambda data: services.check_source(
                {"licence_id": source.licence_id, "portal": source.portal, **data}))
        return render_workspace(version.product, version, status=422 if form.is_submitted() else 200, **page)
    try:
        services.update_source(db.session, acting_user(), version, source.id, form.to_data())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_workspace(version.product, version, status=exc.status, error=exc.message, **page)
    return done(version, _("Source saved."), "sources")


@bp.post(f"{VERSION}/sources/<int:source_id>/delete")
def remove_source(product_id: int, number: int, source_id: int):
    version = load_version(product_id, number)
    return _act(version, lambda: services.remove_source(db.session, acting_user(), version, source_id),
                _("Source removed."), "sources")


# ---------------------------------------------------------------- data dictionary


@bp.post(f"{VERSION}/dictionary")
def save_dictionary(product_id: int, number: int):
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "dictionary"):
        return refusal
    form = DictionaryForm(prefix="dict")
    if stale := _stale(version, form, "dictionary", "dictionary"):
        return stale
    if not form.validate_on_submit():
        return render_workspace(version.product, version, status=422, forms={"dictionary": form})
    fields, positions = form.to_fields()
    try:
        services.replace_dictionary(db.session, acting_user(), version, fields)
    except DomainError as exc:
        form.apply_errors(exc, positions)
        return refused(version.product, version, exc, {"dictionary": form})
    return done(version, ngettext("Data dictionary saved (%(num)d field).", "Data dictionary saved (%(num)d fields).",
                                  len(fields)), "dictionary")


@bp.post(f"{VERSION}/assets/<int:asset_id>/infer")
def infer_dictionary(product_id: int, number: int, asset_id: int):
    """Ask for a dictionary proposed from an uploaded file: the dictionary step shows it at an address of its own
    (reloading it proposes again, nothing is posted twice); saved only when the seller saves."""
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "dictionary"):
        return refusal
    return redirect(url_for("seller.step_dictionary", product_id=product_id, number=number, proposal=asset_id))


def _proposal(version, asset_id: int):
    """The dictionary step with the fields proposed from file ``asset_id``, shown in the edit form."""
    if refusal := _editable(version.product, version, "dictionary"):
        return refusal
    try:
        asset = assets.asset_of(version, asset_id)
        result = assets.infer_from_asset(_storage(), asset)
    except DomainError as exc:
        form = DictionaryForm.for_rows(version.fields, prefix="dict")
        form.form_errors.append(_("Could not infer a dictionary from this file: %(reason)s", reason=exc.message))
        return refused(version.product, version, exc, {"dictionary": form})
    form = DictionaryForm.for_rows(assets.dictionary_from_inference(version, result), prefix="dict")
    return render_workspace(
        version.product, version, forms={"dictionary": form}, inference=result, inferred_from=asset,
        notice=ngettext("Proposed %(num)d field from %(name)s. Review it, then save the dictionary.",
                        "Proposed %(num)d fields from %(name)s. Review them, then save the dictionary.",
                        len(result.fields), name=asset.filename),
    )


# ---------------------------------------------------------------- files


@bp.post(f"{VERSION}/assets")
def upload(product_id: int, number: int):
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "files"):
        return refusal
    form = UploadForm(prefix="upload")
    if not form.validate_on_submit():
        return render_workspace(version.product, version, status=422, forms={"upload": form})
    file = form.file.data
    try:
        asset = assets.upload_asset(
            db.session, _storage(), acting_user(), version, kind=form.kind.data, filename=file.filename,
            stream=file.stream, content_type=file.mimetype, max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        )
    except DomainError as exc:
        if isinstance(exc, UploadTooLarge):
            limit = filesize(current_app.config["MAX_UPLOAD_BYTES"])
            exc = UploadTooLarge(_("The file is too large: the upload limit is %(limit)s. Nothing was stored.",
                                   limit=limit), {"file": [_("Larger than the %(limit)s limit.", limit=limit)]})
        apply_domain_errors(form, exc)
        return refused(version.product, version, exc, {"upload": form})
    kind = _("sample") if asset.kind.value == "sample" else _("deliverable")
    for warning in assets.upload_warnings(asset):
        flash(warning, "warning")
    return done(version, _("Uploaded %(name)s (%(kind)s).", name=asset.filename, kind=kind), "files")


@bp.post(f"{VERSION}/assets/<int:asset_id>/delete")
def delete_asset(product_id: int, number: int, asset_id: int):
    version = load_version(product_id, number)
    return _act(version, lambda: assets.delete_asset(db.session, _storage(), acting_user(), version, asset_id),
                _("File deleted."), "files")


@bp.get("/products/<int:product_id>/assets/<int:asset_id>")
@writes_when_read  # its audit event
def download_asset(product_id: int, asset_id: int):
    asset = find_asset(load_product(product_id), asset_id)
    assets.record_download(db.session, acting_user(), asset, "seller")
    return send_asset(asset)


# ---------------------------------------------------------------- pricing plans


@bp.post(f"{VERSION}/plans")
def add_plan(product_id: int, number: int):
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "plans"):
        return refusal
    return _save(version, PlanForm(prefix="plan"), "plan",
                 lambda form: services.add_plan(db.session, acting_user(), version, form.to_data()),
                 _("Pricing plan added."), "plans", check=services.check_plan)


@bp.route(f"{VERSION}/plans/<int:plan_id>/edit", methods=["GET", "POST"])
def edit_plan(product_id: int, number: int, plan_id: int):
    version = load_version(product_id, number)
    form = PlanForm()
    plan = next((p for p in version.plans if p.id == plan_id), None)
    if plan is None:
        return refused(version.product, version, NotFound(_("No such plan.")), step="plans")
    if refusal := _editable(version.product, version, "plans"):
        return refusal
    # Checked under the version's lock, with the plan as saved now: changed (or gone) since this page was opened.
    # Taken only for a version that may be edited: a refused post takes no write lock.
    stale = form.is_submitted() and plan_changed_elsewhere(version, plan_id)
    if not form.is_submitted():
        form.fill(plan)
    page = {"form": form, "product": version.product, "version": version, "plan": plan, "stamp": plan_stamp(plan),
            "stamp_field": STAMP_FIELD}
    if stale:
        form.form_errors.append(_("This step was changed in another window since you opened it: check and save "
                                  "again."))
        return render_template("seller/plan_form.html", stale=True, **page), 409
    if not form.validate_on_submit():
        if form.is_submitted():
            _all_errors(form, services.check_plan)
        return render_template("seller/plan_form.html", **page), 422 if form.is_submitted() else 200
    try:
        services.update_plan(db.session, acting_user(), version, plan_id, form.to_data())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_errors(form, exc)
        return render_template("seller/plan_form.html", **page), exc.status
    return done(version, _("Pricing plan saved."), "plans")


@bp.post(f"{VERSION}/plans/<int:plan_id>/delete")
def remove_plan(product_id: int, number: int, plan_id: int):
    version = load_version(product_id, number)
    return _act(version, lambda: services.remove_plan(db.session, acting_user(), version, plan_id),
                _("Pricing plan removed."), "plans")


# ---------------------------------------------------------------- compliance


@bp.post(f"{VERSION}/compliance")
def compliance(product_id: int, number: int):
    version = load_version(product_id, number)
    if refusal := _editable(version.product, version, "compliance"):
        return refusal
    form = ComplianceForm(prefix="compliance")
    message = _("Compliance profile saved and attested.") if form.attest.data else _("Compliance profile saved.")
    attest, name = bool(form.attest.data), form.attested_by_name.data
    return _save(version, form, "compliance",
                 lambda form: services.set_compliance(db.session, acting_user(), version, form.to_data(),
                                                      attest=attest, attested_by_name=name),
                 message, "review", step="compliance",
                 check=lambda data: services.check_compliance(data, attest=attest, attested_by_name=name))

